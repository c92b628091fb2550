"""One HTTP request for one witness, with httpx: what came back, or why nothing did.

Each request has a timeout for connecting and for every read (`timeout`), a deadline for
the whole transfer (`deadline`), follows at most `max_redirects` redirects, reads at most
`max_bytes` of body (a larger Content-Length is refused before the body is read), sends a
User-Agent naming the project, and, when the last check recorded them, `If-None-Match` and
`If-Modified-Since`. Every failure becomes one sentence in `Fetched.error`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING

PROJECT = "usmx-drug-cooperation-data"
SCHEMES = ("http", "https")


def user_agent() -> str:
    """`<project>/<version> (...; +<URL>)`, the URL from pyproject.toml's [project.urls]."""
    try:
        version = metadata.version(PROJECT)
        urls = metadata.metadata(PROJECT).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        version, urls = "0", []
    homepage = next((u.split(",", 1)[1].strip() for u in urls if "," in u), None)
    where = f"+{homepage}" if homepage else "no public URL recorded in pyproject.toml yet"
    return f"{PROJECT}/{version} (upstream check of its sources; {where})"


if TYPE_CHECKING:
    import httpx

USER_AGENT = user_agent()


@dataclass(frozen=True)
class FetchSettings:
    """How patient and how trusting one check is; tests shorten the timeouts."""

    timeout: float = 30.0  # seconds to connect, and to wait for each read
    deadline: float = 120.0  # seconds for the whole transfer
    max_redirects: int = 5
    max_bytes: int = 20 * 1024 * 1024
    user_agent: str = USER_AGENT


@dataclass
class Fetched:
    """What one request got: a body (status 200), "not modified" (304), or an error."""

    url: str
    final_url: str = ""
    status: int | None = None
    reason: str = ""
    content_type: str = ""  # the media type, lower case, without parameters
    charset: str | None = None  # the charset parameter of Content-Type, if any
    body: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    redirects: list[str] = field(default_factory=list)  # each URL that redirected
    error: str | None = None  # one sentence when nothing usable came back

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def _media_type(value: str) -> tuple[str, str | None]:
    media, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, val = param.partition("=")
        if name.strip().lower() == "charset" and val.strip():
            charset = val.strip().strip("\"'")
    return media.strip().lower(), charset


def _seconds(value: float) -> str:
    return f"{value:g} s"


def fetch(
    url: str,
    settings: FetchSettings,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """GET `url` once; never raises for what the network or the server does."""
    import httpx  # here, not at the top: the build imports this module and never fetches

    got = Fetched(url=url, final_url=url)
    if httpx.URL(url).scheme not in SCHEMES:
        got.error = f"{url} is not an http(s) URL"
        return got
    headers = {"User-Agent": settings.user_agent, "Accept": "text/html, application/pdf, */*"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    started = time.monotonic()
    try:
        with httpx.Client(
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=True,
            max_redirects=settings.max_redirects,
            trust_env=False,  # no proxy or .netrc from the environment: the URL, and only it
        ) as client:
            with client.stream("GET", url, headers=headers) as response:
                _read(response, got, settings, started)
    except httpx.TooManyRedirects:
        got.error = f"{url} redirected more than {settings.max_redirects} times"
    except httpx.TimeoutException as exc:
        what = "connecting" if isinstance(exc, httpx.ConnectTimeout) else "waiting for data"
        got.error = f"{got.final_url} gave no answer within {_seconds(settings.timeout)} ({what})"
    except httpx.HTTPError as exc:  # connection refused, DNS, TLS, a broken response
        cause = str(exc) or type(exc).__name__
        got.error = f"{got.final_url} could not be reached ({cause})"
    return got


def _read(response: httpx.Response, got: Fetched, settings: FetchSettings, started: float) -> None:
    got.final_url = str(response.url)
    got.redirects = [str(r.url) for r in response.history]
    got.status, got.reason = response.status_code, response.reason_phrase
    got.content_type, got.charset = _media_type(response.headers.get("content-type", ""))
    got.etag = response.headers.get("etag")
    got.last_modified = response.headers.get("last-modified")
    if response.status_code == 304:
        return
    if response.status_code != 200:
        got.error = f"{got.final_url} answered HTTP {response.status_code} {got.reason}".rstrip()
        return
    cap = settings.max_bytes
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        got.error = (
            f"{got.final_url} declares {int(declared):,} bytes, over the size cap of "
            f"{cap:,} bytes; nothing was read"
        )
        return
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            got.error = f"{got.final_url} sent more than the size cap of {cap:,} bytes; stopped"
            return
        if time.monotonic() - started > settings.deadline:
            got.error = (
                f"{got.final_url} was still sending after {_seconds(settings.deadline)} "
                f"({size:,} bytes); stopped"
            )
            return
        chunks.append(chunk)
    got.body = b"".join(chunks)
