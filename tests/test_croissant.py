"""outputs/croissant.json: mlcroissant validates it, offline, and yields exactly the Parquet rows."""

from __future__ import annotations

import json
import shutil

import mlcroissant as mlc
import pandas as pd
import pytest

from pipeline.core.fields import coerce_frame, table_defs
from pipeline.publish.metadata import croissant_problems
from pipeline.site.labels import as_rows


def _plain(value):
    """A Croissant record's cell as the published tables' plain value (text comes as bytes,
    dates as Timestamps)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return value


def test_mlcroissant_validates_the_metadata_without_warnings(built):
    doc = json.loads((built / "croissant.json").read_text(encoding="utf-8"))
    assert isinstance(doc["@context"], dict), "the context is inline: no reader fetches it"
    dataset = mlc.Dataset(jsonld=built / "croissant.json")  # raises mlc.ValidationError
    assert not dataset.metadata.ctx.issues.errors and not dataset.metadata.ctx.issues.warnings
    assert [rs.name for rs in dataset.metadata.record_sets] == list(table_defs())


@pytest.mark.parametrize("name", list(table_defs()))
def test_records_are_the_parquet_rows(built, name):
    table = table_defs()[name]
    dataset = mlc.Dataset(jsonld=built / "croissant.json")
    records = [{k.split("/", 1)[1]: _plain(v) for k, v in r.items()}
               for r in dataset.records(record_set=name)]  # fmt: skip
    rows = as_rows(coerce_frame(pd.read_parquet(built / f"{name}.parquet"), table))
    assert records == rows


def test_a_wrong_sha256_is_caught(built, tmp_path):
    """The staged package's check reads records, so a file that is not the one described fails."""
    folder = tmp_path / "out"
    shutil.copytree(built, folder, ignore=shutil.ignore_patterns("provenance", "*.html"))
    assert croissant_problems(folder) == []
    doc = json.loads((folder / "croissant.json").read_text(encoding="utf-8"))
    doc["distribution"][-1]["sha256"] = "0" * 64
    (folder / "croissant.json").write_text(json.dumps(doc), encoding="utf-8")
    assert croissant_problems(folder)
