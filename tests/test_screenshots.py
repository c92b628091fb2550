"""The README's screenshots are made by docs/screenshots.py from the build they show (issue
24, item 7): the committed images are the ones the script recorded, for the version of the
committed outputs/; the script shoots the build it is given in a real browser (Debian's
Chromium) and refuses a page that shows another version than its package."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import sys
from pathlib import Path

import pytest

from pipeline.core.errors import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "docs"))
import screenshots  # noqa: E402

DOCS, OUTPUTS = REPO_ROOT / "docs", REPO_ROOT / "outputs"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_the_readmes_screenshots_are_the_scripts_of_the_committed_version():
    record = json.loads((DOCS / screenshots.RECORD).read_text("utf-8"))
    version = json.loads((OUTPUTS / "datapackage.json").read_text("utf-8"))["version"]
    assert record["version"] == version, (
        f"docs/ shows version {record['version']}, outputs/ is {version}: "
        "run `python3 dev.py screenshots`"
    )
    readme = (REPO_ROOT / "README.md").read_text("utf-8")
    for name, made in record["images"].items():
        assert f"(docs/{name})" in readme
        digest = hashlib.sha256((DOCS / name).read_bytes()).hexdigest()
        assert digest == made["sha256"], f"docs/{name} is not the image the script made"


def test_the_script_shoots_the_build_it_is_given(built, tmp_path):
    record = screenshots.shoot(built, tmp_path)
    package = json.loads((built / "datapackage.json").read_text("utf-8"))
    assert record["version"] == package["version"]
    assert record["git_commit"] == package["build"]["code"]["git_commit"]
    for name in screenshots.IMAGES:
        assert _png_size(tmp_path / name) == (1280, 800)
    assert json.loads((tmp_path / screenshots.RECORD).read_text("utf-8")) == record


def test_a_page_showing_another_version_is_refused(built, tmp_path):
    copy = tmp_path / "outputs"
    shutil.copytree(built, copy)
    package = json.loads((copy / "datapackage.json").read_text("utf-8"))
    package["version"] = "9.9.9"
    (copy / "datapackage.json").write_text(json.dumps(package), "utf-8")
    with pytest.raises(SystemExit, match="shows version .* datapackage.json says 9.9.9"):
        screenshots.shoot(copy, tmp_path / "shots")
    assert not (tmp_path / "shots" / screenshots.RECORD).exists()
