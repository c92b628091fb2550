"""A long build shows where it is (pipeline/progress.py): piped, `build` prints one plain line
per step with its time, the per-source steps with their count of sources; on a terminal it
draws rich's live display with sources done of the total; a bad input still ends in its one
sentence. Each case runs `python -m pipeline build` on a generated corpus of three sources,
piped or on a pseudo-terminal."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline import progress
from pipeline.core.errors import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from corpus import generate  # noqa: E402

SOURCES = 3
PER_SOURCE = ("source_snapshots", "anchored_annotations › anchoring and typing",
              "data_package › pages › source pages")  # fmt: skip
STEPS = ("source_snapshots", "anchored_annotations", "tables", "data_package › Parquet and CSV",
         "data_package › SQLite", "data_package › pages › landing page",
         "data_package › validation", "data_package")  # fmt: skip


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("progress") / "raw"
    generate(raw, SOURCES)
    return raw


def build_command(raw: Path, outputs: Path) -> list[str]:
    """The build, with a cache of its own: every source is anchored and paged anew."""
    cache = f"USMX_CACHE_DIR={outputs.parent / 'cache'}"
    return ["env", cache, sys.executable, "-m", "pipeline", "build", "--raw", str(raw),
            "--outputs", str(outputs)]  # fmt: skip


def test_piped_a_build_prints_one_plain_line_per_step_with_its_time(corpus, tmp_path):
    done = subprocess.run(build_command(corpus, tmp_path / "out"), cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[-1].startswith(f"Built {tmp_path / 'out'}: "), lines[-1]
    steps = {}
    for line in lines[:-1]:
        match = re.fullmatch(r"step (.+?): (?:(\d+) (sources?) in )?(\d+\.\d) s", line)
        assert match, f"not a plain step line: {line!r}"
        steps[match[1]] = match[2]
    assert set(STEPS) <= steps.keys(), sorted(steps)
    for name in PER_SOURCE:
        assert steps[name] == str(SOURCES), (name, steps[name])
    # a step's line comes once it is over: an inner step before the step that holds it
    names = list(steps)
    assert names.index("data_package › validation") < names.index("data_package")
    assert "\x1b[" not in done.stdout  # no terminal codes in a file


def on_terminal(command: list[str]) -> tuple[int, str]:
    """Run `command` with stdin, stdout and stderr on a pseudo-terminal; its exit code and
    everything it wrote there."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(command, cwd=REPO_ROOT, stdin=follower, stdout=follower,
                            stderr=follower, start_new_session=True)  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 600)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal's other side is closed: the build has ended
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def visible(shown: str) -> str:
    """What a terminal shows of `shown`: its control sequences (colours, cursor) taken out."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)


def test_on_a_terminal_a_build_shows_sources_done_of_the_total(corpus, tmp_path):
    code, shown = on_terminal(build_command(corpus, tmp_path / "out"))
    assert code == 0, shown
    plain = visible(shown)
    assert "\x1b[" in shown  # drawn live, with the terminal's codes
    for name in PER_SOURCE:
        assert re.search(rf"{re.escape(name)} \({SOURCES} sources, \d+\.\d s\).*{SOURCES}/{SOURCES}",
                         plain), name  # fmt: skip
    assert "step source_snapshots:" not in plain  # the plain lines are for files only
    assert re.search(r"Built .*: actors \d+", plain)


def test_the_terminal_display_starts_no_thread_so_the_build_can_fork():
    """rich's refresh thread would make `parallel.can_fork` false: a build on a terminal ran
    every per-source step in one process (found in issue 24)."""
    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "w", encoding="utf-8", closefd=False) as tty:
            before = threading.active_count()
            with progress.reporting(tty), progress.step("anchoring", total=2):
                progress.advance()
                assert threading.active_count() == before
    finally:
        os.close(follower)
        os.close(leader)


def test_a_bad_input_still_ends_in_its_one_sentence(corpus, tmp_path):
    raw = tmp_path / "raw"
    subprocess.run(["cp", "-r", str(corpus), str(raw)], check=True)
    sid = sorted(p.name for p in raw.iterdir())[0]
    text = raw / sid / "source.txt"
    text.write_text(text.read_text(encoding="utf-8") + "x", encoding="utf-8")
    done = subprocess.run(build_command(raw, tmp_path / "out"), cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("error: "), done.stderr
    assert "sha256" in done.stderr and sid in done.stderr, done.stderr
    code, shown = on_terminal(build_command(raw, tmp_path / "out"))
    assert code == 1
    shown = visible(shown).replace("\r", "\n")
    last = [line for line in shown.splitlines() if line.strip()][-1]
    assert last.strip() == done.stderr.strip(), shown[-2000:]
