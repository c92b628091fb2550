"""The Dagster pipeline: the asset graph is wired as designed, and a full in-process
materialize runs every asset and passes every check."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from conftest import RAW, tree_digest
from pipeline.core.claims import evaluate_claim
from pipeline.core.sources import raw_tree_sha256
from pipeline.definitions import build_definitions, defs
from pipeline.defs import ALL_CHECK_SPECS
from pipeline.defs.resources import layout_from_environment
from pipeline.defs.upstream import UPSTREAM_CHECK

EXPECTED_GRAPH = {
    "raw_files": ("sources", set()),
    "source_snapshots": ("sources", {"raw_files"}),
    "anchored_annotations": ("annotations", {"source_snapshots"}),
    "sources_table": ("tables", {"source_snapshots"}),
    "figures_table": ("tables", {"anchored_annotations"}),
    "events_table": ("tables", {"anchored_annotations"}),
    "actors_table": ("tables", {"anchored_annotations"}),
    "provenance_table": ("tables", {"anchored_annotations"}),
    "measures_table": ("tables", set()),
    "claims_table": ("tables", {"anchored_annotations", "figures_table"}),
    "corrections_table": ("tables", {"anchored_annotations"}),
    "data_package": (
        "published",
        {
            "source_snapshots", "anchored_annotations", "sources_table", "figures_table",
            "events_table", "actors_table", "provenance_table", "measures_table", "claims_table",
            "corrections_table",
        },
    ),
}  # fmt: skip
EXPECTED_CHECKS = {
    ("anchored_annotations", "every_numeral_is_explained"),
    ("sources_table", "sources_matches_schema"),
    ("figures_table", "figures_matches_schema"),
    ("events_table", "events_matches_schema"),
    ("actors_table", "actors_matches_schema"),
    ("provenance_table", "provenance_matches_schema"),
    ("measures_table", "measures_matches_schema"),
    ("claims_table", "claims_matches_schema"),
    ("corrections_table", "corrections_matches_schema"),
    ("provenance_table", "every_span_equals_its_quote"),
    ("provenance_table", "every_record_has_its_provenance_rows"),
    ("figures_table", "figures_foreign_keys"),
    ("actors_table", "actor_ids_are_actors"),
    ("data_package", "data_package_validates"),
}
# in `defs` (what Dagster loads) beside the build's graph, never in the build itself
UPSTREAM_GRAPH = {"upstream_editions": ("upstream", {"raw_files"})}
UPSTREAM_CHECKS = {("upstream_editions", "every_witness_is_the_same")}


def test_asset_graph_keys_groups_and_deps_are_as_designed():
    graph = defs.resolve_asset_graph()
    found = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        deps = {k.to_user_string() for k in node.parent_keys}
        found[key.to_user_string()] = (node.group_name, deps)
    assert found == EXPECTED_GRAPH | UPSTREAM_GRAPH
    build_graph = build_definitions().resolve_asset_graph()
    assert {k.to_user_string() for k in build_graph.get_all_asset_keys()} == set(EXPECTED_GRAPH)


def test_every_check_is_blocking_and_none_is_missing():
    graph = defs.resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert checks == EXPECTED_CHECKS | UPSTREAM_CHECKS
    assert len(ALL_CHECK_SPECS) == len(EXPECTED_CHECKS)
    for spec in ALL_CHECK_SPECS:
        assert spec.blocking, spec.key
    assert not UPSTREAM_CHECK.blocking  # a difference upstream flags, it stops nothing


def test_full_in_process_materialize_passes_every_check(tmp_path: Path):
    outputs = tmp_path / "outputs"
    local = build_definitions(
        layout_from_environment(raw_dir=str(RAW), outputs_dir=str(outputs)),
    )
    with dg.DagsterInstance.ephemeral() as instance:
        result = local.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance)
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert {(e.asset_key.to_user_string(), e.check_name) for e in evaluations} == EXPECTED_CHECKS
    assert all(e.passed for e in evaluations)
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == set(EXPECTED_GRAPH) - {"raw_files"}  # observed, not materialized
    figures = result.output_for_node("tables", "figures_table")
    assert len(figures) == len(pd.read_parquet(outputs / "figures.parquet"))
    assert {"figures.parquet", "figures.csv", "datapackage.json"} <= set(tree_digest(outputs))


def test_asset_metadata_has_row_counts_previews_and_source_sha256(tmp_path: Path):
    local = build_definitions(
        layout_from_environment(raw_dir=str(RAW), outputs_dir=str(tmp_path / "o")),
    )
    with dg.DagsterInstance.ephemeral() as instance:
        result = local.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance)
    sha = (RAW / "ondcp-usmx-ch3" / "source.yaml").read_text().split("sha256: ")[1].split()[0]
    by_key = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    for name in ("figures_table", "events_table", "provenance_table", "sources_table"):
        meta = by_key[name]
        assert meta["dagster/row_count"].value > 0
        assert meta["preview"].value.startswith("| ")
        assert meta["sha256 ondcp-usmx-ch3"].value == sha
    assert by_key["source_snapshots"]["sha256 ondcp-usmx-ch3"].value == sha


def _figures(**values: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"figure_id": k, "value": v, "value_as_printed": str(v), "qualifier": "exact"}
            for k, v in values.items()
        ]
    )


def test_sum_claim_holds_only_when_the_parts_add_up():
    spec = {"id": "c", "source_id": "s", "kind": "sum", "stated": "total", "parts": ["a", "b"]}
    assert evaluate_claim(spec, _figures(total=11, a=8, b=3))["holds"]
    assert not evaluate_claim(spec, _figures(total=11, a=8, b=4))["holds"]


def test_ratio_claim_uses_its_declared_tolerance():
    spec = {
        "id": "c", "source_id": "s", "kind": "ratio", "stated": "fold",
        "numerator": "new", "denominator": "old", "tolerance": 0.1,
    }  # fmt: skip
    row = evaluate_claim(spec, _figures(fold=7, new=61, old=8))
    assert row["computed_value"] == pytest.approx(7.625) and row["holds"]
    assert not evaluate_claim(spec, _figures(fold=7, new=90, old=8))["holds"]


def test_bound_claim_applies_the_stated_qualifier():
    figures = _figures(over=2000, exact=2025)
    figures.loc[figures["figure_id"] == "over", "qualifier"] = "at_least"
    spec = {"id": "c", "source_id": "s", "kind": "bound", "stated": "over", "computed": "exact"}
    assert evaluate_claim(spec, figures)["holds"]
    figures.loc[figures["figure_id"] == "exact", "value"] = 1999
    assert not evaluate_claim(spec, figures)["holds"]


def test_published_claims_match_the_text(built: Path):
    claims = pd.read_parquet(built / "claims.parquet").set_index("claim_id")
    assert claims.loc["mex-nationals-birth-plus-naturalization", "computed_value"] == 11
    assert claims.loc["mex-extraditions-seven-fold", "computed_value"] == pytest.approx(61 / 8)
    assert claims.loc["usa-extraditions-tripled", "computed_value"] == pytest.approx(86 / 30)
    assert claims.loc["dea-meth-labs-1999-over-2000", "computed_value"] == 2025
    assert claims["holds"].all()


def test_every_materialized_asset_has_a_code_version():
    graph = defs.resolve_asset_graph()
    for key in graph.materializable_asset_keys:
        assert graph.get(key).code_version, key


def test_source_data_version_is_the_hash_of_raw(tmp_path: Path):
    local = build_definitions(
        layout_from_environment(raw_dir=str(RAW), outputs_dir=str(tmp_path / "o")),
    )
    with dg.DagsterInstance.ephemeral() as instance:
        local.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance)
        record = instance.get_latest_materialization_event(dg.AssetKey("source_snapshots"))
    tags = record.asset_materialization.tags
    assert tags["dagster/data_version"] == raw_tree_sha256(RAW)


def test_an_edit_that_keeps_size_and_times_still_changes_the_raw_hash(tmp_path: Path):
    """raw/ is hashed from the bytes, not the stat: an edit that keeps the size and is dated
    back to the old modification time changes the hash."""
    folder = tmp_path / "raw" / "s1"
    folder.mkdir(parents=True)
    text = folder / "source.txt"
    text.write_text("Mexico eradicated 100 hectares.\n", encoding="utf-8")
    old = time.time_ns() - 3_600 * 10**9
    os.utime(text, ns=(old, old))
    first = raw_tree_sha256(tmp_path / "raw")
    text.write_text("Mexico eradicated 900 hectares.\n", encoding="utf-8")
    os.utime(text, ns=(old, old))
    second = raw_tree_sha256(tmp_path / "raw")
    assert second != first
    assert (
        second
        == hashlib.sha256(
            b"s1/source.txt\0" + hashlib.sha256(text.read_bytes()).digest()
        ).hexdigest()
    )
