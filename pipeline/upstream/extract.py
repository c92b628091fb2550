"""A witness's text, by the extraction rules of docs/annotating.md ("Witnesses upstream").

HTML is parsed as a browser would (html5lib: the charset of the HTTP header, else a BOM or
`<meta charset>`, else windows-1252, the HTML standard's default), and its `<body>` is
read as the snapshot was: each block (`<p>`, `<div>`, a heading, a list item, a table
cell...) a paragraph on one line, paragraphs separated by one blank line, `<br>` a line
break inside a paragraph, an image its `alt` text, every run of whitespace one space;
scripts, styles, forms and the page's own navigation, header and footer are not text. A PDF
is read with pypdf, page by page, line by line as laid out. Plain text is decoded by its
charset (else UTF-8, else windows-1252) with LF line endings.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import html5lib
import pypdf

PARAGRAPH, LINE = "\x00", "\x01"  # markers while walking; never in the text that comes out
# not text at all: the document's head, code, embedded objects, form controls
SKIPPED = frozenset(
    "head script style noscript template svg math iframe object embed canvas select "
    "button textarea".split()
)
# the page's own chrome, skipped unless inside the page's <main> or an <article>
PAGE_CHROME = frozenset({"nav", "header", "footer"})
CONTENT = frozenset({"main", "article"})
BLOCKS = frozenset(
    "address article aside blockquote body caption center dd details dialog dir div dl dt "
    "fieldset figcaption figure form h1 h2 h3 h4 h5 h6 hgroup hr html legend li main menu "
    "ol p pre section summary table tbody tfoot thead tr td th ul".split()
)
WHITESPACE = re.compile(r"[ \t\n\r\f\u00a0]+")


class UnreadableWitness(ValueError):
    """The body came back but holds no text these rules can read; the message says why."""


@dataclass(frozen=True)
class Extracted:
    kind: str  # "HTML", "PDF" or "text"
    text: str
    encoding: str | None = None  # how the bytes were decoded (HTML, text)


def kind_of(body: bytes, content_type: str) -> str | None:
    """HTML, PDF or text, from the bytes' signature and the declared media type."""
    head = body[:1024].lstrip().lower()
    if head.startswith(b"%pdf-") or content_type == "application/pdf":
        return "PDF"
    if content_type in ("text/html", "application/xhtml+xml"):
        return "HTML"
    if content_type in ("", "application/octet-stream") and head.startswith(
        (b"<!doctype", b"<html")
    ):
        return "HTML"
    if content_type.startswith("text/"):
        return "text"
    return None


def extract(body: bytes, content_type: str, charset: str | None) -> Extracted:
    """The text of a witness; `UnreadableWitness` when these rules read none."""
    kind = kind_of(body, content_type)
    if kind == "HTML":
        return html_text(body, charset)
    if kind == "PDF":
        return pdf_text(body)
    if kind == "text":
        return plain_text(body, charset)
    raise UnreadableWitness(f"it is {content_type or 'of no declared type'}, not HTML, PDF or text")


def html_text(body: bytes, charset: str | None = None) -> Extracted:
    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("lxml"), namespaceHTMLElements=False)
    document = parser.parse(body, transport_encoding=charset, useChardet=False)
    encoding = parser.documentEncoding
    root = document.getroot()
    body_element = root.find("body") if root.tag == "html" else None
    pieces: list[str] = []
    try:
        _walk(body_element if body_element is not None else root, pieces, inside_content=False)
    except RecursionError as exc:
        raise UnreadableWitness("its markup is nested too deeply to read") from exc
    return Extracted("HTML", _layout("".join(pieces)), encoding)


def _walk(element, out: list[str], inside_content: bool) -> None:
    """Append the text of `element` and its children (not its tail) to `out`."""
    tag = element.tag.lower() if isinstance(element.tag, str) else None
    if tag is None:  # a comment or processing instruction
        return
    if tag in SKIPPED or element.get("hidden") is not None:
        return
    if tag in PAGE_CHROME and not inside_content:
        return
    block = tag in BLOCKS
    if block:
        out.append(PARAGRAPH)
    if tag == "br":
        out.append(LINE)
    elif tag == "img" and element.get("alt"):
        out.append(element.get("alt"))
    if element.text:
        out.append(element.text)
    for child in element:
        _walk(child, out, inside_content or tag in CONTENT)
        if child.tail:
            out.append(child.tail)
    if block:
        out.append(PARAGRAPH)


def _layout(flow: str) -> str:
    """Paragraphs on one line each, separated by a blank line; `<br>` lines kept."""
    paragraphs = []
    for paragraph in flow.split(PARAGRAPH):
        lines = [WHITESPACE.sub(" ", line).strip() for line in paragraph.split(LINE)]
        lines = [line for line in lines if line]
        if lines:
            paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def pdf_text(body: bytes) -> Extracted:
    try:
        reader = pypdf.PdfReader(io.BytesIO(body))
        if reader.is_encrypted:
            reader.decrypt("")
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # noqa: BLE001 - any failure of a PDF from outside is a sentence
        raise UnreadableWitness(f"its PDF could not be read ({exc or type(exc).__name__})") from exc
    text = "\n\n".join(_lines(page) for page in pages if page.strip())
    if not text:
        raise UnreadableWitness("its PDF holds no extractable text (a scan without a text layer?)")
    return Extracted("PDF", text)


def _lines(page: str) -> str:
    lines = (WHITESPACE.sub(" ", line).strip() for line in page.splitlines())
    return "\n".join(line for line in lines if line)


def plain_text(body: bytes, charset: str | None = None) -> Extracted:
    for encoding in [charset] if charset else ["utf-8-sig", "windows-1252"]:
        try:
            text = body.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            if charset:
                raise UnreadableWitness(f"it does not decode as its charset {charset}") from exc
            continue
        return Extracted("text", text.replace("\r\n", "\n").replace("\r", "\n"), encoding)
    raise UnreadableWitness("its text decodes neither as UTF-8 nor as windows-1252")
