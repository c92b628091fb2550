"""The dataset says what the chapter says: values, units, periods and qualifiers, and every
figure traceable to the characters it was read from."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest

from conftest import RAW, SOURCE_ID
from pipeline.core.numerals import find_numerals

D = dt.date
TEXT = (RAW / SOURCE_ID / "source.txt").read_text(encoding="utf-8")

# (figure_id, value, unit, period_start, period_end, qualifier) as read by a person
EXPECTED = [
    ("mex-marijuana-eradicated-1995-1999", 125_000, "hectares", D(1995, 1, 1), D(1999, 12, 31), "at_least"),
    ("mex-poppy-eradicated-1995-1999", 80_500, "hectares", D(1995, 1, 1), D(1999, 12, 31), "at_least"),
    ("mex-marijuana-eradicated-2000-h1", 9_700, "hectares", D(2000, 1, 1), D(2000, 6, 30), "exact"),
    ("mex-poppy-eradicated-2000-h1", 8_800, "hectares", D(2000, 1, 1), D(2000, 6, 30), "exact"),
    ("sedena-eradication-soldiers-daily-average", 25_000, "persons", None, None, "average"),
    ("semar-eradication-sailors-daily-average", 2_625, "persons", None, None, "average"),
    ("dea-cannabis-eradication-funding-2000", 13e6, "USD", D(2000, 1, 1), D(2000, 12, 31), "at_most"),
    ("usa-cannabis-cultivated-plants-eradicated-1997-1999", 9.4e6, "count", D(1997, 1, 1), D(1999, 12, 31), "exact"),
    ("usa-cannabis-indoor-plants-eradicated-1997-1999", 650_000, "count", D(1997, 1, 1), D(1999, 12, 31), "at_least"),
    ("usa-cannabis-program-assets-seized", 95e6, "USD", D(1997, 1, 1), D(1999, 12, 31), "approximately"),
    ("mex-cocaine-seized-1999", 34_600, "kilograms", D(1999, 1, 1), D(1999, 12, 31), "exact"),
    ("mex-marijuana-seized-1999", 1_472_000, "kilograms", D(1999, 1, 1), D(1999, 12, 31), "exact"),
    ("mex-opium-gum-seized-1999", 801.2, "kilograms", D(1999, 1, 1), D(1999, 12, 31), "exact"),
    ("mex-heroin-seized-1999", 260.2, "kilograms", D(1999, 1, 1), D(1999, 12, 31), "exact"),
    ("mex-cocaine-seized-2000-h1", 15_500, "kilograms", D(2000, 1, 1), D(2000, 6, 30), "exact"),
    ("mex-marijuana-seized-2000-h1", 1_014_900, "kilograms", D(2000, 1, 1), D(2000, 6, 30), "exact"),
    ("mex-opium-gum-seized-2000-h1", 149.8, "kilograms", D(2000, 1, 1), D(2000, 6, 30), "exact"),
    ("mex-heroin-seized-2000-h1", 203.7, "kilograms", D(2000, 1, 1), D(2000, 6, 30), "exact"),
    ("mex-persons-extradited-1980-1994", 8, "persons", D(1980, 1, 1), D(1994, 12, 31), "exact"),
    ("usa-persons-extradited-1980-1994", 30, "persons", D(1980, 1, 1), D(1994, 12, 31), "exact"),
    ("mex-persons-extradited-1995-2000", 61, "persons", D(1995, 1, 1), D(2000, 12, 31), "exact"),
    ("usa-persons-extradited-1995-2000", 86, "persons", D(1995, 1, 1), D(2000, 12, 31), "exact"),
    ("mex-nationals-extradited-1995-2000", 11, "persons", D(1995, 1, 1), D(2000, 12, 31), "exact"),
    ("mex-nationals-extradited-by-birth", 8, "persons", D(1995, 1, 1), D(2000, 12, 31), "exact"),
    ("mex-nationals-extradited-by-naturalization", 3, "persons", D(1995, 1, 1), D(2000, 12, 31), "exact"),
    ("usa-citizens-extradited-1995-2000", 12, "persons", D(1995, 1, 1), D(2000, 12, 31), "exact"),
    ("mex-extraditions-growth-seven-fold", 7, "ratio", D(1995, 1, 1), D(2000, 12, 31), "exact"),
    ("usa-extraditions-growth-tripled", 3, "ratio", D(1995, 1, 1), D(2000, 12, 31), "exact"),
    ("transnational-organizations-affected", 3, "count", D(1995, 1, 1), D(2000, 12, 31), "exact"),
    ("dea-meth-labs-seized-1999", 2_025, "count", D(1999, 1, 1), D(1999, 12, 31), "exact"),
    ("usa-state-local-meth-labs-seized-1999", 5_000, "count", D(1999, 1, 1), D(1999, 12, 31), "at_least"),
    ("dea-meth-labs-seized-1994", 263, "count", D(1994, 1, 1), D(1994, 12, 31), "exact"),
    ("dea-meth-labs-seized-1999-over", 2_000, "count", D(1999, 1, 1), D(1999, 12, 31), "at_least"),
    ("usa-demand-reduction-budget", 6e9, "USD", D(1996, 1, 1), None, "at_least"),
    ("usa-media-campaign-budget", 2e9, "USD", None, None, "exact"),
    ("usa-community-coalitions-funded", 213, "count", None, None, "exact"),
    ("usa-community-coalitions-states", 46, "count", None, None, "exact"),
    ("usa-drug-use-reduction-target-2007", 0.5, "ratio", None, D(2007, 12, 31), "exact"),
    ("usa-drug-use-prevalence-target-2007", 3.1, "percent", None, D(2007, 12, 31), "exact"),
    ("mex-drug-use-prevalence-target-2005", 5.27, "percent", D(2005, 1, 1), D(2005, 12, 31), "exact"),
    ("usa-assets-shared-with-mexico", 6e6, "USD", None, None, "at_least"),
    ("mex-drug-strategy-reinforcement-budget", 500e6, "USD", None, None, "approximately"),
    ("mex-mobile-search-systems-purchased", 5, "count", None, None, "exact"),
    ("mex-secure-1000-systems-purchased", 21, "count", None, None, "exact"),
    ("mex-buster-systems-purchased", 31, "count", None, None, "exact"),
    ("binational-demand-conference-attendance-average", 350, "persons", None, None, "average"),
    ("mex-illicit-air-incursions-since-1998", 2, "count", D(1998, 1, 1), None, "exact"),
]  # fmt: skip


@pytest.fixture(scope="module")
def figures(built: Path) -> pd.DataFrame:
    return pd.read_parquet(built / "figures.parquet").set_index("figure_id")


@pytest.fixture(scope="module")
def mentions(built: Path) -> pd.DataFrame:
    """Every provenance row: one per mention of a record."""
    return pd.read_parquet(built / "provenance.parquet")


@pytest.fixture(scope="module")
def provenance(mentions: pd.DataFrame) -> pd.DataFrame:
    """Each record's mention 1: where its quote is."""
    return mentions.loc[mentions["mention"] == 1].set_index("record_id")


