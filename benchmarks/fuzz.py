"""The long fuzz campaign of issue 21: mutated copies of raw/, read in this process.

    .venv/bin/python benchmarks/fuzz.py [--examples 10000] [--builds 0] [--seed N]

Each example mutates one file of a copy of raw/ (tests/fuzzing.py) and reads it as the build
does (`read_raw`: folders, snapshots, anchoring, typed and checked rows): it must return or
raise a BuildError whose sentence names no exception class. `--builds N` also runs N whole
builds (Dagster, in-process) and checks exit 0 or 1 and, on 1, outputs/ unchanged. Every
failure is printed with the mutation that made it: add it to REGRESSIONS in
tests/test_fuzz_inputs.py. Prints the counts and the time.
"""

from __future__ import annotations

import argparse
import collections
import io
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import hypothesis  # noqa: E402
from fuzzing import mutated_raw, mutations, read_raw  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

from pipeline.core.errors import BuildError  # noqa: E402

RAW = ROOT / "raw"
UNTOLD = re.compile(r"Traceback|unexpectedly|\b[A-Z]\w*(Error|Exception)\b")


def campaign(examples: int, seed: int | None, work: Path) -> tuple[collections.Counter, list]:
    outcomes: collections.Counter = collections.Counter()
    failures: list[tuple[object, str]] = []

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(mutation=mutations())
    def one(mutation):
        raw = mutated_raw(RAW, work / "raw", mutation)
        try:
            read_raw(raw)
            outcomes["read"] += 1
        except BuildError as exc:
            outcomes["refused"] += 1
            if UNTOLD.search(str(exc).replace("BuildError", "")):
                failures.append((mutation, f"untold: {exc}"))
        except Exception as exc:  # noqa: BLE001 - a failure to report, not to hide
            outcomes["crashed"] += 1
            where = traceback.extract_tb(exc.__traceback__)[-1]
            failures.append(
                (mutation, f"{type(exc).__name__}: {exc} at {where.filename}:{where.lineno}")
            )

    if seed is not None:
        one = hypothesis.seed(seed)(one)
    one()
    return outcomes, failures


def builds(count: int, work: Path) -> tuple[collections.Counter, list]:
    """`count` whole builds of mutated copies, on one runner."""
    from pipeline.cli.runner import BuildRunner

    outcomes: collections.Counter = collections.Counter()
    failures: list = []
    raw, outputs, published = work / "build-raw", work / "outputs", work / "published"
    shutil.copytree(RAW, raw)
    os.environ["USMX_CACHE_DIR"] = str(work / "cache")
    runner = BuildRunner(raw, published)
    assert runner.run() == 0
    runner.close()
    runner = BuildRunner(raw, outputs)

    @settings(max_examples=count, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(mutation=mutations())
    def one(mutation):
        shutil.rmtree(outputs, ignore_errors=True)
        shutil.copytree(published, outputs)
        before = {p: p.read_bytes() for p in outputs.rglob("*") if p.is_file()}
        mutated_raw(RAW, raw, mutation)
        err = io.StringIO()
        with redirect_stderr(err), redirect_stdout(io.StringIO()):
            code = runner.run()
        outcomes[f"exit {code}"] += 1
        after = {p: p.read_bytes() for p in outputs.rglob("*") if p.is_file()}
        if code not in (0, 1) or UNTOLD.search(err.getvalue()) or (code == 1 and after != before):
            failures.append((mutation, f"exit {code}: {err.getvalue().strip()[:300]}"))

    one()
    runner.close()
    return outcomes, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--builds", type=int, default=0)
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="usmx-fuzz-") as tmp:
        work = Path(tmp)
        os.environ.setdefault("DAGSTER_HOME", str(work / "dagster_home"))
        (work / "dagster_home").mkdir(exist_ok=True)
        (work / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        started = time.perf_counter()
        outcomes, failures = campaign(args.examples, args.seed, work)
        read_s = time.perf_counter() - started
        print(f"reads: {sum(outcomes.values())} in {read_s:.0f} s: {dict(outcomes)}", flush=True)
        if args.builds:
            started = time.perf_counter()
            built, build_failures = builds(args.builds, work)
            print(f"builds: {sum(built.values())} in {time.perf_counter() - started:.0f} s: "
                  f"{dict(built)}", flush=True)  # fmt: skip
            failures += build_failures
    seen = set()
    for mutation, what in failures:
        if what not in seen:
            seen.add(what)
            print(f"FAILURE {what}\n  {mutation!r}")
    print(f"{len(failures)} failures ({len(seen)} distinct)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
