"""What cannot be trusted is refused: every bad input, link, byte, value and unwritable folder
stops the build with the pipeline's own sentence (file, line, record, what is wrong, what to
do), no exception class name, and leaves outputs/ byte for byte as it was (issue 21)."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_bad_inputs import annotations, replace_once, run_build

from conftest import SOURCE_ID, tree_digest
from pipeline.cli.main import main
from pipeline.core.errors import REPO_ROOT, BuildError


@pytest.fixture
def outputs_before(tmp_path: Path, built: Path) -> Path:
    """A published outputs/ folder that a refused build must leave as it is."""
    outputs = tmp_path / "outputs"
    shutil.copytree(built, outputs)
    return outputs


EXCEPTION_NAMES = re.compile(r"\b\w+(Error|Exception)\b|unexpectedly|Traceback")


def refused(raw: Path, outputs: Path, capsys) -> str:
    """The one line a refused build prints; it names no exception class."""
    msg = run_build(raw, outputs, capsys)
    assert not EXCEPTION_NAMES.search(msg.replace("BuildError", "")), msg
    return msg


def sidecar(raw: Path) -> Path:
    return raw / SOURCE_ID / "source.yaml"


def record_sha256(raw: Path) -> None:
    """Put the text's new sha256 in its sidecar, as a maintainer replacing it would."""
    sha = hashlib.sha256((raw / SOURCE_ID / "source.txt").read_bytes()).hexdigest()
    path = sidecar(raw)
    path.write_text(re.sub(r"sha256: [0-9a-f]{64}", f"sha256: {sha}", path.read_text()))


LAUGHS = textwrap.dedent(
    """\
    a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
    h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
    i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
    """
)


# --- 1. one loader for every YAML file of raw/ ---------------------------------------------


@pytest.mark.parametrize("file", ["annotations.yaml", "source.yaml", "corrections.yaml"])
def test_a_billion_laughs_is_refused_at_its_first_anchor(raw_copy, outputs_before, capsys, file):
    path = raw_copy / SOURCE_ID / file
    path.write_text(path.read_text(encoding="utf-8") + "\n" + LAUGHS, encoding="utf-8")
    line = path.read_text(encoding="utf-8").splitlines().index(LAUGHS.splitlines()[0]) + 1
    msg = refused(raw_copy, outputs_before, capsys)
    assert f"{SOURCE_ID}/{file}, line {line}: it uses an anchor (&a)" in msg, msg
    assert "write the value out in full" in msg