@pytest.fixture(scope="module")
def events(built: Path) -> pd.DataFrame:
    return pd.read_parquet(built / "events.parquet").set_index("event_id")


@pytest.mark.parametrize(
    "fid,value,unit,start,end,qualifier", EXPECTED, ids=[e[0] for e in EXPECTED]
)
def test_figure_has_the_right_value_unit_period_and_qualifier(
    figures, fid, value, unit, start, end, qualifier
):
    row = figures.loc[fid]
    assert math.isclose(row["value"], value, rel_tol=1e-12)
    assert row["unit"] == unit
    assert (None if pd.isna(row["period_start"]) else row["period_start"]) == start
    assert (None if pd.isna(row["period_end"]) else row["period_end"]) == end
    assert row["qualifier"] == qualifier


def test_about_sixty_figures_and_the_dated_events_are_published(figures, events):
    assert len(figures) >= 55
    assert len(events) >= 40
    assert events["date_start"].notna().sum() >= 20


def test_every_figure_span_equals_its_quote(figures, provenance):
    for fid in figures.index:
        row = provenance.loc[fid]
        assert TEXT[row["char_start"] : row["char_end"]] == row["quote"]


def test_every_figure_numeral_span_holds_the_printed_literal(figures, provenance):
    for fid, fig in figures.iterrows():
        row = provenance.loc[fid]
        start, end = int(row["numeral_start"]), int(row["numeral_end"])
        assert TEXT[start:end] == fig["value_as_printed"]
        assert row["char_start"] <= start < end <= row["char_end"]


