"""The keys each kind of hand-written YAML record must and may have, declared in one table.

`KEYS` covers the files of `raw/<source_id>/`: annotations.yaml (docs/annotating.md) and its
actors, figures, events, their further mentions, ignore entries and claims, and
corrections.yaml and its corrections.
`check_file` and `check_entry` turn the first key problem into a `BuildError` that names the
file, line and record, what is wrong and what to do.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.errors import BuildError
from pipeline.core.yaml_lines import LINE_KEY

ANCHOR = ("prefix", "suffix")  # optional on every record anchored by a quote
MENTION_HINT = "write it as - quote: ..."


@dataclass(frozen=True)
class Keys:
    """The keys of one record kind. `name` is what messages call it; `by_kind` adds the keys
    required by the value of its `kind:`; `hint` is the action when it is not a mapping."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    by_kind: dict[str, tuple[str, ...]] = field(default_factory=dict)
    docs: str = " (docs/annotating.md)"
    hint: str = "write it as key: value"

    @property
    def allowed(self) -> str:
        return ", ".join(sorted({*self.required, *self.optional}))


KEYS = {
    "annotations.yaml": Keys(
        "file", (), ("sections", "actors", "figures", "events", "ignore", "claims"),
        hint="see docs/annotating.md",
    ),
    "figure": Keys(
        "figure", ("id", "quote", "measure", "subject", "country"),
        (*ANCHOR, "numeral", "unit", "actor", "counterpart_country", "period", "period_note",
         "qualifier", "is_target", "derived_from", "value_check", "note", "mentions"),
    ),
    "event": Keys(
        "event", ("id", "quote", "kind"),
        (*ANCHOR, "name", "name_es", "date", "place", "parties", "note", "mentions"),
    ),
    "actor": Keys(
        "actor", ("id", "quote", "kind", "name"),
        (*ANCHOR, "name_es", "acronym", "country", "note", "mentions"),
    ),
    "mention": Keys("mention", ("quote",), ANCHOR, hint=MENTION_HINT),
    "figure mention": Keys("mention", ("quote",), (*ANCHOR, "numeral"), hint=MENTION_HINT),
    "ignore": Keys("ignore entry", ("quote", "reason"), ANCHOR),
    "claim": Keys(
        "claim", ("id", "kind", "stated"),
        ("parts", "numerator", "denominator", "computed", "tolerance"),
        by_kind={"sum": ("parts",), "ratio": ("numerator", "denominator"), "bound": ("computed",)},
    ),
    "corrections.yaml": Keys("file", (), ("corrections",), hint="start it with corrections:"),
    "source.yaml": Keys(
        "sidecar", ("source_id", "title", "publisher", "url", "rights", "encoding", "sha256"),
        ("archived_url", "report_pdf_url", "published", "reference_year", "reference_year_basis",
         "line_endings", "bytes", "code_points", "extraction_note"),
        docs=" (docs/annotating.md)", hint="write it as key: value lines",
    ),
    "correction": Keys(
        "correction", ("id", "quote", "corrected", "reason", "reported_on", "reported_by"),
        ANCHOR, docs="",
    ),
}  # fmt: skip


TEXT, LIST = "text", "a list"
# What YAML must read each key as; every key not named here is text (quote it if YAML would
# read it as a number, a date or true/false).
TYPES: dict[str, tuple[str, ...]] = {
    "is_target": ("true or false",), "value_check": ("a number",), "tolerance": ("a number",),
    "reported_on": ("a date",), "reference_year": ("a whole number",),
    "bytes": ("a whole number",), "code_points": ("a whole number",),
    "parties": (TEXT, LIST), "actor": (TEXT, LIST), "derived_from": (TEXT, LIST),
    "parts": (LIST,), "mentions": (LIST,), "sections": (LIST,), "actors": (LIST,),
    "figures": (LIST,), "events": (LIST,), "ignore": (LIST,), "claims": (LIST,),
    "corrections": (LIST,),
}  # fmt: skip
LISTS_OF_TEXT = ("parties", "actor", "derived_from", "parts", "sections")


def _is(value: object, kind: str) -> bool:
    if kind == TEXT:
        return isinstance(value, str)
    if kind == LIST:
        return isinstance(value, list)
    if kind == "true or false":
        return isinstance(value, bool)
    if kind == "a date":
        return type(value) is dt.date
    if kind == "a whole number":
        return type(value) is int
    return type(value) in (int, float)  # a number; true/false is not one


