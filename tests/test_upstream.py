"""`python -m pipeline upstream` against a real HTTP server on 127.0.0.1 (tests/upstream_server.py,
on a free port, stopped by the tests): witnesses made here from source.txt (the chapter as an
HTML page, the same page with 34.6 changed to 36.4, a windows-1252 page, a PDF), a 404, a
redirect, a response over the size cap and one that stalls. Each case checks the report's
status and sentence and the command's exit code. Nothing but 127.0.0.1 is ever addressed."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from fpdf import FPDF

from conftest import OUTPUTS, RAW, SOURCE_ID, tree_digest
from pipeline.core.errors import REPO_ROOT

SOURCE = (RAW / SOURCE_ID / "source.txt").read_text(encoding="utf-8")
TEXT_PATH = f"raw/{SOURCE_ID}/source.txt"
WITNESS_KEYS = ("url", "archived_url", "report_pdf_url")
LAST_MODIFIED = "Fri, 01 Dec 2000 00:00:00 GMT"
TIMEOUT = "0.5"  # seconds; the stalling server is given up on after this
CHANGED = SOURCE.replace("34.6 tons of cocaine", "36.4 tons of cocaine")
assert CHANGED.count("36.4") == SOURCE.count("36.4") + 1
# the chapter inside a whole report: chapters before it and after it
WHOLE_REPORT = (
    "US/Mexico Bi-National Cooperation Against Illicit Drugs\n\nContents\n\n1. Introduction\n\n"
    + "Both governments agreed in 1995 to measure their results. " * 40
    + "\n\n"
    + CHANGED
    + "\n\n4. Performance Measures of Effectiveness\n\n"
    + "The measures below were adopted in 1998 by the HLCG. " * 40
)
# what the HTML page below prints: every apostrophe as &#8217; (’)
PAGE_TEXT = SOURCE.replace("'", "\u2019")


# --- the witnesses -------------------------------------------------------------------------


def _body_html(text: str, entities: bool) -> str:
    """The chapter's paragraphs as markup: the first lines the page's seal and links, the
    titles as headings, short lines as section headings, lines of one paragraph with <br>,
    long lines wrapped as an editor would leave them."""

    def escape(s: str) -> str:
        s = html.escape(s, quote=False)
        if entities:
            s = s.replace("'", "&#8217;").replace("\u2014", "&mdash;").replace("\u2013", "&#8211;")
            s = s.replace("\u00ed", "&iacute;").replace("\u00f3", "&#xF3;")
        return s

    paragraphs = text.split("\n\n")
    assert paragraphs[0] == "ONDCP Seal\nPublicationsPublications"
    out = [
        '<p><img src="/seal.gif" alt="ONDCP Seal" width="80"><br>'
        '<a href="/publications/"><img src="/pubs.gif" alt="Publications"></a>'
        '<a href="/publications/">Publications</a></p>',
        f"<h1>{escape(paragraphs[1])}</h1>",
        f'<h2 class="chapter">{escape(paragraphs[2])}</h2>',
    ]
    for paragraph in paragraphs[3:]:
        lines = paragraph.split("\n")
        if len(lines) > 1:
            out.append("<p>" + "<br>\n".join(escape(line) for line in lines) + "</p>")
        elif len(paragraph) < 60:
            out.append(f"<h3>{escape(paragraph)}</h3>")
        else:
            wrapped = "\n   ".join(
                textwrap.wrap(escape(paragraph), 78, break_on_hyphens=False, break_long_words=False)
            )
            out.append(f"<p>\n   {wrapped}\n</p>")
    return "\n".join(out)


def chapter_html(text: str, charset: str = "utf-8", entities: bool = True) -> bytes:
    """The chapter as a publisher's page: head with a script and style, a header and
    navigation, the text in <main>, a footer."""
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>ONDCP &amp; Bi-National Cooperation &#8212; Chapter 3</title>
<style>body {{ font-family: serif; }} nav li {{ display: inline; }}</style>
<script>window.analytics = "3.14 tons";</script>
</head>
<body>
<header><a href="/">ONDCP</a> &#8212; Office of National Drug Control Policy&#8217;s site</header>
<nav><ul><li><a href="/">Home</a></li><li><a href="/publications/">Publications &amp; Reports</a></li>
<li><a href="/search">Search 1,000 documents</a></li></ul></nav>
<main>
<!-- chapter 3 of the report, as converted in 2000 -->
{_body_html(text, entities)}
</main>
<footer>Page last updated 12/2000 &middot; <a href="/privacy">Privacy&nbsp;Policy</a></footer>
<script>document.write("footer 42")</script>
</body>
</html>
"""
    return page.encode(charset)


