"""The benchmark (benchmarks/) cannot rot: its corpus generator is deterministic, writes only
where it is told, and makes sources that build and anchor; the script runs end to end at
N = 2. Its targets are reported by the script, never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import OUTPUTS, RAW, tree_digest
from pipeline.cli.main import build
from pipeline.core.errors import REPO_ROOT
from pipeline.core.sources import sha256_file

BENCHMARKS = REPO_ROOT / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bench  # noqa: E402
import corpus  # noqa: E402


def test_generator_is_deterministic_and_writes_only_into_its_folder(tmp_path: Path):
    project = {"raw": tree_digest(RAW), "outputs": tree_digest(OUTPUTS)}
    first = corpus.generate(tmp_path / "a" / "raw", 3, seed=7)
    second = corpus.generate(tmp_path / "b" / "raw", 3, seed=7)
    other = corpus.generate(tmp_path / "c" / "raw", 3, seed=8)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c"]
    assert {p.parent for p in (tmp_path / "a").rglob("*") if p.is_file()} == {
        tmp_path / "a" / "raw" / sid for sid in first["source_ids"]
    }
    a, b, c = (tree_digest(tmp_path / x / "raw") for x in "abc")
    assert a == b  # same n and seed: byte-identical files
    assert a != c
    assert first["source_ids"] == other["source_ids"] == second["source_ids"]
    assert {"raw": tree_digest(RAW), "outputs": tree_digest(OUTPUTS)} == project

    template = (RAW / "ondcp-usmx-ch3" / "source.txt").read_text(encoding="utf-8")
    texts = set()
    for sid in first["source_ids"]:
        folder = tmp_path / "a" / "raw" / sid
        sidecar = yaml.safe_load((folder / "source.yaml").read_text(encoding="utf-8"))
        assert sidecar["source_id"] == sid
        assert sidecar["sha256"] == sha256_file(folder / "source.txt")
        text = (folder / "source.txt").read_text(encoding="utf-8")
        assert text != template and sorted(text) != sorted(template)  # moved and renumbered
        texts.add(text)
        notes = yaml.safe_load((folder / "annotations.yaml").read_text(encoding="utf-8"))
        suffix = "-s" + sid.rsplit("-", 1)[1]
        assert all(f["id"].endswith(suffix) for f in notes["figures"] + notes["events"])
    assert len(texts) == 3
    assert first["changed_numerals"] > 0


def test_a_generated_corpus_of_two_builds_and_anchors(tmp_path: Path, built: Path):
    made = corpus.generate(tmp_path / "raw", 2)
    outputs = tmp_path / "outputs"
    assert build(tmp_path / "raw", outputs) == 0
    real = pd.read_parquet(built / "provenance.parquet")
    provenance = pd.read_parquet(outputs / "provenance.parquet")
    assert len(provenance) == 2 * len(real) == made["records"]
    for row in provenance.itertuples():
        text = (tmp_path / "raw" / row.source_id / "source.txt").read_text(encoding="utf-8")
        assert text[row.char_start : row.char_end] == row.quote
    claims = pd.read_parquet(outputs / "claims.parquet")
    assert len(claims) == 2 * len(pd.read_parquet(built / "claims.parquet"))
    assert claims["holds"].all()
    figures = pd.read_parquet(outputs / "figures.parquet")
    figures["base"] = figures["figure_id"].str.replace(r"-s\d+$", "", regex=True)
    printed = figures.pivot(index="base", columns="source_id", values="value_as_printed")
    assert (printed.iloc[:, 0] != printed.iloc[:, 1]).sum() >= 10  # numbers were changed


def test_growth_exponent_fit():
    assert bench.fit_exponent([(10, 2.0), (100, 20.0), (1000, 200.0)]) == pytest.approx(1.0)
    assert bench.fit_exponent([(10, 1.0), (100, 100.0)]) == pytest.approx(2.0)
    assert bench.fit_exponent([(100, 3.0)]) is None


def _positive_timings(node, where: str = "") -> int:
    """Assert every wall_s / peak_rss_mib summary holds positive numbers; count them."""
    found = 0
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("wall_s", "peak_rss_mib"):
                assert value["min"] > 0 and value["median"] > 0 and value["max"] > 0, where + key
                assert value["min"] <= value["median"] <= value["max"], where + key
                found += 1
            else:
                found += _positive_timings(value, f"{where}{key}.")
    return found


def test_benchmark_script_runs_at_n_2(tmp_path: Path):
    out = tmp_path / "r.json"
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench.py"), "--sizes", "2", "--repeats", "1",
         "--quick", "--json", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "# Build benchmark" in done.stdout
    assert "| measurement | wall s | peak RSS MiB | ratio |" in done.stdout
    assert "| N | text MiB | records | cold build s |" in done.stdout
    assert "## Targets" in done.stdout

    results = json.loads(out.read_text(encoding="utf-8"))
    assert {"machine", "settings", "import_floor", "real", "corpus", "growth", "executors",
            "targets"} <= set(results)  # fmt: skip
    assert results["complete"] is True
    assert results["machine"]["cpu_model"] and results["machine"]["python"]
    real = results["real"]
    for key in ("cold", "no_change", "incremental", "incremental_service", "explain"):
        assert key in real
    # the build service timed WATCH_SAMPLES corrections per repeat, each a real build
    service = real["incremental_service"]
    assert len(service["wall_s"]["runs"]) == bench.WATCH_SAMPLES
    assert all(
        0 < b <= w
        for b, w in zip(service["build_s"]["runs"], service["wall_s"]["runs"], strict=True)
    )
    assert real["cold_over_floor"] > 0 and real["explain"]["over_floor"] > 0
    assert real["incremental"]["corrections_added"] == 1
    assert real["explain"]["import_floor"]["modules"] > 0
    assert "pyarrow" in real["explain"]["import_floor"]["third_party_packages"]
    n2 = results["corpus"]["2"]
    assert n2["records"] == 2 * real["records"] > 0
    assert n2["records_per_s"] > 0 and n2["incremental_over_cold"] > 0
    assert n2["incremental_service_over_cold"] > 0
    assert n2["incremental"]["corrections_added"] == 1
    assert set(results["growth"]) >= {"exponent_100_1000", "exponent_all", "points"}
    assert results["executors"]["n"] == 2 and results["executors"]["speedup"] > 0
    assert len(results["targets"]) == len(bench.TARGETS) == 9
    # --large (3 with --quick): one cold build and the build service
    large = results["large"]
    assert large["n"] == 3 and large["records"] == 3 * real["records"]
    assert len(large["incremental_service"]["wall_s"]["runs"]) == bench.WATCH_SAMPLES
    # each format's size and build step, read from the build's own step lines
    for c in (n2, large):
        assert c["formats"]["Parquet"]["files"] == c["formats"]["CSV"]["files"] == 8
        assert c["formats"]["SQLite"]["files"] == c["formats"]["archive"]["files"] == 1
        assert c["formats"]["source pages"]["files"] == c["n"]
        assert set(bench.FORMAT_STEPS.values()) <= set(c["cold_steps_s"]), c["cold_steps_s"]
    assert "## Each format at N = 2 " in done.stdout
    hour = results["largest_in_an_hour"]
    assert hour["from"] == [2, 3] and hour["largest"] > 3 and hour["bound"] in ("time", "memory")
    assert f"about {hour['largest']:,} sources, bound by {hour['bound']}" in done.stdout
    # floor, real cold/no-change/incremental/service/explain/explain floor, corpus x4,
    # executors x2
    assert _positive_timings(results) >= 13