def _describe(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__.replace('str', 'text')} {str(value)[:40]!r}"


def _wrong_type(entry: dict) -> tuple[str, str] | None:
    """(key, what is wrong) for the first value of `entry` that is not of its key's type."""
    for key, value in entry.items():
        if key == LINE_KEY or value is None:
            continue
        kinds = TYPES.get(key, (TEXT,))
        if not any(_is(value, kind) for kind in kinds):
            return key, f"is {_describe(value)}, not {' or '.join(kinds)}"
        if key in LISTS_OF_TEXT and isinstance(value, list):
            bad = next((v for v in value if not isinstance(v, str)), None)
            if bad is not None:
                return key, f"lists {_describe(bad)}, where each item is text"
    return None


def key_line(path: Path, key: str) -> int | None:
    """The line of a top-level key of a YAML file (for messages), or None."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    found = re.search(rf"^{re.escape(key)}\s*:", text, flags=re.MULTILINE)
    return text.count("\n", 0, found.start()) + 1 if found else None


def _unknown(entry: dict, keys: Keys) -> str | None:
    allowed = {*keys.required, *keys.optional, LINE_KEY}
    unknown = sorted(set(entry) - allowed, key=str)
    return str(unknown[0]) if unknown else None


def check_file(path: Path, doc: object, kind: str) -> dict:
    """The top-level mapping of a file of kind `kind`, once its keys are known ones."""
    keys = KEYS[kind]
    if not isinstance(doc, dict):
        raise BuildError(path, "the file is not a mapping", keys.hint)
    unknown = _unknown(doc, keys)
    if unknown:
        raise BuildError(path, f"unknown top-level key '{unknown}'", f"use only {keys.allowed}",
                         line=key_line(path, unknown))  # fmt: skip
    for key in keys.required:
        if doc.get(key) in (None, ""):
            raise BuildError(path, f"the {keys.name} has no '{key}'", f"add {key}:{keys.docs}")
    if wrong := _wrong_type(doc):
        key, problem = wrong
        raise BuildError(path, f"{key} {problem}", f"write {key}: as docs/annotating.md shows",
                         line=key_line(path, key))  # fmt: skip
    return doc


def check_entry(
    path: Path, entry: object, kind: str, record: str | None = None, line: int | None = None
) -> dict:
    """`entry`, a record of kind `kind` (or a mention of `record`) written at `line`, once it
    has its required keys and no others, each of its type."""
    keys = KEYS[kind]
    if not isinstance(entry, dict):
        noun = keys.name if keys.name.endswith("entry") else f"{keys.name} entry"
        article = "an" if noun[0] in "aeiou" else "a"
        problem = f"{article} {noun} is {_describe(entry)}, not a mapping of keys"
        raise BuildError(path, problem, keys.hint, line=line, record=record)
    line, record = entry.get(LINE_KEY), entry.get("id", record)
    unknown = _unknown(entry, keys)
    if unknown:
        problem = f"the {keys.name} has an unknown key '{unknown}'"
        raise BuildError(path, problem, f"use only {keys.allowed}{keys.docs}", line, record)
    _require(path, entry, keys.name, keys.required, record)
    if wrong := _wrong_type(entry):
        key, problem = wrong
        raise BuildError(path, f"its {key} {problem}",
                         f"write {key}: as docs/annotating.md shows", line, record)  # fmt: skip
    if keys.by_kind:
        kind, kinds = entry["kind"], list(keys.by_kind)
        if not isinstance(kind, str) or kind not in keys.by_kind:
            raise BuildError(
                path, f"the {keys.name} kind '{kind}' is unknown",
                f"use {', '.join(kinds[:-1])} or {kinds[-1]}", line, record,
            )  # fmt: skip
        _require(path, entry, keys.name, keys.by_kind[kind], record)
    return entry


def _require(path: Path, entry: dict, name: str, required: tuple, record: str | None) -> None:
    for key in required:
        if entry.get(key) in (None, ""):
            line = entry.get(LINE_KEY)
            raise BuildError(path, f"the {name} has no '{key}'", f"add {key}:", line, record)
