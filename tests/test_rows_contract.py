"""What `cache.rows.source_rows` promises a build's log: the sources it anchors are one step,
counted, and typing and checking their rows another (the steps a long build shows)."""

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


def test_anchoring_and_typing_the_rows_are_each_a_step_of_the_log(tmp_path):
    snapshot = tiny_snapshot(tmp_path, TEXT, ANNOTATIONS)
    log = io.StringIO()
    with progress.reporting(log):
        rows, remade = source_rows([snapshot], tmp_path / "cache")
    assert remade == [snapshot.source_id] and len(rows) == 1
    lines = re.sub(r"[0-9]+\.[0-9] s", "T s", log.getvalue()).splitlines()
    assert lines == ["step anchoring: 1 source in T s", "step typing and checking the rows: T s"]
    log = io.StringIO()
    with progress.reporting(log):
        again, remade = source_rows([snapshot], tmp_path / "cache")
    assert remade == [] and log.getvalue() == ""  # read back: nothing anchored, no step
