"""The keys each kind of hand-written YAML record must and may have, declared in one table.

`KEYS` covers the files of `raw/<source_id>/`: annotations.yaml (docs/annotating.md) and its
actors, figures, events, their further mentions, ignore entries and claims, and
corrections.yaml and its corrections.
`check_file` and `check_entry` turn the first key problem into a `BuildError` that names the
file, line and record, what is wrong and what to do.
"""

from __future__ import annotations

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
    "correction": Keys(
        "correction", ("id", "quote", "corrected", "reason", "reported_on", "reported_by"),
        ANCHOR, docs="",
    ),
}  # fmt: skip


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
        raise BuildError(path, f"unknown top-level key '{unknown}'", f"use only {keys.allowed}")
    return doc


def check_entry(path: Path, entry: object, kind: str, record: str | None = None) -> dict:
    """`entry`, a record of kind `kind` (or a mention of `record`), once it has its required
    keys and no others."""
    keys = KEYS[kind]
    if not isinstance(entry, dict):
        noun = keys.name if keys.name.endswith("entry") else f"{keys.name} entry"
        article = "an" if noun[0] in "aeiou" else "a"
        raise BuildError(path, f"{article} {noun} is not a mapping", keys.hint, record=record)
    line, record = entry.get(LINE_KEY), entry.get("id", record)
    unknown = _unknown(entry, keys)
    if unknown:
        problem = f"the {keys.name} has an unknown key '{unknown}'"
        raise BuildError(path, problem, f"use only {keys.allowed}{keys.docs}", line, record)
    _require(path, entry, keys.name, keys.required, record)
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
