"""The one code version, and the one function that makes every cache key from it.

The code version is the sha256 of every file that can change what a build publishes: all of
pipeline/ and schemas/, the lock file and pyproject.toml; nothing is listed by hand. Dagster's
`code_version` of every asset, the build record and every cache key use it.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from pipeline.core.errors import REPO_ROOT

CODE_FOLDERS = ("pipeline", "schemas")
CODE_FILES = ("pyproject.toml", "constraints.txt")


def code_files(root: Path = REPO_ROOT) -> list[Path]:
    """Every file the code version covers, in a stable order (caches of Python excluded)."""
    found = [
        path
        for folder in CODE_FOLDERS
        for path in (root / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]
    found += [root / name for name in CODE_FILES if (root / name).is_file()]
    return sorted(found)


def code_sha256(root: Path = REPO_ROOT) -> str:
    """sha256 over the relative path and bytes of every file of `code_files`."""
    digest = hashlib.sha256()
    for path in code_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@cache
def code_version() -> str:
    """The code version of this process: the code as it was when first asked, which runs."""
    return code_sha256()


def cache_key(kind: str, *parts: str) -> str:
    """The key of a cache entry of `kind`: the code version and everything the entry was
    made from, hashed. The same key always names the same content."""
    digest = hashlib.sha256(f"{code_version()}\0{kind}".encode())
    for part in parts:
        digest.update(b"\0" + part.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()
