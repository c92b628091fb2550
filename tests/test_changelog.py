"""Each build compares itself with the published outputs: a readable changelog, a version
that follows the rules in README, and no byte touched when nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import SOURCE_ID, tree_digest
from pipeline.cli.main import main
from pipeline.publish.changelog import Changes, bump, encode


@pytest.fixture
def published(tmp_path: Path, raw_copy: Path) -> Path:
    """outputs/ published from the same (copied) raw/ the test then changes."""
    outputs = tmp_path / "outputs"
    assert main(["build", "--raw", str(raw_copy), "--outputs", str(outputs)]) == 0
    return outputs


def rebuild(raw: Path, outputs: Path) -> dict:
    assert main(["build", "--raw", str(raw), "--outputs", str(outputs)]) == 0
    return json.loads((outputs / "datapackage.json").read_text())


def test_a_build_with_no_change_leaves_version_and_every_byte_alone(raw_copy, published):
    before = tree_digest(published)
    mtimes = {p.name: p.stat().st_mtime_ns for p in published.iterdir()}
    rebuild(raw_copy, published)
    assert tree_digest(published) == before
    assert {p.name: p.stat().st_mtime_ns for p in published.iterdir()} == mtimes


def test_a_corrected_value_is_a_patch_with_old_new_and_reason(raw_copy, published):
    version = json.loads((published / "datapackage.json").read_text())["version"]
    path = raw_copy / SOURCE_ID / "corrections.yaml"
    path.write_text(
        path.read_text() + '\n  - id: test-cocaine-1999\n    quote: "34.6"\n    corrected: "43.6"\n'
        "    reason: The ministry's corrected table.\n    reported_on: 2026-11-27\n"
        "    reported_by: tests\n"
    )
    package = rebuild(raw_copy, published)
    major, minor, patch = map(int, version.split("."))
    assert package["version"] == f"{major}.{minor}.{patch + 1}"
    entry = json.loads((published / "changelog.json").read_text())[0]
    assert entry["level"] == "patch" and entry["previous_version"] == version
    value = next(c for c in entry["changed"] if c["id"] == "mex-cocaine-seized-1999"
                 and c["column"] == "value")  # fmt: skip
    assert (value["old"], value["new"]) == (34600.0, 43600.0)
    assert "The ministry's corrected table." in value["reason"]
    md = (published / "CHANGELOG.md").read_text()
    assert "figures mex-cocaine-seized-1999: value changed: 34600.0 → 43600.0" in md


def test_an_added_record_is_minor_and_a_removed_one_major(raw_copy, published):
    version = json.loads((published / "datapackage.json").read_text())["version"]
    major, minor, _ = map(int, version.split("."))
    path = raw_copy / SOURCE_ID / "annotations.yaml"
    text = path.read_text()
    events = text.index("\nevents:\n") + len("\nevents:\n")
    added = (
        "  - id: test-operation-impunity-again\n    quote: Operation Impunity\n"
        "    kind: operation\n"
    )
    path.write_text(text[:events] + added + text[events:])
    assert rebuild(raw_copy, published)["version"] == f"{major}.{minor + 1}.0"
    path.write_text(text)
    assert rebuild(raw_copy, published)["version"] == f"{major + 1}.0.0"
    entry = json.loads((published / "changelog.json").read_text())[0]
    assert entry["removed"] == {"events": ["test-operation-impunity-again"],
                                "provenance": ["test-operation-impunity-again/1"]}  # fmt: skip


@pytest.mark.parametrize(
    "changes,expected",
    [
        (Changes(), "1.2.3"),
        (Changes(changed={"figures": [{"id": "a", "column": "value"}]}), "1.2.4"),
        (Changes(changed={"figures": [{"id": "a", "column": "unit"}]}), "2.0.0"),
        (Changes(added={"figures": ["b"]}), "1.3.0"),
        (Changes(columns_removed={"figures": ["note"]}), "2.0.0"),
    ],
)
def test_version_rules(changes, expected):
    assert bump("1.2.3", changes.level()) == expected


def _set(table: str, column: str, value):
    def change(frames):
        df = frames[table][1]
        df.loc[df.index[0], column] = value if not callable(value) else value(df[column].iloc[0])

    return change


def _drop_row(table: str):
    def change(frames):
        frames[table] = (frames[table][0], frames[table][1].iloc[1:])

    return change


def _add_row(table: str, key: str):
    def change(frames):
        df = frames[table][1]
        frames[table] = (frames[table][0], pd.concat([df, df.iloc[[0]].assign(**{key: "new-id"})]))

    return change


def _columns(table: str, drop: str | None = None, add: str | None = None):
    def change(frames):
        df = frames[table][1]
        df = df.drop(columns=[drop]) if drop else df.assign(**{add: "x"})
        frames[table] = (frames[table][0], df)

    return change


README_VERSION_RULES = {  # README, "Versions": each rule, applied to a real build's tables
    "major: a column disappears": (_columns("figures", drop="note"), "major"),
    "major: a record id disappears": (_drop_row("figures"), "major"),
    "major: a record's measure changes": (_set("figures", "measure", "drug_seized_x"), "major"),
    "major: a record's subject changes": (_set("figures", "subject", "other"), "major"),
    "major: a record's unit changes": (_set("figures", "unit", "grams"), "major"),
    "major: a record's kind changes": (_set("events", "kind", "other"), "major"),
    "minor: records are added": (_add_row("figures", "figure_id"), "minor"),
    "minor: columns are added": (_columns("figures", add="extra"), "minor"),
    "patch: a value is corrected": (_set("figures", "value", lambda v: v + 1), "patch"),
    "patch: another cell changes": (_set("figures", "note", "another note"), "patch"),
    "patch: an empty cell gets a value": (_set("figures", "derived_from", "x"), "patch"),
    "patch: a cell is emptied": (_set("figures", "note", None), "patch"),
    "patch: provenance moves": (_set("provenance", "char_start", lambda v: v + 1), "patch"),
    "patch: a correction is added": (_add_row("corrections", "correction_id"), "patch"),
    "patch: a correction is retired": (_drop_row("corrections"), "patch"),
    "none: no change": (lambda frames: None, None),
}


@pytest.mark.parametrize("rule", README_VERSION_RULES)
def test_every_version_rule_of_the_readme(rule, built):
    """compare() on a real build's tables changed as the rule says, then the version."""
    from pipeline.core.fields import table_defs
    from pipeline.publish.changelog import compare

    defs = table_defs()
    frames = {n: (defs[n], pd.read_parquet(built / f"{n}.parquet")) for n in defs}
    change, level = README_VERSION_RULES[rule]
    change(frames)
    assert compare(built, frames).level() == level
    expected = {"major": "2.0.0", "minor": "1.3.0", "patch": "1.2.4", None: "1.2.3"}[level]
    assert bump("1.2.3", level) == expected


