"""A source of a few lines written into a temporary folder, read as the build reads raw/:
for contract tests that need one figure, event or actor and the row it becomes."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from pipeline.core.annotations import AnchoredSource, anchor_annotations
from pipeline.core.errors import BuildError
from pipeline.core.sources import SourceSnapshot, load_snapshot

TINY_ID = "tiny-source"


def tiny_snapshot(
    tmp_path: Path, text: str, annotations: str, corrections: str = "", reference_year: int = 2000
) -> SourceSnapshot:
    """raw/tiny-source/ with `text` as source.txt, its sidecar (sha256 and sizes recorded),
    `annotations` (YAML, dedented) and, when given, `corrections`."""
    folder = tmp_path / "raw" / TINY_ID
    folder.mkdir(parents=True)
    data = text.encode("utf-8")
    (folder / "source.txt").write_bytes(data)
    year = f"reference_year: {reference_year}\nreference_year_basis: a test\n"
    (folder / "source.yaml").write_text(
        f"source_id: {TINY_ID}\ntitle: A tiny source\npublisher: The tests\n"
        "url: https://example.org/tiny\nrights: Public domain\nencoding: utf-8\n"
        f"sha256: {hashlib.sha256(data).hexdigest()}\nbytes: {len(data)}\n"
        f"code_points: {len(text)}\n" + (year if reference_year else ""),
        encoding="utf-8",
    )
    (folder / "annotations.yaml").write_text(textwrap.dedent(annotations), encoding="utf-8")
    if corrections:
        (folder / "corrections.yaml").write_text(textwrap.dedent(corrections), encoding="utf-8")
    return load_snapshot(folder)


def read_tiny(tmp_path: Path, text: str, annotations: str, **kw) -> AnchoredSource:
    """The tiny source's annotations, anchored and read."""
    return anchor_annotations(tiny_snapshot(tmp_path, text, annotations, **kw))


def refusal(tmp_path: Path, text: str, annotations: str, **kw) -> str:
    """The sentence the reading stops with."""
    with pytest.raises(BuildError) as raised:
        read_tiny(tmp_path, text, annotations, **kw)
    return str(raised.value)