def chapter_pdf(text: str) -> bytes:
    """The chapter as a PDF, with fpdf2's core font in windows-1252 (which has every
    character of the text)."""
    pdf = FPDF(format="letter")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 5, text)
    return bytes(pdf.output())


SITE = {
    "chapter.html": ("text/html; charset=utf-8", lambda: chapter_html(SOURCE), '"ch3-v1"'),
    "changed.html": ("text/html; charset=utf-8", lambda: chapter_html(CHANGED), None),
    "cp1252.html": (
        "text/html; charset=windows-1252",
        lambda: chapter_html(SOURCE, "windows-1252", entities=False),
        None,
    ),
    "report.pdf": ("application/pdf", lambda: chapter_pdf(SOURCE), None),
    "whole-report.pdf": ("application/pdf", lambda: chapter_pdf(WHOLE_REPORT), None),
    "chapter.txt": ("text/plain; charset=utf-8", lambda: SOURCE.encode(), None),
    "dated.txt": ("text/plain; charset=utf-8", lambda: SOURCE.encode(), None),
    "other.html": (
        "text/html",
        lambda: b"<html><body><p>Search results: 0 documents found.</p>",
        None,
    ),
}


# --- the server ----------------------------------------------------------------------------


class Server:
    """tests/upstream_server.py in its own process group, on a free port of 127.0.0.1."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        (folder / "site").mkdir(parents=True)
        manifest = {}
        for name, (kind, make, etag) in SITE.items():
            (folder / "site" / name).write_bytes(make())
            manifest[name] = {"type": kind, "etag": etag}
        manifest["dated.txt"]["last_modified"] = LAST_MODIFIED
        (folder / "site.json").write_text(json.dumps(manifest), encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "tests" / "upstream_server.py"), str(folder)],
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while not (folder / "port").exists():
            assert self.process.poll() is None, "the test server did not start"
            assert time.monotonic() < deadline, "the test server gave no port in 20 s"
            time.sleep(0.05)
        self.base = f"http://127.0.0.1:{int((folder / 'port').read_text())}"

    def url(self, path: str) -> str:
        return self.base + path

    def requests(self) -> list[dict]:
        log = self.folder / "requests.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]

    def stop(self) -> None:
        """SIGTERM to its process group, SIGKILL after 5 s; then nothing of it is left."""
        pgid = self.process.pid
        try:
            os.killpg(pgid, signal.SIGTERM)
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        os.killpg(pgid, signal.SIGKILL)
        raise AssertionError(f"process group {pgid} outlived SIGTERM")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    s = Server(tmp_path_factory.mktemp("publisher"))
    try:
        yield s
    finally:
        s.stop()


# --- running the command -------------------------------------------------------------------


def make_raw(tmp: Path, **witnesses: str | None) -> Path:
    """A copy of raw/ whose source.yaml names these witnesses (others removed)."""
    raw = tmp / "raw"
    shutil.copytree(RAW, raw)
    sidecar = raw / SOURCE_ID / "source.yaml"
    lines = [
        line
        for line in sidecar.read_text(encoding="utf-8").splitlines()
        if not line.startswith(tuple(f"{k}:" for k in WITNESS_KEYS))
    ]
    lines += [f"{key}: {url}" for key, url in witnesses.items() if url]
    sidecar.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return raw


def upstream(
    raw: Path, *args: str, state: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "pipeline",
        "upstream",
        "--raw",
        str(raw),
        "--timeout",
        TIMEOUT,
    ]
    command += ["--state", str(state)] if state else ["--no-state"]
    return subprocess.run(
        [*command, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout
    )


def first_line(result: subprocess.CompletedProcess) -> str:
    return result.stdout.splitlines()[0]


def run_case(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    result = upstream(make_raw(tmp_path, url=url), *args)
    print(result.stdout, result.stderr)  # the report, for the record of a run (pytest -s)
    return result


# --- item 5: each witness, its status, its sentence and the exit code ----------------------


def test_the_chapter_as_an_html_page_is_the_same(server: Server, tmp_path: Path):
    result = run_case(tmp_path, server.url("/files/chapter.html"))
    assert result.returncode == 0, result.stderr
    folded = PAGE_TEXT.count("\u2019")
    assert first_line(result) == (
        f"{SOURCE_ID} url: same: {server.url('/files/chapter.html')} (HTML, HTTP 200, decoded as "
        f"utf-8) holds the text of {TEXT_PATH}, after the normalization of docs/annotating.md "
        f"({folded} words differ only in typographic quotes, compatibility forms or invisible characters)."
    )
    assert folded > 0
    # header, navigation, footer, scripts, the title and the comment are not text
    for chrome in ("Home", "Reports", "1,000", "3.14", "footer 42", "Privacy", "Chapter 3</title>"):
        assert chrome not in result.stdout


def test_the_page_extracts_to_the_snapshot_with_its_markup_and_entities_read(
    server: Server, tmp_path: Path
):
    """The extraction rules give back the snapshot's own layout: paragraphs, <br> lines,
    entities decoded; only the apostrophes the page prints as &#8217; differ."""
    saved = tmp_path / "saved"
    result = run_case(tmp_path, server.url("/files/chapter.html"), "--save", str(saved))
    assert result.returncode == 0
    assert (saved / SOURCE_ID / "url.txt").read_text(encoding="utf-8") == PAGE_TEXT


