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
