"""Sources are the unit of parallelism (pipeline/cache/parallel.py): work spread over worker
processes comes back in input order, a failure is the one a serial loop would raise, and a
build gives the same bytes with one worker or two."""

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
import sys
import threading

import dagster as dg
import pytest

from conftest import tree_digest
from pipeline.cache import parallel
from pipeline.core.errors import REPO_ROOT, BuildError

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from corpus import generate  # noqa: E402

# Workers are forked only from a process with no other thread (a forked child would inherit
# their locks). Pytest's own process may hold threads left by earlier tests (Playwright's
# asyncio loop keeps its executor threads), where `ordered_map` rightly stays serial; so what
# must happen in workers is run in a fresh Python process, as `python -m pipeline build` is.
needs_fork = pytest.mark.skipif(
    sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods(),
    reason="workers are forked, and this platform cannot fork",
)

WORK = """
import os, sys
from pipeline.cache import parallel
from pipeline.core.errors import BuildError

import multiprocessing
both = multiprocessing.get_context("fork").Barrier(2, timeout=60)  # inherited by the workers

def square_and_pid(x):
    return x * x, os.getpid()

def square_and_pid_after_both_started(x):
    if x < 2:  # items 0 and 1 wait for each other: a worker held at the barrier takes no
        both.wait()  # other item, so they are in two workers, however fast either one is
    return x * x, os.getpid()

def fail_on_odd_multiples_of_three(x):
    if x % 3 == 0 and x % 2:
        raise BuildError(f"raw/s{x}/annotations.yaml", f"item {x} is bad", "fix it", line=x)
    return x

assert parallel.can_fork(), "a fresh process must be able to fork"
"""