def test_one_number_changed_differs_and_names_the_figure(server: Server, tmp_path: Path):
    result = run_case(tmp_path, server.url("/files/changed.html"))
    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{SOURCE_ID} url: differs: {server.url('/files/changed.html')} (HTML, HTTP 200, decoded as "
        f"utf-8) differs from {TEXT_PATH} in 1 passage, first at line 124, touching 5 records."
    )
    assert lines[1] == (
        "  line 124: … reports that in 1999 alone, [-34.6-]{+36.4+} tons of cocaine; 1,472 tons …"
    )
    assert lines[2] == (
        "    figure mex-cocaine-seized-1999 (mention 1, in the passage): numeral 34.6 → 36.4; "
        'quote "34.6 tons of cocaine"'
    )
    nearby = [line.split(" (")[0].strip() for line in lines[3:-1]]
    assert nearby == [
        "actor gom", "figure mex-marijuana-seized-1999", "figure mex-opium-gum-seized-1999",
        "figure mex-heroin-seized-1999",
    ]  # fmt: skip
    assert lines[-1].startswith("1 witness of 1 source: 0 same, 1 differs, 0 unreachable; exit 3.")


def test_one_number_changed_as_json(server: Server, tmp_path: Path):
    result = run_case(tmp_path, server.url("/files/changed.html"), "--json")
    assert result.returncode == 3
    report = json.loads(result.stdout)
    assert (report["exit_code"], report["differs"]) == (3, 1)
    witness = report["sources"][0]["witnesses"][0]
    assert witness["status"] == "differs" and witness["http_status"] == 200
    (passage,) = witness["passages"]
    assert (passage["line"], passage["removed"], passage["added"]) == (124, "34.6", "36.4")
    assert SOURCE[passage["char_start"] : passage["char_end"]] == "34.6"
    figure = passage["records"][0]
    assert figure["record_id"] == "mex-cocaine-seized-1999"
    assert figure["numeral"] == {"old": "34.6", "new": "36.4"}
    assert all(r["where"] == "next to" and "numeral" not in r for r in passage["records"][1:])


def test_a_windows_1252_page_with_its_charset_header_is_the_same(server: Server, tmp_path: Path):
    body = (server.folder / "site" / "cp1252.html").read_bytes()
    assert "—".encode("cp1252") in body and "—".encode() not in body  # really windows-1252
    result = run_case(tmp_path, server.url("/files/cp1252.html"))
    assert result.returncode == 0, result.stdout
    assert first_line(result) == (
        f"{SOURCE_ID} url: same: {server.url('/files/cp1252.html')} (HTML, HTTP 200, decoded as "
        f"windows-1252) holds the text of {TEXT_PATH}, character for character."
    )


