"""A witness's text against the snapshot: the passages that differ, word by word, and the
records each touches.

Both texts are cut into words at whitespace, so line breaks and spacing never count, and
each word is compared after the normalization docs/annotating.md allows (Unicode NFKC,
typographic quotes as straight ones, soft hyphens and zero-width characters dropped).
In a PDF (the whole report), the words before the first and after the last word it shares
with the snapshot are the report's other chapters, outside the snapshot and not compared.
A passage is a run of changed words with `CONTEXT` words either side, shown as a word diff
(`[-old-]{+new+}`); every provenance row (figure, event or actor mention) whose quote,
numeral or period lies in it or in its context is listed, with the old and new numeral
where a figure's number changed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from pipeline.core.numerals import find_numerals

CONTEXT = 5  # words shown either side of a change
MIN_SHARED = 0.5  # below this share of the snapshot's words, a witness holds another text
WORD = re.compile(r"\S+")
INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
FOLDED = str.maketrans(
    {c: "'" for c in "\u2018\u2019\u201a\u201b\u2032"}
    | {c: '"' for c in "\u201c\u201d\u201e\u201f\u2033"}
)


def normalize(word: str) -> str:
    """The form of a word that is compared (docs/annotating.md, "Witnesses upstream")."""
    return INVISIBLE.sub("", unicodedata.normalize("NFKC", word)).translate(FOLDED)


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    text: str
    key: str


def words(text: str) -> list[Word]:
    found = (Word(m.start(), m.end(), m.group(), normalize(m.group())) for m in WORD.finditer(text))
    return [w for w in found if w.key]


@dataclass
class Passage:
    """One run of changed words, where it is in source.txt, and the records it touches."""

    char_start: int  # in source.txt; equal to char_end for words only the witness has
    char_end: int
    line: int
    diff: str  # a few words of context, then [-removed-]{+added+}
    removed: str
    added: str
    records: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Comparison:
    identical: bool  # the witness's text is source.txt, character for character
    shared: float  # share of the snapshot's words the witness has, in order
    words_before: int  # words of the witness before the snapshot's text, not compared
    words_after: int
    folded: int  # words equal only after the normalization
    passages: list[Passage]

    @property
    def holds_text(self) -> bool:
        return self.shared >= MIN_SHARED

    @property
    def same(self) -> bool:
        return not self.passages and self.holds_text


def compare(
    source: str,
    witness: str,
    provenance: list[dict] | None = None,
    line_of=None,
    trim_edges: bool = False,
) -> Comparison:
    """Compare; `provenance` (rows of the snapshot's anchored annotations) and `line_of`
    (a code-point offset to its 1-based line) are needed only when something differs.
    With `trim_edges` (a PDF of the whole report), the witness's words before the first and
    after the last word it shares with the snapshot are outside it and not compared."""
    a, b = words(source), words(witness)
    matcher = SequenceMatcher(None, [w.key for w in a], [w.key for w in b], autojunk=False)
    ops = matcher.get_opcodes()
    before = after = 0
    if trim_edges and ops and ops[0][0] == "insert" and ops[0][1] == 0:
        before = ops[0][4] - ops[0][3]
        ops = ops[1:]
    if trim_edges and ops and ops[-1][0] == "insert" and ops[-1][1] == len(a):
        after = ops[-1][4] - ops[-1][3]
        ops = ops[:-1]
    equal = [op for op in ops if op[0] == "equal"]
    shared = sum(i2 - i1 for _, i1, i2, _, _ in equal) / len(a) if a else 1.0
    folded = sum(
        1 for _, i1, i2, j1, _ in equal for k in range(i2 - i1) if a[i1 + k].text != b[j1 + k].text
    )
    result = Comparison(source == witness, shared, before, after, folded, [])
    if not result.holds_text:
        return result
    for group in _groups(ops):
        result.passages.append(_passage(group, a, b, source, witness, provenance or [], line_of))
    return result


def _groups(ops: list[tuple]) -> list[list[tuple]]:
    """The changed opcodes, those separated by at most 2 × CONTEXT equal words together
    (their contexts would overlap), each group with the equal runs between its changes."""
    groups: list[list[tuple]] = []
    pending: tuple | None = None  # the equal run since the last change
    for op in ops:
        if op[0] == "equal":
            pending = op
            continue
        if groups and pending is not None and pending[2] - pending[1] <= 2 * CONTEXT:
            groups[-1].extend([pending, op])
        elif groups and pending is None:
            groups[-1].append(op)
        else:
            groups.append([op])
        pending = None
    return groups


def _span(ws: list[Word], i1: int, i2: int, text_length: int) -> tuple[int, int]:
    """Code-point span of words [i1, i2); an empty range is the point before word i1."""
    if i1 < i2:
        return ws[i1].start, ws[i2 - 1].end
    point = ws[i1].start if i1 < len(ws) else text_length
    return point, point


def _joined(ws: list[Word], i1: int, i2: int) -> str:
    return " ".join(w.text for w in ws[i1:i2])


def _passage(group, a, b, source, witness, provenance, line_of) -> Passage:
    first, last = group[0], group[-1]
    start, _ = _span(a, first[1], first[2], len(source))
    _, end = _span(a, last[1], last[2], len(source))
    end = max(end, start)
    lo, hi = max(0, first[1] - CONTEXT), min(len(a), last[2] + CONTEXT)
    parts = ["…"] if lo > 0 else []
    parts += [w.text for w in a[lo : first[1]]]
    removed, added = [], []
    for tag, i1, i2, j1, j2 in group:
        if tag == "equal":
            parts.append(_joined(a, i1, i2))
            continue
        old, new = _joined(a, i1, i2), _joined(b, j1, j2)
        parts.append((f"[-{old}-]" if old else "") + (f"{{+{new}+}}" if new else ""))
        removed += [old] if old else []
        added += [new] if new else []
    parts += [w.text for w in a[last[2] : hi]]
    parts += ["…"] if hi < len(a) else []
    context = _span(a, lo, hi, len(source)) if hi > lo else (start, end)
    passage = Passage(
        start, end, line_of(start) if line_of else 0, " ".join(parts),
        " … ".join(removed), " … ".join(added),
    )  # fmt: skip
    changes = [op for op in group if op[0] != "equal"]
    passage.records = _records(changes, (start, end), context, a, b, source, witness, provenance)
    return passage


def _overlaps(lo: int, hi: int, span: tuple[int, int]) -> bool:
    """Whether [lo, hi) meets `span`; an empty span (an insertion point) meets what holds it."""
    if span[0] == span[1]:
        return lo <= span[0] <= hi
    return lo < span[1] and span[0] < hi


def _records(changes, changed, context, a, b, source, witness, provenance) -> list[dict]:
    found = []
    for row in provenance:
        spans = {"quote": (row["char_start"], row["char_end"])}
        if row.get("numeral_start") is not None:
            spans["numeral"] = (row["numeral_start"], row["numeral_end"])
        if row.get("period_start_char") is not None:
            spans["period"] = (row["period_start_char"], row["period_end_char"])
        if not any(_overlaps(*s, context) for s in spans.values()):
            continue
        record = {
            "record_id": row["record_id"], "record_type": row["record_type"],
            "mention": row["mention"], "line": row["line"], "quote": row["quote"],
            "where": "in" if _overlaps(*spans["quote"], changed) else "next to",
            "changes": [],
        }  # fmt: skip
        changed_spans = [_span(a, op[1], op[2], len(source)) for op in changes]
        if "numeral" in spans and any(_overlaps(*spans["numeral"], s) for s in changed_spans):
            old = source[slice(*spans["numeral"])]
            new = _new_numeral(spans["numeral"], changes, a, b, source, witness)
            record["numeral"] = {"old": old, "new": new}
            record["changes"].append(
                f"numeral {old} → {new}" if new else f"numeral {old} removed or unreadable"
            )
        if "period" in spans and any(_overlaps(*spans["period"], s) for s in changed_spans):
            record["changes"].append(f"period “{source[slice(*spans['period'])]}” changed")
        if record["where"] == "in" and not record["changes"]:
            record["changes"].append("its quote changed")
        found.append((record["where"] != "in", row["char_start"], row["mention"], record))
    return [record for *_, record in sorted(found, key=lambda f: f[:3])]


def _new_numeral(numeral, changes, a, b, source, witness) -> str | None:
    """The numeral printed in the witness where the snapshot prints this one: the numerals of
    the changed words on both sides, paired in order when there are as many."""
    for tag, i1, i2, j1, j2 in changes:
        lo, hi = _span(a, i1, i2, len(source))
        if not (lo <= numeral[0] and numeral[1] <= hi) or tag == "insert":
            continue
        old = [(lo + s, lo + e) for s, e, _ in find_numerals(source[lo:hi])]
        new = []
        if j2 > j1:
            wlo, whi = b[j1].start, b[j2 - 1].end
            new = [lit for _, _, lit in find_numerals(witness[wlo:whi])]
        if tuple(numeral) in old and len(new) == len(old):
            return new[old.index(tuple(numeral))]
        return None
    return None
