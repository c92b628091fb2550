"""Mutation testing (mutmut) of the modules that decide what is published, one module at a
time against the fast tests that cover it, in bounded time.

    .venv/bin/python benchmarks/mutation.py                      # every module of FOLDERS
    .venv/bin/python benchmarks/mutation.py pipeline/core/numerals.py --budget 600

Which tests a module is run against is derived, not listed: the test files that import it,
directly or through other modules of the project (an import scan of pipeline/ and tests/),
less the tests that took more than SLOW seconds in one run of those files beforehand (the
unmutated code; `--durations` keeps those figures for the next run of the same code).
For each module: the project is copied into a scratch folder whose pyproject.toml names that
module alone (`only_mutate`) and those tests (`pytest_add_cli_args_test_selection`);
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
import ast
import hashlib
import json
import os
import re
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

FOLDERS = ("pipeline/core", "pipeline/publish", "pipeline/cache")
SLOW = 2.0  # seconds: a test slower than this (setup included) is left out of mutant runs
# mutmut stops a mutant after (its tests' measured seconds + 1) x this, wall clock (a mutant
# that deadlocks uses no CPU); mutmut's default 15 let one hang cost 5 minutes
TIMEOUT_MULTIPLIER = 4.0


def module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """The dotted names a Python file imports (relative imports resolved), as written:
    `from pipeline.core import records` gives both pipeline.core and pipeline.core.records."""
    package = module_of(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_of(path)
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def import_graph() -> dict[str, set[str]]:
    """Each module of pipeline/ and tests/ -> the modules of those folders it imports. A test
    helper is imported by its bare name (tests/ is on sys.path), so it is known by both."""
    found = (f for folder in ("pipeline", "tests") for f in (ROOT / folder).rglob("*.py"))
    files = {module_of(f): f for f in found}
    files |= {n.removeprefix("tests."): f for n, f in list(files.items()) if n.startswith("tests.")}
    known = set(files) - {"conftest", "tests.conftest"}
    return {name: imported(f) & known for name, f in files.items()}


def candidate_tests(module: str, graph: dict[str, set[str]]) -> list[str]:
    """The test files that import `module`, directly or through other modules of the project
    (derived from the code by an import scan, not listed by hand). conftest.py is left out: its
    imports serve fixtures every test file has."""
    target = module_of(ROOT / module)
    reaches: dict[str, bool] = {}

    def reach(name: str, seen: frozenset = frozenset()) -> bool:
        if name not in reaches:
            reaches[name] = name == target or any(
                reach(n, seen | {name}) for n in graph.get(name, ()) if n not in seen
            )
        return reaches[name]

    tests = sorted((ROOT / "tests").glob("test_*.py"))
    return [str(f.relative_to(ROOT)) for f in tests if reach(module_of(f))]


def measured_durations(files: list[str], built: Path, kept: Path, workers: int) -> dict:
    """Each passed test's seconds (setup and teardown included) by node id, from one run of
    the test files (the unmutated code in a copy of what a mutant run has, the prebuilt
    `built`: a test that needs a file not copied, as the committed outputs/, fails there).
    Figures kept in `kept` from an earlier run are reused for a test file whose sha256 (with
    the plugin's) is the one they were measured on; the other files are run again."""
    plugin = (ROOT / "benchmarks" / "durations_plugin.py").read_bytes()  # how it measures
    digest = {f: hashlib.sha256(plugin + (ROOT / f).read_bytes()).hexdigest() for f in files}
    old = json.loads(kept.read_text(encoding="utf-8")) if kept.exists() else {}
    stale = [f for f in files if old.get(f, {}).get("sha256") != digest[f]]
    if stale:
        report = kept.with_name(kept.name + ".run")
        env = {**os.environ, "USMX_TEST_BUILT": str(built), "USMX_DURATIONS": str(report),
               "PYTHONPATH": str(ROOT / "benchmarks"), "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
        pytest = [sys.executable, "-m", "pytest", *PYTEST_ARGS, "-p", "durations_plugin"]
        pytest += ["-n", str(workers), *stale]
        where = copy_project(Path(tempfile.mkdtemp(prefix="usmx-durations-")))
        subprocess.run(pytest, cwd=where, env=env, capture_output=True)  # as a mutant run sees it
        shutil.rmtree(where, ignore_errors=True)
        measured = json.loads(report.read_text(encoding="utf-8"))
        report.unlink()
        for f in stale:
            tests = {n: s for n, s in measured.items() if n.split("::")[0] == f}
            old[f] = {"sha256": digest[f], "tests": tests}
        kept.write_text(json.dumps(old, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return {n: s for f in files for n, s in old[f]["tests"].items()}


def selection(module: str, graph: dict, durations: dict[str, float], slow: float = SLOW):
    """The node ids of the module's candidate tests that passed and took at most `slow` s."""
    files = set(candidate_tests(module, graph))
    return sorted(n for n, s in durations.items() if n.split("::")[0] in files and s <= slow)


def default_modules() -> list[str]:
    found = (f for folder in FOLDERS for f in sorted((ROOT / folder).glob("*.py")))
    return [str(f.relative_to(ROOT)) for f in found if f.name != "__init__.py"]


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
        f"timeout_multiplier = {TIMEOUT_MULTIPLIER}\n"
    )


def copy_project(project: Path) -> Path:
    """The files a mutant run has (COPIED), in `project`: what the tests can read there."""
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            project.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, project / name)
    return project


def run_module(module: str, tests: list[str], base: Path, built: Path, budget: float) -> dict:
    """mutmut over `module`. A selected test that fails in mutmut's own copy (its stats run
    stops at the first failure) is dropped and the run started again, at most 5 times."""
    project = copy_project(base / module.replace("/", "_"))
    env = {**os.environ, "USMX_TEST_BUILT": str(built), "PYTHONDONTWRITEBYTECODE": "1"}
    mutmut = [str(Path(sys.executable).parent / "mutmut")]
    started = time.monotonic()
    dropped: list[str] = []
    for _ in range(5):
        shutil.copy2(ROOT / "pyproject.toml", project / "pyproject.toml")
        with open(project / "pyproject.toml", "a", encoding="utf-8") as handle:
            handle.write(config(module, tests))
        shutil.rmtree(project / "mutants", ignore_errors=True)
        left = budget - (time.monotonic() - started)
        out, finished = _mutmut(mutmut, project, env, left)
        stats_failed = "failed to collect stats" in out
        failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", out, re.M) if stats_failed else []
        if not failed or not set(failed) & set(tests):
            break
        dropped += failed
        tests = [t for t in tests if t not in failed]
    tail = "" if finished else out[-2000:]
    return {"module": module, "tests": tests, "dropped": dropped,
            "seconds": round(time.monotonic() - started), "finished": finished,
            **judged(project, env), "tail": tail, "project": str(project)}  # fmt: skip


def statuses_of(project: Path, env: dict) -> dict[str, str]:
    """mutmut's status of every mutant of `project`, by name."""
    mutmut = [str(Path(sys.executable).parent / "mutmut")]
    listing = subprocess.run([*mutmut, "results", "--all", "true"], cwd=project, env=env,
                             capture_output=True, text=True).stdout  # fmt: skip
    return dict(line.strip().rsplit(": ", 1) for line in listing.splitlines() if ": " in line)


def judged(project: Path, env: dict, statuses: dict[str, str] | None = None) -> dict:
    """The mutants' statuses (mutmut's, or `statuses`), counted, with those listed as
    equivalent counted so, and the names of those left alive (survived, or no tests)."""
    statuses = statuses_of(project, env) if statuses is None else statuses
    equivalents = known_equivalents()
    counts = Counter()
    alive = []
    for name, status in sorted(statuses.items()):
        if status == "survived" and name in equivalents:
            status = "equivalent"
        elif status in ("survived", "no tests"):
            alive.append(name)
        counts[status] += 1
    return {"counts": dict(counts), "alive": alive, "statuses": statuses}


def recheck(result: dict, tests: list[str], built: Path) -> dict:
    """Judge again, in the project folder a run kept, the mutants it left alive (survived or
    reached by no test) or did not check in its budget, against the tests as they are now:
    the tests are copied in, the selection is the derived one again, and mutmut runs those
    mutants alone (it measures the coverage of the new tests first). The other mutants keep
    the status of the first run (recorded in `result`; mutmut forgets them when its
    configuration changes): tests are added, not weakened, between the two."""
    project = Path(result["project"])
    env = {**os.environ, "USMX_TEST_BUILT": str(built), "PYTHONDONTWRITEBYTECODE": "1"}
    before = result.get("statuses") or statuses_of(project, env)
    for where in (project, project / "mutants"):
        shutil.rmtree(where / "tests")
        skip = shutil.ignore_patterns("__pycache__")
        shutil.copytree(ROOT / "tests", where / "tests", ignore=skip)
        shutil.copy2(ROOT / "pyproject.toml", where / "pyproject.toml")
        with open(where / "pyproject.toml", "a", encoding="utf-8") as handle:
            handle.write(config(result["module"], tests))
    alive = judged(project, env, before)["alive"]
    alive += [name for name, status in before.items() if status == "not checked"]
    started = time.monotonic()
    mutmut = [str(Path(sys.executable).parent / "mutmut")]
    out, finished = _mutmut(mutmut, project, env, 10**6, alive) if alive else ("", True)
    now = statuses_of(project, env)
    after = {**before, **{name: now[name] for name in alive}}
    result = {k: v for k, v in result.items() if k != "survived"}  # a run's older name of alive
    return {**result, "tests": tests, "rechecked": len(alive), "finished": finished,
            "seconds": result["seconds"] + round(time.monotonic() - started),
            **judged(project, env, after), "tail": "" if finished else out[-2000:]}  # fmt: skip


def _mutmut(mutmut: list[str], project: Path, env: dict, budget: float,
            names: list[str] = ()) -> tuple[str, bool]:  # fmt: skip
    run = subprocess.Popen([*mutmut, "run", "--max-children", "1", *names], cwd=project, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           start_new_session=True)  # fmt: skip
    try:
        out, _ = run.communicate(timeout=max(budget, 1))
        return out, run.returncode == 0
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)  # mutmut and the mutant it was running
        out, _ = run.communicate()
        return out or "", False


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
    every = ", ".join(FOLDERS)
    parser.add_argument("modules", nargs="*", help=f"paths (default: every module of {every})")
    parser.add_argument("--budget", type=float, default=900, help="seconds per module")
    parser.add_argument(
        "--durations",
        type=Path,
        help="the tests' measured seconds: read from this file if it exists, "
        "else measured and written there (reuse it between runs of one code)",
    )
    parser.add_argument(
        "--slow",
        type=float,
        default=SLOW,
        help=f"leave out tests slower than this, seconds (default {SLOW}): a "
        "surviving mutant runs every selected test that reaches it",
    )
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers to measure")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument(
        "--recheck",
        type=Path,
        metavar="RESULTS",
        help="the --json of a --keep run: judge its living mutants again against the tests "
        "as they are now (only those; written back to RESULTS)",
    )
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    if args.recheck:
        return recheck_all(args)
    chosen = args.modules or default_modules()
    missing = [m for m in chosen if not (ROOT / m).is_file()]
    if missing:
        parser.error(f"no such module: {missing}")
    graph = import_graph()
    base = Path(tempfile.mkdtemp(prefix="usmx-mutation-"))
    try:
        built = prebuilt(base)
        files = sorted({f for m in chosen for f in candidate_tests(m, graph)})
        kept = args.durations or base / "durations.json"
        durations = measured_durations(files, built, kept, args.workers)
        results = []
        for module in chosen:
            tests = selection(module, graph, durations, args.slow)
            if not tests:
                print(f"{module}: no test that imports it passes in {args.slow} s", flush=True)
                continue
            result = run_module(module, tests, base, built, args.budget)
            results.append(result)
            shown = {k: v for k, v in result.items() if k not in ("tail", "tests", "statuses")}
            print(json.dumps({**shown, "tests": len(tests)}), flush=True)
            if result["tail"]:
                print(result["tail"], file=sys.stderr)
            if args.json:  # after each module: a run stopped midway keeps what it judged
                args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        print(table(results))
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


def recheck_all(args: argparse.Namespace) -> int:
    results = json.loads(args.recheck.read_text(encoding="utf-8"))
    graph = import_graph()
    for i, result in enumerate(results):
        base = Path(result["project"]).parent
        built = base / "built" / "outputs"
        files = candidate_tests(result["module"], graph)
        durations = measured_durations(files, built, args.durations or base / "durations.json",
                                       args.workers)  # fmt: skip
        dropped = set(result.get("dropped", []))
        tests = [t for t in selection(result["module"], graph, durations, args.slow)
                 if t not in dropped]  # fmt: skip
        results[i] = recheck(result, tests, built)
        shown = {k: v for k, v in results[i].items() if k not in ("tail", "tests", "statuses")}
        print(json.dumps({**shown, "tests": len(tests)}), flush=True)
        args.recheck.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
