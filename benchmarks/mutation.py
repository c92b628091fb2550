"""Mutation testing (mutmut) of the modules that decide what is published, one module at a
time against the fast tests that cover it, in bounded time.

    .venv/bin/python benchmarks/mutation.py                      # every module of MODULES
    .venv/bin/python benchmarks/mutation.py pipeline/core/numerals.py --budget 600

For each module: the project is copied into a scratch folder whose pyproject.toml names that
module alone (`only_mutate`) and its tests (`pytest_add_cli_args_test_selection`);
`mutmut run` mutates it and runs, for each mutant, the tests that cover the mutated function
(mutmut's own coverage map), stopped after `--budget` seconds (what was not checked by then
is reported as such). A build of raw/ made once beforehand is handed to the tests as their
`built` folder (USMX_TEST_BUILT), so a mutant costs its tests, not a build. Surviving mutants
listed in benchmarks/mutation-equivalents.txt (`<mutant name>  <why it is equivalent>`) are
counted as equivalent. The per-module table printed at the end goes into docs/testing.md.
Run it under /work/slot where the machine is shared, e.g. `/work/slot nice -n 10 ...`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENTS = ROOT / "benchmarks" / "mutation-equivalents.txt"
PYTEST_ARGS = ["-p", "no:randomly", "-p", "no:cacheprovider", "-q"]
COPIED = ("pipeline", "tests", "raw", "schemas", "benchmarks", "pyproject.toml", "constraints.txt")

# module -> pytest arguments selecting the fast tests that exercise it (no build inside)
MODULES: dict[str, list[str]] = {
    "pipeline/core/numerals.py": ["tests/test_numerals.py"],
    "pipeline/core/periods.py": ["tests/test_periods.py"],
    "pipeline/core/anchoring.py": ["tests/test_anchoring.py"],
    "pipeline/publish/changelog.py": [
        "tests/test_changelog.py",
        "-k",
        "readme or version_rules or older_entries or every_kind or compare or prefilter"
        " or markdown_lists or several or utf8",
    ],
    "pipeline/publish/validation.py": [
        "tests/test_validation.py",
        "tests/test_published_quotes.py",
        "-k",
        "not build and not staged_package",
    ],
    "pipeline/publish/swap.py": [
        "tests/test_swap.py",
        "tests/test_atomic_publish.py::test_no_change_is_judged_on_every_file_subfolders_included",
    ],
    "pipeline/cache/store.py": ["tests/test_cache.py"],
    "pipeline/cache/keys.py": [
        "tests/test_cache.py",
        "tests/test_code_version.py::test_every_file_of_the_code_changes_the_code_version",
    ],
    "pipeline/cache/rows.py": ["tests/test_cache.py"],
    "pipeline/cache/parallel.py": [
        "tests/test_cache.py",
        "tests/test_parallel.py",
        "-k",
        "not build",
    ],
    "pipeline/publish/build_record.py": ["tests/test_build_record.py"],
}


def known_equivalents() -> dict[str, str]:
    if not EQUIVALENTS.exists():
        return {}
    found = {}
    for line in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, why = line.partition(" ")
            found[name] = why.strip()
    return found


def prebuilt(base: Path) -> Path:
    """One build of raw/ by the unmutated code, for the tests' `built` fixture."""
    outputs = base / "built" / "outputs"
    env = {**os.environ, "DAGSTER_HOME": str(base / "home"), "USMX_CACHE_DIR": str(base / "c")}
    (base / "home").mkdir(parents=True)
    (base / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    subprocess.run([sys.executable, "-m", "pipeline", "build", "--outputs", str(outputs)],
                   cwd=ROOT, env=env, check=True, capture_output=True)  # fmt: skip
    return outputs


def config(module: str, tests: list[str]) -> str:
    also = [c for c in COPIED if c != "pipeline"]
    return (
        "\n[tool.mutmut]\n"
        f'source_paths = ["pipeline"]\n'
        f"only_mutate = {json.dumps([module])}\n"
        f"also_copy = {json.dumps(also)}\n"
        f"pytest_add_cli_args = {json.dumps(PYTEST_ARGS)}\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
    )


def run_module(module: str, tests: list[str], base: Path, built: Path, budget: float) -> dict:
    project = base / module.replace("/", "_")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            project.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, project / name)
    with open(project / "pyproject.toml", "a", encoding="utf-8") as handle:
        handle.write(config(module, tests))
    env = {**os.environ, "USMX_TEST_BUILT": str(built), "PYTHONDONTWRITEBYTECODE": "1"}
    mutmut = [str(Path(sys.executable).parent / "mutmut")]
    started = time.monotonic()
    run = subprocess.Popen([*mutmut, "run", "--max-children", "1"], cwd=project, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           start_new_session=True)  # fmt: skip
    try:
        out, _ = run.communicate(timeout=budget)
        finished, tail = run.returncode == 0, out[-2000:]
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)  # mutmut and the mutant it was running
        out, _ = run.communicate()
        finished, tail = False, (out or "")[-2000:]
    seconds = time.monotonic() - started
    listing = subprocess.run([*mutmut, "results", "--all", "true"], cwd=project, env=env,
                             capture_output=True, text=True).stdout  # fmt: skip
    statuses = dict(line.strip().rsplit(": ", 1) for line in listing.splitlines() if ": " in line)
    equivalents = known_equivalents()
    counts = Counter()
    survived = []
    for name, status in sorted(statuses.items()):
        if status == "survived" and name in equivalents:
            status = "equivalent"
        elif status == "survived":
            survived.append(name)
        counts[status] += 1
    return {"module": module, "tests": tests, "seconds": round(seconds), "finished": finished,
            "counts": dict(counts), "survived": survived, "tail": tail if not finished else "",
            "project": str(project)}  # fmt: skip


def table(results: list[dict]) -> str:
    """Per module: killed (a timeout is a kill), survived, no tests (a mutant no selected test
    reaches: not killed either), equivalent, not checked in the budget; the score is killed
    over killed + survived + no tests."""
    head = ("module", "killed", "survived", "no tests", "equivalent", "not checked", "other",
            "score", "s")  # fmt: skip
    rows = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    for r in results:
        c = dict(r["counts"])
        killed = c.pop("killed", 0) + c.pop("timeout", 0)
        survived, untested = c.pop("survived", 0), c.pop("no tests", 0)
        equivalent, unchecked = c.pop("equivalent", 0), c.pop("not checked", 0)
        other = sum(c.values())
        judged = killed + survived + untested
        score = f"{100 * killed / judged:.0f} %" if judged else "-"
        rows.append(f"| `{r['module']}` | {killed} | {survived} | {untested} | {equivalent} | "
                    f"{unchecked} | {other} | {score} | {r['seconds']} |")  # fmt: skip
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="modules of MODULES (default: all)")
    parser.add_argument("--budget", type=float, default=900, help="seconds per module")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    chosen = args.modules or list(MODULES)
    unknown = [m for m in chosen if m not in MODULES]
    if unknown:
        parser.error(f"no tests are listed for {unknown}; add them to MODULES")
    base = Path(tempfile.mkdtemp(prefix="usmx-mutation-"))
    try:
        built = prebuilt(base)
        results = []
        for module in chosen:
            result = run_module(module, MODULES[module], base, built, args.budget)
            results.append(result)
            print(json.dumps({k: v for k, v in result.items() if k != "tail"}), flush=True)
            if result["tail"]:
                print(result["tail"], file=sys.stderr)
        print(table(results))
        if args.json:
            args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