def test_older_entries_copied_as_text_give_the_bytes_json_would_write():
    old = [
        {"version": "1.0.1", "changed": [{"id": "a", "old": 1.5, "new": None, "why": "é"}]},
        {"version": "1.0.0", "added": {"figures": ["a", "b"]}, "nested": {"x": [1, {"y": []}]}},
    ]
    new = [{"version": "1.1.0", "added": {"events": ["c"]}, "changed": []}]
    old_text = encode(old)
    assert old_text == json.dumps(old, indent=2, ensure_ascii=False) + "\n"
    assert encode(new + old, old_text) == json.dumps(new + old, indent=2, ensure_ascii=False) + "\n"
    assert encode(old, old_text) is old_text  # nothing new: the file as it was
    # text that does not hold the older entries is not trusted: everything is encoded again
    other = encode([{"version": "0.9.0"}])
    assert encode(new + old, other) == json.dumps(new + old, indent=2, ensure_ascii=False) + "\n"
    assert encode([], "[]\n") == "[]\n"


def test_an_entry_and_its_markdown_say_every_kind_of_change(tmp_path):
    """entry() and render_markdown() on a change of each kind, exactly; write() then
    read_entries() gives the entries back, newest first."""
    from pipeline.publish.changelog import entry, read_entries, render_markdown, write

    changes = Changes(
        added={"figures": [f"f{i:02d}" for i in range(21)], "events": []},
        removed={"events": ["e1"]},
        changed={
            "figures": [{"id": "f00", "column": "value", "old": 1.0, "new": 2.0}],
            "provenance": [{"id": "f00/1", "column": "char_start", "old": 5, "new": 6}],
            "events": [{"id": "e2", "column": "note", "old": None, "new": "n"}],
        },
        columns_added={"figures": ["extra"]},
        columns_removed={"events": ["gone"]},
    )
    made = entry("2.0.0", "1.2.3", changes, {"f00": "a correction", "e2": "not shown"})
    assert made == {
        "version": "2.0.0", "previous_version": "1.2.3", "level": "major",
        "added": {"figures": [f"f{i:02d}" for i in range(21)]},
        "removed": {"events": ["e1"]},
        "columns_added": {"figures": ["extra"]},
        "columns_removed": {"events": ["gone"]},
        "changed": [
            {"table": "figures", "id": "f00", "column": "value", "old": 1.0, "new": 2.0,
             "reason": "a correction"},
            {"table": "provenance", "id": "f00/1", "column": "char_start", "old": 5, "new": 6},
            {"table": "events", "id": "e2", "column": "note", "old": None, "new": "n"},
        ],
    }  # fmt: skip
    first = entry("1.0.0", None, Changes(added={"figures": ["f00"]}), {})
    assert first["level"] == "initial" and first["previous_version"] is None
    first_20 = ", ".join(f"f{i:02d}" for i in range(20))
    assert render_markdown([made, first]).split("\n") == [
        "# Changelog of the dataset", "", "Newest first. Written by the build.", "",
        "## 2.0.0 — major (from 1.2.3)", "",
        f"- figures: 21 added: {first_20} …",
        "- events: 1 removed: e1",
        "- figures: columns added: extra",
        "- events: columns removed: gone",
        "- figures f00: value changed: 1.0 → 2.0 — a correction",
        "- provenance f00/1: char_start provenance moved: 5 → 6",
        "- events e2: note changed: None → n",
        "",
        "## 1.0.0 — initial", "",
        "- figures: 1 added: f00",
        "",
    ]  # fmt: skip
    assert read_entries(tmp_path) == []
    write(tmp_path, [first])
    published = tmp_path / "published"
    published.mkdir()
    for name in ("changelog.json", "CHANGELOG.md"):
        (published / name).write_bytes((tmp_path / name).read_bytes())
    out = tmp_path / "next"
    out.mkdir()
    write(out, [made, first], published)
    assert read_entries(out) == [made, first]
    assert (out / "changelog.json").read_text() == json.dumps([made, first], indent=2) + "\n"
    assert (out / "CHANGELOG.md").read_text() == render_markdown([made, first])


