"""What the one YAML loader promises: a mapping of keys, each mapping and list item with its
1-based line; and every refusal (a malformed document, a duplicate key, a date that does not
exist, an anchor, alias or tag, a top level that is not a mapping, a byte that is not UTF-8, a
file over the cap, a link, a missing file) one sentence naming the file and the line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from pipeline.core.errors import BuildError
from pipeline.core.yaml_lines import (
    LINE_KEY,
    MAX_YAML_BYTES,
    decode_utf8,
    items,
    load_yaml,
    read_bytes,
    strip_lines,
)


def write(tmp_path: Path, text: str | bytes, name: str = "a.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def refusal(tmp_path: Path, text: str | bytes) -> str:
    path = write(tmp_path, text)
    with pytest.raises(BuildError) as caught:
        load_yaml(path)
    return str(caught.value).removeprefix(f"{path}")


def test_every_mapping_carries_its_line_and_every_list_its_items_lines(tmp_path):
    doc = load_yaml(
        write(tmp_path, "a: 1\nfigures:\n\n  - id: f1\n    n: 2\n  - plain\n  - id: f2\n")
    )
    assert doc == {"a": 1, "figures": [{"id": "f1", "n": 2, LINE_KEY: 4}, "plain",
                                       {"id": "f2", LINE_KEY: 7}], LINE_KEY: 1}  # fmt: skip
    assert doc["figures"].lines == [4, 6, 7]
    assert items(doc, "figures") == [(doc["figures"][0], 4), ("plain", 6), (doc["figures"][2], 7)]


def test_items_of_an_absent_or_empty_key_are_none_and_a_non_list_is_one_item_at_its_line():
    assert items({"a": 1}, "figures") == []
    assert items({"figures": None}, "figures") == []
    assert items({"figures": "oops", LINE_KEY: 3}, "figures") == [("oops", 3)]
    assert items({"figures": ["x", "y"]}, "figures") == [("x", None), ("y", None)]


def test_an_empty_file_is_an_empty_mapping_on_line_one(tmp_path):
    assert load_yaml(write(tmp_path, "")) == {LINE_KEY: 1}
    assert load_yaml(write(tmp_path, "# only a comment\n")) == {LINE_KEY: 1}


def test_strip_lines_removes_every_line_key_and_keeps_the_rest():
    doc = {"a": [{"b": 1, LINE_KEY: 2}, [3, {LINE_KEY: 4}]], LINE_KEY: 1, "c": "d"}
    assert strip_lines(doc) == {"a": [{"b": 1}, [3, {}]], "c": "d"}
    assert type(strip_lines(doc)["a"]) is list


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a: 1\nb: 2\na: 3\n",
            ", line 1: the YAML is malformed (duplicate key 'a'); fix the YAML syntax there.",
        ),
        (
            "figures:\n  - id: f1\n    date: 2000-02-30\n",
            ", line 3, record 'f1': its date "
            "'2000-02-30' is not a real date or number (day is out of range for month); write date as "
            "it is meant (a date as YYYY-MM-DD, one that exists).",
        ),
        (
            "date: 2000-13-01\n",
            ", line 1: its date '2000-13-01' is not a real date or number "
            "(month must be in 1..12); write date as it is meant",
        ),
        (  # an item of a list: its own line, its list's key (before: a ValueError, uncaught)
            "id: r1\ndates:\n  - 2000-01-01\n  - 2000-02-30\n",
            ", line 4, record 'r1': its dates '2000-02-30' is not a real date or number (day "
            "is out of range for month); write dates as it is meant",
        ),
        (
            "x:\n  ? {a: 1}\n  : 2\n",
            ", line 3: the YAML is malformed (a key is not a plain value); "
            "fix the YAML syntax there.",
        ),
        (
            "a: 1\nb: &x 2\n",
            ", line 2: it uses an anchor (&x), which annotations never need; write "
            "the value out in full where it is used.",
        ),
        (
            "a: 1\nb: *x\n",
            ", line 2: it uses an alias (*x), which annotations never need; write "
            "the value out in full where it is used.",
        ),
        (
            "a: !!str 1\n",
            ", line 1: it uses the explicit tag tag:yaml.org,2002:str, which "
            "annotations never need; remove the tag (quote the value if it must stay text).",
        ),
        ("a:\n  - !x 1\n", ", line 2: it uses the explicit tag !x, which annotations never need"),
        (
            "- a\n- b\n",
            ", line 1: the top level is a list, but it must be a mapping of keys; write "
            "it as key: value lines, starting at the first column.",
        ),
        (
            "\nhello\n",
            ", line 2: the top level is a single value, but it must be a mapping of keys",
        ),
        (
            "a: 1\nb: \x07\n",
            ", line 2: it holds the character #x0007, which YAML does not allow; remove it.",
        ),
        (
            "a: 'open\nb: 2\nc: 'x'\n",
            ", line 1: the YAML is malformed (a quote opened on this line "
            "runs on to line 3); fix the YAML syntax there.",
        ),
        (
            "z: 0\na: [1, 2\nb: 3\n",
            ", line 2: the YAML is malformed (did not find expected ',' or "
            "']'); fix the YAML syntax there.",
        ),
        (
            "z: 0\na: {b: 1\nc: 2\n",
            ", line 2: the YAML is malformed (did not find expected ',' or '}')",
        ),
        (
            "a: b: c\n",
            ", line 1: the YAML is malformed (mapping values are not allowed in this "
            "context); fix the YAML syntax there.",
        ),
        ("a:\n  b: 1\n c: 2\n", ", line 3: the YAML is malformed (did not find expected key)"),
        (
            "a:\n\tb: 1\n",
            ", line 2: the YAML is malformed (found character that cannot start any token)",
        ),
        ("a: 1\n---\nb: 2\n", ", line 2: the YAML is malformed (but found another document)"),
    ],
)
def test_a_refused_document_is_one_sentence_with_its_line(tmp_path, text, message):
    assert refusal(tmp_path, text).startswith(message)


def test_an_anchor_is_refused_before_anything_after_it_is_read(tmp_path):
    text = "a: &a ['x', 'x']\n" + "".join(f"b{i}: &b{i} [*a, *a]\n" for i in range(40))
    assert refusal(tmp_path, text).startswith(", line 1: it uses an anchor (&a)")


def test_a_quote_closed_on_its_own_line_is_not_blamed(tmp_path):
    message = refusal(tmp_path, "a: 'one'\nb: c: d\n")
    assert message.startswith(", line 2: the YAML is malformed (mapping values are not allowed")


def test_a_file_at_the_size_cap_is_read_and_one_byte_more_is_refused(tmp_path):
    head = "notes: '"
    exact = write(tmp_path, head + "x" * (MAX_YAML_BYTES - len(head) - 2) + "'\n")
    assert len(exact.read_bytes()) == MAX_YAML_BYTES == 2 * 1024 * 1024
    assert len(load_yaml(exact)["notes"]) == MAX_YAML_BYTES - len(head) - 2
    message = refusal(tmp_path, head + "x" * (MAX_YAML_BYTES - len(head) - 1) + "'\n")
    assert message == (
        ": the file has 2,097,153 bytes, more than the 2,097,152 a YAML file of this project may "
        "have; split it or remove what is not annotation."
    )


def test_a_byte_that_is_not_utf8_is_named_by_line_code_point_column_and_offset(tmp_path):
    data = "a: 1\nb: é\xe9".encode() + b"\xff rest\n"
    with pytest.raises(BuildError) as caught:
        decode_utf8(Path("f.yaml"), data)
    assert str(caught.value) == (
        "f.yaml, line 2: column 6 (byte 12) holds 0xff, which is not UTF-8 (invalid start byte); "
        "save the file as UTF-8 (retype the character there)."
    )
    assert refusal(tmp_path, b"\xfe\n").startswith(", line 1: column 1 (byte 0) holds 0xfe")
    assert decode_utf8(Path("f"), "é\n".encode()) == "é\n"


def test_a_missing_file_a_folder_and_a_link_are_refused(tmp_path):
    with pytest.raises(BuildError, match=r"x.yaml: the file is missing; create it or restore it "
                       r"from git\.$"):  # fmt: skip
        read_bytes(tmp_path / "x.yaml")
    with pytest.raises(BuildError) as caught:
        read_bytes(tmp_path, "the source text")
    assert str(caught.value) == (
        f"{tmp_path}: the source text cannot be read (Is a directory); make it a readable file."
    )
    os.symlink(write(tmp_path, "a: 1\n"), tmp_path / "link.yaml")
    with pytest.raises(BuildError) as caught:
        read_bytes(tmp_path / "link.yaml", "the annotation file")
    assert str(caught.value) == (
        f"{tmp_path / 'link.yaml'}: the annotation file is a symbolic link, which is never "
        "followed; replace the link by the file itself."
    )
    assert read_bytes(tmp_path / "a.yaml") == b"a: 1\n"


def test_of_several_duplicate_keys_the_first_in_order_is_named_on_its_mappings_line(tmp_path):
    assert refusal(tmp_path, "b: 1\na: 1\nb: 2\na: 2\n").startswith(
        ", line 1: the YAML is malformed (duplicate key 'a')"
    )
    assert refusal(tmp_path, "x: 1\ny:\n  k: 1\n  k: 2\n").startswith(
        ", line 3: the YAML is malformed (duplicate key 'k')"
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("figures:\n  - date: 2000-02-30\n    id: f1\n", ", line 2, record 'f1': its date"),
        ("figures:\n  - id: [f1]\n    date: 2000-02-30\n", ", line 3: its date"),
        ("figures:\n  - ids: f1\n    date: 2000-02-30\n", ", line 3: its date"),
        ("figures:\n  - id: f1\n    x:\n      date: 2000-02-30\n", ", line 4: its date"),
    ],
)
def test_a_date_that_does_not_exist_names_the_id_of_its_own_mapping(tmp_path, text, where):
    assert refusal(tmp_path, text).startswith(where)


def test_a_byte_that_is_not_utf8_on_the_first_line_counts_from_the_start(tmp_path):
    assert refusal(tmp_path, b"ab\xc3\n").startswith(
        ", line 1: column 3 (byte 2) holds 0xc3, which is not UTF-8 (invalid continuation byte)"
    )


@pytest.mark.parametrize("quote", ["'", '"'])
def test_a_quote_left_open_to_the_end_is_named_where_it_opens_with_the_parsers_problem(
    tmp_path, quote
):
    assert refusal(tmp_path, f"a: 1\nb: {quote}open\nc: 2\n") == (
        ", line 2: the YAML is malformed (found unexpected end of stream); fix the YAML syntax "
        "there."
    )


def test_a_double_quote_that_a_later_quote_closes_is_named_where_it_opens(tmp_path):
    assert refusal(tmp_path, 'x: 1\na: "unclosed\nb: "closed"\n') == (
        ", line 2: the YAML is malformed (a quote opened on this line runs on to line 3); fix "
        "the YAML syntax there."
    )


def test_a_problem_just_after_a_one_line_quote_is_the_parsers_own(tmp_path):
    assert refusal(tmp_path, 'z: 0\na: "x" y\n') == (
        ", line 2: the YAML is malformed (did not find expected key); fix the YAML syntax there."
    )


def test_duplicate_keys_of_different_types_are_named_not_a_crash(tmp_path):
    assert refusal(tmp_path, "a: 1\n1: x\na: 2\n1: y\n") == (
        ", line 1: the YAML is malformed (duplicate key '1'); fix the YAML syntax there."
    )


def test_a_yaml_error_without_a_place_is_its_problem_on_no_line():
    from pipeline.core.yaml_lines import _where

    error = yaml.MarkedYAMLError(context="while parsing a block mapping", problem="the problem")
    assert _where("a: 1\n", error) == (None, "the problem")
    assert _where("a: 1\n", yaml.MarkedYAMLError(context="the context")) == (None, "the context")


@pytest.mark.parametrize(
    ("text", "line"), [("a: 1\nb: \x07\nc: 2\nd: 3\n", 2), ("\na: \x07\n", 2), ("\x07: 1\n", 1)]
)
def test_a_character_yaml_does_not_allow_is_placed_on_its_line(tmp_path, text, line):
    assert refusal(tmp_path, text).startswith(f", line {line}: it holds the character #x0007")


def test_any_other_yaml_error_is_one_sentence_naming_the_file(tmp_path, monkeypatch):
    import pipeline.core.yaml_lines as yaml_lines

    def fails(*args, **kwargs):
        raise yaml.YAMLError("an error of PyYAML without a place")

    monkeypatch.setattr(yaml_lines._LineLoader, "load", fails)  # the one parse of a document
    assert refusal(tmp_path, "a: 1\n") == (
        ": the YAML is malformed (an error of PyYAML without a place); fix the YAML syntax."
    )
