"""pytest plugin for benchmarks/mutation.py: writes each passed test's seconds by node id to
the file named by $USMX_DURATIONS.

A test's seconds are what it costs when run alone, as mutmut runs it for a mutant: its setup,
call and teardown, plus the setup of every module-, class-, package- or session-scoped fixture
it uses that an earlier test of the run paid for (a test that shares a module fixture which
runs a build is not cheap just because it came second)."""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict

import pytest

_seconds: dict[str, float] = defaultdict(float)
_failed: set[str] = set()
_paid: dict[tuple[str, str], tuple[float, str]] = {}  # (fixture, scope node) -> (s, paid by)
_running: list[str] = [""]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _running[0] = item.nodeid


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    started = time.perf_counter()
    try:
        return (yield)
    finally:
        if fixturedef.scope != "function":
            key = (fixturedef.argname, request.node.nodeid)
            _paid[key] = (time.perf_counter() - started, _running[0])


def shared_seconds(item) -> float:
    """Setup seconds of the wider-scoped fixtures `item` uses that another test paid for."""
    scopes = {node.nodeid for node in item.listchain()[:-1]}
    return sum(
        seconds
        for (name, node), (seconds, payer) in _paid.items()
        if node in scopes and name in item.fixturenames and payer != item.nodeid
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.when == "teardown":  # user_properties travel from an xdist worker to the controller
        report.user_properties.append(("shared_fixture_seconds", shared_seconds(item)))
    return report


def pytest_runtest_logreport(report):
    _seconds[report.nodeid] += report.duration
    _seconds[report.nodeid] += dict(report.user_properties).get("shared_fixture_seconds", 0.0)
    if report.failed or report.skipped:
        _failed.add(report.nodeid)  # only tests that passed are selected


def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller saw every report and writes the file
    passed = {n: round(s, 3) for n, s in sorted(_seconds.items()) if n not in _failed}
    with open(os.environ["USMX_DURATIONS"], "w", encoding="utf-8") as handle:
        json.dump(passed, handle, indent=0)
