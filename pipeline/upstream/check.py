"""The upstream check of the sources asked for: every witness fetched, read and compared,
and the report with its exit code.

A source's witnesses are the URLs its `source.yaml` gives under `WITNESSES` (the
publisher's page, an archived copy, the report's PDF), read with the project's own loader
(`load_snapshot`, which also verifies the snapshot's sha256). Each witness is `same`,
`differs` or `unreachable`; the exit code is 0 when every witness reached is the same, 3
when one differs, 4 when none could be reached. A bad source folder is the `BuildError` the
build would raise (exit 1); an unknown source id is `UnknownSource` (a bad argument).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.annotations import anchor_annotations
from pipeline.core.errors import BuildError
from pipeline.core.sources import SourceSnapshot, load_snapshot, source_folders
from pipeline.upstream.compare import Comparison, compare
from pipeline.upstream.extract import Extracted, UnreadableWitness, extract
from pipeline.upstream.fetch import Fetched, FetchSettings, fetch
from pipeline.upstream.state import State

WITNESSES = {
    "url": "the publisher's page",
    "archived_url": "the archived copy",
    "report_pdf_url": "the report's PDF",
}
EXIT_SAME, EXIT_DIFFERS, EXIT_UNREACHABLE = 0, 3, 4
RULES = "docs/annotating.md"
NOT_MODIFIED = "304 Not Modified, the text of the last check"
FOLDED_WORDS = (
    "words differ only in typographic quotes, compatibility forms or invisible characters"
)


class UnknownSource(ValueError):
    """A source id on the command line that names no folder of raw/."""


@dataclass
class WitnessReport:
    source_id: str
    witness: str  # the key of source.yaml: url, archived_url, report_pdf_url
    url: str
    status: str  # same, differs, unreachable
    sentence: str
    http_status: int | None = None
    final_url: str = ""
    redirects: list[str] = field(default_factory=list)
    kind: str | None = None  # HTML, PDF, text
    encoding: str | None = None
    not_modified: bool = False  # a 304: the text is the one the last check fetched
    identical: bool | None = None
    shared: float | None = None
    words_outside: list[int] | None = None  # [before, after], a PDF's other chapters
    passages: list[dict] = field(default_factory=list)
    text: str | None = field(default=None, repr=False)  # what --save writes; not in JSON

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "text"}


@dataclass
class SourceReport:
    source_id: str
    text_path: str  # raw/<source_id>/source.txt, as a person would type it
    sha256: str
    witnesses: list[WitnessReport] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "source_id": self.source_id, "text_path": self.text_path, "sha256": self.sha256,
            "witnesses": [w.to_dict() for w in self.witnesses],
        }  # fmt: skip


@dataclass
class Report:
    checked_at: str  # UTC, to the second; the report is never published
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def witnesses(self) -> list[WitnessReport]:
        return [w for s in self.sources for w in s.witnesses]

    def count(self, status: str) -> int:
        return sum(w.status == status for w in self.witnesses)

    @property
    def exit_code(self) -> int:
        if self.count("differs"):
            return EXIT_DIFFERS
        if self.witnesses and not (self.count("same") or self.count("differs")):
            return EXIT_UNREACHABLE
        return EXIT_SAME

    def to_dict(self) -> dict:
        return {
            "checked_at": self.checked_at, "exit_code": self.exit_code,
            "same": self.count("same"), "differs": self.count("differs"),
            "unreachable": self.count("unreachable"),
            "sources": [s.to_dict() for s in self.sources],
        }  # fmt: skip


def select_sources(raw_dir: Path, source_ids: list[str]) -> list[Path]:
    """The folders of the sources asked for (all when none is named), in raw/'s order."""
    folders = {folder.name: folder for folder in source_folders(raw_dir)}
    unknown = [s for s in source_ids if s not in folders]
    if unknown:
        known = ", ".join(folders) or "none"
        raise UnknownSource(f"no source '{unknown[0]}' under {raw_dir} (known: {known})")
    return [folders[s] for s in dict.fromkeys(source_ids)] if source_ids else list(folders.values())


def witness_urls(snapshot: SourceSnapshot) -> dict[str, str]:
    """{key: URL} of the witnesses source.yaml gives; a value that is no URL is a BuildError."""
    urls = {}
    for key in WITNESSES:
        value = snapshot.meta.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            raise BuildError(
                snapshot.folder / "source.yaml",
                f"{key} is {value!r}, not an http(s) URL",
                f"write {WITNESSES[key]}'s address there, or remove the key",
                record=snapshot.source_id,
            )
        urls[key] = value
    return urls


