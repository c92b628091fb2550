"""The swap that puts a staged package in place, run in this process on real folders: the
atomic exchange, the two-rename fallback, the undo of a failed second rename, the recovery
after an interrupted publish, and a crash (an exception raised from a filesystem call) before
each step of the swap and of the recovery, after which recovery leaves outputs/ whole.

tests/test_atomic_publish.py kills whole builds in subprocesses; these tests reach the same
functions where mutmut's coverage map sees them."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from conftest import tree_digest
from pipeline.publish import swap


def make_tree(folder: Path, version: str) -> dict[str, str]:
    """A small package: a top file, a file in a subfolder, one that differs between versions."""
    (folder / "provenance").mkdir(parents=True)
    (folder / "datapackage.json").write_text(f'{{"version": "{version}"}}\n')
    (folder / "provenance" / "source.html").write_text(f"<p>{version}</p>\n")
    (folder / "README.md").write_text("same in both\n")
    return tree_digest(folder)


@pytest.fixture
def pair(tmp_path: Path) -> dict:
    outputs, staging = tmp_path / "pub" / "outputs", tmp_path / "pub" / "outputs.staging-1"
    old, new = make_tree(outputs, "1.0.0"), make_tree(staging, "1.1.0")
    return {"outputs": outputs, "staging": staging, "old": old, "new": new}


def leftovers(outputs: Path) -> list[str]:
    return sorted(p.name for p in outputs.parent.iterdir() if p.name.startswith(outputs.name + "."))


@pytest.fixture
def no_exchange(monkeypatch):
    """A system without renameat2's exchange (as tests/kill_harness.py --no-exchange)."""
    monkeypatch.setattr(swap, "_exchange", lambda a, b: False)


def test_the_exchange_swaps_two_folders_atomically(tmp_path, monkeypatch):
    """Relative paths, so the directory descriptor (the current directory) counts too."""
    monkeypatch.chdir(tmp_path)
    a, b = make_tree(tmp_path / "a", "a"), make_tree(tmp_path / "b", "b")
    assert swap._exchange(Path("a"), Path("b")) is True
    assert tree_digest(tmp_path / "a") == b and tree_digest(tmp_path / "b") == a


def test_the_exchange_reports_failure_instead_of_raising(tmp_path):
    (tmp_path / "a").mkdir()
    assert swap._exchange(tmp_path / "a", tmp_path / "missing") is False
    assert (tmp_path / "a").is_dir()


def test_the_exchange_is_not_tried_off_linux(tmp_path, monkeypatch):
    a, b = make_tree(tmp_path / "a", "a"), make_tree(tmp_path / "b", "b")
    monkeypatch.setattr(swap.sys, "platform", "darwin")
    assert swap._exchange(tmp_path / "a", tmp_path / "b") is False
    assert tree_digest(tmp_path / "a") == a and tree_digest(tmp_path / "b") == b


@pytest.mark.parametrize("path", ["exchange", "fallback"])
def test_a_swap_puts_the_staged_package_in_place_and_leaves_nothing_beside_it(pair, path, request):
    if path == "fallback":
        request.getfixturevalue("no_exchange")
    swap.swap(pair["staging"], pair["outputs"])
    assert tree_digest(pair["outputs"]) == pair["new"]
    assert leftovers(pair["outputs"]) == []


@pytest.mark.parametrize("path", ["exchange", "fallback"])
def test_a_first_publish_moves_the_staging_folder_into_place(pair, path, request):
    if path == "fallback":
        request.getfixturevalue("no_exchange")
    shutil.rmtree(pair["outputs"])
    swap.swap(pair["staging"], pair["outputs"])
    assert tree_digest(pair["outputs"]) == pair["new"]
    assert leftovers(pair["outputs"]) == []


