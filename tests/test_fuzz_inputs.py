"""A fuzzer keeps it so: copies of the real raw/ files, mutated (flipped and inserted bytes,
deleted, duplicated and swapped lines, random YAML values and keys, truncation), are read and
built. Whatever the mutation, the build exits 0 or 1, prints no traceback and nothing
"unexpectedly", and on 1 leaves outputs/ byte for byte as it was (issue 21, item 8).

The CI run is bounded (a fixed, derandomized set of examples, about a minute);
`benchmarks/fuzz.py` runs a long random campaign. Every input that ever failed is kept
below as an `@example`.
"""

from __future__ import annotations

import io
import re
import shutil
from contextlib import redirect_stderr, redirect_stdout

import pytest
from fuzzing import Mutation, mutated_raw, mutations, read_raw
from hypothesis import HealthCheck, example, given, settings

from conftest import RAW, tree_digest
from pipeline.core.errors import BuildError

UNTOLD = re.compile(r"Traceback|unexpectedly|\b[A-Z]\w*(Error|Exception)\b")
CI = settings(
    deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip

# the kinds of input that failed before issue 21 (a traceback or no line), and every input the
# long campaign (benchmarks/fuzz.py) ever failed on
REGRESSIONS = [
    # campaign of 10,000 reads, seed 21: a reference_year below datetime's range crashed the
    # relative period ("OverflowError: signed integer is less than minimum")
    Mutation("source.yaml", "value", 631, 401, b"-68007301337103"),
    Mutation("annotations.yaml", "value", 7, payload=b"[1, 2]"),  # a list as an entry's quote
    Mutation("annotations.yaml", "value", 3, payload=b"{a: 1}"),  # a mapping as an id
    Mutation("corrections.yaml", "value", 5, payload=b"2000-02-30"),  # a date that is not
    Mutation("source.yaml", "value", 0, payload=b"[a, b]"),  # a list as source_id
    Mutation("source.yaml", "value", 7, payload=b"1e999"),  # inf as reference_year
    Mutation("annotations.yaml", "insert", 0, payload=b"\xef\xbb\xbf"),  # a BOM in YAML
    Mutation("annotations.yaml", "insert", 400, payload=b"&a "),  # an anchor
    Mutation("source.txt", "insert", 100, payload=b"\r\n"),  # a CR in the text
]


def check_message(message: str) -> None:
    assert message.strip(), "a refusal said nothing"
    assert not UNTOLD.search(message.replace("BuildError", "")), message


def _examples(test):
    for mutation in REGRESSIONS:
        test = example(mutation)(test)
    return test


@settings(CI, max_examples=250)
@_examples
@given(mutation=mutations())
def test_reading_a_mutated_raw_returns_or_is_one_sentence(tmp_path_factory, mutation):
    raw = mutated_raw(RAW, tmp_path_factory.getbasetemp() / "fuzz-read-raw", mutation)
    try:
        read_raw(raw)
    except BuildError as exc:
        check_message(str(exc))


@pytest.fixture(scope="module")
def runner(tmp_path_factory, built):
    """One build runner on a fixed raw/ and outputs/ copy, run once per example."""
    from pipeline.cli.runner import BuildRunner

    base = tmp_path_factory.mktemp("fuzz-build")
    raw, outputs = base / "raw", base / "outputs"
    shutil.copytree(RAW, raw)
    env = pytest.MonkeyPatch()
    env.setenv("USMX_CACHE_DIR", str(base / "cache"))  # not the developer's .cache/
    runner = BuildRunner(raw, outputs)
    yield runner, raw, outputs, built
    runner.close()
    env.undo()


@settings(CI, max_examples=12)
@given(mutation=mutations())
def test_building_a_mutated_raw_exits_0_or_1_and_leaves_outputs_on_1(runner, mutation):
    build, raw, outputs, built = runner
    shutil.rmtree(outputs, ignore_errors=True)
    shutil.copytree(built, outputs)
    before = tree_digest(outputs)
    mutated_raw(RAW, raw, mutation)
    err, out = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(out):
        code = build.run()
    assert code in (0, 1), (code, err.getvalue())
    assert not UNTOLD.search(err.getvalue() + out.getvalue()), err.getvalue()
    if code == 1:
        check_message(err.getvalue())
        assert tree_digest(outputs) == before, "a refused build changed outputs/"
    assert not list(outputs.parent.glob("outputs.staging-*"))