def test_a_pdf_of_the_text_is_the_same(server: Server, tmp_path: Path):
    result = run_case(tmp_path, server.url("/files/report.pdf"))
    assert result.returncode == 0, result.stdout
    assert first_line(result) == (
        f"{SOURCE_ID} url: same: {server.url('/files/report.pdf')} (PDF, HTTP 200) holds the text "
        f"of {TEXT_PATH}, after the normalization of docs/annotating.md (whitespace and line breaks)."
    )


def test_the_whole_report_as_a_pdf_is_compared_on_the_chapter_alone(server: Server, tmp_path: Path):
    """The other chapters of the PDF are outside the snapshot; the changed number is not."""
    result = run_case(tmp_path, server.url("/files/whole-report.pdf"))
    assert result.returncode == 3, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        f"{SOURCE_ID} url: differs: {server.url('/files/whole-report.pdf')} (PDF, HTTP 200) differs "
        f"from {TEXT_PATH} in 1 passage, first at line 124, touching 5 records; "
    )
    assert re.search(
        r"; [\d,]+ words before and [\d,]+ after it, outside the snapshot, were not compared\.$",
        lines[0],
    )
    assert "[-34.6-]{+36.4+}" in lines[1] and "numeral 34.6 → 36.4" in lines[2]


def test_a_plain_text_witness_is_the_same_character_for_character(server: Server, tmp_path: Path):
    result = run_case(tmp_path, server.url("/files/chapter.txt"))
    assert result.returncode == 0
    assert first_line(result) == (
        f"{SOURCE_ID} url: same: {server.url('/files/chapter.txt')} (text, HTTP 200, decoded as "
        f"utf-8) holds the text of {TEXT_PATH}, character for character."
    )


def test_a_404_is_unreachable_with_its_status(server: Server, tmp_path: Path):
    result = run_case(tmp_path, server.url("/missing.html"))
    assert result.returncode == 4
    assert first_line(result) == (
        f"{SOURCE_ID} url: unreachable: {server.url('/missing.html')} answered HTTP 404 Not Found."
    )


def test_a_redirect_to_the_page_is_followed_and_said(server: Server, tmp_path: Path):
    result = run_case(tmp_path, server.url("/moved/chapter.html"))
    assert result.returncode == 0, result.stdout
    assert first_line(result) == (
        f"{SOURCE_ID} url: same: {server.url('/files/chapter.html')} (HTML, HTTP 200, decoded as "
        f"utf-8, after 1 redirect from {server.url('/moved/chapter.html')}) holds the text of "
        f"{TEXT_PATH}, after the normalization of docs/annotating.md "
        f"({PAGE_TEXT.count(chr(0x2019))} words differ only in typographic quotes, compatibility forms or invisible characters)."
    )


def test_endless_redirects_stop_after_the_limit(server: Server, tmp_path: Path):
    result = run_case(tmp_path, server.url("/loop"))
    assert result.returncode == 4
    assert first_line(result) == (
        f"{SOURCE_ID} url: unreachable: {server.url('/loop')} redirected more than 5 times."
    )


def test_a_response_over_the_size_cap_is_refused(server: Server, tmp_path: Path):
    result = run_case(tmp_path, server.url("/huge-declared"), "--max-bytes", "1000000")
    assert result.returncode == 4
    assert first_line(result) == (
        f"{SOURCE_ID} url: unreachable: {server.url('/huge-declared')} declares 67,108,864 bytes, "
        "over the size cap of 1,000,000 bytes; nothing was read."
    )


def test_a_response_without_length_is_stopped_at_the_size_cap(server: Server, tmp_path: Path):
    result = run_case(tmp_path, server.url("/huge-streamed"), "--max-bytes", "1000000")
    assert result.returncode == 4
    assert first_line(result) == (
        f"{SOURCE_ID} url: unreachable: {server.url('/huge-streamed')} sent more than the size cap "
        "of 1,000,000 bytes; stopped."
    )


def test_a_stalling_response_is_given_up_after_the_timeout(server: Server, tmp_path: Path):
    started = time.monotonic()
    result = run_case(tmp_path, server.url("/stall"))
    assert result.returncode == 4
    assert first_line(result) == (
        f"{SOURCE_ID} url: unreachable: {server.url('/stall')} gave no answer within 0.5 s "
        "(waiting for data)."
    )
    assert time.monotonic() - started < 30  # the server would stall for an hour


