"""The actors table: every actor named as printed and anchored; figures.actor and
events.parties name actors of the same source, and an unknown id stops the reading with the
closest known ids."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from conftest import SOURCE_ID
from pipeline.core.annotations import anchor_annotations
from pipeline.core.errors import BuildError
from pipeline.core.sources import load_snapshot
from pipeline.defs.tables import actor_id_problems


@pytest.fixture(scope="module")
def tables(built: Path) -> dict[str, pd.DataFrame]:
    names = ("figures", "events", "actors", "provenance")
    return {name: pd.read_parquet(built / f"{name}.parquet") for name in names}


def _read(raw: Path, old: str, new: str) -> BuildError:
    path = raw / SOURCE_ID / "annotations.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(BuildError) as raised:
        anchor_annotations(load_snapshot(raw / SOURCE_ID))
    return raised.value


def test_every_actor_id_of_figures_and_events_is_an_actor_of_the_same_source(tables):
    known = set(zip(tables["actors"]["source_id"], tables["actors"]["actor_id"], strict=True))
    for table, column in (("figures", "actor"), ("events", "parties")):
        df = tables[table]
        for sid, ids in zip(df["source_id"], df[column].fillna(""), strict=True):
            assert all((sid, a) in known for a in ids.split(";") if a), (table, ids)
    assert actor_id_problems(tables) == []
    figures = tables["figures"].set_index("figure_id")
    assert figures.at["mex-marijuana-eradicated-1995-1999", "actor"] == "pgr;sedena;semar"
    # a figure whose text names no body is credited to its country's actor
    assert figures.at["mex-persons-extradited-1980-1994", "actor"] == "mex"


def test_the_actor_check_names_an_id_of_another_source_or_none(tables):
    frames = {name: df.copy() for name, df in tables.items()}
    first = frames["figures"].index[0]
    frames["figures"].loc[first, "actor"] = "mex;no-such-actor"
    frames["events"].loc[frames["events"].index[0], "source_id"] = "other-source"
    problems = actor_id_problems(frames)
    fid, eid = frames["figures"].at[first, "figure_id"], frames["events"]["event_id"].iloc[0]
    assert f"{fid}: actor 'no-such-actor' is not an actor of source {SOURCE_ID}" in problems
    assert any(p.startswith(f"{eid}: parties '") and "other-source" in p for p in problems)


def test_every_actor_is_named_as_printed_and_expanded_only_where_the_text_does(tables):
    actors = tables["actors"].set_index("actor_id")
    prov = tables["provenance"]
    quotes = prov.loc[prov["record_type"] == "actor"].groupby("record_id")["quote"].apply(list)
    first = prov.loc[(prov["record_type"] == "actor") & (prov["mention"] == 1)]
    first = first.set_index("record_id")["quote"]
    assert set(quotes.index) == set(actors.index)
    for aid, row in actors.iterrows():
        assert row["name"] in first[aid], aid
        if not pd.isna(row["name_es"]):
            assert row["name_es"] in first[aid], aid
        acronym = None if pd.isna(row["acronym"]) else row["acronym"]
        if acronym:
            assert any(acronym in q for q in quotes[aid]), aid
        expanded = bool(acronym) and acronym != row["name"] and acronym in first[aid]
        assert row["acronym_expanded"] == expanded, aid
        if acronym and not expanded:
            assert f"The text does not expand {acronym}." in row["note"], aid
    assert (
        actors.at["semar", "acronym_expanded"]
        and actors.at["semar", "name"] == "Secretariat of Navy"
    )
    assert not actors.at["fbi", "acronym_expanded"] and actors.at["fbi", "name"] == "FBI"
    assert actors.at["mex", "kind"] == "country" and actors.at["mex", "name"] == "Mexico"
    assert pd.isna(actors.at["united-nations", "acronym"])  # "UN" is not printed


def test_an_unknown_actor_id_stops_the_reading_naming_the_closest(raw_copy):
    error = str(_read(raw_copy, "    actor: pgr;sedena;semar\n", "    actor: pgr;sedna;semar\n"))
    assert "record 'mex-marijuana-eradicated-1995-1999'" in error
    assert "its actor 'sedna' is not an actor of this source (closest: sedena" in error
    assert error.endswith("use the id of an entry of actors: (docs/annotating.md).")


def test_an_unknown_party_stops_the_reading_naming_the_closest(raw_copy):
    error = str(_read(raw_copy, "    parties: [oas]\n", "    parties: [oea]\n"))
    assert ", line " in error and "record 'convention-inter-american-firearms'" in error
    assert "its party 'oea' is not an actor of this source (closest: oas" in error


def test_an_unknown_actor_kind_names_the_closest(raw_copy):
    error = str(_read(raw_copy, "    kind: criminal_organization\n", "    kind: criminal_org\n"))
    assert "record 'arellano-felix-organizations'" in error
    assert "the actor kind 'criminal_org' is unknown (closest: criminal_organization)" in error


def test_an_actor_name_not_printed_in_its_quote_stops_the_reading(raw_copy):
    error = str(
        _read(raw_copy, "    name: Secretariat of Navy\n", "    name: Secretariat of the Navy\n")
    )
    assert (
        "record 'semar'" in error and 'its name "Secretariat of the Navy" is not printed' in error
    )


def test_an_actor_id_may_not_be_the_id_of_a_figure_or_event(raw_copy):
    error = str(_read(raw_copy, "  - id: zedillo\n", "  - id: operation-meta\n"))
    assert "the id 'operation-meta' is used twice" in error
