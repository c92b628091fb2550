"""A synthetic corpus for the benchmark: N variants of the real chapter, annotated.

`generate(raw_dir, n, seed)` writes `raw_dir/synthetic-0000/` ... one folder per source, each
with source.txt, source.yaml, annotations.yaml and corrections.yaml derived from
raw/ondcp-usmx-ch3/. Every variant makes the pipeline do the work the real source makes it
do (anchoring, numeral parsing, coverage, validation, publishing) on text that differs:

- the sections after the introduction are put in another order, and the paragraphs inside
  every section too (a paragraph is kept whole: periods, dates and places are looked up
  "in the same paragraph"), so every quote lands at another offset;
- a line of filler words (no digits, no number words) of variable length is put first,
  so even the first paragraphs are shifted;
- the plain digit numerals of about twenty figures get other digits (same shape, so they
  read as the same kind of number), in the text and in every quote that contains them, and
  `value_check` follows. Years, corrected text and the figures that a claim or a
  `derived_from` names keep their numbers, so periods, corrections and claims still hold;
- every record, claim and correction id gets the suffix `-sNNNN`, because ids are unique
  across all sources.

The same (n, seed) gives byte-identical files. Nothing is written outside `raw_dir`, and
the project's raw/ is only read. Run `python benchmarks/corpus.py DIR N [SEED]` to look at one.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from pipeline.core.anchoring import AnchorError, Span, resolve_nearby, resolve_quote  # noqa: E402
from pipeline.core.numerals import find_numerals  # noqa: E402
from pipeline.core.sources import SourceSnapshot  # noqa: E402

TEMPLATE_DIR = ROOT / "raw" / "ondcp-usmx-ch3"
ID_PREFIX = "synthetic"
PLAIN_NUMERAL = re.compile(r"^(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$")
NEARBY_KEYS = ("period", "date", "place", "name", "name_es")
CLAIM_REFS = ("stated", "numerator", "denominator", "computed")
# Filler for the shifting line: no digits, no number words, no word of any quote.
FILLER = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed eiusmod tempor incididunt "
    "labore dolore magna aliqua enim minim veniam quis nostrud exercitation ullamco laboris "
    "nisi aliquip commodo consequat"
).split()
MAX_ATTEMPTS = 50
# The correction the benchmark adds to one source to time an incremental rebuild.
EXTRA_CORRECTION = {
    "quote": "PublicationsPublications",
    "corrected": "Publications",
    "reason": "The page heading 'Publications' is printed twice (page chrome).",
    "reported_on": dt.date(2026, 11, 28),
    "reported_by": "benchmarks/bench.py",
}

try:  # libyaml: the same YAML, several times faster for 1,000 sources
    _Dumper = yaml.CSafeDumper
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Dumper, _Loader = yaml.SafeDumper, yaml.SafeLoader


@dataclass(frozen=True)
class Changeable:
    """A figure numeral that may take other digits, and every quote that prints it."""

    figure: int  # index in figures
    numeral: str
    span: Span  # of the numeral in the template text
    holders: tuple[tuple[str, int, int], ...]  # (list name, index, offset of numeral in quote)


@dataclass
class Template:
    text: str
    sidecar: dict[str, Any]
    annotations: dict[str, Any]
    corrections: dict[str, Any]
    preamble: list[str]  # blocks before the first section heading
    sections: list[list[str]]  # [heading block, paragraph blocks...]
    changeable: list[Changeable]
    quotes: list[str]  # every quote/prefix/suffix string, for checking the filler line
    tokens: list[tuple[int, int]]  # numeral token spans of the template text


def _snapshot(text: str) -> SourceSnapshot:
    return SourceSnapshot("template", TEMPLATE_DIR, text, {}, "", len(text.encode()))


def _entries(annotations: dict, corrections: dict) -> Iterator[tuple[str, int, dict]]:
    for name in ("actors", "figures", "events", "ignore"):
        for index, entry in enumerate(annotations.get(name) or []):
            yield name, index, entry
    mentions = (
        m
        for name in ("actors", "figures", "events")
        for entry in annotations.get(name) or []
        for m in entry.get("mentions") or []
    )
    for index, entry in enumerate(mentions):
        yield "mentions", index, entry
    for index, entry in enumerate(corrections.get("corrections") or []):
        yield "corrections", index, entry


def _anchor(snapshot: SourceSnapshot, entry: dict) -> Span:
    return resolve_quote(
        snapshot,
        str(entry["quote"]),
        str(entry.get("prefix") or ""),
        str(entry.get("suffix") or ""),
    )


def _context_spans(snapshot: SourceSnapshot, entry: dict, span: Span) -> list[Span]:
    """The spans of an entry's prefix, suffix and nearby strings (period, date, place...)."""
    spans = []
    if entry.get("prefix"):
        spans.append(Span(span.start - len(str(entry["prefix"])), span.start))
    if entry.get("suffix"):
        spans.append(Span(span.end, span.end + len(str(entry["suffix"]))))
    for key in NEARBY_KEYS:
        if entry.get(key) and str(entry[key]) not in str(entry["quote"]):
            spans.append(resolve_nearby(snapshot, str(entry[key]), span))
    return spans


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def load_template(folder: Path = TEMPLATE_DIR) -> Template:
    """Read the real source and find what a variant may change."""
    text = (folder / "source.txt").read_text(encoding="utf-8")
    sidecar = yaml.load((folder / "source.yaml").read_text(encoding="utf-8"), Loader=_Loader)
    annotations = yaml.load(
        (folder / "annotations.yaml").read_text(encoding="utf-8"), Loader=_Loader
    )
    path = folder / "corrections.yaml"
    corrections = (
        yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) if path.exists() else {}
    ) or {}
    snapshot = _snapshot(text)

    # Blocks are paragraphs (or headings) separated by a blank line.
    headings = set(annotations.get("sections") or [])
    blocks = text.split("\n\n")
    first = next(i for i, b in enumerate(blocks) if b in headings)
    preamble, sections = blocks[:first], []
    for block in blocks[first:]:
        if block in headings:
            sections.append([block])
        else:
            sections[-1].append(block)

    spans: dict[tuple[str, int], Span] = {}
    context: list[Span] = []
    quotes: list[str] = []
    for name, index, entry in _entries(annotations, corrections):
        span = _anchor(snapshot, entry)
        spans[name, index] = span
        context += _context_spans(snapshot, entry, span)
        context += [span] if name in ("actors", "mentions") else []  # numerals kept as printed
        quotes += [str(entry[k]) for k in ("quote", "prefix", "suffix") if entry.get(k)]
        for key in ("prefix", "suffix"):
            if "\n" in str(entry.get(key) or ""):
                raise ValueError(f"{name}[{index}]: a {key} across a line break cannot be moved")
    correction_spans = [s for (name, _), s in spans.items() if name == "corrections"]

    named = set()  # figures a claim or derived_from names keep their value
    for claim in annotations.get("claims") or []:
        named |= {claim[k] for k in CLAIM_REFS if claim.get(k)}
        named |= set(claim.get("parts") or [])
    for figure in annotations.get("figures") or []:
        named |= set(figure.get("derived_from") or [])

    changeable = []
    for index, figure in enumerate(annotations.get("figures") or []):
        numeral = str(figure.get("numeral") or "")
        if figure["id"] in named or figure.get("mentions") or not PLAIN_NUMERAL.match(numeral):
            continue
        quote_span = spans["figures", index]
        start = quote_span.start + str(figure["quote"]).index(numeral)
        span = Span(start, start + len(numeral))
        if any(_overlaps(span, s) for s in correction_spans + context):
            continue
        holders, clean = [], True
        for (name, other), other_span in spans.items():
            if not _overlaps(span, other_span):
                continue
            if not other_span.contains(span):
                clean = False
                break
            holders.append((name, other, span.start - other_span.start))
        if clean:
            changeable.append(Changeable(index, numeral, span, tuple(holders)))

    tokens = [(start, end) for start, end, _ in find_numerals(text)]
    return Template(
        text, sidecar, annotations, corrections, preamble, sections, changeable, quotes, tokens
    )


