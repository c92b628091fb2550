"""Source snapshots: one folder per source under raw/, verified against its recorded sha256.

A source is `raw/<source_id>/source.txt` (the text byte for byte as published), its sidecar
`source.yaml` (origin, rights, sha256; optionally the `reference_year` its relative periods
are read against) and the hand annotations `annotations.yaml`. Adding a source is adding a
folder; nothing here names a particular source.
"""

from __future__ import annotations

import bisect
import codecs
import hashlib
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pipeline.core.entry_keys import check_file, key_line
from pipeline.core.errors import REPO_ROOT, BuildError, display_path
from pipeline.core.yaml_lines import decode_utf8, load_yaml, read_bytes, strip_lines

RAW_DIR = REPO_ROOT / "raw"
LINE_ENDINGS = ("LF", "CRLF")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(eq=False)
class SourceSnapshot:
    """The verified text of one source and what its sidecar says about it."""

    source_id: str
    folder: Path
    text: str
    meta: dict
    sha256: str  # of the text's bytes
    bytes: int  # noqa: A003 - the sources table's column
    file_sha256: dict[str, str] = field(default_factory=dict)  # file name -> sha256

    def __repr__(self) -> str:
        return f"SourceSnapshot({self.source_id!r}, {str(self.folder)!r}, sha256={self.sha256!r})"

    @property
    def code_points(self) -> int:
        return len(self.text)

    @property
    def text_path(self) -> Path:
        return self.folder / "source.txt"

    @property
    def annotations_path(self) -> Path:
        return self.folder / "annotations.yaml"

    def published_path(self, name: str) -> str:
        """How a file of this source is named in published data: raw/<source_id>/<name>,
        the repository layout, wherever the raw/ folder being built happens to be."""
        return f"raw/{self.source_id}/{name}"

    @cached_property
    def _line_starts(self) -> list[int]:
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
        return starts

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column (in code points) of a code-point offset."""
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def line_bounds(self, offset: int) -> tuple[int, int]:
        """Code-point span of the line (paragraph) holding an offset, newline excluded."""
        line, _ = self.line_col(offset)
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return start, len(self.text) if end == -1 else end


def _source_id_pattern() -> re.Pattern[str]:
    """The pattern of a source id (the sources table's `source_id`, schemas/fields.yaml)."""
    from pipeline.core.fields import table_defs

    field = next(f for f in table_defs()["sources"].fields if f.name == "source_id")
    return re.compile(field.constraints["pattern"])


def source_folders(raw_dir: Path = RAW_DIR, hashes: dict[str, str] | None = None) -> list[Path]:
    """Every source folder under raw/, in a stable order. Anything else at the top of raw/ (a
    link, a file, a folder without source.yaml or named with other than a plain slug) is
    refused: a source is published only from a real folder of the repository. `hashes`
    (`raw_file_hashes`, which refuses every link under raw/) when that walk is done already."""
    if hashes is None:
        raw_file_hashes(raw_dir)
    pattern, folders = _source_id_pattern(), []
    for path in sorted(raw_dir.iterdir()):
        if path.name.startswith(".") and path.is_file():
            continue  # .gitkeep, .DS_Store: not a source
        if not path.is_dir():
            raise BuildError(path, "it is a file at the top of raw/, where only source folders "
                             "belong", "move it into a source folder or out of raw/")  # fmt: skip
        if not pattern.fullmatch(path.name):
            raise BuildError(
                path, f"the folder name '{path.name}' is not a plain slug (lower-case letters, "
                "digits and single hyphens), and it is the source's id",
                "rename the folder (and its source_id in source.yaml) to such a slug",
            )  # fmt: skip
        if not (path / "source.yaml").is_file():
            raise BuildError(
                path / "source.yaml", "the source folder has no sidecar, so it cannot be built",
                "add source.yaml (docs/annotating.md) or move the folder out of raw/",
            )  # fmt: skip
        folders.append(path)
    return folders


def raw_file_hashes(raw_dir: Path) -> dict[str, str]:
    """{path relative to raw/: sha256} of every file under raw/, in path order (folder by
    folder, as pathlib sorts paths). A symbolic link anywhere under raw/ is refused with its
    path: it is never followed or read."""
    if not raw_dir.is_dir():
        raise BuildError(raw_dir, "the raw/ folder does not exist", "restore it from git")
    files: list[tuple[tuple[str, ...], str]] = []

    def walk(folder: str, parts: tuple[str, ...]) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_symlink():
                    raise BuildError(
                        entry.path, f"it is a symbolic link (to {os.readlink(entry.path)}), and "
                        "nothing under raw/ is read through a link",
                        "replace it by the real file or folder, committed to the repository",
                    )  # fmt: skip
                if entry.is_dir():
                    walk(entry.path, (*parts, entry.name))
                elif entry.is_file():
                    files.append(((*parts, entry.name), entry.path))

    walk(os.path.abspath(raw_dir), ())
    return {"/".join(parts): sha256_file(path) for parts, path in sorted(files)}


def raw_tree_sha256(raw_dir: Path, hashes: dict[str, str] | None = None) -> str:
    """One hash of every file under raw/ (relative path and content), in path order, from
    `hashes` (`raw_file_hashes`) when given."""
    digest = hashlib.sha256()
    for path, file_sha256 in (hashes or raw_file_hashes(raw_dir)).items():
        digest.update(path.encode() + b"\0" + bytes.fromhex(file_sha256))
    return digest.hexdigest()


def _sidecar(folder: Path) -> dict:
    """The sidecar's keys, each of the type and form it must have (entry_keys.KEYS)."""
    sidecar = folder / "source.yaml"
    meta = strip_lines(check_file(sidecar, load_yaml(sidecar), "source.yaml"))
    for key in ("url", "archived_url", "report_pdf_url"):
        if key in meta and not str(meta[key]).startswith(("https://", "http://")):
            raise _sidecar_error(sidecar, key, f"{key} '{meta[key]}' is not an http(s) address",
                                 "give the full address, starting with https://")  # fmt: skip
    if not re.fullmatch(r"[0-9a-f]{64}", meta["sha256"]):
        raise _sidecar_error(
            sidecar, "sha256", f"sha256 '{meta['sha256']}' is not 64 lower-case hexadecimal digits",
            "record the sha256 of source.txt as sha256sum prints it",
        )  # fmt: skip
    if meta["encoding"].lower().replace("_", "-") not in ("utf-8", "utf8"):
        problem, action = f"encoding '{meta['encoding']}' is not utf-8", "convert it to UTF-8"
        raise _sidecar_error(sidecar, "encoding", problem, action)
    if meta.get("line_endings", "LF") not in LINE_ENDINGS:
        raise _sidecar_error(sidecar, "line_endings", f"line_endings '{meta['line_endings']}' "
                             "is neither LF nor CRLF", "write line_endings: LF")  # fmt: skip
    if meta["source_id"] != folder.name:
        raise _sidecar_error(
            sidecar, "source_id",
            f"source_id '{meta['source_id']}' differs from the folder name '{folder.name}'",
            "make them equal",
        )  # fmt: skip
    year = meta.get("reference_year")
    if year is not None and not 1000 <= year <= 9999:
        problem = f"reference_year {year} is not a four-digit year"
        raise _sidecar_error(sidecar, "reference_year", problem, "give the year, e.g. 2000")
    if year is not None and not meta.get("reference_year_basis"):
        raise _sidecar_error(
            sidecar, "reference_year", f"reference_year {year!r} has no reference_year_basis",
            "quote where the text makes the year clear under reference_year_basis:",
        )  # fmt: skip
    return meta


def _sidecar_error(sidecar: Path, key: str, problem: str, action: str) -> BuildError:
    return BuildError(sidecar, problem, action, line=key_line(sidecar, key))


def _check_bytes(text_path: Path, data: bytes, meta: dict) -> None:
    """Refuse a text whose line endings or byte-order mark are not what its sidecar records
    (an editor or git's autocrlf converting it), before anything is read from it."""
    sidecar = text_path.parent / "source.yaml"
    restore = (
        "restore its bytes from git (git checkout -- FILE; with core.autocrlf false on "
        "Windows): every span of the annotations counts code points of the original"
    ).replace("FILE", display_path(text_path))
    if data.startswith(codecs.BOM_UTF8):
        raise BuildError(text_path, "it now starts with a byte-order mark (EF BB BF) that "
                         "the snapshot does not have", restore, line=1)  # fmt: skip
    crlf, cr = data.count(b"\r\n"), data.count(b"\r")
    lf = data.count(b"\n") - crlf
    found = {"LF": lf and not cr, "CRLF": crlf and not lf and cr == crlf}
    declared = meta.get("line_endings", "LF")
    if (lf or cr) and not found[declared]:
        other = rb"\r" if declared == "LF" else rb"\r(?!\n)|(?<!\r)\n"  # the first that differs
        first = re.search(other, data).start()
        now = f"{crlf} CRLF, {lf} LF and {cr - crlf} CR line endings"
        raise BuildError(
            text_path, f"its line endings changed: it has {now}, but "
            f"{display_path(sidecar)} records line_endings: {declared}",
            restore, line=data.count(b"\n", 0, first) + 1, record=meta["source_id"],
        )  # fmt: skip


def load_snapshot(folder: Path, hashes: dict[str, str] | None = None) -> SourceSnapshot:
    """Read one source folder and refuse it unless the text matches its recorded sha256;
    `hashes` (`raw_file_hashes` of its raw/) spares hashing its other files again."""
    meta = _sidecar(folder)
    text_path = folder / "source.txt"
    data = read_bytes(text_path, "the source text")
    _check_bytes(text_path, data, meta)
    digest = sha256_bytes(data)
    if digest != meta["sha256"]:
        raise BuildError(
            folder / "source.yaml",
            f"the sha256 recorded here, {meta['sha256']}, is not that of source.txt, {digest}",
            "restore the snapshot from git, or, if the source was really corrected, "
            "record the new sha256 here and review every annotation",
            line=key_line(folder / "source.yaml", "sha256"), record=meta["source_id"],
        )  # fmt: skip
    text = decode_utf8(text_path, data)
    known = hashes or {}
    files = {
        name: known.get(f"{folder.name}/{name}") or sha256_file(folder / name)
        for name in ("source.yaml", "annotations.yaml", "corrections.yaml")
        if (folder / name).is_file()
    }
    return SourceSnapshot(meta["source_id"], folder, text, meta, digest, len(data), files)
