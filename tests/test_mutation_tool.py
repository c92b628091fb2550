"""benchmarks/mutation.py derives which tests a module is mutation-tested against: the test
files that import it (through the project's own imports), less the tests that cost more than
`--slow` seconds when run alone, as mutmut runs them for a mutant."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import mutation  # noqa: E402

SHARED = """
import time
import pytest

@pytest.fixture(scope="module")
def slow_module():
    time.sleep(0.6)

@pytest.fixture(scope="session")
def slow_session():
    time.sleep(0.3)

def test_pays_for_the_module_fixture(slow_module):
    pass

def test_shares_it(slow_module, slow_session):
    pass

def test_uses_none():
    pass

class TestInAClass:
    def test_shares_the_session_fixture(self, slow_session):
        pass
"""


def test_a_test_that_shares_a_paid_fixture_is_measured_with_its_cost(tmp_path):
    (tmp_path / "test_shared.py").write_text(SHARED, encoding="utf-8")
    report = tmp_path / "durations.json"
    env = {**os.environ, "USMX_DURATIONS": str(report), "PYTHONPATH": str(REPO / "benchmarks")}
    for workers in ("0", "2"):
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
             "-p", "durations_plugin", "-n", workers, "test_shared.py"],
            cwd=tmp_path, env=env, check=True, capture_output=True,
        )  # fmt: skip
        seconds = json.loads(report.read_text(encoding="utf-8"))
        at = {n.split("::")[-1]: s for n, s in seconds.items()}
        assert at["test_pays_for_the_module_fixture"] >= 0.6, (workers, at)
        assert at["test_shares_it"] >= 0.9, (workers, at)  # the module's 0.6 s and its own 0.3
        assert at["test_shares_the_session_fixture"] >= 0.3, (workers, at)
        assert at["test_uses_none"] < 0.3, (workers, at)
        fast = sorted(n.split("::")[-1] for n, s in seconds.items() if s <= 0.5)  # --slow 0.5
        assert fast == ["test_shares_the_session_fixture", "test_uses_none"], (workers, at)


def test_a_module_is_tested_by_the_files_that_import_it_directly_or_not():
    graph = mutation.import_graph()
    numerals = mutation.candidate_tests("pipeline/core/numerals.py", graph)
    assert "tests/test_numerals.py" in numerals  # imports it directly
    direct = [f for f in numerals if "pipeline.core.numerals" in mutation.imported(REPO / f)
              or "pipeline.core" in mutation.imported(REPO / f)]  # fmt: skip
    assert set(direct) < set(numerals)  # and files that reach it through other modules
    assert "tests/test_mutation_tool.py" not in numerals
    assert "tests/conftest.py" not in numerals