def test_a_trickling_response_is_stopped_at_the_deadline(server: Server, tmp_path: Path):
    """Each byte comes within the timeout, the whole never within the deadline."""
    from pipeline.upstream.fetch import FetchSettings, fetch

    got = fetch(server.url("/trickle"), FetchSettings(timeout=1, deadline=1))
    assert got.body is None
    assert re.fullmatch(
        re.escape(server.url("/trickle")) + r" was still sending after 1 s \(\d bytes\); stopped",
        got.error,
    )


def test_a_page_that_does_not_hold_the_text_differs_as_a_whole(server: Server, tmp_path: Path):
    result = run_case(tmp_path, server.url("/files/other.html"))
    assert result.returncode == 3
    assert first_line(result) == (
        f"{SOURCE_ID} url: differs: {server.url('/files/other.html')} (HTML, HTTP 200, decoded as "
        f"windows-1252) shares only 0% of the words of {TEXT_PATH}: it does not hold this text "
        "(another document, an index or error page?)."
    )


def test_a_closed_port_is_unreachable(tmp_path: Path):
    import socket

    with socket.socket() as s:  # a port that was free a moment ago, now closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run_case(tmp_path, f"http://127.0.0.1:{port}/x.html")
    assert result.returncode == 4
    assert first_line(result).startswith(
        f"{SOURCE_ID} url: unreachable: http://127.0.0.1:{port}/x.html could not be reached ("
    )


# --- the exit code over several witnesses --------------------------------------------------


def test_exit_0_when_every_reachable_witness_is_the_same(server: Server, tmp_path: Path):
    raw = make_raw(
        tmp_path,
        url=server.url("/files/chapter.html"),
        archived_url=server.url("/missing.html"),
        report_pdf_url=server.url("/files/report.pdf"),
    )
    result = upstream(raw)
    assert result.returncode == 0
    statuses = [line.split(": ")[1] for line in result.stdout.splitlines()[:3]]
    assert statuses == ["same", "unreachable", "same"]
    assert [line.split(":")[0] for line in result.stdout.splitlines()[:3]] == [
        f"{SOURCE_ID} {key}" for key in WITNESS_KEYS
    ]


def test_exit_3_when_one_witness_differs(server: Server, tmp_path: Path):
    raw = make_raw(
        tmp_path,
        url=server.url("/files/chapter.html"),
        archived_url=server.url("/files/changed.html"),
    )
    assert upstream(raw).returncode == 3


def test_exit_4_when_no_witness_can_be_reached(server: Server, tmp_path: Path):
    raw = make_raw(tmp_path, url=server.url("/missing.html"), archived_url=server.url("/stall"))
    result = upstream(raw)
    assert result.returncode == 4
    assert result.stdout.splitlines()[-1] == (
        "2 witnesses of 1 source: 0 same, 0 differs, 2 unreachable; exit 4."
    )


def test_exit_1_on_a_bad_input(server: Server, tmp_path: Path):
    raw = make_raw(tmp_path, url=server.url("/files/chapter.html"))
    with open(raw / SOURCE_ID / "source.txt", "a", encoding="utf-8") as text:
        text.write(" ")
    asked = len(server.requests())
    result = upstream(raw)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {raw / SOURCE_ID / 'source.yaml'}, line ")
    assert "the sha256 recorded here" in result.stderr
    assert "is not that of source.txt" in result.stderr
    assert len(server.requests()) == asked  # refused before anything was fetched


def test_exit_1_on_a_witness_that_is_not_a_url(tmp_path: Path):
    raw = make_raw(tmp_path, url="http://127.0.0.1:9/x", archived_url="ftp://somewhere/x")
    result = upstream(raw)
    assert result.returncode == 1
    assert "archived_url 'ftp://somewhere/x' is not an http(s) address" in result.stderr
    assert result.stdout == ""  # refused before anything was fetched


def test_exit_2_on_a_bad_argument(tmp_path: Path):
    raw = make_raw(tmp_path, url="http://127.0.0.1:9/x")
    unknown = upstream(raw, "no-such-source")
    assert unknown.returncode == 2
    assert "error: no source 'no-such-source' under" in unknown.stderr
    assert upstream(raw, "--timeout", "soon").returncode == 2
    inside = upstream(raw, "--save", str(raw / SOURCE_ID))
    assert inside.returncode == 2 and "which the check never writes" in inside.stderr
    assert upstream(raw, "--save", str(OUTPUTS)).returncode == 2


