"""What reading raw/ promises: a source folder is published only when it is a real folder
named by a slug with a sidecar whose keys have their forms, and a text whose bytes are the
recorded ones; line and column are counted in code points; every refusal is one sentence
naming the file and, where there is one, the line."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from pipeline.core.errors import BuildError
from pipeline.core.sources import (
    SourceSnapshot,
    load_snapshot,
    raw_file_hashes,
    raw_tree_sha256,
    sha256_bytes,
    sha256_file,
    source_folders,
)

TEXT = "Première ligne\nsecond\n\nlast"


def sidecar(data: bytes, source_id: str = "src", **extra: str) -> str:
    keys = {
        "source_id": source_id, "title": "T", "publisher": "P", "url": "https://example.org/t",
        "rights": "public domain", "encoding": "utf-8", "sha256": hashlib.sha256(data).hexdigest(),
        **extra,
    }  # fmt: skip
    return "".join(f"{k}: {v}\n" for k, v in keys.items())


def source(raw: Path, name: str = "src", data: bytes = TEXT.encode(), **extra: str) -> Path:
    folder = raw / name
    folder.mkdir(parents=True)
    (folder / "source.txt").write_bytes(data)
    (folder / "source.yaml").write_text(sidecar(data, name, **extra), encoding="utf-8")
    return folder


def refused(call, *args) -> str:
    with pytest.raises(BuildError) as caught:
        call(*args)
    return str(caught.value)


def snapshot(text: str = TEXT) -> SourceSnapshot:
    return SourceSnapshot("src", Path("/nowhere/src"), text, {}, "0" * 64, len(text.encode()))


def test_line_and_column_are_one_based_code_points():
    s = snapshot()
    assert s.line_col(0) == (1, 1)
    assert s.line_col(1) == (1, 2)
    assert s.line_col(14) == (1, 15)  # the newline ends line 1
    assert s.line_col(15) == (2, 1)
    assert s.line_col(22) == (3, 1)
    assert s.line_col(23) == (4, 1)
    assert s.line_col(26) == (4, 4)


def test_the_bounds_of_a_line_leave_out_its_newline():
    s = snapshot()
    assert s.line_bounds(3) == (0, 14)
    assert s.line_bounds(15) == (15, 21)
    assert s.line_bounds(22) == (22, 22)
    assert s.line_bounds(25) == (23, 27)  # the last line has no newline


def test_a_snapshot_names_its_files_and_counts_code_points():
    s = snapshot()
    assert s.code_points == len(TEXT) == 27 and s.bytes == 28
    assert s.text_path == Path("/nowhere/src/source.txt")
    assert s.annotations_path == Path("/nowhere/src/annotations.yaml")
    assert s.published_path("source.txt") == "raw/src/source.txt"
    assert repr(s) == f"SourceSnapshot('src', '/nowhere/src', sha256='{'0' * 64}')"


def test_a_sound_folder_is_read_with_its_text_meta_and_file_hashes(tmp_path):
    folder = source(tmp_path, reference_year="2000", reference_year_basis="the title")
    (folder / "annotations.yaml").write_text("figures: []\n", encoding="utf-8")
    s = load_snapshot(folder)
    assert (s.source_id, s.folder, s.text, s.bytes) == ("src", folder, TEXT, 28)
    assert s.sha256 == sha256_bytes(TEXT.encode()) == sha256_file(folder / "source.txt")
    assert s.meta["reference_year"] == 2000 and "__line__" not in s.meta
    assert s.file_sha256 == {
        "source.yaml": sha256_file(folder / "source.yaml"),
        "annotations.yaml": sha256_file(folder / "annotations.yaml"),
    }


def test_hashes_already_taken_are_used_for_the_other_files(tmp_path):
    folder = source(tmp_path)
    s = load_snapshot(folder, {"src/source.yaml": "ab" * 32})
    assert s.file_sha256 == {"source.yaml": "ab" * 32}


def test_a_text_whose_sha256_differs_names_both_and_the_sidecar_line(tmp_path):
    folder = source(tmp_path)
    (folder / "source.txt").write_bytes(b"changed\n")
    message = refused(load_snapshot, folder)
    recorded, now = hashlib.sha256(TEXT.encode()).hexdigest(), sha256_bytes(b"changed\n")
    assert message == (
        f"{folder / 'source.yaml'}, line 7, record 'src': the sha256 recorded here, {recorded}, "
        f"is not that of source.txt, {now}; restore the snapshot from git, or, if the source "
        "was really corrected, record the new sha256 here and review every annotation."
    )


def test_a_missing_text_is_named(tmp_path):
    folder = source(tmp_path)
    (folder / "source.txt").unlink()
    assert refused(load_snapshot, folder).endswith(
        "source.txt: the source text is missing; create it or restore it from git."
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"url": "ftp://x"},
            "line 4: url 'ftp://x' is not an http(s) address; give the full "
            "address, starting with https://.",
        ),
        (
            {"archived_url": "www.x.org"},
            "line 8: archived_url 'www.x.org' is not an http(s) address",
        ),
        ({"report_pdf_url": "x.pdf"}, "line 8: report_pdf_url 'x.pdf' is not an http(s) address"),
        (
            {"sha256": "AB" * 32},
            f"line 7: sha256 '{'AB' * 32}' is not 64 lower-case hexadecimal "
            "digits; record the sha256 of source.txt as sha256sum prints it.",
        ),
        ({"sha256": "ab" * 31}, "is not 64 lower-case hexadecimal digits"),
        ({"encoding": "latin-1"}, "line 6: encoding 'latin-1' is not utf-8; convert it to UTF-8."),
        (
            {"line_endings": "CR"},
            "line 8: line_endings 'CR' is neither LF nor CRLF; write line_endings: LF.",
        ),
        (
            {"reference_year": "999", "reference_year_basis": "b"},
            "line 8: reference_year 999 is not a four-digit year; give the year, e.g. 2000.",
        ),
        ({"reference_year": "10000", "reference_year_basis": "b"}, "reference_year 10000 is not"),
        (
            {"reference_year": "2000"},
            "line 8: reference_year 2000 has no reference_year_basis; "
            "quote where the text makes the year clear under reference_year_basis:.",
        ),
    ],
)
def test_a_sidecar_value_out_of_its_form_is_refused_on_its_line(tmp_path, extra, message):
    folder = source(tmp_path, **extra)
    assert message in refused(load_snapshot, folder)


def test_the_sidecar_source_id_must_be_the_folder_name(tmp_path):
    folder = source(tmp_path)
    (folder / "source.yaml").write_text(sidecar(TEXT.encode(), "other"), encoding="utf-8")
    assert refused(load_snapshot, folder).endswith(
        "source.yaml, line 1: source_id 'other' differs from the folder name 'src'; make them equal."
    )


@pytest.mark.parametrize("extra", [
    {"encoding": "UTF-8"}, {"encoding": "utf_8"}, {"encoding": "UTF8"},
    {"reference_year": "1000", "reference_year_basis": "b"},
    {"reference_year": "9999", "reference_year_basis": "b"},
    {"url": "http://example.org", "archived_url": "https://a", "report_pdf_url": "http://b"},
])  # fmt: skip
def test_the_accepted_forms_of_a_sidecar(tmp_path, extra):
    assert load_snapshot(source(tmp_path, **extra)).source_id == "src"


def test_a_byte_order_mark_is_refused_on_line_one(tmp_path):
    folder = source(tmp_path, data=b"\xef\xbb\xbfhello\n")
    assert refused(load_snapshot, folder) == (
        f"{folder / 'source.txt'}, line 1: it now starts with a byte-order mark (EF BB BF) that "
        f"the snapshot does not have; restore its bytes from git (git checkout -- "
        f"{folder / 'source.txt'}; with core.autocrlf false on Windows): every span of the "
        "annotations counts code points of the original."
    )


@pytest.mark.parametrize(
    ("data", "declared", "counts", "line"),
    [
        (b"a\nb\r\nc\n", "LF", "1 CRLF, 2 LF and 0 CR", 2),
        (b"a\rb", "LF", "0 CRLF, 0 LF and 1 CR", 1),
        (b"a\r\nb\rc\r\n", "CRLF", "2 CRLF, 0 LF and 1 CR", 2),
        (b"a\nb\n", "CRLF", "0 CRLF, 2 LF and 0 CR", 1),
    ],
)
def test_line_endings_other_than_recorded_are_counted_and_placed(tmp_path, data, declared, counts,
                                                                 line):  # fmt: skip
    folder = source(tmp_path, data=data, line_endings=declared)
    assert refused(load_snapshot, folder) == (
        f"{folder / 'source.txt'}, line {line}, record 'src': its line endings changed: it has "
        f"{counts} line endings, but {folder / 'source.yaml'} records line_endings: {declared}; "
        f"restore its bytes from git (git checkout -- {folder / 'source.txt'}; with "
        "core.autocrlf false on Windows): every span of the annotations counts code points of "
        "the original."
    )


@pytest.mark.parametrize(("data", "declared"), [
    (b"a\nb\n", "LF"), (b"a\r\nb\r\n", "CRLF"), (b"one line", "LF"), (b"one line", "CRLF"),
])  # fmt: skip
def test_line_endings_as_recorded_are_accepted(tmp_path, data, declared):
    assert load_snapshot(source(tmp_path, data=data, line_endings=declared)).bytes == len(data)


def test_line_endings_default_to_lf(tmp_path):
    assert load_snapshot(source(tmp_path, data=b"a\nb\n")).text == "a\nb\n"
    assert "records line_endings: LF" in refused(load_snapshot, source(tmp_path, "crlf", b"a\r\n"))


def test_source_folders_are_the_slug_folders_with_a_sidecar_in_name_order(tmp_path):
    source(tmp_path, "b-2")
    source(tmp_path, "a1")
    (tmp_path / ".gitkeep").write_text("")
    assert source_folders(tmp_path) == [tmp_path / "a1", tmp_path / "b-2"]
    assert source_folders(tmp_path, raw_file_hashes(tmp_path)) == [
        tmp_path / "a1",
        tmp_path / "b-2",
    ]


def test_a_file_at_the_top_of_raw_is_refused(tmp_path):
    source(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    assert refused(source_folders, tmp_path) == (
        f"{tmp_path / 'notes.txt'}: it is a file at the top of raw/, where only source folders "
        "belong; move it into a source folder or out of raw/."
    )


@pytest.mark.parametrize("name", ["Src", "a--b", "-a", "a_b", ".hidden"])
def test_a_folder_not_named_by_a_slug_is_refused(tmp_path, name):
    source(tmp_path, name)
    assert refused(source_folders, tmp_path) == (
        f"{tmp_path / name}: the folder name '{name}' is not a plain slug (lower-case letters, "
        "digits and single hyphens), and it is the source's id; rename the folder (and its "
        "source_id in source.yaml) to such a slug."
    )


def test_a_folder_without_a_sidecar_is_refused(tmp_path):
    (tmp_path / "src").mkdir()
    assert refused(source_folders, tmp_path) == (
        f"{tmp_path / 'src' / 'source.yaml'}: the source folder has no sidecar, so it cannot be "
        "built; add source.yaml (docs/annotating.md) or move the folder out of raw/."
    )


def test_a_link_at_the_top_of_raw_is_refused_before_it_is_read(tmp_path):
    source(tmp_path / "elsewhere", "src")
    raw = tmp_path / "raw"
    raw.mkdir()
    os.symlink(tmp_path / "elsewhere" / "src", raw / "src")
    assert refused(source_folders, raw) == (
        f"{raw / 'src'}: it is a symbolic link (to {tmp_path / 'elsewhere' / 'src'}), and "
        "nothing under raw/ is read through a link; replace it by the real file or folder, "
        "committed to the repository."
    )


def test_every_file_under_raw_is_hashed_by_its_relative_path_in_path_order(tmp_path):
    folder = source(tmp_path)
    (folder / "sub").mkdir()
    (folder / "sub" / "z.txt").write_bytes(b"z")
    (folder / "a.txt").write_bytes(b"a")
    hashes = raw_file_hashes(tmp_path)
    assert list(hashes) == ["src/a.txt", "src/source.txt", "src/source.yaml", "src/sub/z.txt"]
    assert hashes["src/sub/z.txt"] == hashlib.sha256(b"z").hexdigest()


def test_a_link_deep_under_raw_is_refused(tmp_path):
    folder = source(tmp_path)
    os.symlink(folder / "source.txt", folder / "copy.txt")
    assert "copy.txt: it is a symbolic link (to " in refused(raw_file_hashes, tmp_path)


def test_a_missing_raw_folder_is_refused(tmp_path):
    assert refused(raw_file_hashes, tmp_path / "raw") == (
        f"{tmp_path / 'raw'}: the raw/ folder does not exist; restore it from git."
    )


def test_the_tree_hash_covers_each_path_and_content(tmp_path):
    source(tmp_path)
    hashes = raw_file_hashes(tmp_path)
    digest = hashlib.sha256()
    for path, file_sha256 in hashes.items():
        digest.update(path.encode() + b"\0" + bytes.fromhex(file_sha256))
    assert raw_tree_sha256(tmp_path) == raw_tree_sha256(tmp_path, hashes) == digest.hexdigest()
    (tmp_path / "src" / "source.txt").rename(tmp_path / "src" / "source.text")
    assert raw_tree_sha256(tmp_path) != digest.hexdigest()


def test_a_lone_lf_in_a_crlf_text_is_placed_on_its_own_line(tmp_path):
    folder = source(tmp_path, data=b"a\r\nb\nc\r\n", line_endings="CRLF")
    assert "2 CRLF, 1 LF and 0 CR" in (message := refused(load_snapshot, folder))
    assert message.startswith(f"{folder / 'source.txt'}, line 2, ")
    folder = source(tmp_path / "cr", data=b"a\r\nb\r\nc\rd\r\n", line_endings="CRLF")
    assert "3 CRLF, 0 LF and 1 CR" in (message := refused(load_snapshot, folder))
    assert message.startswith(f"{folder / 'source.txt'}, line 3, ")
