"""`python -m pipeline reanchor <source_id>`: after a corrected edition replaced source.txt,
write into annotations.yaml the edits the build's stop message proposes: for each quote no
longer found whose closest text differs from it only inside its numeral or by a few
characters (quote, numeral and value_check together), and the prefix or suffix that picks
a quote now printed twice where it was last published. Print the diff and list what is left
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

import pyarrow.parquet as pq
import yaml

from pipeline.core.anchoring import AnchorError, closest_candidate, occurrences, resolve_quote
from pipeline.core.errors import REPO_ROOT, BuildError
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


def _tell_apart(text: str, quote: str, starts: list[int], s: int, given: tuple[int, int]):
    """("prefix" or "suffix", the shortest run of whole words of its line, at least as long as
    the prefix and suffix `given`, that leaves only the occurrence at `s` among `starts`)."""
    line_end = text.find("\n", s)
    line_end, end = len(text) if line_end == -1 else line_end, s + len(quote)
    for p in range(s - given[0], text.rfind("\n", 0, s), -1):
        before = text[p:s]
        if (p == 0 or text[p - 1].isspace()) and [
            t for t in starts if text[max(0, t - len(before)) : t] == before
        ] == [s]:
            return "prefix", before
    for q in range(end + given[1], line_end + 1):
        after = text[end:q]
        if (q == line_end or text[q].isspace()) and [
            t for t in starts if text[t + len(quote) :].startswith(after)
        ] == [s]:
            return "suffix", after
    return None


def tell_apart(snapshot: SourceSnapshot, entry: dict, line: int | None) -> tuple[dict, str]:
    """For a quote printed more than once: the prefix or suffix that picks the one on the line
    it was last published at ({key: value}, ''), or ({}, the choices a person has)."""
    text, quote = snapshot.text, entry["quote"]
    prefix, suffix = str(entry.get("prefix") or ""), str(entry.get("suffix") or "")
    starts = [
        t for t in occurrences(text, quote)
        if text[max(0, t - len(prefix)) : t] == prefix and text[t + len(quote) :].startswith(suffix)
    ]  # fmt: skip
    lines = {t: snapshot.line_col(t)[0] for t in starts}
    told = {t: _tell_apart(text, quote, starts, t, (len(prefix), len(suffix))) for t in starts}
    there = [t for t in starts if lines[t] == line and told[t]]
    if len(there) == 1:
        return dict([told[there[0]]]), ""
    choices = [
        f'{told[t][0]} "{told[t][1]}" picks line {lines[t]}' if told[t]
        else f"line {lines[t]} has no prefix or suffix of its own" for t in starts
    ]  # fmt: skip
    where = f"it was published at line {line}" if line else "it was not published before"
    return {}, f"the quote occurs {len(starts)} times and {where}: " + "; ".join(choices)


def _key_at(lines: list[str], first: int, key: str) -> tuple[int | None, int]:
    """(index of the line setting `key` in the mapping whose first key is on 1-based line
    `first`, or None; the mapping's indentation)."""
    col = len(re.match(r"\s*(?:-\s+)*", lines[first - 1]).group())
    for i in range(first - 1, len(lines)):
        line = lines[i].rstrip("\r")
        indent = len(line) - len(line.lstrip())
        if i >= first and line.strip() and not line.lstrip().startswith("#") and indent < col:
            break  # the mapping ended without the key
        if (i == first - 1 or indent == col) and line[col:].startswith(key + ":"):
            return i, col
    return None, col


def _edit_line(lines: list[str], first: int, key: str, old: Any, new: Any) -> bool:
    """Rewrite the value of `key` in the mapping whose first key is on 1-based line `first`,
    keeping indentation, quoting style and any comment, or add the key after its quote;
    False if its value is not a one-line scalar."""
    i, col = _key_at(lines, first, key)
    if i is None:
        at, _ = _key_at(lines, first, "quote")
        if old is not MISSING or at is None:
            return False
        ending = "\r" if lines[at].endswith("\r") else ""
        lines.insert(at + 1, f"{' ' * col}{key}: {_scalar(new, '')}{ending}")
        return True
    line = lines[i].rstrip("\r")
    rest = line[col + len(key) + 1 :]
    cuts = [m.start() for m in re.finditer(r"\s+#", rest)] + [len(rest)]
    cut = next((c for c in cuts if _load(rest[:c]) == old), None)
    if cut is None:
        return False
    written = f"{line[: col + len(key) + 1]} {_scalar(new, rest[:cut].strip())}"
    lines[i] = written + rest[cut:] + lines[i][len(line) :]
    return True


def _published_lines(outputs: Path, source_id: str) -> dict[str, int]:
    """record id -> the line its quote was last published at (mention 1); {} without outputs."""
    path = outputs / "provenance.parquet"
    rows = pq.read_table(path).to_pylist() if path.exists() else []
    return {
        r["record_id"]: r["line"]
        for r in rows
        if r["source_id"] == source_id and r.get("mention", 1) == 1
    }


def _plan(snapshot: SourceSnapshot, lines: list[str], published: dict[str, int]):
    """Edit `lines` for every quote not found exactly once, bottom up (an added key shifts
    the lines below it); (lines, how many were re-anchored, how many were not found once,
    what is left for a person)."""
    entries = quoted_entries(load_yaml(snapshot.annotations_path))
    found = [(e, n, _anchors(snapshot, e, e["quote"])) for e, n in entries]
    todo = [(e, n, why) for e, n, why in found if why]
    done, left = 0, []
    for entry, name, problem in sorted(todo, key=lambda t: -t[0][LINE_KEY]):
        if "not in the source" in problem:
            edits, why = propose(snapshot, entry)
        elif "occurs" in problem:
            edits, why = tell_apart(snapshot, entry, published.get(entry.get("id")))
        else:
            edits, why = {}, problem
        first, trial = entry[LINE_KEY], lines.copy()
        if edits and all(
            _edit_line(trial, first, k, entry.get(k, MISSING), v) for k, v in edits.items()
        ):
            lines = trial
        elif edits:
            edits, why = {}, "its values are not one-line YAML scalars; edit it by hand"
        done += bool(edits)
        left += [] if edits else [(first, f"line {first}, {name}: {why}")]
    return lines, done, len(todo), [item for _, item in sorted(left)]


def reanchor(raw: Path, outputs: Path, source_id: str, write: bool = True) -> int:
    """Re-anchor what can be re-anchored safely; print the diff and what is left. Exit code
    0 when nothing is left for a person."""
    folders = {f.name: f for f in source_folders(raw)}
    if source_id not in folders:
        near = difflib.get_close_matches(source_id, list(folders), n=3)
        hint = f"; closest: {', '.join(near)}" if near else f"; sources: {', '.join(folders)}"
        print(f"error: {raw / source_id} is not a source folder{hint}.", file=sys.stderr)
        return 2
    snapshot = load_snapshot(folders[source_id])
    path, shown = snapshot.annotations_path, snapshot.published_path("annotations.yaml")
    before = path.read_bytes().decode("utf-8")
    published = _published_lines(outputs, source_id)
    lines, done, todo, left = _plan(snapshot, before.split("\n"), published)
    if not todo:
        print(f"Every quote of {shown} is found once in the text: nothing to re-anchor.")
        return 0
    after = "\n".join(lines)
    if done and write:
        _write_checked(path, before, after)
    verb = "Re-anchored" if write else "Would re-anchor"
    print(f"{verb} {done} of {todo} quote(s) not found exactly once; review the diff:")
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
    outputs = Path(args.outputs or os.environ.get("USMX_OUTPUTS_DIR") or REPO_ROOT / "outputs")
    return reanchor(raw, outputs, args.source_id, write=not args.dry_run)