def test_a_vanished_staging_folder_is_refused_and_outputs_kept(pair):
    shutil.rmtree(pair["staging"])
    with pytest.raises(FileNotFoundError) as raised:
        swap.swap(pair["staging"], pair["outputs"])
    error = raised.value
    assert (error.errno, error.strerror, error.filename) == (
        errno.ENOENT,
        "the staging folder vanished",
        str(pair["staging"]),
    )
    assert tree_digest(pair["outputs"]) == pair["old"]


def full_disk_for(staging: Path, monkeypatch) -> None:
    """Moving `staging` anywhere fails, as on a full disk; other renames work."""
    real = os.replace

    def replace(src, dst):
        if Path(src) == staging:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def test_a_failed_first_publish_raises_its_own_error(pair, no_exchange, monkeypatch):
    """No outputs/ yet and putting staging in place fails: that error, nothing put aside."""
    shutil.rmtree(pair["outputs"])
    full_disk_for(pair["staging"], monkeypatch)
    with pytest.raises(OSError, match="No space left on device"):
        swap.swap(pair["staging"], pair["outputs"])
    assert not pair["outputs"].exists()


def failing_unlink(monkeypatch) -> None:
    """Every removal of a file fails, as on a folder the build may not write."""

    def unlink(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "unlink", unlink)


@pytest.mark.parametrize("path", ["exchange", "fallback"])
def test_old_files_that_cannot_be_removed_do_not_fail_a_done_publish(
    pair, path, request, monkeypatch
):
    """The new outputs/ is in place; the old files, beside it, cannot be removed: the swap
    returns, and the next recovery removes them."""
    if path == "fallback":
        request.getfixturevalue("no_exchange")
    failing_unlink(monkeypatch)
    swap.swap(pair["staging"], pair["outputs"])
    monkeypatch.undo()
    assert tree_digest(pair["outputs"]) == pair["new"]
    swap.recover(pair["outputs"])
    assert leftovers(pair["outputs"]) == []