def _new_digits(rng: random.Random, numeral: str) -> str:
    """The same shape (commas, decimal point, length) with other digits, first one not 0."""
    while True:
        out = []
        for position, char in enumerate(numeral):
            if char.isdigit():
                out.append(str(rng.randint(1 if position == 0 else 0, 9)))
            else:
                out.append(char)
        new = "".join(out)
        if new != numeral:
            return new


def _value_of(numeral: str) -> int | float:
    plain = numeral.replace(",", "")
    return float(plain) if "." in plain else int(plain)


def _suffix_ids(annotations: dict, corrections: dict, suffix: str) -> None:
    for actor in annotations.get("actors") or []:
        actor["id"] += suffix
    for figure in annotations.get("figures") or []:
        figure["id"] += suffix
        if figure.get("derived_from"):
            figure["derived_from"] = [ref + suffix for ref in figure["derived_from"]]
        if figure.get("actor"):
            figure["actor"] = ";".join(ref + suffix for ref in figure["actor"].split(";"))
    for event in annotations.get("events") or []:
        event["id"] += suffix
        if event.get("parties"):
            event["parties"] = [ref + suffix for ref in event["parties"]]
    for claim in annotations.get("claims") or []:
        claim["id"] += suffix
        for key in CLAIM_REFS:
            if claim.get(key):
                claim[key] += suffix
        if claim.get("parts"):
            claim["parts"] = [ref + suffix for ref in claim["parts"]]
    for correction in corrections.get("corrections") or []:
        correction["id"] += suffix


