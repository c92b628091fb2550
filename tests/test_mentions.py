"""Further mentions: a record printed several times is one record with a provenance row per
mention, each span holding its quote; a figure's mention reads as the figure's value; a
mention counts for the numeral check."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from conftest import RAW, SOURCE_ID
from pipeline.core.annotations import anchor_annotations
from pipeline.core.errors import BuildError
from pipeline.core.sources import load_snapshot

TEXT = (RAW / SOURCE_ID / "source.txt").read_text(encoding="utf-8")
YOUTH = "mex-youth-drug-use-reduction-target-2010"
MENTION = '      - quote: "reducing 1% prevalence"\n        numeral: "1%"\n'


@pytest.fixture(scope="module")
def provenance(built: Path) -> pd.DataFrame:
    return pd.read_parquet(built / "provenance.parquet")


def _edit(raw: Path, old: str, new: str) -> Path:
    path = raw / SOURCE_ID / "annotations.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _error(raw: Path) -> str:
    with pytest.raises(BuildError) as raised:
        anchor_annotations(load_snapshot(raw / SOURCE_ID))
    return str(raised.value)


def test_every_mention_span_holds_its_quote_and_mentions_count_from_one(provenance):
    for row in provenance.itertuples():
        assert TEXT[row.char_start : row.char_end] == row.quote, (row.record_id, row.mention)
    for rid, mentions in provenance.groupby("record_id")["mention"]:
        assert sorted(mentions) == list(range(1, len(mentions) + 1)), rid
    further = provenance.loc[provenance["mention"] > 1]
    assert len(further) and further["period_start_char"].isna().all()
    gom = provenance.loc[provenance["record_id"] == "gom"]
    assert len(gom) == 9 and gom["record_type"].eq("actor").all()


def test_a_figure_printed_twice_is_one_figure_with_two_mentions(built, provenance):
    figures = pd.read_parquet(built / "figures.parquet").set_index("figure_id")
    assert "mex-youth-prevalence-reduction-target-2010" not in figures.index
    rows = provenance.loc[provenance["record_id"] == YOUTH].sort_values("mention")
    assert list(rows["quote"]) == ["by one percent", "reducing 1% prevalence"]
    second = rows.iloc[1]
    assert TEXT[int(second["numeral_start"]) : int(second["numeral_end"])] == "1%"
    assert figures.at[YOUTH, "value"] == 1


def test_a_mention_numeral_of_another_value_stops_the_reading(raw_copy):
    path = _edit(raw_copy, MENTION, '      - quote: "in 46 states"\n        numeral: "46"\n')
    line = path.read_text(encoding="utf-8").splitlines().index('      - quote: "in 46 states"') + 1
    error = _error(raw_copy)
    assert f"annotations.yaml, line {line}, record '{YOUTH}'" in error
    assert 'its mention "in 46 states" prints "46", which reads as 46, not 1 as the figure' in error


def test_a_mention_not_in_the_text_is_reported_like_a_quote(raw_copy):
    _edit(
        raw_copy,
        "      - quote: PGR and SEDENA increased\n",
        "      - quote: PGR and SEDENA rose\n",
    )
    error = _error(raw_copy)
    assert (
        "record 'pgr'" in error
        and 'the quote "PGR and SEDENA rose" is not in the source text' in error
    )


def test_an_ambiguous_mention_stops_the_reading(raw_copy):
    _edit(raw_copy, "      - quote: PGR and SEDENA increased\n", "      - quote: PGR\n")
    error = _error(raw_copy)
    assert "record 'pgr'" in error and 'the quote "PGR" occurs' in error


def test_a_mention_counts_as_annotated_for_the_numeral_check(raw_copy):
    ignored = "  - quote: learn from one another\n    reason: pronoun phrase, not a quantity\n"
    _edit(raw_copy, ignored, "")
    snapshot = load_snapshot(raw_copy / SOURCE_ID)
    assert any('"one"' in p for p in anchor_annotations(snapshot).uncovered)
    _edit(raw_copy, "      - quote: PGR and SEDENA increased\n",
          "      - quote: PGR and SEDENA increased\n      - quote: learn from one another\n")  # fmt: skip
    assert anchor_annotations(load_snapshot(raw_copy / SOURCE_ID)).uncovered == []
