"""Issue 24, item 2: nothing made twice. A build is traced with strace (every process it
forks included) and every file it opens for writing is counted: each published file is
written once in the staging folder (or hard-linked there from the cache, which made it
once in an earlier build), and reaches outputs/ by the rename of the swap, never by a copy
or a second write. Shown cold (empty cache) and warm (the same cache, a
new outputs folder), on a generated corpus of three sources (forked workers, per-source
pages) and on the real dataset."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pipeline.core.errors import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from corpus import generate  # noqa: E402

STRACE = shutil.which("strace")
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
QUOTED, DIR = r'"((?:[^"\\]|\\.)*)"', r"(?:AT_FDCWD, |\d+, )?"
OPENED = re.compile(rf"open(?:at)?\({DIR}{QUOTED}, ([A-Z_|0-9]+)")
LINKED = re.compile(rf"link(?:at)?\({DIR}{QUOTED}, {DIR}{QUOTED}")


def _traced_build(raw: Path, outputs: Path, cache: Path, trace: Path) -> None:
    env = {**os.environ, "USMX_CACHE_DIR": str(cache)}
    command = [STRACE, "-f", "-qq", "-e", "trace=open,openat,creat,link,linkat", "-e", "signal=none",
               "-o", str(trace), sys.executable, "-m", "pipeline", "build",
               "--raw", str(raw), "--outputs", str(outputs)]  # fmt: skip
    run = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]


def _writes(trace: Path, outputs: Path) -> Counter:
    """How often each path under outputs/ or its staging folder was opened for writing or
    made by a hard link (from the cache), the staging folder's name replaced by
    `<staging>`."""
    staging = re.compile(re.escape(str(outputs)) + r"\.staging-\d+")
    counted: Counter = Counter()
    for line in trace.read_text(encoding="utf-8", errors="replace").splitlines():
        if " = -1 " in line:
            continue  # a call that failed made nothing
        opened, linked = OPENED.search(line), LINKED.search(line)
        if opened and any(flag in opened[2] for flag in WRITE_FLAGS):
            made = opened[1]
        elif linked:
            made = linked[2]  # a file of the cache, hard-linked in: made once, elsewhere
        else:
            continue
        path = staging.sub(str(outputs) + "/<staging>", made)
        if path.startswith(str(outputs)):
            counted[path.removeprefix(str(outputs))] += 1
    return counted


def _published(outputs: Path) -> list[str]:
    return sorted(
        f"/{p.relative_to(outputs).as_posix()}" for p in outputs.rglob("*") if p.is_file()
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("corpus") / "raw"
    generate(raw, 3, seed=11)
    return raw


@pytest.mark.skipif(STRACE is None, reason="strace is not installed (dev.py test installs it)")
@pytest.mark.parametrize("which", ["generated corpus of 3 sources", "real dataset"])
def test_each_published_file_is_written_once_in_staging_cold_and_warm(
    tmp_path: Path, corpus: Path, which: str
) -> None:
    raw = corpus if which.startswith("generated") else REPO_ROOT / "raw"
    cache = tmp_path / "cache"
    for build in ("cold", "warm"):
        outputs, trace = tmp_path / f"outputs-{build}", tmp_path / f"{build}.trace"
        _traced_build(raw, outputs, cache, trace)
        writes = _writes(trace, outputs)
        published = _published(outputs)
        assert len(published) > 10, published
        direct = sorted(p for p in writes if not p.startswith("/<staging>/"))
        assert not direct, f"{build}: written in outputs/ itself, not staged: {direct}"
        staged = {p.removeprefix("/<staging>"): n for p, n in writes.items()}
        never = [p for p in published if p not in staged]
        assert not never, f"{build}: published but never written in staging: {never}"
        twice = {p: staged[p] for p in published if staged[p] != 1}
        assert not twice, f"{build}: published files written more than once: {twice}"
