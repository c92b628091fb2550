"""What `cache.rows.source_rows` promises: the sources it anchors and types are one step of
the log, counted source by source (the steps a long build shows), and the rows are the same
bytes however the sources are cut into the chunks a worker takes."""

from __future__ import annotations

import io
import re

from tiny_source import tiny_snapshot

from pipeline import progress
from pipeline.cache.rows import source_rows

TEXT = "Intro\nThe FBI seized 12 labs in 1999.\n"
ANNOTATIONS = """
ignore:
  - quote: "12"
    reason: a test
  - quote: "1999"
    reason: a test
"""


def test_anchoring_and_typing_the_rows_are_a_step_of_the_log(tmp_path):
    snapshot = tiny_snapshot(tmp_path, TEXT, ANNOTATIONS)
    log = io.StringIO()
    with progress.reporting(log):
        rows, remade = source_rows([snapshot], tmp_path / "cache")
    assert remade == [snapshot.source_id] and len(rows) == 1
    lines = re.sub(r"[0-9]+\.[0-9] s", "T s", log.getvalue()).splitlines()
    assert lines == ["step anchoring and typing: 1 source in T s"]
    log = io.StringIO()
    with progress.reporting(log):
        again, remade = source_rows([snapshot], tmp_path / "cache")
    assert remade == [] and log.getvalue() == ""  # read back: nothing anchored, no step


def test_fewer_sources_than_the_minimum_are_anchored_in_this_process(tmp_path, monkeypatch):
    """Forking workers costs more than anchoring a few sources: under ANCHOR_MIN_ITEMS they are
    anchored here, even with two workers allowed."""
    import os

    import pytest

    from pipeline.cache import rows
    from pipeline.cache.parallel import processes

    monkeypatch.setenv("USMX_WORKERS", "2")
    if processes(rows.ANCHOR_MIN_ITEMS, rows.ANCHOR_MIN_ITEMS) != 2:
        pytest.skip("fork is off in this process (another test left a thread running)")
    snapshots = [tiny_snapshot(tmp_path / name, TEXT, ANNOTATIONS) for name in ("a", "b")]
    seen, anchor_annotations = [], rows.anchor_annotations

    def anchor(snapshot, document=None):  # a local function: no worker process could call it
        seen.append(os.getpid())
        return anchor_annotations(snapshot, document)

    monkeypatch.setattr(rows, "anchor_annotations", anchor)
    source_rows(snapshots, None)
    assert seen == [os.getpid()] * 2 and rows.ANCHOR_MIN_ITEMS > 2


def test_the_rows_are_the_same_bytes_however_the_sources_are_chunked(tmp_path):
    """Workers type chunks of ANCHOR_CHUNK sources together: a source's typed rows and its
    problems do not depend on which sources it was typed with."""
    import sys

    from pipeline.cache import rows
    from pipeline.core.errors import REPO_ROOT
    from pipeline.core.sources import load_snapshot

    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    from corpus import generate

    generate(tmp_path / "raw", 6, 3)
    snapshots = [load_snapshot(f) for f in sorted((tmp_path / "raw").iterdir())]
    whole = rows.anchor_and_type(snapshots)
    cut = rows.anchor_and_type(snapshots[:1]) + rows.anchor_and_type(snapshots[1:4])
    cut += rows.anchor_and_type(snapshots[4:])
    assert [(r.tables, r.problems, q) for r, q in whole] == [
        (r.tables, r.problems, q) for r, q in cut
    ]
    assert len(whole) == 6 and all(r.counts["provenance"] > 100 for r, _ in whole)
