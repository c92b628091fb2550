"""A warm build (caches kept) publishes exactly what a cold one would, for a change to each
file of raw/<source>/ in turn, compared over every file of outputs/."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from conftest import SOURCE_ID, tree_digest
from pipeline.cli.main import main

ADDED_TEXT = "\nEnd of the chapter.\n"  # no numeral: nothing new to annotate


def _source_txt(folder: Path) -> None:
    text = folder / "source.txt"
    old = text.read_bytes()
    new = old + ADDED_TEXT.encode("utf-8")
    text.write_bytes(new)
    sidecar = folder / "source.yaml"
    meta = sidecar.read_text(encoding="utf-8")
    code_points = len(old.decode("utf-8"))
    for key, before, after in (
        ("sha256", hashlib.sha256(old).hexdigest(), hashlib.sha256(new).hexdigest()),
        ("bytes", len(old), len(new)),
        ("code_points", code_points, code_points + len(ADDED_TEXT)),
    ):
        assert f"{key}: {before}\n" in meta, key
        meta = meta.replace(f"{key}: {before}\n", f"{key}: {after}\n")
    sidecar.write_text(meta, encoding="utf-8")


def _replace(name: str, old: str, new: str):
    def change(folder: Path) -> None:
        path = folder / name
        text = path.read_text(encoding="utf-8")
        assert old in text, (name, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return change


CHANGES = {
    "source.txt": _source_txt,  # with its new sha256, bytes and code points in source.yaml
    "source.yaml": _replace("source.yaml", "reference_year: 2000\n", "reference_year: 2001\n"),
    "annotations.yaml": _replace("annotations.yaml", "figures:\n", "figures:\n# a line\n"),
    "corrections.yaml": _replace("corrections.yaml", "A stray space", "A space"),
}


@pytest.fixture(scope="module")
def before(tmp_path_factory, raw_copy_module) -> dict:
    """raw/ copied, built once: its outputs/ and the cache that build left (the warm one)."""
    base = tmp_path_factory.mktemp("warm-cold")
    outputs, cache = base / "outputs", base / "cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("USMX_CACHE_DIR", str(cache))
        assert main(["build", "--raw", str(raw_copy_module), "--outputs", str(outputs)]) == 0
    assert list(cache.iterdir()), "the first build kept nothing in its cache"
    return {"raw": raw_copy_module, "outputs": outputs, "cache": cache}


@pytest.fixture(scope="module")
def raw_copy_module(tmp_path_factory) -> Path:
    from conftest import RAW

    copy = tmp_path_factory.mktemp("raw") / "raw"
    shutil.copytree(RAW, copy)
    for path in copy.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    return copy


def test_every_file_of_the_source_folder_is_changed_here(before):
    names = sorted(p.name for p in (before["raw"] / SOURCE_ID).iterdir() if p.is_file())
    assert names == sorted(CHANGES)


@pytest.mark.parametrize("name", CHANGES)
def test_warm_equals_cold_after_a_change_to(name, before, tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    shutil.copytree(before["raw"], raw)
    CHANGES[name](raw / SOURCE_ID)
    built = {}
    for kind in ("warm", "cold"):
        outputs, cache = tmp_path / f"outputs-{kind}", tmp_path / f"cache-{kind}"
        shutil.copytree(before["outputs"], outputs)
        if kind == "warm":
            shutil.copytree(before["cache"], cache)
        monkeypatch.setenv("USMX_CACHE_DIR", str(cache))
        assert main(["build", "--raw", str(raw), "--outputs", str(outputs)]) == 0, kind
        built[kind] = tree_digest(outputs)
    assert built["cold"] != tree_digest(before["outputs"]), "the change published nothing"
    differ = sorted(k for k in built["warm"].keys() | built["cold"].keys()
                    if built["warm"].get(k) != built["cold"].get(k))  # fmt: skip
    assert differ == []