def check(
    raw_dir: Path,
    source_ids: list[str],
    settings: FetchSettings,
    state: State | None = None,
    progress: Callable[[WitnessReport], None] | None = None,
) -> Report:
    """Check every witness of the sources asked for; the state (if any) is read and written."""
    folders = select_sources(raw_dir, source_ids)
    report = Report(dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat())
    for folder in folders:
        snapshot = load_snapshot(folder)  # verifies the sha256, as the build does
        source = SourceReport(
            snapshot.source_id, snapshot.published_path("source.txt"), snapshot.sha256
        )
        report.sources.append(source)
        checker = _SourceChecker(snapshot, settings, state)
        for key, url in witness_urls(snapshot).items():
            result = checker.witness(key, url)
            source.witnesses.append(result)
            if progress:
                progress(result)
    if state is not None:
        state.save_report(report.to_dict())
    return report


class _SourceChecker:
    def __init__(self, snapshot: SourceSnapshot, settings: FetchSettings, state: State | None):
        self.snapshot, self.settings, self.state = snapshot, settings, state
        self._provenance: list[dict] | None = None

    @property
    def provenance(self) -> list[dict]:
        """The snapshot's anchored annotations, read only when a witness differs."""
        if self._provenance is None:
            self._provenance = anchor_annotations(self.snapshot).provenance
        return self._provenance

    def witness(self, key: str, url: str) -> WitnessReport:
        sid = self.snapshot.source_id
        last = self.state.load(sid, key, url) if self.state else None
        etag, modified = (
            (last[0].get("etag"), last[0].get("last_modified")) if last else (None, None)
        )
        got = fetch(url, self.settings, etag, modified)
        result = WitnessReport(
            sid, key, url, "unreachable", "", got.status, got.final_url, got.redirects
        )
        if got.error:
            result.sentence = f"{got.error}."
            return result
        if got.not_modified:
            if last is None:
                result.sentence = (
                    f"{got.final_url} answered 304 Not Modified to a request that was not "
                    "conditional."
                )
                return result
            extracted = Extracted(last[0].get("kind") or "text", last[1], last[0].get("encoding"))
            result.not_modified = True
        else:
            try:
                extracted = extract(got.body or b"", got.content_type, got.charset)
            except UnreadableWitness as exc:
                result.kind = None
                result.sentence = f"{got.final_url} answered HTTP 200 but {exc}."
                return result
        result.kind, result.encoding = extracted.kind, extracted.encoding
        result.text = extracted.text
        compared = self._compare(extracted)
        self._fill(result, got, compared)
        if self.state is not None and not got.not_modified:
            record = {
                "etag": got.etag, "last_modified": got.last_modified, "kind": extracted.kind,
                "encoding": extracted.encoding, "checked_at": dt.datetime.now(dt.UTC).isoformat(),
                "status": result.status,
            }  # fmt: skip
            self.state.save(sid, key, url, record, extracted.text)
        return result

    def _compare(self, extracted: Extracted) -> Comparison:
        text = self.snapshot.text
        quick = compare(text, extracted.text, trim_edges=extracted.kind == "PDF")
        if quick.same or not quick.holds_text:
            return quick
        line_of = lambda offset: self.snapshot.line_col(offset)[0]  # noqa: E731
        return compare(text, extracted.text, self.provenance, line_of, extracted.kind == "PDF")

    def _fill(self, result: WitnessReport, got: Fetched, compared: Comparison) -> None:
        path = self.snapshot.published_path("source.txt")
        how = [result.kind or "?", NOT_MODIFIED if got.not_modified else "HTTP 200"]
        if result.encoding and result.kind != "PDF":
            how.append(f"decoded as {result.encoding}")
        if got.redirects:
            n = len(got.redirects)
            how.append(f"after {n} redirect{'s' * (n > 1)} from {got.url}")
        where = f"{got.final_url} ({', '.join(how)})"
        result.identical, result.shared = compared.identical, round(compared.shared, 4)
        if compared.words_before or compared.words_after:
            result.words_outside = [compared.words_before, compared.words_after]
        outside = (
            f"; {compared.words_before:,} words before and {compared.words_after:,} after it, "
            "outside the snapshot, were not compared"
            if result.words_outside
            else ""
        )
        if compared.same:
            result.status = "same"
            if compared.identical:
                how_same = "character for character"
            elif compared.folded:
                how_same = f"after the normalization of {RULES} ({compared.folded} {FOLDED_WORDS})"
            else:
                how_same = f"after the normalization of {RULES} (whitespace and line breaks)"
            result.sentence = f"{where} holds the text of {path}, {how_same}{outside}."
            return
        result.status = "differs"
        if not compared.holds_text:
            result.sentence = (
                f"{where} shares only {compared.shared:.0%} of the words of {path}: it does "
                "not hold this text (another document, an index or error page?)."
            )
            return
        result.passages = [p.to_dict() for p in compared.passages]
        records = {(r["record_id"]) for p in result.passages for r in p["records"]}
        n = len(result.passages)
        result.sentence = (
            f"{where} differs from {path} in {n} passage{'s' * (n > 1)}, "
            f"first at line {result.passages[0]['line']}, touching {len(records)} "
            f"record{'s' * (len(records) != 1)}{outside}."
        )
