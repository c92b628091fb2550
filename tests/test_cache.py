"""pipeline/cache/ in this process, on real folders: the code version covers exactly the code
files, a cache key names everything its entry was made from, the store hands back what was
put or nothing (never a damaged or edited entry), each source's rows are made once per
content, and the worker count follows $USMX_WORKERS and the work's size."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path

import pytest

from conftest import RAW, SOURCE_ID
from pipeline.cache import keys, parallel
from pipeline.cache.rows import SOURCE_FILES, rows_key, source_rows
from pipeline.cache.store import Store, write_atomically
from pipeline.core.errors import BuildError
from pipeline.core.sources import load_snapshot


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# keys.py


def test_the_code_files_are_the_code_folders_and_files_and_nothing_else(tmp_path):
    wanted = [
        write(tmp_path / "constraints.txt", "x==1\n"),
        write(tmp_path / "pipeline" / "a.py", "A = 1\n"),
        write(tmp_path / "pipeline" / "sub" / "b.py", "B = 1\n"),
        write(tmp_path / "pyproject.toml", "[project]\n"),
        write(tmp_path / "schemas" / "fields.yaml", "fields: []\n"),
    ]
    write(tmp_path / "pipeline" / "__pycache__" / "a.cpython-312.pyc", "bytecode")
    write(tmp_path / "pipeline" / "stray.pyc", "bytecode")
    write(tmp_path / "tests" / "test_a.py", "")
    write(tmp_path / "README.md", "")
    (tmp_path / "pipeline" / "empty").mkdir()
    assert keys.code_files(tmp_path) == sorted(wanted)


def test_the_code_version_is_of_names_and_bytes_not_of_where_the_project_lies(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for root in (one, two):
        write(root / "pipeline" / "a.py", "A = 1\n")
        write(root / "pipeline" / "b.py", "B = 2\n")
    assert keys.code_sha256(one) == keys.code_sha256(two)
    (two / "pipeline" / "b.py").rename(two / "pipeline" / "c.py")  # same bytes, other name
    assert keys.code_sha256(one) != keys.code_sha256(two)
    shutil.rmtree(two)
    write(two / "pipeline" / "a.py", "A = 1\nB = 2\n")  # the same bytes split otherwise
    write(two / "pipeline" / "b.py", "")
    assert keys.code_sha256(one) != keys.code_sha256(two)


def test_the_code_version_of_this_process_is_that_of_its_files():
    assert keys.code_version() == keys.code_sha256()
    assert keys.code_version() == keys.code_sha256(keys.REPO_ROOT)


def test_a_cache_key_names_its_kind_and_every_part_in_order():
    key = keys.cache_key("rows", "a", "b")
    assert key == keys.cache_key("rows", "a", "b")
    others = [
        keys.cache_key("pages", "a", "b"),
        keys.cache_key("rows", "b", "a"),
        keys.cache_key("rows", "ab"),
        keys.cache_key("rows", "a", "b", ""),
        keys.cache_key("rows", "a"),
        keys.cache_key("rowsa", "b"),
    ]
    assert len({key, *others}) == len(others) + 1
    expected = hashlib.sha256(f"{keys.code_version()}\0rows".encode())
    for part in ("a", "b"):
        expected.update(b"\0" + part.encode())
    assert key == expected.hexdigest()


def test_a_cache_key_takes_any_text_a_file_name_can_hold():
    """A lone surrogate (an undecodable byte of a file name, as os.fsdecode gives it)."""
    assert keys.cache_key("pages", "a\udc80") != keys.cache_key("pages", "a")


# store.py


def test_an_object_put_is_got_back_and_anything_else_is_a_miss(tmp_path):
    store = Store(tmp_path / "cache", "kind")
    assert store.get("k") is None
    store.put("k", {"rows": [1, 2]})
    assert store.get("k") == {"rows": [1, 2]}
    assert store.path("k", ".pickle") == tmp_path / "cache" / "kind" / "k.pickle"
    assert sorted(p.name for p in (tmp_path / "cache" / "kind").iterdir()) == ["k.pickle"]
    store.path("k", ".pickle").write_bytes(pickle.dumps([1])[:-3])  # cut short
    assert store.get("k") is None
    store.put_bytes("b", b"bytes", ".bin")
    assert store.get_bytes("b", ".bin") == b"bytes"
    assert store.get_bytes("b") is None
    store.put_bytes("b", b"plain")
    assert store.get_bytes("b") == b"plain"
    assert store.path("b") == tmp_path / "cache" / "kind" / "b"


def test_without_a_cache_folder_nothing_is_kept_and_nothing_found(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = Store(None, "kind")
    store.put("k", 1)
    store.keep("k", ".csv", write(tmp_path / "a.csv", "a\n"))
    assert store.get("k") is None and store.path("k") is None
    assert not store.link_to("k", ".csv", tmp_path / "b.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


def test_a_kept_file_is_linked_out_while_its_bytes_are_those_kept(tmp_path):
    store = Store(tmp_path / "cache", "files")
    source = write(tmp_path / "made.csv", "a,b\n1,2\n")
    store.keep("k", ".csv", source)
    kept = store.path("k", ".csv")
    assert kept.read_bytes() == source.read_bytes()
    sha = Path(f"{kept}.sha256").read_text()
    assert sha == hashlib.sha256(source.read_bytes()).hexdigest()
    target = write(tmp_path / "out" / "made.csv", "an older file\n")
    assert store.link_to("k", ".csv", target)
    assert os.path.samefile(target, kept)
    assert store.link_to("k", ".csv", tmp_path / "out" / "fresh.csv")  # none there before
    assert os.path.samefile(tmp_path / "out" / "fresh.csv", kept)
    assert not store.link_to("other", ".csv", tmp_path / "out" / "none.csv")
    assert not (tmp_path / "out" / "none.csv").exists()
    kept.write_text("edited through a link\n")  # no longer the bytes kept
    assert not store.link_to("k", ".csv", tmp_path / "out" / "again.csv")
    assert not (tmp_path / "out" / "again.csv").exists()


def test_a_file_that_cannot_be_kept_or_linked_is_a_miss_not_an_error(tmp_path):
    store = Store(tmp_path / "cache", "files")
    store.keep("k", ".csv", tmp_path / "missing.csv")
    assert store.path("k", ".csv").exists() is False
    store.keep("k", ".csv", write(tmp_path / "made.csv", "x\n"))
    assert not store.link_to("k", ".csv", tmp_path / "no-such-folder" / "made.csv")
    blocker = write(tmp_path / "cache-file", "a file where the cache folder should be")
    Store(blocker, "files").keep("k", ".csv", tmp_path / "made.csv")  # cannot write: no error


def test_a_write_is_whole_or_not_at_all(tmp_path, monkeypatch):
    """Written beside its target (one filesystem, so the rename is atomic), then renamed."""
    path = tmp_path / "deep" / "entry"
    real, renamed = os.replace, []

    def replace(src, dst):
        renamed.append((Path(src).parent, Path(dst)))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    write_atomically(path, b"first")
    monkeypatch.undo()
    assert path.read_bytes() == b"first"
    assert renamed == [(path.parent, path)]

    def broken(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(path, b"second")
    monkeypatch.undo()
    assert path.read_bytes() == b"first"
    assert sorted(p.name for p in path.parent.iterdir()) == ["entry"]  # no temporary left


# rows.py


@pytest.fixture
def source(tmp_path) -> Path:
    folder = tmp_path / "raw" / SOURCE_ID
    shutil.copytree(RAW / SOURCE_ID, folder)
    for p in folder.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    return folder


def test_the_rows_key_names_the_source_its_text_and_each_file_it_is_read_from(source):
    base = rows_key(load_snapshot(source))
    assert rows_key(load_snapshot(source)) == base
    seen = {base}
    for name in SOURCE_FILES:
        path = source / name
        original = path.read_bytes()
        path.write_bytes(original + b"\n# an edit\n")
        seen.add(rows_key(load_snapshot(source)))
        path.write_bytes(original)
    (source / "corrections.yaml").unlink()
    seen.add(rows_key(load_snapshot(source)))
    assert len(seen) == len(SOURCE_FILES) + 2
    snapshot = load_snapshot(source)
    renamed = rows_key(type(snapshot)(**{**vars(snapshot), "source_id": "other"}))
    assert renamed not in seen


def test_rows_are_made_once_per_content_and_read_back_after(source, tmp_path):
    cache = tmp_path / "cache"
    made, remade = source_rows([load_snapshot(source)], cache)
    assert remade == [SOURCE_ID]
    again, remade = source_rows([load_snapshot(source)], cache)
    assert remade == []
    assert [r.key for r in again] == [r.key for r in made] == [rows_key(load_snapshot(source))]
    assert again[0].tables == made[0].tables
    assert source_rows([], cache) == ([], [])


def test_an_entry_kept_under_another_key_is_not_taken(source, tmp_path):
    cache = tmp_path / "cache"
    made, _ = source_rows([load_snapshot(source)], cache)
    store = Store(cache, "source-rows")
    key = made[0].key
    store.put(key, type(made[0])(**{**vars(made[0]), "key": "another"}))
    assert source_rows([load_snapshot(source)], cache)[1] == [SOURCE_ID]
    store.put(key, "not rows")
    assert source_rows([load_snapshot(source)], cache)[1] == [SOURCE_ID]


def test_rows_of_a_file_changed_while_they_were_made_are_not_kept(source, tmp_path):
    cache = tmp_path / "cache"
    snapshot = load_snapshot(source)
    path = source / "annotations.yaml"
    path.write_text(path.read_text() + "\n# saved while the build ran\n")
    source_rows([snapshot], cache)
    assert source_rows([snapshot], cache)[1] == [SOURCE_ID]  # made again: nothing was kept


# parallel.py


def test_the_worker_count_is_the_setting_or_the_usable_cores(monkeypatch):
    monkeypatch.setenv(parallel.WORKERS_ENV, " 3 ")
    assert parallel.workers() == 3
    monkeypatch.setenv(parallel.WORKERS_ENV, "")
    assert parallel.workers() == parallel.usable_cores() == len(os.sched_getaffinity(0))
    monkeypatch.delenv(parallel.WORKERS_ENV)
    assert parallel.workers() == parallel.usable_cores()


def test_the_usable_cores_are_those_this_process_may_run_on(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert parallel.usable_cores() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5})
    assert parallel.usable_cores() == 3


def test_the_usable_cores_without_an_affinity_call_are_the_cpu_count(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert parallel.usable_cores() == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert parallel.usable_cores() == 6


def test_a_bad_worker_count_says_what_it_is(monkeypatch):
    monkeypatch.setenv(parallel.WORKERS_ENV, "0")
    with pytest.raises(BuildError) as raised:
        parallel.workers()
    assert str(raised.value) == (
        "$USMX_WORKERS: the number of workers is '0', not a whole number ≥ 1; set USMX_WORKERS"
        " to 1 (serial) or more, or unset it to use every usable core."
    )


@pytest.mark.parametrize(
    ("workers", "calls", "min_items", "wanted"),
    [("4", 2, None, 2), ("4", 10, 2, 4), ("4", 3, 2, 3), ("4", 2, 2, 2), ("4", 1, 2, 1), ("4", 5, 6, 1),
     ("4", 6, 6, 4), ("1", 10, 2, 1), ("2", 10, 2, 2)],
)  # fmt: skip
def test_the_work_is_spread_over_at_most_one_process_a_call(
    monkeypatch, workers, calls, min_items, wanted
):
    monkeypatch.setenv(parallel.WORKERS_ENV, workers)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)  # as in a fresh process
    args = (calls,) if min_items is None else (calls, min_items)  # None: the default, 2
    assert parallel.processes(*args) == wanted
    assert parallel.processes(*args, parallel=False) == 1


def test_a_worker_forks_no_workers_of_its_own(monkeypatch):
    monkeypatch.setattr(parallel, "_in_worker", False)
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)
    assert parallel.can_fork()
    parallel._mark_worker()
    assert not parallel.can_fork()


def test_serial_work_comes_back_in_input_order(monkeypatch):
    monkeypatch.setenv(parallel.WORKERS_ENV, "1")
    assert parallel.ordered_map(divmod, [7, 9, 11], [2, 4, 3]) == [(3, 1), (2, 1), (3, 2)]
    with pytest.raises(ValueError):
        parallel.ordered_map(divmod, [7, 9], [2])


def _square_pid_and_nested(x: int) -> tuple[int, int, bool]:
    return x * x, os.getpid(), parallel.can_fork()


def _in_a_forked_child(work) -> object:
    """Run `work()` in a child forked from this process (a child has one thread, so it may
    fork workers whatever threads pytest's process holds) and return its JSON result."""
    read, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read)
        code = 0
        try:
            with os.fdopen(write_end, "w") as out:
                json.dump(work(), out)
        except BaseException as error:  # noqa: BLE001 - reported to the parent as its exit code
            os.write(2, f"{error!r}\n".encode())
            code = 1
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read) as handle:
        text = handle.read()
    _pid, status = os.waitpid(child, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    return json.loads(text)


def test_work_spread_over_two_workers_comes_back_in_order_from_marked_workers(monkeypatch):
    """Two calls or more are worth two workers by default; the results come back in input
    order, from two processes other than the caller, which fork no workers themselves."""
    monkeypatch.setenv(parallel.WORKERS_ENV, "2")
    assert parallel.ordered_map(_square_pid_and_nested, [3], min_items=2)[0][0] == 9  # serial

    def work():
        here = os.getpid()
        many = parallel.ordered_map(_square_pid_and_nested, range(40))
        two = parallel.ordered_map(_square_pid_and_nested, [5, 6])
        serial = parallel.ordered_map(_square_pid_and_nested, range(4), parallel=False)
        given = parallel.ordered_map(_square_pid_and_nested, range(9), chunksize=4)
        return {"here": here, "many": many, "two": two, "given": given, "serial": serial}

    found = _in_a_forked_child(work)
    for name, inputs in (("many", range(40)), ("two", [5, 6]), ("given", range(9))):
        results = found[name]
        assert [r[0] for r in results] == [x * x for x in inputs], name
        pids = {r[1] for r in results}
        assert found["here"] not in pids and 1 <= len(pids) <= 2, (name, pids)
        assert not any(r[2] for r in results), f"{name}: a worker could fork workers"
    assert {r[1] for r in found["serial"]} == {found["here"]}  # parallel=False: in the caller
