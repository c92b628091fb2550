"""pytest plugin for benchmarks/mutation.py: writes each passed test's seconds (setup, call
and teardown summed) by node id to the file named by $USMX_DURATIONS."""

from __future__ import annotations

import json
import os
from collections import defaultdict

_seconds: dict[str, float] = defaultdict(float)
_failed: set[str] = set()


def pytest_runtest_logreport(report):
    _seconds[report.nodeid] += report.duration
    if report.failed or report.skipped:
        _failed.add(report.nodeid)  # only tests that passed are selected


def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller saw every report and writes the file
    passed = {n: round(s, 3) for n, s in sorted(_seconds.items()) if n not in _failed}
    with open(os.environ["USMX_DURATIONS"], "w", encoding="utf-8") as handle:
        json.dump(passed, handle, indent=0)
