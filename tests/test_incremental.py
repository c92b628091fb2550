"""Only what changed is recomputed: correcting one source among several re-anchors that
source alone; the others are reused, and the result equals a build from scratch."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg

from conftest import tree_digest
from pipeline.core.errors import REPO_ROOT
from pipeline.definitions import build_definitions
from pipeline.defs.resources import Layout

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from corpus import generate  # noqa: E402


def materialize(raw: Path, outputs: Path, cache: Path) -> dict:
    defs = build_definitions(
        Layout(raw_dir=str(raw), outputs_dir=str(outputs), cache_dir=str(cache))
    )
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance)
    assert result.success
    meta = next(
        e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "anchored_annotations"
    )
    return {k: v.value for k, v in meta.items()}


def test_correcting_one_source_re_anchors_only_that_source(tmp_path: Path):
    raw = tmp_path / "raw"
    generate(raw, 3, seed=7)
    outputs, cache = tmp_path / "outputs", tmp_path / "cache"
    first = materialize(raw, outputs, cache)
    assert first["sources re-anchored"] == 3
    again = materialize(raw, outputs, cache)
    assert again["sources re-anchored"] == 0 and again["sources reused unchanged"] == 3
    target = sorted(p for p in raw.iterdir() if p.is_dir())[1]
    corrections = target / "corrections.yaml"
    corrections.write_text(
        corrections.read_text()
        + "- id: test-only-this-source\n  quote: Tehuantepec Isthmus\n  corrected: Isthmus of Tehuantepec\n"
        "  reason: A test correction.\n  reported_on: 2026-11-27\n  reported_by: tests\n"
    )
    third = materialize(raw, outputs, cache)
    assert third["sources re-anchored"] == 1
    assert third["re-anchored"] == target.name
    # the reused sources give the same outputs as a build from scratch with an empty cache
    scratch_outputs = tmp_path / "scratch"
    materialize(raw, scratch_outputs, tmp_path / "empty-cache")
    tables = {p.name for p in outputs.glob("*.parquet")}
    assert {k: v for k, v in tree_digest(outputs).items() if k in tables} == {
        k: v for k, v in tree_digest(scratch_outputs).items() if k in tables
    }
