"""The package as one archive, outputs/<name>-<version>.zip, byte-identical for the same files,
and outputs/README.md, which lists every other file with its sha256."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import zipfile

from pipeline.publish.metadata import archive_name, archive_problems, write_archive


def _descriptor(folder):
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


def test_the_archive_holds_the_package_files_byte_for_byte(built):
    descriptor = _descriptor(built)
    path = built / archive_name(descriptor)
    top = path.name.removesuffix(".zip")
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        assert zf.testzip() is None
        held = {i.filename.removeprefix(f"{top}/"): zf.read(i) for i in infos}
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    wanted = {"datapackage.json", "README.md", "croissant.json", "annotations.jsonld"}
    assert wanted | {r["path"] for r in descriptor["resources"]} <= set(held)
    for name, data in held.items():
        assert data == (built / name).read_bytes(), name
    assert archive_problems(built, descriptor) == []


def test_the_same_files_give_the_same_archive(built, tmp_path):
    """Copied in another order with other times and modes, the files zip to the same bytes."""
    descriptor = _descriptor(built)
    original = (built / archive_name(descriptor)).read_bytes()
    copy = tmp_path / "copy"
    copy.mkdir()
    with zipfile.ZipFile(built / archive_name(descriptor)) as zf:
        names = [n.split("/", 1)[1] for n in zf.namelist()]
    for n, name in enumerate(reversed(names)):
        shutil.copyfile(built / name, copy / name)
        os.utime(copy / name, (1_700_000_000 + n, 1_700_000_000 + n))
        os.chmod(copy / name, 0o600 if n % 2 else 0o664)
    assert write_archive(copy, descriptor).read_bytes() == original


def test_a_changed_file_is_caught(built, tmp_path):
    folder = tmp_path / "out"
    shutil.copytree(built, folder)
    (folder / "figures.csv").write_text("changed\n", encoding="utf-8")
    assert archive_problems(folder, _descriptor(folder)) == [
        f"{archive_name(_descriptor(folder))} holds a figures.csv that is not the staged one"
    ]


def test_the_readme_lists_every_archived_file_with_its_sha256(built):
    readme = (built / "README.md").read_text(encoding="utf-8")
    listed = dict(
        (name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", readme, re.M)
    )
    with zipfile.ZipFile(built / archive_name(_descriptor(built))) as zf:
        names = {n.split("/", 1)[1] for n in zf.namelist()} - {"README.md"}
    assert set(listed) == names
    for name, digest in listed.items():
        assert hashlib.sha256((built / name).read_bytes()).hexdigest() == digest, name
    descriptor = _descriptor(built)
    assert f"(version {descriptor['version']})" in readme
    for table in ("figures", "provenance", "sources"):
        assert f"### `{table}`" in readme


def test_a_damaged_archive_member_is_caught(built, tmp_path):
    """A byte flipped inside one member's compressed data: the check names the member (its
    CRC or its deflate stream fails as it is read), once."""
    folder = tmp_path / "staged"
    shutil.copytree(built, folder)
    descriptor = _descriptor(folder)
    path = folder / archive_name(descriptor)
    with zipfile.ZipFile(path) as zf:
        info = max(zf.infolist(), key=lambda i: i.compress_size)
        name_length = len(info.filename.encode())
    data = bytearray(path.read_bytes())
    # a member's data follows its 30-byte local header, its name and an empty extra field
    at = info.header_offset + 30 + name_length + info.compress_size // 2
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    problems = archive_problems(folder, descriptor)
    assert len(problems) == 1 and problems[0].startswith(f"{path.name}: {info.filename} is damaged")
