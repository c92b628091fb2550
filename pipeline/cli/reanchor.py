"""`python -m pipeline reanchor <source_id>`: after a corrected edition replaced source.txt,
write into annotations.yaml the edits the build's stop message proposes for each quote no
longer found whose closest text differs from it only inside its numeral or by a few
characters (quote, numeral and value_check together), print the diff and list what is left
for a person. Lines are edited as text, so comments and layout stay; nothing is committed.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from pipeline.core.anchoring import AnchorError, closest_candidate, resolve_quote
from pipeline.core.errors import BuildError
from pipeline.core.numerals import NumeralError, find_numerals, parse_numeral
from pipeline.core.sources import RAW_DIR, SourceSnapshot, load_snapshot, source_folders
from pipeline.core.yaml_lines import LINE_KEY, load_yaml

THRESHOLD = 0.8  # a candidate less similar than this (difflib ratio) is never accepted
FEW = 3  # characters that may change outside the numeral
MISSING = object()


def quoted_entries(data: Any, owner: str | None = None) -> Iterator[tuple[dict, str]]:
    """Every mapping of an annotation file that holds a quote, with how a person names it."""
    if isinstance(data, list):
        for item in data:
            yield from quoted_entries(item, owner)
    elif isinstance(data, dict):
        if isinstance(data.get("quote"), str):
            name = f"record '{data['id']}'" if "id" in data else None
            yield data, name or (f"a mention of '{owner}'" if owner else "an entry")
        for value in data.values():
            yield from quoted_entries(value, data.get("id", owner))


def _anchors(snapshot: SourceSnapshot, entry: dict, quote: str) -> str:
    """'' when `quote` (with the entry's prefix and suffix) is found exactly once, else why not."""
    prefix, suffix = str(entry.get("prefix") or ""), str(entry.get("suffix") or "")
    try:
        resolve_quote(snapshot, quote, prefix, suffix)
        return ""
    except AnchorError as exc:
        return str(exc)


def _changed(old: str, new: str) -> int:
    """How many characters differ between two strings (replaced, inserted or deleted)."""
    ops = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")


def _numeral(entry: dict, quote: str) -> str | None:
    """The figure's numeral as printed: `numeral:`, else the only numeral of the quote."""
    if entry.get("numeral") not in (None, ""):
        return str(entry["numeral"])
    tokens = find_numerals(quote)
    return tokens[0][2] if len(tokens) == 1 else None


def propose(snapshot: SourceSnapshot, entry: dict) -> tuple[dict[str, Any], str]:
    """The edits that re-anchor a lost quote ({key: new value}, ''), or ({}, why a person must
    read the new text): the closest text must be at least THRESHOLD similar and differ only
    inside the numeral (whose value_check is read again) or by at most FEW characters."""
    quote = entry["quote"]
    best = closest_candidate(snapshot, quote)
    if best is None or best.similarity < THRESHOLD:
        return {}, f"closest: {best or 'nothing'}, below the {THRESHOLD:.0%} threshold"
    new, literal, edits = best.text, _numeral(entry, quote), {"quote": best.text}
    if literal and quote.count(literal) == 1:
        head, tail = quote.split(literal)
        if new.startswith(head) and new.endswith(tail) and len(new) > len(head) + len(tail):
            printed = new[len(head) : len(new) - len(tail)]
        elif literal in new and _changed(quote, new) <= FEW:
            printed = literal
        else:
            return {}, f'closest: {best}, which changes more than its numeral "{literal}"'
        if printed != literal:
            try:
                value = parse_numeral(printed).value
            except NumeralError as exc:
                return {}, f'closest: {best}, whose numeral "{printed}" does not read ({exc})'
            edits.update({"numeral": printed} if entry.get("numeral") not in (None, "") else {})
            edits.update({"value_check": value} if entry.get("value_check") is not None else {})
    elif _changed(quote, new) > FEW:
        return {}, f"closest: {best}, {_changed(quote, new)} characters changed (more than {FEW})"
    if why := _anchors(snapshot, entry, new):
        return {}, f'closest: {best}, but "{new}" would not anchor: {why}'
    if entry.get("unit") and str(entry["unit"]) not in new:
        return {}, f'closest: {best}, which no longer prints its unit "{entry["unit"]}"'
    return edits, ""


def _load(value: str) -> Any:
    """A one-line YAML value as loaded (MISSING if it is not one)."""
    try:
        return yaml.safe_load("k:" + value)["k"]
    except (yaml.YAMLError, TypeError, KeyError):
        return MISSING


def _scalar(value: Any, like: str) -> str:
    """`value` written as YAML, in the quoting style of the value it replaces where it can."""
    if not isinstance(value, str):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if like.startswith("'"):
        return "'" + value.replace("'", "''") + "'"
    if not like.startswith('"') and _load(" " + value) == value:
        return value
    return json.dumps(value, ensure_ascii=False)


def _edit_line(lines: list[str], first: int, key: str, old: Any, new: Any) -> bool:
    """Rewrite the value of `key` in the mapping whose first key is on 1-based line `first`,
    keeping indentation, quoting style and any comment; False if it is not a one-line value."""
    col = len(re.match(r"\s*(?:-\s+)*", lines[first - 1]).group())
    for i in range(first - 1, len(lines)):
        line = lines[i].rstrip("\r")
        indent = len(line) - len(line.lstrip())
        if i >= first and line.strip() and not line.lstrip().startswith("#") and indent < col:
            return False  # the mapping ended without the key
        if (i == first - 1 or indent == col) and line[col:].startswith(key + ":"):
            rest = line[col + len(key) + 1 :]
            cuts = [m.start() for m in re.finditer(r"\s+#", rest)] + [len(rest)]
            cut = next((c for c in cuts if _load(rest[:c]) == old), None)
            if cut is None:
                return False
            written = f"{line[: col + len(key) + 1]} {_scalar(new, rest[:cut].strip())}"
            lines[i] = written + rest[cut:] + lines[i][len(line) :]
            return True
    return False


def reanchor(raw: Path, source_id: str, write: bool = True) -> int:
    """Re-anchor what can be re-anchored safely; print the diff and what is left. Exit code
    0 when nothing is left for a person."""
    folders = {f.name: f for f in source_folders(raw)}
    if source_id not in folders:
        near = difflib.get_close_matches(source_id, list(folders), n=3)
        hint = f"; closest: {', '.join(near)}" if near else f"; sources: {', '.join(folders)}"
        print(f"error: {raw / source_id} is not a source folder{hint}.", file=sys.stderr)
        return 2
    snapshot = load_snapshot(folders[source_id])
    path = snapshot.annotations_path
    before = path.read_bytes().decode("utf-8")
    lines, left, done = before.split("\n"), [], 0
    entries = quoted_entries(load_yaml(path))
    lost = [(e, n) for e, n in entries if "not in the source" in _anchors(snapshot, e, e["quote"])]
    for entry, name in lost:
        edits, why = propose(snapshot, entry)
        first, trial = entry[LINE_KEY], lines.copy()
        if edits and all(_edit_line(trial, first, k, entry[k], v) for k, v in edits.items()):
            lines = trial
        elif edits:
            edits, why = {}, "its values are not one-line YAML scalars; edit it by hand"
        done += bool(edits)
        left += [] if edits else [f"line {first}, {name}: {why}"]
    shown = snapshot.published_path(path.name)
    if not lost:
        print(f"Every quote of {shown} is found in the new text: nothing to re-anchor.")
        return 0
    after = "\n".join(lines)
    if done and write:
        _write_checked(path, before, after)
    verb = "Re-anchored" if write else "Would re-anchor"
    print(f"{verb} {done} of {len(lost)} quote(s) no longer found exactly; review the diff:")
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    sys.stdout.writelines(difflib.unified_diff(a, b, f"a/{shown}", f"b/{shown}"))
    if left:
        print(f"Left for a person ({len(left)}): read the new text and edit each by hand:")
        print("".join(f"  - {item}\n" for item in left), end="")
    print("Then build again; nothing was committed.")
    return 1 if left else 0


def _write_checked(path: Path, before: str, after: str) -> None:
    """Write the edited file, restoring it if it no longer loads."""
    path.write_bytes(after.encode("utf-8"))
    try:
        load_yaml(path)
    except BuildError:
        path.write_bytes(before.encode("utf-8"))
        raise


def reanchor_main(args) -> int:
    raw = Path(args.raw or os.environ.get("USMX_RAW_DIR") or RAW_DIR)
    return reanchor(raw, args.source_id, write=not args.dry_run)