# --- conditional requests, the state, what the command leaves alone ------------------------


def test_a_second_check_is_conditional_and_deleting_the_state_is_safe(
    server: Server, tmp_path: Path
):
    raw = make_raw(tmp_path, url=server.url("/files/chapter.html"))
    state = tmp_path / "state"
    first = upstream(raw, state=state)
    assert first.returncode == 0
    second = upstream(raw, state=state)
    assert second.returncode == 0
    assert "(HTML, 304 Not Modified, the text of the last check, decoded as utf-8)" in first_line(
        second
    )
    sent = [r["headers"] for r in server.requests() if r["path"] == "/files/chapter.html"][-2:]
    assert "If-None-Match" not in sent[0] and sent[1]["If-None-Match"] == '"ch3-v1"'
    assert sent[0]["User-Agent"].startswith("usmx-drug-cooperation-data/")
    report = json.loads((state / "last-report.json").read_text(encoding="utf-8"))
    assert report["sources"][0]["witnesses"][0]["not_modified"] is True
    shutil.rmtree(state)
    third = upstream(raw, state=state)
    assert third.returncode == 0 and "HTTP 200" in first_line(third)
    assert "If-None-Match" not in server.requests()[-1]["headers"]


def test_a_second_check_sends_if_modified_since(server: Server, tmp_path: Path):
    raw = make_raw(tmp_path, url=server.url("/files/dated.txt"))
    state = tmp_path / "state"
    assert upstream(raw, state=state).returncode == 0
    again = upstream(raw, state=state)
    assert again.returncode == 0 and "(text, 304 Not Modified" in first_line(again)
    assert server.requests()[-1]["headers"]["If-Modified-Since"] == LAST_MODIFIED


def test_a_damaged_state_is_a_miss(server: Server, tmp_path: Path):
    raw = make_raw(tmp_path, url=server.url("/files/chapter.html"))
    state = tmp_path / "state"
    assert upstream(raw, state=state).returncode == 0
    (text,) = (state / SOURCE_ID).glob("*.txt")
    text.write_text("something else", encoding="utf-8")
    again = upstream(raw, state=state)
    assert again.returncode == 0 and "HTTP 200" in first_line(again)
    assert "If-None-Match" not in server.requests()[-1]["headers"]


def test_save_writes_each_fetched_text_for_the_corrected_edition(server: Server, tmp_path: Path):
    raw = make_raw(
        tmp_path,
        url=server.url("/files/changed.html"),
        archived_url=server.url("/missing.html"),
        report_pdf_url=server.url("/files/report.pdf"),
    )
    saved = tmp_path / "saved"
    result = upstream(raw, "--save", str(saved))
    assert result.returncode == 3
    assert sorted(p.name for p in (saved / SOURCE_ID).iterdir()) == [
        "report_pdf_url.txt",
        "url.txt",
    ]
    page = (saved / SOURCE_ID / "url.txt").read_text(encoding="utf-8")
    assert page == CHANGED.replace("'", "\u2019")  # the page's text, as printed there
    assert (
        result.stdout.splitlines()[-1] == f"Saved 2 texts under {saved}/<source_id>/<witness>.txt."
    )


def test_the_command_never_changes_raw_outputs_or_git(server: Server, tmp_path: Path):
    raw = make_raw(tmp_path, url=server.url("/files/changed.html"))
    before = (tree_digest(raw), tree_digest(OUTPUTS), _git_status())
    result = upstream(raw, "--save", str(tmp_path / "saved"), state=tmp_path / "state")
    assert result.returncode == 3
    assert (tree_digest(raw), tree_digest(OUTPUTS), _git_status()) == before