def _table(*keys: str):
    """What compare() reads of a table's definition: its primary key."""
    from types import SimpleNamespace

    return SimpleNamespace(primary_key=list(keys))


def _mentions() -> pd.DataFrame:
    return pd.DataFrame({
        "record": ["r1", "r1", "r2", "r3"],
        "mention": ["1", "2", "1", "1"],
        "note": ["a", "b", "c", "d"],
        "value": [1.5, float("nan"), 2.0, float("nan")],
        "count": pd.array([1, None, 3, None], dtype="Int64"),
        "day": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]),
    })  # fmt: skip


def test_compare_reports_each_changed_cell_exactly_as_plain_json(tmp_path):
    """Text, a float beside NaN, a nullable integer beside <NA>, a date; a key of two fields
    joined by '/'; a missing value stays missing, not a change. The changes are plain JSON
    values, as changelog.json holds them."""
    from pipeline.publish.changelog import compare

    _mentions().to_parquet(tmp_path / "mentions.parquet")
    new = _mentions()
    new.loc[0, "note"] = "A"  # r1/1: text
    new.loc[1, "note"] = "B"  # r1/2: its NaN and <NA> are compared too, and stay as they were
    new.loc[2, "value"] = float("nan")  # r2/1: values removed
    new.loc[2, "count"] = pd.NA
    new.loc[3, "day"] = pd.Timestamp("2026-02-04")  # r3/1: a date
    new.loc[3, "count"] = 7  # and a value given
    changes = compare(tmp_path, {"mentions": (_table("record", "mention"), new)})
    assert json.loads(json.dumps(changes.changed)) == {"mentions": [
        {"id": "r1/1", "column": "note", "old": "a", "new": "A"},
        {"id": "r1/2", "column": "note", "old": "b", "new": "B"},
        {"id": "r2/1", "column": "value", "old": 2.0, "new": None},
        {"id": "r2/1", "column": "count", "old": 3, "new": None},
        {"id": "r3/1", "column": "count", "old": None, "new": 7},
        {"id": "r3/1", "column": "day", "old": "2026-01-04T00:00:00", "new": "2026-02-04T00:00:00"},
    ]}  # fmt: skip
    assert changes.level() == "patch"


def test_compare_names_the_tables_added_and_those_left_unread_and_goes_on_after_them(tmp_path):
    """A table absent from the published folder is added whole (its ids, sorted); a table
    named unchanged is not read and holds no change; the tables after either are compared."""
    from pipeline.publish.changelog import compare

    _mentions().to_parquet(tmp_path / "mentions.parquet")
    changed = _mentions()
    changed.loc[0, "note"] = "A"
    fresh = pd.DataFrame({"id": ["b", "a"], "note": ["x", "y"]})
    frames = {
        "fresh": (_table("id"), fresh),
        "same": (_table("id"), fresh),
        "mentions": (_table("record", "mention"), changed),
    }
    changes = compare(tmp_path, frames, unchanged={"same"})
    assert changes.added == {"fresh": ["a", "b"], "same": [], "mentions": []}
    assert changes.removed == {"same": [], "mentions": []}
    assert changes.changed == {
        "same": [], "mentions": [{"id": "r1/1", "column": "note", "old": "a", "new": "A"}]
    }  # fmt: skip
    assert changes.columns_added == {"same": [], "mentions": []}
    assert changes.columns_removed == {"same": [], "mentions": []}
    assert changes.level() == "minor"


