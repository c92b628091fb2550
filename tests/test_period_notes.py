"""Every figure has a period or says why not; a relative period is read against the source's
reference year with the assumption recorded; an undated event says `undated`; an unknown
term of a vocabulary names the closest known ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from conftest import SOURCE_ID, tree_digest
from pipeline.cli.main import main
from pipeline.core.annotations import anchor_annotations
from pipeline.core.errors import BuildError
from pipeline.core.periods import PeriodError, parse_period
from pipeline.core.sources import load_snapshot

AFFECTED = "transnational-organizations-affected"


def _edit(raw: Path, name: str, old: str, new: str) -> Path:
    path = raw / SOURCE_ID / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _error(raw: Path) -> str:
    with pytest.raises(BuildError) as raised:
        anchor_annotations(load_snapshot(raw / SOURCE_ID))
    return str(raised.value)


def test_every_figure_has_a_period_or_a_period_note(built):
    figures = pd.read_parquet(built / "figures.parquet")
    dated = figures["period_start"].notna() | figures["period_end"].notna()
    assert (dated | figures["period_note"].notna()).all()
    growth = figures.set_index("figure_id").loc["usa-extraditions-growth-tripled"]
    assert (growth["period_start"], growth["period_end"]) == (
        dt.date(1995, 1, 1),
        dt.date(2000, 12, 31),
    )


def test_a_figure_without_period_or_period_note_stops_the_build(raw_copy, tmp_path, capsys):
    note = "    period_note: The start year of the 5-year campaign is not printed.\n"
    path = _edit(raw_copy, "annotations.yaml", note, "")
    line = (
        path.read_text(encoding="utf-8").splitlines().index("  - id: usa-media-campaign-duration")
        + 1
    )
    outputs = tmp_path / "outputs"
    assert main(["build", "--raw", str(raw_copy), "--outputs", str(outputs)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"annotations.yaml, line {line}, record 'usa-media-campaign-duration'" in err
    assert err.endswith(
        "it has no period and no period_note; add period: <the period as printed> or "
        "period_note: <why the text gives none>."
    )
    assert not outputs.exists() or tree_digest(outputs) == {}


def test_a_relative_period_is_read_against_the_reference_year_with_its_assumption(built):
    period = parse_period("Over the last five years", reference_year=2000)
    assert (period.start, period.end, period.precision) == (
        dt.date(1995, 1, 1),
        dt.date(2000, 12, 31),
        "year",
    )
    assert parse_period("in the last 5 years", 2000).start == dt.date(1995, 1, 1)
    with pytest.raises(PeriodError, match="relative to an unprinted date"):
        parse_period("Over the last five years")
    with pytest.raises(PeriodError):
        parse_period("In each of the last three years", 2000)  # not "the N years ending then"
    row = pd.read_parquet(built / "figures.parquet").set_index("figure_id").loc[AFFECTED]
    assert (row["period_start"], row["period_end"]) == (dt.date(1995, 1, 1), dt.date(2000, 12, 31))
    assert row["period_note"] == (
        "Relative period resolved against the reference year 2000 of source.yaml: "
        '"Over the last five years" read as 1995-2000 (from 5 years before the reference year to '
        'it, as the text equates "the last five years" with 1995-2000).'
    )


def test_without_a_reference_year_a_relative_period_stops_the_reading(raw_copy):
    _edit(raw_copy, "source.yaml", "reference_year: 2000\n", "")
    error = _error(raw_copy)
    assert f"record '{AFFECTED}'" in error and "relative to an unprinted date" in error


def test_a_reference_year_that_is_no_year_stops_the_build(raw_copy):
    _edit(raw_copy, "source.yaml", "reference_year: 2000\n", "reference_year: late 2000\n")
    with pytest.raises(
        BuildError,
        match="source.yaml, line 10: reference_year is text 'late 2000', not a whole number",
    ):
        load_snapshot(raw_copy / SOURCE_ID)


def test_an_event_without_a_date_is_undated(built):
    events = pd.read_parquet(built / "events.parquet")
    undated = events["date_start"].isna() & events["date_end"].isna()
    assert undated.any() and (events.loc[undated, "date_precision"] == "undated").all()
    assert events["date_precision"].notna().all()
    assert (events.loc[~undated, "date_precision"] != "undated").all()


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("    measure: area_eradicated\n", "    measure: area_eradictd\n",
         "the measure 'area_eradictd' is unknown (closest: area_eradicated, "),
        ("    subject: opium_poppy\n", "    subject: opium_popy\n",
         "the subject 'opium_popy' is unknown (closest: opium_poppy"),
        ("    unit: hectares\n", "    unit: hectare\n", 'the unit "hectare" is unknown (closest: hectares'),
        ("    kind: treaty\n", "    kind: treatie\n", "the event kind 'treatie' is unknown (closest: treaty"),
        ("    measure: area_eradicated\n", "    measure: happiness\n",
         "the measure 'happiness' is unknown; use one of schemas/measures.yaml."),
    ],
)  # fmt: skip
def test_an_unknown_term_names_the_closest_known_ones(raw_copy, old, new, expected):
    _edit(raw_copy, "annotations.yaml", old, new)
    assert expected in _error(raw_copy)