def _git_status() -> str:
    if not (REPO_ROOT / ".git").exists():
        return ""
    return subprocess.run(
        ["git", "status", "--porcelain", "--ignored=no"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    ).stdout


# --- item 3: in Dagster, its own job and schedule, never in the build ----------------------


def materialize_upstream(raw: Path, state: Path):
    import dagster as dg

    from pipeline.definitions import build_definitions
    from pipeline.defs.resources import Layout
    from pipeline.defs.upstream import UpstreamSettings

    settings = UpstreamSettings(state_dir=str(state), timeout_seconds=float(TIMEOUT))
    local = build_definitions(Layout(raw_dir=str(raw)), upstream=settings)
    with dg.DagsterInstance.ephemeral() as instance:
        result = local.resolve_job_def("upstream_check_job").execute_in_process(instance=instance)
    assert result.success  # a failed non-blocking check fails no run
    (materialization,) = [e.materialization for e in result.get_asset_materialization_events()]
    assert materialization.asset_key == dg.AssetKey("upstream_editions")
    (evaluation,) = result.get_asset_check_evaluations()
    return materialization.metadata, evaluation


def test_the_asset_reports_a_difference_and_its_check_fails(server: Server, tmp_path: Path):
    import dagster as dg

    raw = make_raw(
        tmp_path, url=server.url("/files/changed.html"), archived_url=server.url("/missing.html")
    )
    metadata, evaluation = materialize_upstream(raw, tmp_path / "state")
    report = metadata["report"].value
    assert f"| url | **differs** | {server.url('/files/changed.html')} |" in report
    assert f"| archived_url | **unreachable** | {server.url('/missing.html')} |" in report
    assert (
        "Line 124:\n\n```\n… reports that in 1999 alone, [-34.6-]{+36.4+} tons of cocaine;"
        in report
    )
    assert (
        "- figure mex-cocaine-seized-1999 (mention 1, in the passage): numeral 34.6 → 36.4;"
        in report
    )
    assert metadata["exit_code"].value == 3 and metadata["differs"].value == 1
    assert metadata["json"].value["sources"][0]["witnesses"][0]["status"] == "differs"
    assert evaluation.check_name == "every_witness_is_the_same"
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.metadata["first_problem"].value.startswith(f"{SOURCE_ID} url: differs: ")
    assert (tmp_path / "state" / "last-report.json").is_file()


def test_the_asset_check_passes_when_every_witness_reached_is_the_same(
    server: Server, tmp_path: Path
):
    raw = make_raw(
        tmp_path, url=server.url("/files/chapter.html"), archived_url=server.url("/stall")
    )
    metadata, evaluation = materialize_upstream(raw, tmp_path / "state")
    assert evaluation.passed
    assert (metadata["same"].value, metadata["unreachable"].value) == (1, 1)


def test_the_asset_check_warns_when_no_witness_is_reached(server: Server, tmp_path: Path):
    import dagster as dg

    raw = make_raw(tmp_path, url=server.url("/missing.html"))
    metadata, evaluation = materialize_upstream(raw, tmp_path / "state")
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert metadata["exit_code"].value == 4


def test_the_build_never_runs_the_upstream_check():
    """`python -m pipeline build` (BuildRunner), `watch` and `rebuild_job` (the sensor and
    the nightly rebuild) select no asset of the upstream group; only its own job does."""
    import dagster as dg

    from pipeline.cli.runner import BuildRunner
    from pipeline.definitions import defs

    upstream_key = dg.AssetKey("upstream_editions")
    runner = BuildRunner()
    try:
        assert upstream_key not in runner.job.asset_layer.selected_asset_keys
        assert dg.AssetKey("data_package") in runner.job.asset_layer.selected_asset_keys
    finally:
        runner.close()
    assert upstream_key not in defs.resolve_job_def("rebuild_job").asset_layer.selected_asset_keys
    job = defs.resolve_job_def("upstream_check_job")
    assert job.asset_layer.selected_asset_keys == {upstream_key}


def test_the_nightly_upstream_check_is_its_own_schedule_and_off_by_default():
    import dagster as dg

    from pipeline.definitions import defs
    from pipeline.defs.upstream import nightly_upstream_check

    schedule = defs.resolve_schedule_def("nightly_upstream_check")
    assert schedule.job_name == "upstream_check_job"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.cron_schedule == "0 2 * * *" and schedule.execution_timezone == "UTC"
    with dg.build_schedule_context() as context:
        (request,) = nightly_upstream_check.evaluate_tick(context).run_requests
    assert request.tags["usmx/trigger"] == "nightly upstream check"