def test_a_billion_laughs_is_refused_without_growing_memory(tmp_path):
    """The loader, in a process whose address space is capped at 256 MiB more than it uses
    at the start: expanding the aliases (9**9 strings) would need many GiB."""
    path = tmp_path / "annotations.yaml"
    path.write_text(LAUGHS.replace("a: &a", "a: &a").replace("&", "&", 1))
    code = textwrap.dedent(
        f"""
        import resource, sys
        from pathlib import Path
        from pipeline.core.errors import BuildError
        from pipeline.core.yaml_lines import load_yaml
        size = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (size + 256 * 2**20, resource.RLIM_INFINITY))
        try:
            load_yaml(Path({str(path)!r}))
        except BuildError as exc:
            print(exc)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "line 1: it uses an anchor (&a)" in done.stdout


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a: 1\nb: *x\n", "line 2: it uses an alias (*x)"),
        ("a: !!python/object:os.system 1\n", "line 1: it uses the explicit tag"),
        ("a: !!str 1995\n", "line 1: it uses the explicit tag tag:yaml.org,2002:str"),
        ("- source_id: x\ntitle: y\n", "line 1: the top level is a list, but it must be a mapping"),
        ("- a\n- b\n", "line 1: the top level is a list, but it must be a mapping of keys"),
        ("just words\n", "line 1: the top level is a single value, but it must be a mapping"),
        ("a: 1\na: 2\n", "line 1: the YAML is malformed (duplicate key 'a')"),
        ("a: 1\nb: \x07\n", "line 2: it holds the character #x0007"),
    ],
)
def test_the_loader_refuses_what_annotations_never_need(tmp_path, text, expected):
    from pipeline.core.yaml_lines import load_yaml

    path = tmp_path / "source.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BuildError) as raised:
        load_yaml(path)
    assert expected in str(raised.value), str(raised.value)


def test_a_yaml_file_over_the_size_cap_is_refused(tmp_path):
    from pipeline.core.yaml_lines import MAX_YAML_BYTES, load_yaml

    path = tmp_path / "annotations.yaml"
    path.write_text("notes: '" + "x" * MAX_YAML_BYTES + "'\n")
    with pytest.raises(BuildError, match=r"more than the 2,097,152 a YAML file"):
        load_yaml(path)
    assert "2 MiB" in (REPO_ROOT / "docs" / "annotating.md").read_text(encoding="utf-8")


def test_a_sidecar_whose_top_level_is_a_list_is_told_so(raw_copy, outputs_before, capsys):
    path = sidecar(raw_copy)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("source_id:", "- source_id:", 1), encoding="utf-8")
    msg = refused(raw_copy, outputs_before, capsys)
    assert "source.yaml, line 3: the top level is a list, but it must be a mapping of keys" in msg


# --- 2. the raw/ walk ------------------------------------------------------------------------


def test_a_folder_linked_from_outside_is_refused_not_published(
    raw_copy, outputs_before, capsys, tmp_path
):
    outside = tmp_path / "elsewhere" / "second-source"
    shutil.copytree(raw_copy / SOURCE_ID, outside)
    (raw_copy / "second-source").symlink_to(outside)
    msg = refused(raw_copy, outputs_before, capsys)
    assert "raw/second-source: it is a symbolic link (to " in msg
    assert "nothing under raw/ is read through a link" in msg


def test_an_annotation_file_linked_from_outside_is_refused(
    raw_copy, outputs_before, capsys, tmp_path
):
    outside = tmp_path / "annotations.yaml"
    shutil.move(annotations(raw_copy), outside)
    annotations(raw_copy).symlink_to(outside)
    msg = refused(raw_copy, outputs_before, capsys)
    assert f"raw/{SOURCE_ID}/annotations.yaml: it is a symbolic link" in msg


def test_a_folder_without_a_sidecar_is_refused(raw_copy, outputs_before, capsys):
    (raw_copy / "draft-source").mkdir()
    (raw_copy / "draft-source" / "source.txt").write_text("A draft.\n")
    msg = refused(raw_copy, outputs_before, capsys)
    assert "raw/draft-source/source.yaml: the source folder has no sidecar" in msg


@pytest.mark.parametrize("name", ["Second Source", "second.source", "second_source", "x--y"])
def test_a_folder_name_that_is_not_a_slug_is_refused_as_a_folder_name(
    raw_copy, outputs_before, capsys, name
):
    shutil.copytree(raw_copy / SOURCE_ID, raw_copy / name)
    msg = refused(raw_copy, outputs_before, capsys)
    assert f"raw/{name}: the folder name '{name}' is not a plain slug" in msg
    assert "pandera" not in msg and "schema" not in msg


# --- 3. strict text --------------------------------------------------------------------------


def test_a_byte_that_is_not_utf8_is_named_with_line_column_and_offset(
    raw_copy, outputs_before, capsys
):
    path = annotations(raw_copy)
    data = path.read_bytes()
    offset = data.index(b"quote: ", data.index(b"figures:")) + len(b"quote: ") + 3
    path.write_bytes(data[:offset] + b"\xff" + data[offset:])
    line = data[:offset].count(b"\n") + 1
    column = offset - data.rfind(b"\n", 0, offset)
    msg = refused(raw_copy, outputs_before, capsys)
    assert (
        f"annotations.yaml, line {line}: column {column} (byte {offset}) holds 0xff, "
        "which is not UTF-8" in msg
    ), msg


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda b: b.replace(b"\n", b"\r\n"), "its line endings changed: it has 400 CRLF, 0 LF"),
        (lambda b: b"\xef\xbb\xbf" + b, "it now starts with a byte-order mark (EF BB BF)"),
    ],
    ids=["crlf", "bom"],
)
def test_a_source_text_whose_line_endings_or_bom_changed_is_named_as_such(
    raw_copy, outputs_before, capsys, change, expected
):
    """Even with its new sha256 recorded (so nothing else would name the cause)."""
    text = raw_copy / SOURCE_ID / "source.txt"
    lines = text.read_bytes().count(b"\n")
    text.write_bytes(change(text.read_bytes()))
    record_sha256(raw_copy)
    msg = refused(raw_copy, outputs_before, capsys)
    assert f"raw/{SOURCE_ID}/source.txt, line 1" in msg, msg
    assert expected.replace("400", str(lines)) in msg, msg
    assert "restore its bytes from git" in msg and "section heading" not in msg


# --- 4. strict dates and values at reading time ---------------------------------------------


VALUES = [
    ("corrections.yaml", "reported_on: 2026-", "reported_on: 2026-02-30 #", "corrections.yaml, line {line}, record '{record}': its reported_on '2026-02-30' is not a real date"),
    ("corrections.yaml", "reported_on: 2026-", "reported_on: 2026-13-01 #", "corrections.yaml, line {line}, record '{record}': its reported_on '2026-13-01' is not a real date or number (month must be in 1..12)"),
    ("corrections.yaml", "reported_on: 2026-", "reported_on: soon #", "corrections.yaml, line {entry}, record '{record}': its reported_on is text 'soon', not a date"),
    ("annotations.yaml", "is_target: true", "is_target: yes please", "annotations.yaml, line {entry}, record '{record}': its is_target is text 'yes please', not true or false"),
    ("annotations.yaml", "value_check: ", "value_check: many #", "annotations.yaml, line {entry}, record '{record}': its value_check is text 'many', not a number"),
    ("annotations.yaml", "  - id: binational-demand-conferences-held-1998-2000\n", "  - id: 1995\n", "annotations.yaml, line 27, record '1995': its id is int '1995', not text"),
    ("source.yaml", "reference_year: 2000", "reference_year: '2000'", "source.yaml, line 10: reference_year is text '2000', not a whole number"),
    ("source.yaml", "sha256: ", "sha256: 12345 #", "source.yaml, line 22: sha256 is int '12345', not text"),
    ("source.yaml", "url: https", "url: ftp", "source.yaml, line 6: url 'ftp://"),
]  # fmt: skip


@pytest.mark.parametrize("file, old, new, expected", VALUES)
def test_a_value_of_the_wrong_kind_is_refused_as_it_is_read(
    raw_copy, outputs_before, capsys, file, old, new, expected
):
    """File, line (the value's, or its record's), record, the field and what is wrong."""
    path = raw_copy / SOURCE_ID / file
    text = path.read_text(encoding="utf-8")
    at = text.index(old)
    ids = list(re.finditer(r"^  - id: (\S+)", text[:at], flags=re.MULTILINE))
    replace_once(path, old, new)
    msg = refused(raw_copy, outputs_before, capsys)
    wanted = expected.format(
        line=text.count("\n", 0, at) + 1,
        entry=text.count("\n", 0, ids[-1].start()) + 1 if ids else 0,
        record=ids[-1].group(1) if ids else "",
    )
    assert wanted in msg, msg


def test_an_entry_that_is_not_a_mapping_is_named_with_its_line(raw_copy, outputs_before, capsys):
    path = annotations(raw_copy)
    text = path.read_text(encoding="utf-8")
    line = text.splitlines().index("figures:") + 2
    replace_once(path, "figures:\n", "figures:\n  - just a sentence\n")
    msg = refused(raw_copy, outputs_before, capsys)
    assert f"annotations.yaml, line {line}: a figure entry is text 'just a sentence', not a " in msg


# --- 5. a build is a function of its inputs -------------------------------------------------

SHARED = ("datapackage.json", "CHANGELOG.md", "changelog.json")  # name the previous release


def _ambiguous(raw: Path) -> tuple[str, int]:
    """Remove the prefix of an annotation whose quote is printed more than once."""
    from pipeline.core.yaml_lines import load_yaml

    doc = load_yaml(annotations(raw))
    text = (raw / SOURCE_ID / "source.txt").read_text(encoding="utf-8")
    for entry in doc["figures"] + doc["events"] + doc["actors"]:
        if entry.get("prefix") and not entry.get("suffix") and text.count(entry["quote"]) > 1:
            path = annotations(raw)
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            at = next(i for i in range(entry["__line__"] - 1, len(lines)) if "prefix:" in lines[i])
            del lines[at]
            path.write_text("".join(lines), encoding="utf-8")
            return entry["id"], entry["__line__"]
    raise AssertionError("no annotation of the chapter has a prefix that tells a repeat apart")


def test_an_ambiguous_quote_is_refused_whether_or_not_outputs_exist(
    raw_copy, outputs_before, capsys, tmp_path
):
    record, line = _ambiguous(raw_copy)
    with_outputs = refused(raw_copy, outputs_before, capsys)
    missing = tmp_path / "no-outputs" / "outputs"
    assert main(["build", "--raw", str(raw_copy), "--outputs", str(missing)]) == 1
    without = capsys.readouterr().err.strip()
    assert not missing.exists()
    assert with_outputs == without.replace(str(missing), str(outputs_before))
    assert f"line {line}, record '{record}': the quote" in with_outputs and "occurs" in with_outputs
    assert f"python -m pipeline reanchor {SOURCE_ID}` proposes" in with_outputs


def test_the_tables_are_the_same_with_outputs_removed_or_present(built, tmp_path):
    """The real dataset, built over a published outputs/ and into none: every file has the
    same bytes but the three that name the previous release (its version and history)."""
    from conftest import RAW

    present = tmp_path / "present" / "outputs"
    shutil.copytree(built, present)
    absent = tmp_path / "absent" / "outputs"
    assert main(["build", "--raw", str(RAW), "--outputs", str(present)]) == 0
    assert main(["build", "--raw", str(RAW), "--outputs", str(absent)]) == 0
    a, b = tree_digest(present), tree_digest(absent)
    assert sorted(a) == sorted(b)
    tables = [n for n in a if n.endswith((".parquet", ".csv", ".sqlite", ".jsonld"))]
    assert len(tables) >= 17
    assert {n: a[n] for n in tables} == {n: b[n] for n in tables}


def test_core_reads_nothing_published():
    core = REPO_ROOT / "pipeline" / "core"
    for path in core.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "provenance.parquet" not in text and "outputs" not in text, path.name


# --- 6. the environment ----------------------------------------------------------------------


def _fresh_outputs(raw: Path) -> None:
    """Make the next build publish something: a changed note, so outputs/ must be written."""
    replace_once(annotations(raw), "note: ", "note: Re-read. ")


def test_a_read_only_outputs_folder_is_one_sentence(raw_copy, outputs_before, capsys, tmp_path):
    _fresh_outputs(raw_copy)
    parent = outputs_before.parent
    if os.geteuid() == 0:  # root writes through permission bits; the immutable flag stops it
        lock = parent / f".{outputs_before.name}.lock"
        lock.touch()
        flag = subprocess.run(["chattr", "+i", str(parent)], capture_output=True, text=True)
        if flag.returncode:
            pytest.skip(f"chattr +i is not possible here: {flag.stderr.strip()}")
    else:
        parent.chmod(0o555)
    try:
        msg = refused(raw_copy, outputs_before, capsys)
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(parent)], check=True)
        parent.chmod(0o755)
    assert "the new data package could not be written (" in msg, msg
    assert "was left as it was; make" in msg and "writable" in msg
    assert not list(parent.glob("outputs.staging-*"))


def test_a_full_disk_is_one_sentence(raw_copy, capsys, tmp_path, built):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (a real full disk) needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    size = sum(p.stat().st_size for p in built.rglob("*") if p.is_file())
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size + 2**20}", "tmpfs", str(disk)],
        capture_output=True, text=True,
    )  # fmt: skip
    if mounted.returncode:
        pytest.skip(f"tmpfs cannot be mounted here: {mounted.stderr.strip()}")
    try:
        outputs = disk / "outputs"
        shutil.copytree(built, outputs)
        _fresh_outputs(raw_copy)
        msg = refused(raw_copy, outputs, capsys)
        assert "could not be written (No space left on device)" in msg, msg
        assert "free space on the disk that holds" in msg
        assert not list(disk.glob("outputs.staging-*"))
    finally:
        subprocess.run(["umount", str(disk)], check=True)


@pytest.mark.parametrize("point", ["staged", "validated"])
def test_a_staging_folder_that_vanishes_is_one_sentence(
    raw_copy, outputs_before, capsys, tmp_path, monkeypatch, point
):
    _fresh_outputs(raw_copy)
    monkeypatch.setenv("USMX_REMOVE_STAGING_AT", point)
    msg = refused(raw_copy, outputs_before, capsys)
    assert "the new data package could not be written (" in msg, msg
    assert "something removed the build's folder beside it while it ran" in msg