def test_a_failed_second_rename_is_undone_and_outputs_kept(pair, no_exchange, monkeypatch):
    """The fallback moved outputs/ aside, then putting staging in place fails: the old
    outputs/ is moved back, the error is raised, nothing is left aside."""
    full_disk_for(pair["staging"], monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        swap.swap(pair["staging"], pair["outputs"])
    monkeypatch.undo()
    assert tree_digest(pair["outputs"]) == pair["old"]
    assert leftovers(pair["outputs"]) == ["outputs.staging-1"]


class Crash(BaseException):
    """A process ending at this point: not an OSError, so nothing in the swap catches it."""


def crashing_at(monkeypatch, step: int) -> list[str]:
    """Raise Crash just before the `step`th filesystem change (1-based); return the steps
    seen. The exchange, renames, replaces, unlinks and rmdirs are each one step, so a crash
    can fall midway through a removal of a folder too."""
    seen: list[str] = []
    for owner, name in [(swap, "_exchange")] + [
        (os, n) for n in ("rename", "replace", "unlink", "rmdir")
    ]:
        original = getattr(owner, name)

        def hooked(*args, _original=original, _name=name, **kwargs):
            seen.append(_name)
            if len(seen) == step:
                raise Crash(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(owner, name, hooked)
    return seen


@pytest.mark.parametrize("path", ["exchange", "fallback"])
def test_a_crash_before_any_step_of_the_swap_is_recovered_to_a_whole_outputs(pair, path, tmp_path):
    """A crash before each step of the swap (and midway through its removals), then the
    recovery a next build runs first: outputs/ is all old or all new, nothing left beside it;
    and the old one is never lost before the new one is in place."""
    states, step = [], 0
    while True:
        step += 1
        case = tmp_path / f"case-{step}"
        outputs, staging = case / "outputs", case / "outputs.staging-1"
        old, new = make_tree(outputs, "1.0.0"), make_tree(staging, "1.1.0")
        with pytest.MonkeyPatch.context() as mp:
            if path == "fallback":
                mp.setattr(swap, "_exchange", lambda a, b: False)
            seen = crashing_at(mp, step)
            try:
                swap.swap(staging, outputs)
                crashed = False
            except Crash:
                crashed = True
        swap.recover(outputs)
        state = tree_digest(outputs) if outputs.exists() else {}
        assert state in (old, new), (step, seen)
        assert leftovers(outputs) == [], (step, seen)
        states.append("old" if state == old else "new")
        if not crashed:
            break
    assert step > 3, states  # the swap took several steps, each one crashed before
    assert states[0] == "old" and states[-1] == "new", states


def test_recovery_rolls_back_a_half_done_swap(tmp_path):
    """outputs/ moved aside and the new one not yet in place: the old one comes back."""
    outputs = tmp_path / "outputs"
    old = make_tree(tmp_path / "outputs.previous-7", "1.0.0")
    make_tree(tmp_path / "outputs.staging-7", "1.1.0")
    other = make_tree(tmp_path / "outputs-kept", "x")  # not a sibling of a publish
    swap.recover(outputs)
    assert tree_digest(outputs) == old
    assert leftovers(outputs) == []
    assert tree_digest(tmp_path / "outputs-kept") == other


def test_recovery_keeps_a_present_outputs_and_drops_what_is_beside_it(pair):
    outputs = pair["outputs"]
    make_tree(outputs.parent / "outputs.previous-3", "0.9.0")
    swap.recover(outputs)
    assert tree_digest(outputs) == pair["old"]
    assert leftovers(outputs) == []


def test_recovery_with_several_folders_aside_restores_one_whole_and_drops_the_others(tmp_path):
    outputs = tmp_path / "outputs"
    made = [make_tree(tmp_path / f"outputs.previous-{n}", f"1.0.{n}") for n in (1, 2, 3)]
    swap.recover(outputs)
    assert tree_digest(outputs) == made[-1]  # the last in name order
    assert len({repr(m) for m in made}) == 3
    assert leftovers(outputs) == []


def test_a_leftover_that_cannot_be_removed_does_not_stop_recovery(tmp_path, monkeypatch):
    outputs = tmp_path / "outputs"
    old = make_tree(tmp_path / "outputs.previous-4", "1.0.0")
    make_tree(tmp_path / "outputs.staging-4", "1.1.0")
    failing_unlink(monkeypatch)
    swap.recover(outputs)
    monkeypatch.undo()
    assert tree_digest(outputs) == old


def test_a_crash_inside_recovery_is_recovered_by_the_next_recovery(tmp_path):
    """A half-done swap (outputs/ aside) whose recovery crashes before each of its steps:
    the recovery after that still gives back the old outputs/, whole, nothing beside it."""
    step = 0
    while True:
        step += 1
        case = tmp_path / f"case-{step}"
        outputs = case / "outputs"
        old = make_tree(case / "outputs.previous-5", "1.0.0")
        make_tree(case / "outputs.staging-5", "1.1.0")
        with pytest.MonkeyPatch.context() as mp:
            seen = crashing_at(mp, step)
            try:
                swap.recover(outputs)
                crashed = False
            except Crash:
                crashed = True
        swap.recover(outputs)
        assert tree_digest(outputs) == old, (step, seen)
        assert leftovers(outputs) == [], (step, seen)
        if not crashed:
            break
    assert step > 2


def test_a_staging_folder_is_fresh_and_named_for_recovery_to_find(tmp_path):
    outputs = tmp_path / "outputs"
    stale = tmp_path / f"outputs.staging-{os.getpid()}"
    make_tree(stale, "stale")
    staging = swap.staging_folder(outputs)
    assert staging == stale and not staging.exists()
    assert swap.staging_folder(outputs) == staging  # none there: nothing to remove
    make_tree(staging, "1.1.0")
    swap.recover(outputs)
    assert not staging.exists()


def test_the_publish_lock_excludes_a_second_holder_until_released(tmp_path):
    outputs = tmp_path / "deep" / "outputs"
    lock = tmp_path / "deep" / ".outputs.lock"
    with swap.publish_lock(outputs):
        with open(lock, "a") as other, pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(lock, "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_same_bytes_compares_contents(tmp_path):
    a, b, c, d = (tmp_path / n for n in "abcd")
    a.write_bytes(b"12345")
    b.write_bytes(b"12345")
    c.write_bytes(b"12346")
    d.write_bytes(b"1234")
    os.link(a, tmp_path / "a-link")
    assert swap.same_bytes(a, b) and swap.same_bytes(a, tmp_path / "a-link")
    assert not swap.same_bytes(a, c)  # same size, other bytes
    assert not swap.same_bytes(a, d) and not swap.same_bytes(d, a)
    assert not swap.same_bytes(a, tmp_path / "missing")


def test_same_tree_needs_the_same_files_in_both(tmp_path):
    make_tree(tmp_path / "a", "1")
    make_tree(tmp_path / "b", "1")
    assert swap.same_tree(tmp_path / "a", tmp_path / "b")
    (tmp_path / "b" / "provenance" / "extra.html").write_text("")
    assert not swap.same_tree(tmp_path / "a", tmp_path / "b")
    assert not swap.same_tree(tmp_path / "b", tmp_path / "a")


def test_a_checkpoint_removes_the_staging_folder_only_at_its_point(tmp_path, monkeypatch):
    staging = tmp_path / "outputs.staging-1"
    make_tree(staging, "1")
    monkeypatch.setenv("USMX_REMOVE_STAGING_AT", "validated")
    swap.checkpoint("staged", staging)
    assert staging.is_dir()
    swap.checkpoint("validated")  # no staging named: nothing to remove
    assert staging.is_dir()
    swap.checkpoint("validated", staging)
    assert not staging.exists()


@pytest.mark.parametrize("point", ["staged", "writing"])
def test_a_checkpoint_kills_the_process_only_at_its_point(monkeypatch, point):
    monkeypatch.setenv("USMX_KILL_AT", "staged")
    swap.checkpoint("validated")  # another point: this process goes on
    child = os.fork()
    if child == 0:  # the child: die at the checkpoint, or exit 3 past it
        try:
            swap.checkpoint(point)
        finally:
            os._exit(3)
    _pid, status = os.waitpid(child, 0)
    if point == "staged":
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    else:
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3


def test_a_publish_killed_at_its_exchanged_point_has_the_new_outputs_in_place(pair, monkeypatch):
    """USMX_KILL_AT=exchanged (tests/test_atomic_publish.py): the process dies right after
    the exchange, the old files still beside outputs/; recovery removes them."""
    monkeypatch.setenv("USMX_KILL_AT", "exchanged")
    child = os.fork()
    if child == 0:
        try:
            swap.swap(pair["staging"], pair["outputs"])
        finally:
            os._exit(3)
    _pid, status = os.waitpid(child, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert tree_digest(pair["outputs"]) == pair["new"]
    assert tree_digest(pair["staging"]) == pair["old"]
    swap.recover(pair["outputs"])
    assert leftovers(pair["outputs"]) == []
    monkeypatch.delenv("USMX_KILL_AT")
    make_tree(pair["staging"], "1.2.0")
    swap.swap(pair["staging"], pair["outputs"])  # and this process publishes as before
    assert json.loads((pair["outputs"] / "datapackage.json").read_text()) == {"version": "1.2.0"}


def test_a_libc_without_the_exchange_falls_back_to_renames(pair, monkeypatch):
    """An older C library has no renameat2: _exchange says so, and the swap still works."""
    monkeypatch.setattr(swap.ctypes, "CDLL", lambda *args, **kwargs: object())
    assert swap._exchange(pair["staging"], pair["outputs"]) is False
    assert tree_digest(pair["outputs"]) == pair["old"]
    swap.swap(pair["staging"], pair["outputs"])
    assert tree_digest(pair["outputs"]) == pair["new"]