def _check_anchors(template: Template, text: str, annotations: dict, corrections: dict) -> bool:
    """In the renumbered text (same length as the template), every quote is still found
    exactly once at its old place, every nearby string at its old place, every figure's
    numeral once in its quote at its old offset, and the numeral tokens are the template's."""
    if [(s, e) for s, e, _ in find_numerals(text)] != template.tokens:
        return False
    old = _snapshot(template.text)
    new = _snapshot(text)
    old_entries = list(_entries(template.annotations, template.corrections))
    for (_, _, before), (_, _, after) in zip(
        old_entries, _entries(annotations, corrections), strict=True
    ):
        old_span = _anchor(old, before)
        try:
            span = _anchor(new, after)
            if span != old_span:
                return False
            if _context_spans(new, after, span) != _context_spans(old, before, old_span):
                return False
        except AnchorError:
            return False
        if after.get("numeral") not in (None, ""):  # printed once in its quote, in place
            quote, numeral = str(after["quote"]), str(after["numeral"])
            offset = quote.find(numeral)
            if offset != str(before["quote"]).find(str(before["numeral"])):
                return False
            if quote.find(numeral, offset + 1) != -1:
                return False
    return True


def _filler_line(rng: random.Random, quotes: list[str]) -> str:
    while True:
        words = [rng.choice(FILLER) for _ in range(rng.randint(3, 60))]
        line = "Synthetic variant for benchmarking: " + " ".join(words) + "."
        if not find_numerals(line) and not any(q in line for q in quotes):
            return line


def variant(template: Template, index: int, seed: int, width: int) -> dict[str, Any]:
    """The four files of one synthetic source, as {file name: text}."""
    rng = random.Random(f"usmx-benchmark:{seed}:{index}")
    source_id = f"{ID_PREFIX}-{index:0{width}d}"
    suffix = f"-s{index:0{width}d}"

    for _attempt in range(MAX_ATTEMPTS):
        annotations = copy.deepcopy(template.annotations)
        corrections = copy.deepcopy(template.corrections)
        chars = list(template.text)
        changed = 0
        for item in template.changeable:
            if rng.random() < 0.2:  # about one in five keeps its printed number
                continue
            new = _new_digits(rng, item.numeral)
            chars[item.span.start : item.span.end] = new
            for name, other, offset in item.holders:
                entry = (annotations.get(name) or corrections.get(name))[other]
                quote = str(entry["quote"])
                entry["quote"] = quote[:offset] + new + quote[offset + len(new) :]
            figure = annotations["figures"][item.figure]
            figure["numeral"] = new
            if figure.get("value_check") is not None:
                figure["value_check"] = _value_of(new)
            changed += 1
        text = "".join(chars)
        if _check_anchors(template, text, annotations, corrections):
            break
    else:  # pragma: no cover - a collision every time: the template changed shape
        raise RuntimeError(f"no valid renumbering of {source_id} in {MAX_ATTEMPTS} attempts")

    # Reorder: the introduction stays first; the other sections, and the paragraphs inside
    # every section, are shuffled. Blocks are cut at the same places as in the template,
    # which the renumbering (same length, no newline) leaves alone.
    blocks = text.split("\n\n")
    position = len(template.preamble)
    sections = []
    for section in template.sections:
        sections.append(blocks[position : position + len(section)])
        position += len(section)
    rest = sections[1:]
    rng.shuffle(rest)
    ordered = []
    for heading, *paragraphs in [sections[0], *rest]:
        rng.shuffle(paragraphs)
        ordered += [heading, *paragraphs]
    filler = _filler_line(rng, template.quotes)
    text = "\n\n".join([filler, *blocks[: len(template.preamble)], *ordered])

    _suffix_ids(annotations, corrections, suffix)
    data = text.encode("utf-8")
    sidecar = dict(template.sidecar)
    sidecar.update(
        source_id=source_id,
        title=f"{template.sidecar['title']} [synthetic variant {index} of the benchmark, "
        f"seed {seed}]",
        bytes=len(data),
        code_points=len(text),
        sha256=hashlib.sha256(data).hexdigest(),
        extraction_note="Generated by benchmarks/corpus.py from raw/ondcp-usmx-ch3: sections "
        "and paragraphs reordered, a filler line first, some numerals changed.",
    )
    header = f"# Synthetic source {source_id}, generated by benchmarks/corpus.py (seed {seed}).\n"
    return {
        "source.txt": data,
        "source.yaml": header + _dump(sidecar),
        "annotations.yaml": header + _dump(annotations),
        "corrections.yaml": header + _dump(corrections),
        "changed_numerals": changed,
        "figures": len(annotations.get("figures") or []),
        "events": len(annotations.get("events") or []),
        "mentions": sum(  # provenance rows: each actor, figure and event, and its further mentions
            1 + len(entry.get("mentions") or [])
            for name in ("actors", "figures", "events")
            for entry in annotations.get(name) or []
        ),
    }


