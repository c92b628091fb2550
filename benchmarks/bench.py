"""Benchmark of the build: import floor, real dataset, synthetic corpus, explain, executors.

    .venv/bin/python benchmarks/bench.py                      # N = 1, 10, 100, 1000; 3 runs
    .venv/bin/python benchmarks/bench.py --sizes 1,10 --repeats 1 --json /tmp/r.json
    .venv/bin/python benchmarks/bench.py --quick               # N = 1, 2; 1 run (smoke test)

Every measured command runs in a fresh process started here; its wall time is taken around
the process and its peak RSS is the kernel's high-water mark returned by wait4() for that
process (on Linux, the largest resident set of the process or of any descendant it reaped).
Each timing is the median of several runs, with min and max. All the files the benchmark
makes (copies of raw/, the synthetic corpus, outputs, Dagster instances, anchor caches)
are in one temporary folder, removed at the end unless --keep; the project's raw/ and
outputs/ are only read. The figures are printed as a markdown table and written as JSON (--json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.util
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "benchmarks") not in sys.path:
    sys.path.insert(0, str(ROOT / "benchmarks"))

PY = sys.executable
REAL_RAW = ROOT / "raw"
FLOOR_IMPORTS = "import dagster, pandas, pyarrow, pandera.pandas, frictionless"
# The least a build on a real Dagster instance can cost: the same imports, a new persistent
# instance (SQLite run, event and schedule storage under DAGSTER_HOME, as a cold build
# gets), and one trivial asset materialized in-process with the same console log level.
DAGSTER_FLOOR = """\
import pandas, pyarrow, pandera.pandas, frictionless
import dagster as dg

@dg.asset
def one():
    return 1

job = dg.Definitions(assets=[one]).resolve_implicit_global_asset_job_def()
with dg.DagsterInstance.get() as instance:
    level = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    assert job.execute_in_process(instance=instance, run_config=level).success
"""
EXPLAIN_ID = "mex-cocaine-seized-1999"
INSTANCE_YAML = "telemetry:\n  enabled: false\n"
PACKAGES = ("dagster", "pandas", "pyarrow", "pandera", "frictionless", "numpy", "PyYAML")
DEFAULT_SIZES = (1, 10, 100, 1000)
QUICK_SIZES = (1, 2)
MIB = 1024 * 1024
LARGE_N = 10_000  # --large: one cold build and the build service at this size
HOUR_S = 3600.0
TARGETS = {
    "cold_over_dagster_floor": 1.3,
    "n1000_wall_s": 60.0,
    "n1000_peak_rss_mib": 1536.0,
    "large_wall_s": 900.0,
    "large_peak_rss_mib": 8192.0,
    "growth_1000_large": 1.05,
    "service_over_cold_n1000": 0.10,
    "fresh_over_cold_n1000": 0.20,
    "explain_over_floor": 1.5,
}
# published files by the format they are in (a file matches the first pattern it fits)
FORMATS = (
    ("Parquet", r".*\.parquet"), ("CSV", r".*\.csv"), ("SQLite", r".*\.sqlite"),
    ("Web Annotations", r"annotations\.jsonld"), ("Croissant", r"croissant\.json"),
    ("archive", r".*\.zip"), ("source pages", r"provenance/.*\.html"),
    ("landing page", r"index\.html"), ("other", r".*"),
)  # fmt: skip
# the build's step for each format (`step <name>: ... s` lines of a piped build)
FORMAT_STEPS = {
    "Parquet": "data_package › Parquet and CSV", "CSV": "data_package › Parquet and CSV",
    "SQLite": "data_package › SQLite",
    "Web Annotations": "data_package › metadata › Web Annotations",
    "Croissant": "data_package › metadata › Croissant",
    "archive": "data_package › metadata › archive",
    "source pages": "data_package › pages › source pages",
    "landing page": "data_package › pages › landing page",
}  # fmt: skip
# the validation step that reads each format back (the tables' formats share the row checks)
FORMAT_CHECKS = {
    "Parquet": "data_package › validation › Parquet",
    "CSV": "data_package › validation › Frictionless rows",
    "SQLite": "data_package › validation › formats › SQLite",
    "Web Annotations": "data_package › validation › formats › Web Annotations",
    "Croissant": "data_package › validation › formats › Croissant",
    "archive": "data_package › validation › formats › archive",
}  # fmt: skip


class BenchError(RuntimeError):
    """A measured command failed; the benchmark stops and says which."""


# --- running one command ---------------------------------------------------------------


@dataclass
class Run:
    command: list[str]
    wall_s: float
    peak_rss_mib: float
    returncode: int
    stdout: str
    stderr: str


def run(command: list[str], env: dict[str, str], timeout: float | None = None) -> Run:
    """Run one command in a fresh process; wall time around it, peak RSS from wait4().

    Output goes to temporary files (not pipes), so the child never blocks on a full pipe
    while we wait for it. ru_maxrss is in KiB on Linux."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)
        timer = threading.Timer(timeout, proc.kill) if timeout else None
        if timer:
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer:
                timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            command,
            wall,
            usage.ru_maxrss / 1024,
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


def run_ok(command: list[str], env: dict[str, str], timeout: float | None = None) -> Run:
    result = run(command, env, timeout)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise BenchError(
            f"`{' '.join(command)}` exited with {result.returncode} after "
            f"{result.wall_s:.1f} s:\n{tail}"
        )
    return result