def test_the_prefilter_never_drops_a_row_that_differs():
    """_candidates may keep equal rows, never drop a differing one: over text, floats with
    NaN, nullable integers with <NA>, and a column of mixed objects Arrow cannot compare."""
    from pipeline.publish.changelog import _candidates

    rows = ["r0", "r1", "r2", "r3", "r4"]
    old = pd.DataFrame({
        "text": ["a", "b", None, "d", "e"],
        "number": [1.0, float("nan"), 2.0, 3.0, 4.0],
        "count": pd.array([1, None, 2, 3, 4], dtype="Int64"),
        "mixed": pd.Series([1, "x", 2.5, None, "e"], index=rows, dtype=object),
    }, index=rows)  # fmt: skip
    assert old["mixed"].tolist()[:3] == [1, "x", 2.5]
    cases = {
        "text": ("r0", "A"), "number": ("r1", 5.0), "count": ("r2", pd.NA),
        "mixed": ("r3", "now"),
    }  # fmt: skip
    for column, (rid, value) in cases.items():
        new = old.copy()
        new.loc[rid, column] = value
        assert rid in _candidates(old, new, [column]), column
        assert rid in _candidates(old, new, list(old.columns)), column
    assert "r2" in _candidates(
        old.assign(text="t"), old.assign(text=["t"] * 2 + [None] + ["t"] * 2), ["text"]
    )


def test_the_markdown_lists_every_id_and_says_which_provenance_moved():
    from pipeline.publish.changelog import render_markdown

    twenty = [f"f{i:02d}" for i in range(20)]
    made = {
        "version": "2.0.0", "previous_version": "1.9.9", "level": "major",
        "added": {"figures": twenty}, "removed": {"events": ["e1", "e2"]},
        "columns_added": {"figures": ["x", "y"]}, "columns_removed": {"events": ["u", "v"]},
        "changed": [
            {"table": "provenance", "id": "f00/1", "column": "char_end", "old": 9, "new": 8},
            {"table": "mentions", "id": "m1", "column": "char_start", "old": 1, "new": 2},
        ],
    }  # fmt: skip
    assert render_markdown([made]).split("\n")[4:] == [
        "## 2.0.0 — major (from 1.9.9)", "",
        f"- figures: 20 added: {', '.join(twenty)}",
        "- events: 2 removed: e1, e2",
        "- figures: columns added: x, y",
        "- events: columns removed: u, v",
        "- provenance f00/1: char_end provenance moved: 9 → 8",
        "- mentions m1: char_start changed: 1 → 2",
        "",
    ]  # fmt: skip


def test_several_new_entries_before_old_text_give_the_bytes_json_would_write():
    old = [{"version": "1.0.0", "note": "é"}]
    new = [{"version": "1.2.0", "note": "ü"}, {"version": "1.1.0", "note": "ñ"}]
    old_text = encode(old)
    made = encode(new + old, old_text)
    assert made == json.dumps(new + old, indent=2, ensure_ascii=False) + "\n"
    assert "ü" in made


def test_the_changelog_is_written_and_read_as_utf8_whatever_the_locale(tmp_path):
    """Under the C locale (ASCII) the files are the same UTF-8 bytes and read back whole."""
    import locale

    from pipeline.publish.changelog import read_entries, render_markdown, write

    entries = [{"version": "1.0.1", "previous_version": "1.0.0", "level": "patch",
                "added": {}, "removed": {}, "columns_added": {}, "columns_removed": {},
                "changed": [{"table": "figures", "id": "f1", "column": "note", "old": "é",
                             "new": "è"}]}]  # fmt: skip
    published, out = tmp_path / "published", tmp_path / "out"
    published.mkdir()
    out.mkdir()
    (published / "changelog.json").write_text(encode(entries), encoding="utf-8")
    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        write(out, entries, published)
        found = read_entries(out)
    finally:
        locale.setlocale(locale.LC_CTYPE, before)
    assert found == entries
    assert (out / "changelog.json").read_bytes() == encode(entries).encode("utf-8")
    assert (out / "CHANGELOG.md").read_bytes() == render_markdown(entries).encode("utf-8")