def _dump(data: Any) -> str:
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096, indent=2
    )


def generate(raw_dir: Path, n: int, seed: int = 0) -> dict[str, Any]:
    """Write n synthetic sources into raw_dir (created if needed); return what was written."""
    if n < 1:
        raise ValueError("n must be at least 1")
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    template = load_template()
    width = max(4, len(str(n - 1)))
    totals = dict.fromkeys(("bytes", "code_points", "figures", "events", "mentions"), 0)
    totals["changed_numerals"] = 0
    ids = []
    for index in range(n):
        files = variant(template, index, seed, width)
        folder = raw_dir / f"{ID_PREFIX}-{index:0{width}d}"
        folder.mkdir(exist_ok=True)
        (folder / "source.txt").write_bytes(files["source.txt"])
        for name in ("source.yaml", "annotations.yaml", "corrections.yaml"):
            (folder / name).write_text(files[name], encoding="utf-8", newline="\n")
        ids.append(folder.name)
        totals["bytes"] += len(files["source.txt"])
        totals["code_points"] += len(files["source.txt"].decode("utf-8"))
        for key in ("figures", "events", "mentions", "changed_numerals"):
            totals[key] += files[key]
    return {
        "n": n,
        "seed": seed,
        "raw_dir": str(raw_dir),
        "source_ids": ids,
        **totals,
        "records": totals["mentions"],
        "changeable_numerals_per_source": len(template.changeable),
    }


def add_correction(folder: Path, suffix: str = "") -> bytes:
    """Append one correction to folder/corrections.yaml, as a maintainer would; return the
    file's previous bytes so that the caller can put them back."""
    path = Path(folder) / "corrections.yaml"
    before = path.read_bytes() if path.exists() else b""
    entry = {"id": f"publications-printed-twice{suffix}", **EXTRA_CORRECTION}
    doc = yaml.load(before.decode("utf-8"), Loader=_Loader) if before else None
    doc = doc or {}
    doc.setdefault("corrections", []).append(entry)
    text = before.decode("utf-8") if before and doc["corrections"][:-1] else ""
    if text:  # append to the list as written, keeping its comments and indentation
        indent = re.findall(r"^( *)- ", text, re.MULTILINE)[-1]
        block = "".join(f"{indent}{line}\n" for line in _dump([entry]).splitlines())
        text = text.rstrip("\n") + "\n\n" + block
    else:
        text = _dump(doc)
    path.write_text(text, encoding="utf-8", newline="\n")
    return before


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: python benchmarks/corpus.py RAW_DIR N [SEED]", file=sys.stderr)
        return 2
    summary = generate(Path(argv[0]), int(argv[1]), int(argv[2]) if len(argv) > 2 else 0)
    summary.pop("source_ids")
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
