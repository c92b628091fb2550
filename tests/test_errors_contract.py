"""What a BuildError promises a maintainer: one sentence naming the file (as a person would
type it), the line and the record when known, what is wrong and what to do, then one line
per item; and it survives being sent from a worker process unchanged."""

from __future__ import annotations

import pickle
from pathlib import Path

from pipeline.core.errors import REPO_ROOT, BuildError, display_path


def test_the_repository_root_is_the_folder_that_holds_pipeline_and_raw():
    assert (REPO_ROOT / "pipeline" / "core" / "errors.py").is_file()
    assert (REPO_ROOT / "raw").is_dir()


def test_a_path_inside_the_repository_is_shown_relative_to_it_with_slashes():
    assert display_path(REPO_ROOT / "raw" / "x" / "source.yaml") == "raw/x/source.yaml"
    assert display_path(str(REPO_ROOT / "schemas" / "fields.yaml")) == "schemas/fields.yaml"


def test_a_path_outside_the_repository_is_shown_as_given(tmp_path):
    outside = tmp_path / "raw" / "annotations.yaml"
    assert display_path(outside) == str(outside)
    assert display_path(str(outside)) == str(outside)


def test_the_message_names_file_line_record_problem_and_action():
    error = BuildError(REPO_ROOT / "raw" / "a.yaml", "its x is wrong", "fix x", line=7, record="f1")
    assert str(error) == "raw/a.yaml, line 7, record 'f1': its x is wrong; fix x."
    assert (error.file, error.line, error.record) == ("raw/a.yaml", 7, "f1")
    assert (error.problem, error.action, error.details) == ("its x is wrong", "fix x", [])


def test_without_a_line_or_record_the_message_leaves_them_out(tmp_path):
    error = BuildError(tmp_path / "f.yaml", "it is missing", "create it")
    assert str(error) == f"{tmp_path / 'f.yaml'}: it is missing; create it."
    assert error.line is None and error.record is None


def test_each_detail_is_one_indented_line_after_the_sentence():
    error = BuildError("f.txt", "2 things are wrong", "fix each", details=["one", "two"])
    assert str(error) == "f.txt: 2 things are wrong; fix each.\n  - one\n  - two"
    assert error.details == ["one", "two"]


def test_a_build_error_is_the_same_after_pickling():
    error = BuildError(Path("f.yaml"), "p", "a", line=3, record="r", details=["d"])
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is BuildError
    assert str(copy) == str(error) == "f.yaml, line 3, record 'r': p; a.\n  - d"
    assert copy.__dict__ == error.__dict__
    assert copy.args == error.args


def test_a_path_is_shown_as_it_resolves_inside_the_repository():
    assert (
        display_path(REPO_ROOT / "raw" / ".." / "schemas" / "fields.yaml") == "schemas/fields.yaml"
    )
