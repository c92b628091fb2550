"""What the key table of the hand-written YAML promises: a record of each kind is taken only
with its required keys, no unknown key and each value of its type, and the first problem is
one sentence naming file, line and record, what is wrong and what to do."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipeline.core.entry_keys import KEYS, check_entry, check_file, key_line
from pipeline.core.errors import BuildError

PATH = Path("/elsewhere/annotations.yaml")


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(BuildError) as caught:
        call(*args, **kwargs)
    return str(caught.value)


def figure(**extra):
    return {"id": "f1", "quote": "11", "measure": "m", "subject": "s", "country": "MX",
            "__line__": 4, **extra}  # fmt: skip


def test_a_complete_record_is_returned_as_it_is():
    entry = figure(prefix="p", is_target=True, value_check=1.5, actor=["a", "b"])
    assert check_entry(PATH, entry, "figure") is entry


@pytest.mark.parametrize(
    ("kind", "entry", "message"),
    [
        (
            "figure",
            "just text",
            "line 9, record 'r': a figure entry is text 'just text', not a mapping "
            "of keys; write it as key: value.",
        ),
        ("actor", ["x"], "line 9, record 'r': an actor entry is a list, not a mapping of keys"),
        ("event", {"a": 1}.items(), "an event entry is dict_items "),
        (
            "ignore",
            5,
            "line 9, record 'r': an ignore entry is int '5', not a mapping of keys; "
            "write it as key: value.",
        ),
        (
            "mention",
            ["q"],
            "a mention entry is a list, not a mapping of keys; write it as - quote: ...",
        ),
        (
            "figure mention",
            "q",
            "a mention entry is text 'q', not a mapping of keys; write it as - quote: ...",
        ),
    ],
)
def test_an_entry_that_is_not_a_mapping_is_named_with_its_kind(kind, entry, message):
    assert message in refusal(check_entry, PATH, entry, kind, record="r", line=9)


def test_a_long_value_is_shown_cut_at_forty_characters():
    message = refusal(check_entry, PATH, "x" * 60, "figure", line=2)
    assert f"a figure entry is text '{'x' * 40}', not a mapping" in message


def test_an_unknown_key_is_named_with_the_allowed_ones():
    message = refusal(check_entry, PATH, figure(colour="red", aardvark=1), "figure")
    allowed = ", ".join(sorted({*KEYS["figure"].required, *KEYS["figure"].optional}))
    assert message == (
        f"/elsewhere/annotations.yaml, line 4, record 'f1': the figure has an unknown key "
        f"'aardvark'; use only {allowed} (docs/annotating.md)."
    )


def test_a_correction_names_its_allowed_keys_without_the_docs():
    entry = {"id": "c", "quote": "q", "corrected": "x", "reason": "r", "reported_by": "me",
             "reported_on": dt.date(2026, 1, 1), "note": "n", "__line__": 3}  # fmt: skip
    assert refusal(check_entry, PATH, entry, "correction").endswith(
        "line 3, record 'c': the correction has an unknown key 'note'; use only corrected, id, "
        "prefix, quote, reason, reported_by, reported_on, suffix."
    )


@pytest.mark.parametrize("missing", [None, ""])
def test_a_missing_or_empty_required_key_is_named(missing):
    entry = figure(measure=missing)
    assert refusal(check_entry, PATH, entry, "figure").endswith(
        "line 4, record 'f1': the figure has no 'measure'; add measure:."
    )
    del entry["measure"]
    assert "the figure has no 'measure'" in refusal(check_entry, PATH, entry, "figure")


def test_a_mention_takes_the_id_and_line_of_its_record_when_it_has_none():
    message = refusal(check_entry, PATH, {"prefix": "a"}, "mention", "f1", 12)
    assert message == (
        "/elsewhere/annotations.yaml, record 'f1': the mention has no 'quote'; add quote:."
    )
    message = refusal(check_entry, PATH, {"prefix": "a", "__line__": 13}, "mention", "f1", 12)
    assert message.startswith("/elsewhere/annotations.yaml, line 13, record 'f1': ")


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"is_target": "yes"}, "its is_target is text 'yes', not true or false"),
        ({"is_target": 1}, "its is_target is int '1', not true or false"),
        ({"value_check": True}, "its value_check is bool 'True', not a number"),
        ({"value_check": "1"}, "its value_check is text '1', not a number"),
        ({"actor": 5}, "its actor is int '5', not text or a list"),
        ({"actor": ["a", 5]}, "its actor lists int '5', where each item is text"),
        ({"actor": ["a", {"b": 1}]}, "its actor lists a mapping, where each item is text"),
        ({"derived_from": [["x"]]}, "its derived_from lists a list, where each item is text"),
        ({"mentions": "q"}, "its mentions is text 'q', not a list"),
        ({"note": 3.5}, "its note is float '3.5', not text"),
        ({"note": dt.date(2000, 1, 2)}, "its note is date '2000-01-02', not text"),
    ],
)
def test_a_value_of_the_wrong_type_is_named_with_its_key(extra, problem):
    assert refusal(check_entry, PATH, figure(**extra), "figure").endswith(
        f"line 4, record 'f1': {problem}; write {next(iter(extra))}: as docs/annotating.md shows."
    )


def test_values_of_their_type_pass():
    check_entry(PATH, figure(value_check=3, note=None, actor="a;b", mentions=[]), "figure")
    entry = {"id": "c", "quote": "q", "corrected": "x", "reason": "r", "reported_by": "me",
             "reported_on": dt.date(2026, 1, 1), "__line__": 3}  # fmt: skip
    assert check_entry(PATH, entry, "correction") is entry
    moment = {**entry, "reported_on": dt.datetime(2026, 1, 1, 10, 0)}
    assert "its reported_on is datetime " in refusal(check_entry, PATH, moment, "correction")
    assert "not a date" in refusal(
        check_entry, PATH, {**entry, "reported_on": "2026"}, "correction"
    )


def claim(**extra):
    return {"id": "c1", "kind": "sum", "stated": "f1", "__line__": 6, **extra}


def test_a_claim_needs_the_keys_of_its_kind():
    assert check_entry(PATH, claim(parts=["a"]), "claim")["kind"] == "sum"
    assert refusal(check_entry, PATH, claim(), "claim").endswith(
        "line 6, record 'c1': the claim has no 'parts'; add parts:."
    )
    ratio = claim(kind="ratio", numerator="a")
    assert "the claim has no 'denominator'" in refusal(check_entry, PATH, ratio, "claim")
    assert check_entry(PATH, claim(kind="bound", computed="a"), "claim")["computed"] == "a"


@pytest.mark.parametrize("kind", ["product", "Sum"])
def test_an_unknown_claim_kind_lists_the_known_ones(kind):
    assert refusal(check_entry, PATH, claim(kind=kind), "claim").endswith(
        f"line 6, record 'c1': the claim kind '{kind}' is unknown; use sum, ratio or bound."
    )


def test_a_file_that_is_not_a_mapping_is_refused_with_its_hint():
    assert refusal(check_file, PATH, ["a"], "annotations.yaml") == (
        "/elsewhere/annotations.yaml: the file is not a mapping; see docs/annotating.md."
    )
    assert refusal(check_file, PATH, "x", "corrections.yaml").endswith(
        "the file is not a mapping; start it with corrections:."
    )


def test_an_unknown_top_level_key_is_named_on_its_line(tmp_path):
    path = tmp_path / "annotations.yaml"
    path.write_text("figures: []\n\nfigurs: []\n", encoding="utf-8")
    assert refusal(check_file, path, {"figures": [], "figurs": [], "__line__": 1},
                   "annotations.yaml") == (
        f"{path}, line 3: unknown top-level key 'figurs'; use only actors, claims, events, "
        "figures, ignore, sections."
    )  # fmt: skip


def test_a_sidecar_without_a_required_key_is_refused():
    doc = {"source_id": "s", "title": "t", "publisher": "p", "url": "u", "rights": "r",
           "encoding": "utf-8", "sha256": ""}  # fmt: skip
    assert refusal(check_file, PATH, doc, "source.yaml").endswith(
        ": the sidecar has no 'sha256'; add sha256: (docs/annotating.md)."
    )
    doc["sha256"] = "a" * 64
    assert check_file(PATH, doc, "source.yaml") is doc


def test_a_top_level_value_of_the_wrong_type_is_named_on_its_line(tmp_path):
    path = tmp_path / "source.yaml"
    path.write_text("source_id: s\nbytes: many\n", encoding="utf-8")
    doc = {"source_id": "s", "title": "t", "publisher": "p", "url": "u", "rights": "r",
           "encoding": "utf-8", "sha256": "a" * 64, "bytes": "many", "__line__": 1}  # fmt: skip
    assert refusal(check_file, path, doc, "source.yaml") == (
        f"{path}, line 2: bytes is text 'many', not a whole number; write bytes: as "
        "docs/annotating.md shows."
    )
    assert "bytes is float '1.0', not a whole number" in refusal(
        check_file, path, {**doc, "bytes": 1.0}, "source.yaml"
    )
    assert "bytes is bool 'True'" in refusal(
        check_file, path, {**doc, "bytes": True}, "source.yaml"
    )


def test_key_line_is_the_line_of_a_top_level_key_only(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\n  sha256: x\nsha256 : y\nsha2567: z\n", encoding="utf-8")
    assert key_line(path, "sha256") == 3
    assert key_line(path, "a") == 1
    assert key_line(path, "b") is None
    assert key_line(path, "sha2567") == 4
    assert key_line(tmp_path / "missing.yaml", "a") is None
    (tmp_path / "bad.yaml").write_bytes(b"a: \xff\n")
    assert key_line(tmp_path / "bad.yaml", "a") is None
    path.write_text("xzy: 1\nx.y: 2\n", encoding="utf-8")
    assert key_line(path, "x.y") == 2
    path.write_text("\n\na: 1\n", encoding="utf-8")  # a file that starts with blank lines
    assert key_line(path, "a") == 3


def test_key_line_reads_utf8_whatever_the_locale(tmp_path):
    import locale

    path = tmp_path / "f.yaml"
    path.write_text("title: Ciudad Juárez\nsha256: x\n", encoding="utf-8")
    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        assert locale.getpreferredencoding(False) != "UTF-8"  # else this shows nothing
        assert key_line(path, "sha256") == 2
    finally:
        locale.setlocale(locale.LC_CTYPE, before)


def test_of_unknown_keys_of_two_types_the_first_as_text_is_named(tmp_path):
    entry = {"id": "f1", 7: "x", "zz": "y", "__line__": 4}
    message = refusal(check_entry, tmp_path / "a.yaml", entry, "figure", "f1")
    assert "has an unknown key '7'" in message, message