def test_line_and_column_point_at_the_quote(mentions):
    lines = TEXT.split("\n")
    for rid, row in mentions.set_index("record_id").iterrows():
        line = lines[row["line"] - 1]
        col = row["column"] - 1
        assert line[col : col + len(row["quote"])] == row["quote"], rid


def test_provenance_points_at_the_annotation_line_that_produced_the_record(mentions):
    for rid, row in mentions.set_index("record_id").iterrows():
        lines = (RAW.parent / row["annotation_file"]).read_text(encoding="utf-8").splitlines()
        line = lines[row["annotation_line"] - 1].strip()
        if row["mention"] == 1:
            assert line == f"- id: {rid}"
        else:  # a further mention: its own entry under the record's mentions:
            assert line.startswith(("- quote:", "- {quote:")) and row["quote"] in line, rid


def test_every_numeral_of_the_text_lies_in_an_annotated_or_ignored_span(mentions):
    """Every numeral of the text, read independently of the build's coverage check: inside a
    published mention or period, or an `ignore:` quote of annotations.yaml."""
    import re

    import yaml

    spans = [(r["char_start"], r["char_end"]) for _, r in mentions.iterrows()]
    spans += [
        (int(r["period_start_char"]), int(r["period_end_char"]))
        for _, r in mentions.iterrows()
        if not pd.isna(r["period_start_char"])
    ]
    document = yaml.safe_load((RAW / SOURCE_ID / "annotations.yaml").read_text(encoding="utf-8"))
    for entry in document.get("ignore") or []:
        prefix, suffix = entry.get("prefix", ""), entry.get("suffix", "")
        for m in re.finditer(re.escape(entry["quote"]), TEXT):
            if TEXT[: m.start()].endswith(prefix) and TEXT[m.end() :].startswith(suffix):
                spans.append((m.start(), m.end()))
    numerals = find_numerals(TEXT)
    uncovered = [t for t in numerals if not any(s <= t[0] and t[1] <= e for s, e in spans)]
    assert numerals and uncovered == []


def test_misprints_are_kept_as_printed_and_explained(figures):
    assert figures.loc["mex-cocaine-seized-2000-h1", "value_as_printed"] == "15. 5"
    assert 'corrected text "15.5"' in figures.loc["mex-cocaine-seized-2000-h1", "note"]
    assert "heroine" in figures.loc["mex-heroin-seized-1999", "note"]
    assert "is assets" in figures.loc["usa-cannabis-program-assets-seized", "note"]


def test_tons_are_converted_to_kilograms_with_the_assumption_stated(figures):
    for fid, row in figures[figures["unit_as_printed"] == "tons"].iterrows():
        assert row["unit"] == "kilograms"
        assert "metric" in row["note"], fid


def test_derived_comparisons_link_the_figures_they_compare(figures):
    assert figures.loc["mex-extraditions-growth-seven-fold", "is_derived"]
    assert figures.loc["mex-extraditions-growth-seven-fold", "derived_from"] == (
        "mex-persons-extradited-1995-2000;mex-persons-extradited-1980-1994"
    )
    assert figures.loc["usa-extraditions-growth-tripled", "derived_from"] == (
        "usa-persons-extradited-1995-2000;usa-persons-extradited-1980-1994"
    )


def test_extraditions_name_the_receiving_country(figures):
    assert figures.loc["mex-persons-extradited-1995-2000", "counterpart_country"] == "USA"
    assert figures.loc["usa-citizens-extradited-1995-2000", "counterpart_country"] == "MEX"


def test_targets_are_flagged(figures):
    targets = set(figures.index[figures["is_target"]])
    assert {
        "usa-drug-use-reduction-target-2007",
        "usa-drug-use-prevalence-target-2007",
        "mex-drug-use-prevalence-target-2005",
    } <= targets
    assert "mex-cocaine-seized-1999" not in targets


def test_events_carry_dates_at_the_printed_precision_and_spanish_names(events):
    law = events.loc["law-mexico-seized-assets-administration"]
    assert (law["date_start"], law["date_end"], law["date_precision"]) == (
        D(1999, 8, 1),
        D(1999, 8, 31),
        "month",
    )
    assert law["name_es"].startswith("Ley Federal para la Administración de Bienes Asegurados")
    conf = events.loc["conference-demand-reduction-el-paso-1998"]
    assert (conf["date_start"], conf["date_precision"]) == (D(1998, 1, 1), "year")
    assert "El Paso" in conf["place"]
