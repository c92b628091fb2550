"""A stand-in publisher for the upstream tests: a real HTTP server on 127.0.0.1.

    python tests/upstream_server.py FOLDER

binds 127.0.0.1 on a free port, writes the port to FOLDER/port, serves the files of
FOLDER/site/ (their Content-Type, ETag and Last-Modified from FOLDER/site.json) and logs each request's
path and headers to FOLDER/requests.jsonl. Besides the files:

    /missing.html          404
    /moved/<name>          302 to /files/<name>
    /loop                  302 to itself, for ever
    /huge-declared         a Content-Length of 64 MiB (a few bytes are sent)
    /huge-streamed         no Content-Length; 64 KiB chunks until the client goes away
    /stall                 the headers, then nothing (until the server is stopped)
    /trickle               one byte every 0.2 s

A request with If-None-Match equal to a file's ETag, or If-Modified-Since equal to its
Last-Modified, gets 304. The tests stop the server by
its process group (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FOLDER = Path(sys.argv[1])
SITE = FOLDER / "site"
LOG_LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's name
        return

    def _log(self) -> None:
        entry = {"path": self.path, "headers": dict(self.headers.items())}
        with LOG_LOCK, open(FOLDER / "requests.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._log()
        path = self.path
        if path.startswith("/files/"):
            return self._file(path.removeprefix("/files/"))
        if path.startswith("/moved/"):
            return self._send(302, headers={"Location": "/files/" + path.removeprefix("/moved/")})
        if path == "/loop":
            return self._send(302, headers={"Location": "/loop"})
        if path == "/huge-declared":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(64 * 1024 * 1024))
            self.end_headers()
            self.wfile.write(b"<html>")
            return
        if path == "/huge-streamed":
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for _ in range(1024):
                    self.wfile.write(b"<p>" + b"x" * 65536 + b"</p>")
            except OSError:
                pass
            return
        if path == "/stall":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.flush()
            time.sleep(3600)
            return
        if path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "100")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass
            return
        return self._send(404, b"<h1>Not Found</h1>", {"Content-Type": "text/html"})

    def _file(self, name: str) -> None:
        manifest = json.loads((FOLDER / "site.json").read_text(encoding="utf-8"))
        if name not in manifest:
            return self._send(404, b"<h1>Not Found</h1>", {"Content-Type": "text/html"})
        meta = manifest[name]
        headers = {"Content-Type": meta["type"]}
        if meta.get("etag"):
            headers["ETag"] = meta["etag"]
            if self.headers.get("If-None-Match") == meta["etag"]:
                return self._send(304, headers=headers)
        if meta.get("last_modified"):
            headers["Last-Modified"] = meta["last_modified"]
            if self.headers.get("If-Modified-Since") == meta["last_modified"]:
                return self._send(304, headers=headers)
        return self._send(200, (SITE / name).read_bytes(), headers)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    temporary = FOLDER / "port.tmp"
    temporary.write_text(str(server.server_address[1]), encoding="utf-8")
    temporary.rename(FOLDER / "port")
    server.serve_forever()


if __name__ == "__main__":
    main()