def _in_fresh_process(code: str, workers: str = "2", prelude: str = "") -> str:
    env = {**os.environ, parallel.WORKERS_ENV: workers}
    done = subprocess.run(
        [sys.executable, "-c", WORK + prelude + code], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def _square_and_pid(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


@needs_fork
def test_work_runs_in_worker_processes_and_comes_back_in_input_order():
    out = _in_fresh_process(
        "results = parallel.ordered_map(square_and_pid_after_both_started, range(40), chunksize=1)\n"
        "assert [r for r, _ in results] == [x * x for x in range(40)]\n"
        "pids = {pid for _, pid in results}\n"
        "print(os.getpid(), *sorted(pids))\n"
    )
    here, *pids = out.split()
    assert here not in pids and len(pids) == 2  # two workers, not this process


@needs_fork
def test_the_workers_find_the_arguments_in_their_memory_so_none_is_pickled():
    """Only an argument's position goes to a worker: an argument pickle refuses (a lock)
    reaches the worker all the same, and the result comes back from another process."""
    out = _in_fresh_process(
        "import threading\n"
        "locks = [threading.Lock() for _ in range(20)]  # pickle refuses a lock\n"
        "results = parallel.ordered_map(pid_given_a_free_lock, locks, chunksize=1)\n"
        "print(os.getpid(), *sorted(set(results)))\n",
        prelude="def pid_given_a_free_lock(lock):\n    assert not lock.locked()\n    return os.getpid()\n",
    )
    here, *pids = out.split()
    assert pids and here not in pids


def test_threads_in_this_process_keep_the_work_serial(monkeypatch):
    monkeypatch.setenv(parallel.WORKERS_ENV, "2")
    release = threading.Event()
    other = threading.Thread(target=release.wait, name="some library's thread")
    other.start()
    try:
        assert not parallel.can_fork()
        results = parallel.ordered_map(_square_and_pid, range(40))
    finally:
        release.set()
        other.join()
    assert [r for r, _ in results] == [x * x for x in range(40)]
    assert {pid for _, pid in results} == {os.getpid()}


def test_one_worker_or_too_few_items_stay_in_this_process(monkeypatch):
    monkeypatch.setenv(parallel.WORKERS_ENV, "1")
    assert {pid for _, pid in parallel.ordered_map(_square_and_pid, range(10))} == {os.getpid()}
    monkeypatch.setenv(parallel.WORKERS_ENV, "2")
    few = parallel.ordered_map(_square_and_pid, range(5), min_items=6)
    assert {pid for _, pid in few} == {os.getpid()}
    assert parallel.processes(5, min_items=6) == 1
    assert parallel.processes(5, parallel=False) == 1


@needs_fork
def test_the_first_failure_in_input_order_is_raised_whole():
    # items 3, 9, 15, ... fail; the one raised is item 3's, as a serial loop would raise it,
    # with its file, line and sentence intact across the process boundary
    out = _in_fresh_process(
        "try:\n"
        "    parallel.ordered_map(fail_on_odd_multiples_of_three, range(30), chunksize=1)\n"
        "except BuildError as error:\n"
        "    print(error.line)\n"
        "    print(error)\n"
    )
    line, sentence = out.splitlines()
    assert line == "3"
    assert sentence == "raw/s3/annotations.yaml, line 3: item 3 is bad; fix it."


BACKGROUND = """
import time
from pathlib import Path
from pipeline import progress

def steps_then(value, seconds=0.0, fail=False):
    with progress.step("child step"):
        time.sleep(seconds)
        if fail:
            raise BuildError("raw/s1/annotations.yaml", "the child's input is bad", "fix it", line=7)
        return value, os.getpid()

def write_late(path):
    time.sleep(1.5)
    Path(path).write_text("written after the block was left")

def die():
    os._exit(3)
"""


@needs_fork
def test_background_work_runs_in_a_child_and_brings_back_its_result_and_steps():
    # the child's step is reported once, here, when its result is collected (piped: a line)
    out = _in_fresh_process(BACKGROUND + (
        "with progress.reporting(sys.stdout):\n"
        "    with parallel.in_background(steps_then, {'a': [1, 2]}, 0.3) as done:\n"
        "        here = os.getpid()\n"
        "        print('meanwhile')\n"
        "        value, pid = done()\n"
        "print(value, pid != here)\n"
    ))  # fmt: skip
    lines = out.splitlines()
    assert lines[0] == "meanwhile"  # this process went on while the child worked
    assert re.fullmatch(r"step child step: 0\.[3-9] s", lines[1]), lines
    assert lines[2] == "{'a': [1, 2]} True"


@needs_fork
def test_background_failure_is_raised_here_whole_and_a_dead_child_is_one_sentence():
    out = _in_fresh_process(BACKGROUND + (
        "with parallel.in_background(steps_then, 1, 0.0, True) as done:\n"
        "    try:\n"
        "        done()\n"
        "    except BuildError as error:\n"
        "        print(error)\n"
        "with parallel.in_background(die) as done:\n"
        "    try:\n"
        "        done()\n"
        "    except BuildError as error:\n"
        "        print(error)\n"
    ))  # fmt: skip
    failed, died = out.splitlines()
    assert failed == "raw/s1/annotations.yaml, line 7: the child's input is bad; fix it."
    assert died.startswith("die: its process stopped (exit code 3) before it finished; ")


@needs_fork
def test_waiting_again_gives_the_same_result_or_error_and_reports_the_steps_once():
    """The landing page and sources/charts.js both wait for the charts drawn ahead."""
    out = _in_fresh_process(BACKGROUND + (
        "with progress.reporting(sys.stdout):\n"
        "    with parallel.in_background(steps_then, [3], 0.0) as done:\n"
        "        first, second = done(), done()\n"
        "print(first == second, first[1] != os.getpid())\n"
        "with parallel.in_background(steps_then, 1, 0.0, True) as done:\n"
        "    for _ in range(2):\n"
        "        try:\n"
        "            done()\n"
        "        except BuildError as error:\n"
        "            print(error)\n"
    ))  # fmt: skip
    lines = out.splitlines()
    assert [line for line in lines if line.startswith("step ")] == [lines[0]], lines
    assert lines[1] == "True True"
    assert lines[2:] == ["raw/s1/annotations.yaml, line 7: the child's input is bad; fix it."] * 2


@needs_fork
def test_a_child_whose_build_was_killed_ends_even_with_a_result_larger_than_a_pipe():
    """A build killed mid-publish (test_atomic_publish) leaves its children: each must end,
    or whoever reads the build's output waits for them. Two children, each with a result
    larger than a pipe holds, the second holding the first's pipe; then the build is
    killed. The build's output ends within seconds."""
    code = BACKGROUND + (
        "import signal\n"
        "with parallel.in_background(steps_then, 'x' * 1_000_000) as first:\n"
        "    with parallel.in_background(steps_then, 'y' * 1_000_000) as second:\n"
        "        time.sleep(1.0)\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, parallel.WORKERS_ENV: "2"}
    done = subprocess.run(
        [sys.executable, "-c", WORK + code], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == -9, done.stderr


@needs_fork
def test_leaving_the_block_early_kills_the_child_before_it_writes(tmp_path):
    late = tmp_path / "late.txt"
    _in_fresh_process(BACKGROUND + (
        "try:\n"
        f"    with parallel.in_background(write_late, {str(late)!r}):\n"
        "        raise KeyError('the step beside it failed')\n"
        "except KeyError:\n"
        "    pass\n"
        "time.sleep(2.5)\n"
    ))  # fmt: skip
    assert not late.exists()  # killed at the error, so nothing of it lands in a staging folder


def test_with_one_worker_background_work_runs_here_at_once(monkeypatch):
    monkeypatch.setenv(parallel.WORKERS_ENV, "1")
    with parallel.in_background(_square_and_pid, 7) as done:
        assert done() == (49, os.getpid())


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_worker_count_stops_with_one_sentence(monkeypatch, value):
    monkeypatch.setenv(parallel.WORKERS_ENV, value)
    with pytest.raises(BuildError, match=r"USMX_WORKERS.*not a whole number ≥ 1; set"):
        parallel.workers()


@needs_fork
def test_a_build_gives_the_same_bytes_with_one_worker_or_two(tmp_path):
    raw = tmp_path / "raw"
    generate(raw, 20, seed=5)  # more sources than ANCHOR_MIN_ITEMS: anchored in workers
    outputs = {}
    for workers in ("1", "2"):
        outputs[workers] = tmp_path / f"outputs-{workers}"
        env = {
            **os.environ,
            parallel.WORKERS_ENV: workers,
            "USMX_CACHE_DIR": str(tmp_path / f"cache-{workers}"),
            "DAGSTER_HOME": str(tmp_path / f"dagster-{workers}"),
        }
        command = ["-m", "pipeline", "build", "--raw", str(raw), "--outputs", str(outputs[workers])]
        done = subprocess.run(
            [sys.executable, *command], cwd=REPO_ROOT, env=env,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            event = instance.get_latest_materialization_event(dg.AssetKey("anchored_annotations"))
        metadata = event.asset_materialization.metadata
        assert metadata["anchoring processes"].value == int(workers)
        assert metadata["sources re-anchored"].value == 20
    assert tree_digest(outputs["1"]) == tree_digest(outputs["2"])


@needs_fork
def test_a_build_after_vl_convert_ran_in_its_process_draws_its_charts_there(tmp_path):
    """vl-convert's engine runs native threads, which a forked child does not get: a child
    that called it would wait forever. A process where it already ran (a notebook, a
    long-lived service) draws the landing page's charts itself, so the build ends."""
    (tmp_path / "dagster").mkdir()
    (tmp_path / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, parallel.WORKERS_ENV: "2", "USMX_CACHE_DIR": str(tmp_path / "cache"),
           "DAGSTER_HOME": str(tmp_path / "dagster")}  # fmt: skip
    code = (
        "import sys\n"
        "from pipeline.site import landing\n"
        "from pipeline.cache import parallel\n"
        "landing.chart_svg({'data': {'values': [{'a': 1}, {'a': 2}]}, 'mark': 'point',\n"
        "                   'encoding': {'x': {'field': 'a', 'type': 'quantitative'}}})\n"
        "assert landing.engine_started() and parallel.can_fork()\n"
        "from pipeline.cli.main import main\n"
        f"sys.exit(main(['build', '--raw', {str(REPO_ROOT / 'raw')!r}, '--outputs', "
        f"{str(tmp_path / 'outputs')!r}]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "outputs" / "index.html").read_text(encoding="utf-8").count("<svg") >= 2