def child_env(home: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment of a measured command: its own Dagster instance and its own anchor
    cache (USMX_CACHE_DIR), both in `home`, telemetry off, and none of the project's USMX_*
    switches (fault injection, folders) from the caller. Nothing goes to the project's
    .dagster_home/ or .cache/."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("USMX_") and k != "DAGSTER_HOME"}
    env["DAGSTER_DISABLE_TELEMETRY"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
        (home / "dagster.yaml").write_text(INSTANCE_YAML, encoding="utf-8")
        env["DAGSTER_HOME"] = str(home)
        env["USMX_CACHE_DIR"] = str(home / "cache")  # a new home starts with a cold cache
    env.update(extra)
    return env


def build_cmd(raw: Path, outputs: Path) -> list[str]:
    return [PY, "-m", "pipeline", "build", "--raw", str(raw), "--outputs", str(outputs)]


# --- figures ---------------------------------------------------------------------------


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": [round(v, 4) for v in values],
    }


def stats(runs: list[Run]) -> dict[str, Any]:
    return {
        "wall_s": summary([r.wall_s for r in runs]),
        "peak_rss_mib": summary([r.peak_rss_mib for r in runs]),
    }


def fit_exponent(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(time) against log(N): 1.0 is linear growth."""
    points = [(n, t) for n, t in points if n > 0 and t > 0]
    if len({n for n, _ in points}) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def built_rows(stdout: str) -> dict[str, int]:
    """The row counts printed by `python -m pipeline build` ("Built ...: claims 4, ...")."""
    found = re.search(r"Built .*?: (.*) rows \(Dagster run", stdout)
    if not found:
        return {}
    return {name: int(count) for name, count in re.findall(r"(\w+) (\d+)", found.group(1))}


def build_steps(stdout: str) -> dict[str, float]:
    """Seconds of each step, from the plain lines a piped build prints (pipeline/progress.py)."""
    return {m[1]: float(m[2]) for m in re.finditer(r"^step (.+?): (?:.* in )?([0-9.]+) s$",
                                                    stdout, re.M)}  # fmt: skip


def format_sizes(outputs: Path) -> dict[str, dict[str, float]]:
    """MiB and file count of each format in `outputs`."""
    found: dict[str, dict[str, float]] = {name: {"mib": 0.0, "files": 0} for name, _ in FORMATS}
    for path in sorted(p for p in outputs.rglob("*") if p.is_file()):
        rel = path.relative_to(outputs).as_posix()
        name = next(n for n, pattern in FORMATS if re.fullmatch(pattern, rel))
        found[name]["mib"] += path.stat().st_size / MIB
        found[name]["files"] += 1
    return found


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def code_fingerprint() -> str:
    """sha256 of the code and schemas a build runs (pipeline/, schemas/, pyproject.toml), so
    the report can say whether they changed while the benchmark ran."""
    digest = hashlib.sha256()
    files = [*sorted((ROOT / "pipeline").rglob("*.py")), *sorted((ROOT / "schemas").rglob("*"))]
    for path in [*files, ROOT / "pyproject.toml"]:
        if path.is_file():
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- machine ---------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    cpuinfo = _read("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.MULTILINE)
    meminfo = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.MULTILINE)
    cpu_max = _read("/sys/fs/cgroup/cpu.max").split()
    cgroup_cpus = (
        int(cpu_max[0]) / int(cpu_max[1]) if len(cpu_max) == 2 and cpu_max[0] != "max" else None
    )
    mem_max = _read("/sys/fs/cgroup/memory.max").strip()
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {
        "cpu_model": model.group(1).strip() if model else platform.processor() or None,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "cgroup_cpu_limit": cgroup_cpus,
        "memory_gib": round(int(meminfo.group(1)) / MIB, 1) if meminfo else None,
        "cgroup_memory_limit_gib": round(int(mem_max) / 1024**3, 1) if mem_max.isdigit() else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_executable": PY,
        "packages": versions,
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


# --- the measurements ------------------------------------------------------------------


def measure_floor(work: Path, runs: int) -> dict[str, Any]:
    env = child_env(work / "home-floor")
    results = [run_ok([PY, "-c", FLOOR_IMPORTS], env) for _ in range(runs)]
    log(f"import floor: {statistics.median(r.wall_s for r in results):.2f} s")
    return {"command": f'python -c "{FLOOR_IMPORTS}"', **stats(results)}


def measure_dagster_floor(work: Path, runs: int) -> dict[str, Any]:
    """The import floor plus what Dagster itself costs: a new instance and a one-asset run."""
    results = []
    for r in range(runs):
        home = work / f"home-dagster-floor-{r}"
        home.mkdir(parents=True)
        (home / "dagster.yaml").write_text(INSTANCE_YAML, encoding="utf-8")
        results.append(run_ok([PY, "-c", DAGSTER_FLOOR], child_env(home)))
        shutil.rmtree(home, ignore_errors=True)
    log(f"Dagster floor: {statistics.median(r.wall_s for r in results):.2f} s")
    return {"command": "python -c DAGSTER_FLOOR (benchmarks/bench.py)", **stats(results)}


WATCH_SAMPLES = 2  # corrections timed per start of the service
# the service collects the garbage of a build after reporting it (its collector is off while
# a build runs); a correction is written once it has been idle this long, as a maintainer's
# next edit comes seconds after a build, not in the same tenth of a second
WATCH_SETTLE_S = 1.0


def watch_cmd(raw: Path, outputs: Path) -> list[str]:
    return [PY, "-m", "pipeline", "watch", "--raw", str(raw), "--outputs", str(outputs)]


def _wait_for_builds(log_path: Path, count: int, proc: subprocess.Popen, timeout: float) -> str:
    """The service's log once it has finished `count` builds."""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        text = log_path.read_text(encoding="utf-8", errors="replace")
        if text.count("The build took") >= count:
            return text
        if proc.poll() is not None:
            raise BenchError(f"`pipeline watch` exited with {proc.returncode}:\n{text[-2000:]}")
        time.sleep(0.02)
    raise BenchError(f"`pipeline watch` did not finish {count} builds in {timeout:.0f} s")


def watch_series(
    raw: Path, correct: Path, outputs: Path, env: dict[str, str], timeout: float | None
) -> dict[str, Any]:
    """The build service on the same raw/, outputs/, instance and cache: started (its first
    build), then WATCH_SAMPLES times one correction added and taken back. Each correction is
    timed from the moment its file is written to the moment the service reports the build
    done (so the time includes the service being told of the change), together with the
    build's own time as the service measured it. Peak RSS is the service's, over all its
    builds."""
    from corpus import add_correction

    timeout = timeout or 3600.0
    log_path = outputs.parent / "watch.log"
    end_to_end, build_s = [], []
    with open(log_path, "w", encoding="utf-8") as sink:
        proc = subprocess.Popen(
            watch_cmd(raw, outputs), cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        builds = 1
        _wait_for_builds(log_path, builds, proc, timeout)
        for sample in range(WATCH_SAMPLES):
            time.sleep(WATCH_SETTLE_S)
            previous = add_correction(correct, suffix=f"-watch-{sample}")
            start = time.perf_counter()
            builds += 1
            text = _wait_for_builds(log_path, builds, proc, timeout)
            end_to_end.append(time.perf_counter() - start)
            build_s.append(float(re.findall(r"The build took ([0-9.]+) s", text)[-1]))
            if "error:" in text:
                raise BenchError(f"`pipeline watch` refused the correction:\n{text[-2000:]}")
            (correct / "corrections.yaml").write_bytes(previous)
            builds += 1
            _wait_for_builds(log_path, builds, proc, timeout)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, _, usage = os.wait4(proc.pid, 0)
    return {"end_to_end_s": end_to_end, "build_s": build_s, "peak_rss_mib": usage.ru_maxrss / 1024}


def build_series(
    raw: Path, correct: Path, work: Path, repeats: int, label: str, timeout: float | None
) -> dict[str, Any]:
    """Per repeat, on a fresh outputs/, a fresh Dagster instance and an empty anchor cache:
    a cold build, a build with nothing changed, then one correction added to `correct` and
    a build again (these two reuse the instance and the cache, as a maintainer's rebuild
    does). The correction is taken back afterwards, so every repeat starts from the same
    raw/."""
    from corpus import add_correction

    cold, same, incremental, service, steps = [], [], [], [], []
    formats: dict[str, Any] = {}
    identical, rows_cold, rows_incremental = True, {}, {}
    outputs = work / "outputs"
    for r in range(repeats):
        shutil.rmtree(outputs, ignore_errors=True)
        home = work / f"dagster-home-{r}"
        env = child_env(home)
        cold.append(run_ok(build_cmd(raw, outputs), env, timeout))
        rows_cold = built_rows(cold[-1].stdout)
        steps.append(build_steps(cold[-1].stdout))
        formats = format_sizes(outputs)
        before = tree_digest(outputs)
        same.append(run_ok(build_cmd(raw, outputs), env, timeout))
        identical = identical and tree_digest(outputs) == before
        previous = add_correction(correct, suffix="-bench")
        try:
            incremental.append(run_ok(build_cmd(raw, outputs), env, timeout))
        finally:
            (correct / "corrections.yaml").write_bytes(previous)
        rows_incremental = built_rows(incremental[-1].stdout)
        service.append(watch_series(raw, correct, outputs, env, timeout))
        shutil.rmtree(home, ignore_errors=True)
        log(
            f"{label} repeat {r + 1}/{repeats}: cold {cold[-1].wall_s:.2f} s "
            f"({cold[-1].peak_rss_mib:.0f} MiB), no change {same[-1].wall_s:.2f} s, "
            f"one correction {incremental[-1].wall_s:.2f} s, with the build service "
            + ", ".join(f"{t:.2f}" for t in service[-1]["end_to_end_s"])
            + " s"
        )
    records = rows_cold.get("figures", 0) + rows_cold.get("events", 0)
    return {
        "records": records,
        "rows": rows_cold,
        "cold": stats(cold),
        "cold_steps_s": {k: statistics.median(s.get(k, 0.0) for s in steps) for k in steps[0]},
        "formats": formats,
        "no_change": {**stats(same), "outputs_unchanged": identical},
        "incremental": {
            **stats(incremental),
            "corrections_added": rows_incremental.get("corrections", 0)
            - rows_cold.get("corrections", 0),
        },
        "incremental_service": {
            "command": "python -m pipeline watch",
            "wall_s": summary([t for x in service for t in x["end_to_end_s"]]),
            "build_s": summary([t for x in service for t in x["build_s"]]),
            "peak_rss_mib": summary([x["peak_rss_mib"] for x in service]),
        },
    }


PROBE = """
import sys
before = set(sys.modules)
import json, runpy
sys.argv = ["pipeline", *json.loads(sys.argv[1])]
try:
    runpy.run_module("pipeline", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
mods = sorted(m for m in set(sys.modules) - before if m.split(".")[0] != "pipeline")
print("MODULES=" + json.dumps(mods))
"""

IMPORT_ALL = """
import importlib, json, sys
for name in json.loads(open(sys.argv[1], encoding="utf-8").read()):
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""


def measure_explain(raw: Path, outputs: Path, work: Path, runs: int) -> dict[str, Any]:
    """`explain <id>` in a fresh process, and the import floor of what it imports: a fresh
    process importing every module (standard library included) that explain loads, other
    than the project's own, found by running explain once under a probe."""
    env = child_env(work / "home-explain")
    args = ["explain", EXPLAIN_ID, "--outputs", str(outputs), "--raw", str(raw)]
    probe = run_ok([PY, "-c", PROBE, json.dumps(args)], env)
    modules = json.loads(probe.stdout.rsplit("MODULES=", 1)[1])
    listing = work / "explain-modules.json"
    listing.write_text(json.dumps(modules), encoding="utf-8")
    explain = [run_ok([PY, "-m", "pipeline", *args], env) for _ in range(runs)]
    floor = [run_ok([PY, "-c", IMPORT_ALL, str(listing)], env) for _ in range(runs)]
    installed = packages_distributions()  # top-level import name -> distributions
    third_party = sorted({m.split(".")[0] for m in modules} & set(installed) - {"pipeline"})
    log(
        f"explain: {statistics.median(r.wall_s for r in explain):.2f} s; the floor of its "
        f"imports: {statistics.median(r.wall_s for r in floor):.2f} s"
    )
    return {
        "command": f"python -m pipeline explain {EXPLAIN_ID} --outputs ... --raw ...",
        **stats(explain),
        "import_floor": {
            "modules": len(modules),
            "third_party_packages": third_party,
            **stats(floor),
        },
    }


def measure_real(work: Path, repeats: int, cheap_runs: int, timeout: float | None) -> dict:
    """The project's raw/ (copied: the correction is added to the copy), built and rebuilt."""
    raw = work / "raw"
    shutil.copytree(REAL_RAW, raw)
    for path in raw.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    source = next(p for p in sorted(raw.iterdir()) if (p / "source.yaml").exists())
    series = build_series(raw, source, work, repeats, "real dataset", timeout)
    # explain reads the outputs of a build of this raw/ (rebuilt: the last build of the
    # series carried the benchmark's correction, since taken back).
    run_ok(build_cmd(raw, work / "outputs"), child_env(work / "home-last"), timeout)
    series["explain"] = measure_explain(raw, work / "outputs", work, cheap_runs)
    return series


def measure_corpus(
    n: int, seed: int, work: Path, repeats: int, timeout: float | None
) -> dict[str, Any]:
    from corpus import generate

    start = time.perf_counter()
    made = generate(work / "raw", n, seed)
    generated = time.perf_counter() - start
    log(f"N={n}: generated {made['bytes'] / MIB:.1f} MiB of text in {generated:.1f} s")
    correct = work / "raw" / made["source_ids"][n // 2]
    series = build_series(work / "raw", correct, work, repeats, f"N={n}", timeout)
    cold = series["cold"]["wall_s"]["median"]
    return {
        "n": n,
        "text_bytes": made["bytes"],
        "generate_s": round(generated, 3),
        "changed_numerals": made["changed_numerals"],
        **series,
        "records_per_s": series["records"] / cold,
        "no_change_over_cold": series["no_change"]["wall_s"]["median"] / cold,
        "incremental_over_cold": series["incremental"]["wall_s"]["median"] / cold,
        "incremental_service_over_cold": series["incremental_service"]["wall_s"]["median"] / cold,
    }


def measure_large(n: int, seed: int, work: Path, timeout: float | None) -> dict[str, Any]:
    """N sources (LARGE_N): one cold build on a new instance and an empty cache, then the
    build service on it, one correction taken forth and back (WATCH_SAMPLES times)."""
    from corpus import generate

    start = time.perf_counter()
    made = generate(work / "raw", n, seed)
    log(f"N={n}: generated {made['bytes'] / MIB:.1f} MiB in {time.perf_counter() - start:.0f} s")
    outputs, env = work / "outputs", child_env(work / "dagster-home")
    cold = run_ok(build_cmd(work / "raw", outputs), env, timeout)
    log(f"N={n}: cold {cold.wall_s:.1f} s ({cold.peak_rss_mib:.0f} MiB)")
    correct = work / "raw" / made["source_ids"][n // 2]
    service = watch_series(work / "raw", correct, outputs, env, timeout)
    rows = built_rows(cold.stdout)
    return {
        "n": n, "text_bytes": made["bytes"],
        "records": rows.get("figures", 0) + rows.get("events", 0),
        "cold": stats([cold]), "cold_steps_s": build_steps(cold.stdout),
        "formats": format_sizes(outputs),
        "incremental_service": {"wall_s": summary(service["end_to_end_s"]),
                                "build_s": summary(service["build_s"]),
                                "peak_rss_mib": summary([service["peak_rss_mib"]])},
        "incremental_service_over_cold": statistics.median(service["end_to_end_s"]) / cold.wall_s,
    }  # fmt: skip


def largest_in_an_hour(results: dict[str, Any]) -> dict[str, Any] | None:
    """From the two largest measured sizes: the largest corpus one cold build makes in an hour
    (time growing as the fitted power of N) and in the machine's memory (peak RSS growing
    linearly from the two points), and which of the two bounds it."""
    points = sorted((c["n"], c) for c in results["corpus"].values())
    if results.get("large"):
        points.append((results["large"]["n"], results["large"]))
    if len(points) < 2:
        return None
    (n1, a), (n2, b) = points[-2], points[-1]
    t1, t2 = a["cold"]["wall_s"]["median"], b["cold"]["wall_s"]["median"]
    r1, r2 = a["cold"]["peak_rss_mib"]["max"], b["cold"]["peak_rss_mib"]["max"]
    fitted = fit_exponent([(n1, t1), (n2, t2)])
    k = max(fitted or 1.0, 1.0)  # a sublinear fit (fixed cost) is not carried beyond N: linear
    by_time = n2 * (HOUR_S / t2) ** (1 / k)
    memory = results["machine"]["memory_gib"] * 1024
    per_source = (r2 - r1) / (n2 - n1)
    by_memory = n2 + (memory - r2) / per_source if per_source > 0 else math.inf
    return {
        "from": [n1, n2], "exponent": k, "fitted_exponent": fitted, "by_time": int(by_time),
        "by_memory": None if math.isinf(by_memory) else int(by_memory),
        "bound": "time" if by_time <= by_memory else "memory",
        "largest": int(min(by_time, by_memory)),
        "mib_per_source": per_source,
    }  # fmt: skip


def measure_executors(
    n: int, raw: Path, work: Path, repeats: int, cores: int, timeout: float | None
) -> dict[str, Any]:
    """The corpus of N sources materialized by `dagster asset materialize` on the project's
    definitions (pointed at the corpus by USMX_RAW_DIR / USMX_OUTPUTS_DIR), once with the
    in-process executor and once with Dagster's multiprocess executor, cold each time."""
    dagster = str(Path(PY).parent / "dagster")
    configs = {
        "in_process": {"execution": {"config": {"in_process": {}}}},
        "multiprocess": {"execution": {"config": {"multiprocess": {"max_concurrent": cores}}}},
    }
    found: dict[str, list[Run]] = {name: [] for name in configs}
    outputs = work / "outputs-executors"
    for r in range(repeats):
        for name, config in configs.items():
            shutil.rmtree(outputs, ignore_errors=True)
            home = work / f"dagster-home-{name}-{r}"
            env = child_env(home, USMX_RAW_DIR=str(raw), USMX_OUTPUTS_DIR=str(outputs))
            command = [
                dagster, "asset", "materialize", "--select", "*",
                "-m", "pipeline.definitions", "--config-json", json.dumps(config),
            ]  # fmt: skip
            found[name].append(run_ok(command, env, timeout))
            if not (outputs / "datapackage.json").exists():
                raise BenchError(f"`dagster asset materialize` ({name}) published nothing")
            shutil.rmtree(home, ignore_errors=True)
        log(
            f"executors at N={n}, repeat {r + 1}/{repeats}: in-process "
            f"{found['in_process'][-1].wall_s:.2f} s, multiprocess "
            f"{found['multiprocess'][-1].wall_s:.2f} s"
        )
    inproc, multi = stats(found["in_process"]), stats(found["multiprocess"])
    return {
        "n": n,
        "max_concurrent": cores,
        "command": "dagster asset materialize --select '*' -m pipeline.definitions "
        '--config-json \'{"execution": {"config": {<executor>: ...}}}\'',
        "in_process": inproc,
        "multiprocess": multi,
        "speedup": inproc["wall_s"]["median"] / multi["wall_s"]["median"],
    }


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    real, corpus, large = results["real"], results["corpus"], results.get("large")
    big = corpus.get("1000")
    rows = [
        ("N=1,000: cold build wall time", big and big["cold"]["wall_s"]["median"], "s",
         TARGETS["n1000_wall_s"]),
        ("N=1,000: cold build peak RSS", big and big["cold"]["peak_rss_mib"]["max"], "MiB",
         TARGETS["n1000_peak_rss_mib"]),
        (f"N={LARGE_N:,}: cold build wall time",
         large and large["n"] == LARGE_N and large["cold"]["wall_s"]["median"], "s",
         TARGETS["large_wall_s"]),
        (f"N={LARGE_N:,}: cold build peak RSS",
         large and large["n"] == LARGE_N and large["cold"]["peak_rss_mib"]["max"], "MiB",
         TARGETS["large_peak_rss_mib"]),
        (f"growth exponent of cold build time, N=1,000 to {LARGE_N:,}",
         results["growth"].get("exponent_1000_large"), "", TARGETS["growth_1000_large"]),
        ("N=1,000: one correction, build service (`watch`) / cold build",
         big and big["incremental_service_over_cold"], "x", TARGETS["service_over_cold_n1000"]),
        ("N=1,000: one correction, fresh `build` / cold build",
         big and big["incremental_over_cold"], "x", TARGETS["fresh_over_cold_n1000"]),
        ("real dataset: cold build / Dagster floor (new instance)",
         real.get("cold_over_dagster_floor"), "x", TARGETS["cold_over_dagster_floor"]),
        ("explain / import floor of its imports", real["explain"]["over_floor"], "x",
         TARGETS["explain_over_floor"]),
    ]  # fmt: skip
    rows = [(name, value or None, unit, limit) for name, value, unit, limit in rows]
    return [
        {
            "target": name,
            "measured": value,
            "unit": unit,
            "limit": limit,
            "met": None if value is None else bool(value <= limit),
        }
        for name, value, unit, limit in rows
    ]


# --- the report ------------------------------------------------------------------------


def _n(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _timing(s: dict[str, Any]) -> str:
    w = s["wall_s"]
    return f"{w['median']:.2f} ({w['min']:.2f}–{w['max']:.2f})"


def _rss(s: dict[str, Any]) -> str:
    m = s["peak_rss_mib"]
    return f"{m['median']:.0f} ({m['min']:.0f}–{m['max']:.0f})"


def report(results: dict[str, Any]) -> str:
    m, s = results["machine"], results["settings"]
    floor = results["import_floor"]["wall_s"]["median"]
    real = results["real"]
    out = ["# Build benchmark", ""]
    out.append(
        f"Machine: {m['cpu_model']}; {m['usable_cpus']} usable of {m['logical_cpus']} logical "
        f"CPUs; {m['memory_gib']} GiB RAM; Python {m['python']}; "
        + ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
        + f". {m['platform']}. {m['date_utc']}."
    )
    out.append(
        f"Runs: {s['repeats']} per build, {s['cheap_runs']} per import floor and explain; "
        f"seed {s['seed']}. Times are wall seconds, median (min–max); peak RSS in MiB. "
        f"Code (pipeline/, schemas/) sha256 {results['code']['sha256_at_start'][:12]}."
    )
    if results["code"].get("changed_during_run"):
        out.append("**WARNING: pipeline/ or schemas/ changed during the run; rerun.**")
    out += ["", "## Real dataset (raw/, 1 source)", ""]
    out.append("| measurement | wall s | peak RSS MiB | ratio |")
    out.append("|---|---|---|---|")
    out.append(
        f"| import floor (`{FLOOR_IMPORTS}`) | {_timing(results['import_floor'])} | "
        f"{_rss(results['import_floor'])} | 1.00 |"
    )
    dagster_floor = results.get("dagster_floor")
    if dagster_floor:
        out.append(
            f"| Dagster floor (the same imports, a new instance, a one-asset run) | "
            f"{_timing(dagster_floor)} | {_rss(dagster_floor)} | "
            f"{_n(dagster_floor['wall_s']['median'] / floor)} × import floor |"
        )
    versus_dagster = (
        f"; {_n(real['cold_over_dagster_floor'])} × Dagster floor"
        if "cold_over_dagster_floor" in real
        else ""
    )
    out.append(
        f"| cold build ({real['records']} records) | {_timing(real['cold'])} | "
        f"{_rss(real['cold'])} | {_n(real['cold_over_floor'])} × import floor{versus_dagster} |"
    )
    unchanged = "outputs byte-identical" if real["no_change"]["outputs_unchanged"] else "CHANGED"
    out.append(
        f"| no-change rebuild | {_timing(real['no_change'])} | {_rss(real['no_change'])} | "
        f"{_n(real['no_change']['wall_s']['median'] / floor)} × floor; {unchanged} |"
    )
    out.append(
        f"| rebuild after one correction | {_timing(real['incremental'])} | "
        f"{_rss(real['incremental'])} | "
        f"{_n(real['incremental']['wall_s']['median'] / real['cold']['wall_s']['median'])} × "
        "cold build |"
    )
    svc = real["incremental_service"]
    out.append(
        f"| rebuild after one correction, build service (`watch`, end to end) | "
        f"{_timing(svc)} | {_rss(svc)} | "
        f"{_n(svc['wall_s']['median'] / real['cold']['wall_s']['median'])} × cold build |"
    )
    ex = real["explain"]
    out.append(
        f"| import floor of explain ({ex['import_floor']['modules']} modules: "
        f"{', '.join(ex['import_floor']['third_party_packages'])} + stdlib) | "
        f"{_timing(ex['import_floor'])} | {_rss(ex['import_floor'])} | 1.00 |"
    )
    out.append(
        f"| `explain {EXPLAIN_ID}` | {_timing(ex)} | {_rss(ex)} | "
        f"{_n(ex['over_floor'])} × its import floor |"
    )
    out += ["", "## Synthetic corpus", ""]
    out.append(
        "| N | text MiB | records | cold build s | peak RSS MiB | records/s | no-change s | "
        "one correction s | correction / cold | one correction, build service s | "
        "service / cold | service peak RSS MiB |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c in results["corpus"].values():
        out.append(
            f"| {c['n']:,} | {c['text_bytes'] / MIB:.2f} | {c['records']:,} | "
            f"{_timing(c['cold'])} | {_rss(c['cold'])} | {c['records_per_s']:,.0f} | "
            f"{_timing(c['no_change'])} | {_timing(c['incremental'])} | "
            f"{c['incremental_over_cold']:.2f} | {_timing(c['incremental_service'])} | "
            f"{c['incremental_service_over_cold']:.3f} | {_rss(c['incremental_service'])} |"
        )
    g = results["growth"]
    out += [
        "",
        "The build service (`python -m pipeline watch`) runs on "
        "the same raw/, outputs/, instance and cache after each series; a correction is timed "
        "from writing the file to the service reporting the build done, "
        f"{WATCH_SAMPLES} corrections per start, each written {WATCH_SETTLE_S:g} s after the "
        "service's previous build.",
        "",
        f"Growth exponent of cold build time against N (1.0 is linear): N=100 to 1,000: "
        f"{_n(g['exponent_100_1000'])}; two largest sizes ({g['largest_two']}): "
        f"{_n(g['exponent_largest_two'])}; least squares over all sizes: {_n(g['exponent_all'])}; "
        f"N=100 to 1,000 net of the N=1 build time (the fixed cost): "
        f"{_n(g['exponent_100_1000_net_of_n1'])}.",
    ]
    out += format_table(results)
    large = results.get("large")
    if large:
        out += ["", f"## N = {large['n']:,} (one cold build, the build service)", ""]
        out.append(
            f"{large['text_bytes'] / MIB:,.0f} MiB of text, {large['records']:,} records: cold "
            f"build {large['cold']['wall_s']['median']:.1f} s, peak RSS "
            f"{large['cold']['peak_rss_mib']['max']:,.0f} MiB; one correction with the build "
            f"service {_timing(large['incremental_service'])} s end to end "
            f"({large['incremental_service_over_cold']:.3f} × cold), service peak RSS "
            f"{_rss(large['incremental_service'])} MiB."
        )
    hour = results.get("largest_in_an_hour")
    if hour:
        memory = f"{hour['by_memory']:,}" if hour["by_memory"] else "no bound (RSS did not grow)"
        out += ["", (
            f"Largest corpus one cold build makes in an hour on this machine: about "
            f"{hour['largest']:,} sources, bound by {hour['bound']} (from N = {hour['from'][0]:,} "
            f"and {hour['from'][1]:,}: time taken to grow as N^{hour['exponent']:.2f} (fitted "
            f"{_n(hour['fitted_exponent'])}, at least linear), giving "
            f"{hour['by_time']:,} sources in 3,600 s; peak RSS grows "
            f"{hour['mib_per_source']:.3f} MiB a source, giving {memory} sources in "
            f"{results['machine']['memory_gib']} GiB)."
        )]  # fmt: skip
    ex_mp = results.get("executors")
    if ex_mp:
        out += ["", f"## Executors, N = {ex_mp['n']:,} (`dagster asset materialize`)", ""]
        out.append("| executor | wall s | peak RSS MiB (largest process) |")
        out.append("|---|---|---|")
        out.append(f"| in-process | {_timing(ex_mp['in_process'])} | {_rss(ex_mp['in_process'])} |")
        out.append(
            f"| multiprocess (max_concurrent {ex_mp['max_concurrent']}) | "
            f"{_timing(ex_mp['multiprocess'])} | {_rss(ex_mp['multiprocess'])} |"
        )
        out += ["", f"Speed-up of the multiprocess executor: {ex_mp['speedup']:.2f}×."]
    out += ["", "## Targets", "", "| target | measured | limit | met |", "|---|---|---|---|"]
    for t in results["targets"]:
        met = {None: "not measured", True: "yes", False: "**no**"}[t["met"]]
        unit = f" {t['unit']}" if t["unit"] not in ("", "x") else ("×" if t["unit"] else "")
        # a ratio against a limit below 1 to three places: 0.095 is not "0.10 ≤ 0.1"
        digits = 0 if t["unit"] == "MiB" else 3 if t["unit"] == "x" and t["limit"] < 1 else 2
        measured = "—" if t["measured"] is None else f"{_n(t['measured'], digits)}{unit}"
        out.append(f"| {t['target']} | {measured} | ≤ {t['limit']:g}{unit} | {met} |")
    return "\n".join(out)


def format_table(results: dict[str, Any]) -> list[str]:
    """Each format's build step seconds and published MiB, at the largest N of the series."""
    if not results["corpus"]:
        return []
    c = results["corpus"][str(max(int(n) for n in results["corpus"]))]
    steps, formats = c.get("cold_steps_s", {}), c.get("formats", {})
    out = ["", f"## Each format at N = {c['n']:,} (cold build, median step time)", "",
           "| format | files | MiB | its build step | step s | its check | check s |",
           "|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, size in formats.items():
        step, check = FORMAT_STEPS.get(name, ""), FORMAT_CHECKS.get(name, "")
        seconds = f"{steps[step]:.1f}" if step in steps else "—"
        checked = f"{steps[check]:.1f}" if check in steps else "—"
        out.append(f"| {name} | {size['files']:,} | {size['mib']:,.1f} | {step or '—'} | "
                   f"{seconds} | {check.rsplit(' › ', 1)[-1] or '—'} | {checked} |")  # fmt: skip
    out += ["", "Every step of that build, seconds: " + "; ".join(
        f"{k} {v:.1f}" for k, v in steps.items()) + "."]  # fmt: skip
    return out


# --- main ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/bench.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sizes", help="corpus sizes N, comma-separated (default 1,10,100,1000)")
    parser.add_argument("--repeats", type=int, help="runs of every build (default 3)")
    parser.add_argument(
        "--json",
        type=Path,
        default=ROOT / "benchmarks" / "results.json",
        help="where to write the figures (default benchmarks/results.json)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: N = 1, 2 and one run unless given; the executors are "
        "compared on the largest N instead of N = 100",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpus")
    parser.add_argument(
        "--executors-n",
        type=int,
        default=100,
        help="corpus size for in-process vs multiprocess (default 100; 0 skips)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=0,
        help="kill a measured command after this many seconds (default: never)",
    )
    parser.add_argument(
        "--large", type=int, default=None,
        help=f"one cold build and the build service at this N (default {LARGE_N:,}; "
        "--quick: 3; 0 skips)",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    default_sizes = QUICK_SIZES if args.quick else DEFAULT_SIZES
    args.sizes = (
        sorted({int(s) for s in args.sizes.split(",") if s.strip()})
        if args.sizes
        else list(default_sizes)
    )
    args.repeats = args.repeats or (1 if args.quick else 3)
    if args.large is None:
        args.large = 3 if args.quick else LARGE_N
    if args.quick and args.executors_n:
        args.executors_n = max(args.sizes)
    if args.repeats < 1 or not args.sizes or min(args.sizes) < 1:
        parser.error("--repeats and every size must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    timeout = args.timeout or None
    cheap_runs = max(args.repeats, 3 if args.quick else 5)
    cores = len(os.sched_getaffinity(0))
    work = Path(tempfile.mkdtemp(prefix="usmx-bench-"))
    results: dict[str, Any] = {
        "machine": machine(),
        "settings": {
            "sizes": args.sizes,
            "repeats": args.repeats,
            "cheap_runs": cheap_runs,
            "seed": args.seed,
            "quick": args.quick,
            "executors_n": args.executors_n,
            "peak_rss": "ru_maxrss from wait4() of each measured process (Linux: the largest "
            "resident set of the process or any descendant it reaped), in MiB",
            "state": "every repeat of a build series starts with no outputs, a new "
            "DAGSTER_HOME and an empty anchor cache (USMX_CACHE_DIR), all in the temporary "
            "folder; its no-change and one-correction builds reuse them",
        },
        "targets_definition": TARGETS,
        "code": {"sha256_at_start": code_fingerprint()},
        "complete": False,
    }

    def save() -> None:  # after every stage, so an interrupted run still leaves its figures
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    try:
        log(f"working in {work}")
        results["import_floor"] = measure_floor(work, cheap_runs)
        results["dagster_floor"] = measure_dagster_floor(work, cheap_runs)
        save()
        floor = results["import_floor"]["wall_s"]["median"]
        real = measure_real(work / "real", args.repeats, cheap_runs, timeout)
        real["cold_over_floor"] = real["cold"]["wall_s"]["median"] / floor
        real["cold_over_dagster_floor"] = (
            real["cold"]["wall_s"]["median"] / results["dagster_floor"]["wall_s"]["median"]
        )
        real["explain"]["over_floor"] = (
            real["explain"]["wall_s"]["median"]
            / real["explain"]["import_floor"]["wall_s"]["median"]
        )
        results["real"] = real
        results["corpus"] = {}
        save()
        for n in args.sizes:
            folder = work / f"corpus-{n}"
            results["corpus"][str(n)] = measure_corpus(n, args.seed, folder, args.repeats, timeout)
            save()
            if n != args.executors_n and not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
        points = [(c["n"], c["cold"]["wall_s"]["median"]) for c in results["corpus"].values()]
        by_n = dict(points)
        largest = sorted(by_n)[-2:]
        results["growth"] = {
            "exponent_100_1000": fit_exponent([(n, by_n[n]) for n in (100, 1000) if n in by_n])
            if {100, 1000} <= set(by_n)
            else None,
            "largest_two": largest,
            "exponent_largest_two": fit_exponent([(n, by_n[n]) for n in largest]),
            "exponent_all": fit_exponent(points),
            # the same without the fixed cost of a build (the N=1 build): the growth of the
            # part of the time that depends on N
            "exponent_100_1000_net_of_n1": fit_exponent(
                [(n, by_n[n] - by_n[1]) for n in (100, 1000)]
            )
            if {1, 100, 1000} <= set(by_n)
            else None,
            "points": points,
        }
        if args.large:
            results["large"] = measure_large(args.large, args.seed, work / "large", timeout)
            save()
            shutil.rmtree(work / "large", ignore_errors=True)
            if "1000" in results["corpus"]:
                results["growth"]["exponent_1000_large"] = fit_exponent([
                    (1000, results["corpus"]["1000"]["cold"]["wall_s"]["median"]),
                    (args.large, results["large"]["cold"]["wall_s"]["median"])])  # fmt: skip
        results["largest_in_an_hour"] = largest_in_an_hour(results)
        if args.executors_n:
            folder = work / f"corpus-{args.executors_n}"
            if not (folder / "raw").exists():
                from corpus import generate

                generate(folder / "raw", args.executors_n, args.seed)
            results["executors"] = measure_executors(
                args.executors_n, folder / "raw", folder, args.repeats, cores, timeout
            )
        results["targets"] = evaluate_targets(results)
        code = results["code"]
        code["sha256_at_end"] = code_fingerprint()
        code["changed_during_run"] = code["sha256_at_end"] != code["sha256_at_start"]
        if code["changed_during_run"]:
            log("WARNING: pipeline/ or schemas/ changed while the benchmark ran")
        results["complete"] = True
    except BenchError as exc:
        results["error"] = str(exc)
        save()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(report(results))
    save()
    log(f"figures written to {args.json}")
    return 0


def _ensure_environment() -> None:
    """Run by a Python without the project's packages (e.g. `python3 benchmarks/bench.py` on
    a clean clone): create or update .venv from the lock as dev.py does, and run there."""
    if importlib.util.find_spec("dagster") is not None:
        return
    import dev

    dev.ensure_environment()
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])


if __name__ == "__main__":
    _ensure_environment()
    sys.exit(main())
