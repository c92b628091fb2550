"""What one upstream check leaves for the next, in a gitignored folder (`.upstream/`, or
$USMX_UPSTREAM_DIR, or `--state`).

    <state>/<source_id>/<witness>-<url hash>.json   ETag, Last-Modified, the text's sha256
    <state>/<source_id>/<witness>-<url hash>.txt    the witness's text as extracted
    <state>/last-report.json                        the last report, as `--json` prints it

(<url hash>: the first 16 hex digits of the URL's sha256).

The ETag and Last-Modified are sent back only while the text they describe is here with its
recorded sha256, so that a "304 Not Modified" can be compared again; deleting the folder,
or any file of it, is always safe: the next check fetches in full. Files are written whole
(`cache.store.write_atomically`: a temporary file renamed into place). The build reads
nothing of it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from pipeline.cache.store import write_atomically
from pipeline.core.errors import REPO_ROOT

DEFAULT_STATE_DIR = REPO_ROOT / ".upstream"
STATE_ENV = "USMX_UPSTREAM_DIR"


def default_state_dir() -> Path:
    return Path(os.environ.get(STATE_ENV) or DEFAULT_STATE_DIR)


def write_whole(path: Path, data: str) -> None:
    write_atomically(path, data.encode("utf-8"))


class State:
    """The state folder; every read tolerates a missing or damaged file (it is a miss)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _stem(self, source_id: str, witness: str, url: str) -> Path:
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        return self.folder / source_id / f"{witness}-{digest}"

    def load(self, source_id: str, witness: str, url: str) -> tuple[dict, str] | None:
        """The record and text of the last check of this witness at this URL, if whole."""
        stem = self._stem(source_id, witness, url)
        try:
            record = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
            text = stem.with_suffix(".txt").read_text(encoding="utf-8")
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("url") != url:
            return None
        if record.get("text_sha256") != hashlib.sha256(text.encode()).hexdigest():
            return None
        return record, text

    def save(self, source_id: str, witness: str, url: str, record: dict, text: str) -> None:
        stem = self._stem(source_id, witness, url)
        record = {**record, "url": url, "text_sha256": hashlib.sha256(text.encode()).hexdigest()}
        write_whole(stem.with_suffix(".txt"), text)
        write_whole(stem.with_suffix(".json"), json.dumps(record, indent=2, sort_keys=True) + "\n")

    def save_report(self, report: dict) -> None:
        write_whole(self.folder / "last-report.json", json.dumps(report, indent=2) + "\n")

    def last_report(self) -> dict | None:
        try:
            return json.loads((self.folder / "last-report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
