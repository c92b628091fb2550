"""The build record of datapackage.json (pipeline/publish/build_record.py): every input file
with its sha256, found on disk, in path order; the code's commit and whether it was dirty,
from a real git repository; the date from SOURCE_DATE_EPOCH or raw/'s last commit, never the
clock; the versions of the libraries that made the package."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

from conftest import RAW, SOURCE_ID
from pipeline.cache.keys import code_version
from pipeline.core.sources import load_snapshot
from pipeline.publish import build_record as record


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A git repository standing in for the project's root, with one commit of code and raw/."""
    root = tmp_path / "repo"
    (root / "pipeline").mkdir(parents=True)
    (root / "pipeline" / "a.py").write_text("A = 1\n")
    (root / "raw").mkdir()
    (root / "raw" / "note.txt").write_text("raw\n")
    git(root, "init", "-q")
    for key, value in (("user.name", "t"), ("user.email", "t@example.org")):
        git(root, "config", key, value)
    git(root, "add", ".")
    env = {"GIT_COMMITTER_DATE": "2001-02-03T04:05:06Z", "GIT_AUTHOR_DATE": "2001-02-03T04:05:06Z"}
    monkeypatch.setattr(record, "REPO_ROOT", root)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    git(root, "commit", "-q", "-m", "first")
    return root


def commit_file(repo: Path, name: str, text: str, when: str, monkeypatch) -> str:
    """Commit one file at the date `when`; the new commit's hash."""
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    for key in ("GIT_COMMITTER_DATE", "GIT_AUTHOR_DATE"):
        monkeypatch.setenv(key, when)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"{name} at {when}")
    return git(repo, "rev-parse", "HEAD")


def test_git_answers_or_is_none(repo):
    assert record._git("rev-parse", "HEAD") == git(repo, "rev-parse", "HEAD")
    assert record._git("log", "-1", "--format=%s") == "first"  # stripped of its newline
    assert record._git("no-such-command") is None


def test_the_code_record_names_the_commit_and_whether_the_code_was_changed_since(repo):
    first = git(repo, "rev-parse", "HEAD")
    assert record.code_record() == {
        "code_sha256": code_version(), "git_commit": first, "git_dirty": False
    }  # fmt: skip
    (repo / "raw" / "note.txt").write_text("not code\n")  # outside the code paths
    assert record.code_record()["git_dirty"] is False
    (repo / "pipeline" / "a.py").write_text("A = 2\n")
    assert record.code_record()["git_dirty"] is True
    git(repo, "commit", "-q", "-am", "second")
    second = git(repo, "rev-parse", "HEAD")
    assert record.code_record()["git_commit"] == second != first
    assert record.code_record()["git_dirty"] is False


def test_outside_a_git_repository_the_code_record_says_it_does_not_know(tmp_path, monkeypatch):
    monkeypatch.setattr(record, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert record.code_record() == {
        "code_sha256": code_version(), "git_commit": None, "git_dirty": None
    }  # fmt: skip


def test_the_date_is_source_date_epoch_else_raws_last_commit_else_none(repo, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert record.created(tmp_path) == "1970-01-02T00:00:00Z"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert record.created(repo / "raw") == "2001-02-03T04:05:06Z"
    assert record.created(tmp_path) is None  # another raw/: no commit of it to ask
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "")
    assert record.created(repo / "raw") == "2001-02-03T04:05:06Z"


def test_the_library_versions_are_those_installed(monkeypatch):
    assert record.library_versions() == {name: version(name) for name in record.LIBRARIES}
    monkeypatch.setattr(record, "LIBRARIES", ("pandas", "no-such-library-here"))
    assert record.library_versions() == {
        "pandas": version("pandas"), "no-such-library-here": "not installed"
    }  # fmt: skip


def test_the_inputs_are_every_file_found_in_path_order_with_its_sha256(tmp_path):
    folder = tmp_path / "raw" / SOURCE_ID
    shutil.copytree(RAW / SOURCE_ID, folder)
    for p in folder.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    (folder / "notes").mkdir()
    (folder / "notes" / "extra.md").write_text("an extra file\n")
    schemas = tmp_path / "schemas"
    (schemas / "sub").mkdir(parents=True)
    (schemas / "fields.yaml").write_text("fields: []\n")
    (schemas / "sub" / "more.yaml").write_text("x: 1\n")
    (schemas / "link.yaml").symlink_to(schemas / "fields.yaml")  # not followed
    snapshot = load_snapshot(folder)
    found = record.input_files([snapshot], schemas)
    on_disk = {f"raw/{SOURCE_ID}/{p.relative_to(folder).as_posix()}": p
               for p in folder.rglob("*") if p.is_file()}  # fmt: skip
    on_disk |= {"schemas/fields.yaml": schemas / "fields.yaml",
                "schemas/sub/more.yaml": schemas / "sub" / "more.yaml"}  # fmt: skip
    assert [f["path"] for f in found] == sorted(on_disk)
    for f in found:
        assert f["sha256"] == hashlib.sha256(on_disk[f["path"]].read_bytes()).hexdigest(), f
    whole = record.build_record([snapshot])
    assert set(whole) == {"inputs", "code", "libraries"}
    assert whole["libraries"] == record.library_versions()
    assert whole["code"]["code_sha256"] == code_version()


def test_the_commit_and_date_are_those_of_the_code_and_of_raw_not_of_later_commits(
    repo, monkeypatch
):
    """A later commit of raw/ only does not move the code's commit; a later commit of code
    only does not move raw/'s date; raw/'s date is that of its last commit of several."""
    code = git(repo, "rev-parse", "HEAD")
    commit_file(repo, "raw/second.txt", "b\n", "2002-01-01T00:00:00Z", monkeypatch)
    assert record.code_record()["git_commit"] == code
    assert record.created(repo / "raw") == "2002-01-01T00:00:00Z"
    later = commit_file(repo, "pipeline/b.py", "B = 1\n", "2003-01-01T00:00:00Z", monkeypatch)
    assert record.code_record()["git_commit"] == later
    assert record.created(repo / "raw") == "2002-01-01T00:00:00Z"
    commit_file(repo, "README.md", "docs\n", "2004-01-01T00:00:00Z", monkeypatch)
    assert record.code_record()["git_commit"] == later
    assert record.created(repo / "raw") == "2002-01-01T00:00:00Z"


def test_the_date_is_utc_whatever_the_machines_time_zone(tmp_path, monkeypatch):
    import time

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    monkeypatch.setenv("TZ", "America/Mexico_City")
    time.tzset()
    try:
        assert record.created(tmp_path) == "1970-01-02T00:00:00Z"
    finally:
        monkeypatch.undo()
        time.tzset()
