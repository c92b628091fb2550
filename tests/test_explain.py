"""`explain`: the lineage of any published number, from the row back to the characters."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import RAW, SOURCE_ID
from pipeline.cli.main import main
from pipeline.core.errors import REPO_ROOT
from pipeline.site.fragments import parse_fragment, text_fragment

TEXT = (RAW / SOURCE_ID / "source.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def published(built: Path) -> dict:
    """What the tests explain: a build of the project's raw/ (never the developer's outputs/)."""
    rows = pq.read_table(built / "provenance.parquet").to_pylist()
    return {
        "outputs": built,
        "anchors": [r for r in rows if r.get("mention", 1) == 1],
        "corrections": pq.read_table(built / "corrections.parquet").to_pylist(),
        "figures": pq.read_table(built / "figures.parquet").to_pylist(),
        "url": pq.read_table(built / "sources.parquet").to_pylist()[0]["url"],
        "version": json.loads((built / "datapackage.json").read_text(encoding="utf-8"))["version"],
    }


@pytest.fixture
def explain(capsys, published):
    """`python -m pipeline explain --outputs <the build> ARGS`: (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["explain", "--outputs", str(published["outputs"]), *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_explains_the_cocaine_figure_top_to_bottom(explain, published):
    code, out, _ = explain("mex-cocaine-seized-1999")
    assert code == 0
    for expected in (
        "value: 34600.0", "unit: kilograms", "value_as_printed: 34.6",
        f"dataset version {published['version']}",
        "Office of National Drug Control Policy",
        "re-computed now: matches the dataset",
        "line 124, column 533",
        "[«34.6» tons of cocaine]",
        '"tons" → kilograms: × 1000',
        "metric tonnes",
        "raw/ondcp-usmx-ch3/annotations.yaml, line",
        'period read from "in 1999 alone"',
        "the span of the source holds the quote — passed",
    ):  # fmt: skip
        assert expected in out, expected


def each_fails(rows: list[dict], key: str, check) -> list[str]:
    """The rows for which `check` fails, each with its failure."""
    failed = []
    for row in rows:
        try:
            check(row)
        except (AssertionError, KeyError, ValueError) as exc:
            failed.append(f"{row[key]}: {exc!r}")
    return failed


def test_every_figure_event_and_actor_is_explained_as_json(explain, published):
    url = published["url"]

    def check(row):
        code, out, _ = explain("--json", row["record_id"])
        assert code == 0
        chain = json.loads(out)
        assert chain["record_type"] == row["record_type"]
        assert chain["location"]["quote"] == TEXT[row["char_start"] : row["char_end"]]
        assert all(c["passed"] for c in chain["checks"])
        assert chain["source"]["sha256_matches"]
        link = chain["location"]["link"]  # the original publication, at the very characters
        assert link == text_fragment(url, TEXT, row["char_start"], row["char_end"])
        assert parse_fragment(link)[1] == row["quote"]

    anchors = published["anchors"]
    assert {r["record_type"] for r in anchors} >= {"figure", "event", "actor"}
    assert each_fails(anchors, "record_id", check) == []


def test_every_correction_is_explained(explain, published):
    def check(row):
        code, out, _ = explain("--json", row["correction_id"])
        chain = json.loads(out)
        assert code == 0 and chain["record_type"] == "correction"
        assert (
            chain["location"]["quote"]
            == row["printed"]
            == TEXT[row["char_start"] : row["char_end"]]
        )
        assert all(c["passed"] for c in chain["checks"])
        corrected = [r["record_id"] for r in chain["corrects"]]
        named = [
            f["figure_id"]
            for f in published["figures"]
            if row["correction_id"] in (f["correction_ids"] or "")
        ]
        assert set(named) <= set(corrected)

    assert published["corrections"]
    assert each_fails(published["corrections"], "correction_id", check) == []


def test_a_correction_names_what_it_corrects_and_links_the_original(explain, published):
    code, out, _ = explain("heroine-for-heroin")
    assert code == 0 and out.startswith("correction heroine-for-heroin")
    assert "corrects figure mex-heroin-seized-1999" in out and 'printed: "heroine"' in out
    assert f"in the original publication: {published['url']}#:~:text=" in out


def test_an_actor_is_explained_with_its_further_mentions(built, explain):
    if not (built / "actors.parquet").exists():
        pytest.skip("this build publishes no actors table")
    rows = pq.read_table(built / "provenance.parquet").to_pylist()
    mentioned = [r for r in rows if r["record_type"] == "actor" and r.get("mention", 1) > 1]
    actor_id = mentioned[0]["record_id"]
    code, out, _ = explain("--json", "--outputs", str(built), actor_id)
    chain = json.loads(out)
    assert code == 0 and chain["record_type"] == "actor" and chain["row"]["actor_id"] == actor_id
    mentions = chain["location"]["mentions"]
    assert [m["mention"] for m in mentions] == [
        r["mention"]
        for r in sorted(mentioned, key=lambda r: r["mention"])
        if r["record_id"] == actor_id
    ]
    assert all(TEXT[m["char_start"] : m["char_end"]] == m["quote"] for m in mentions)
    assert all(c["passed"] for c in chain["checks"])
    code, out, _ = explain("--outputs", str(built), actor_id)
    assert f"mention {mentions[0]['mention']}: line {mentions[0]['line']}" in out
    code, out, _ = explain("--outputs", str(built), "--search", chain["row"]["name"])
    assert code == 0 and actor_id in [line.split("\t")[0] for line in out.splitlines()]


def test_claims_the_figure_takes_part_in_are_listed(explain):
    code, out, _ = explain("mex-persons-extradited-1995-2000")
    claims = [line.strip() for line in out.splitlines() if line.strip().startswith("claim ")]
    assert claims == [
        'claim mex-extraditions-seven-fold: "61" / "eight" = 7.625, stated as "seven-fold" (7)'
        " — holds"
    ]


def test_find_by_value_and_by_search(explain):
    code, out, _ = explain("--value", "34.6")
    assert code == 0 and out.startswith("mex-cocaine-seized-1999\t34600 kilograms")
    code, out, _ = explain("--search", "opium gum")
    ids = [line.split("\t")[0] for line in out.splitlines()]
    assert ids == ["mex-opium-gum-seized-1999", "mex-opium-gum-seized-2000-h1"]


def test_search_finds_events_and_corrections_too(explain, published):
    code, out, _ = explain("--search", "heroin")
    ids = [line.split("\t")[0] for line in out.splitlines()]
    assert code == 0 and {"mex-heroin-seized-1999", "heroine-for-heroin"} <= set(ids)
    assert 'heroine-for-heroin\tcorrection\t"heroine"' in out
    event = next(r for r in published["anchors"] if r["record_type"] == "event")
    code, out, _ = explain("--json", "--search", event["quote"])
    assert code == 0 and event["record_id"] in json.loads(out)


def test_unknown_id_exits_nonzero_with_one_line_and_the_closest_ids(explain):
    code, out, err = explain("mex-cocain-seized")
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert "closest: mex-cocaine-seized-1999" in err


@pytest.mark.parametrize(
    "args",
    [["mex-cocain-seized"], ["--search", "no such words"], ["--value", "123456789"], [],
     ["--outputs", "/nonexistent/outputs", "mex-cocaine-seized-1999"]],
    ids=["unknown-id", "no-match", "no-value", "no-id", "no-outputs"],
)  # fmt: skip
def test_json_errors_are_one_json_object_on_stdout(explain, args):
    code, out, err = explain("--json", *args)
    assert code == 1 and err == ""
    error = json.loads(out)
    assert set(error) == {"error", "closest"} and error["error"]
    assert isinstance(error["closest"], list)
    if args == ["mex-cocain-seized"]:
        assert error["closest"][0] == "mex-cocaine-seized-1999"


def test_a_changed_source_is_reported_plainly(tmp_path, explain):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    path = raw / SOURCE_ID / "source.txt"
    path.chmod(0o644)
    path.write_text(TEXT.replace("Unites", "United"), encoding="utf-8")
    code, out, _ = explain("mex-cocaine-seized-1999", "--raw", str(raw))
    assert code == 0 and "WARNING: raw/ text now has sha256" in out


def test_works_on_a_downloaded_copy_without_git(tmp_path, built):
    """A copy of the repo with no .git still explains; it says the history is unavailable."""
    copy = tmp_path / "copy"
    for part in ("pipeline", "raw", "schemas"):
        shutil.copytree(REPO_ROOT / part, copy / part)
    shutil.copytree(built, copy / "outputs")
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "explain", "mex-cocaine-seized-1999"],
        cwd=copy,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "GIT_CEILING_DIRECTORIES": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "not a git checkout" in proc.stdout
    assert "[«34.6» tons of cocaine]" in proc.stdout


def test_build_record_names_inputs_code_and_library_versions(built: Path):
    package = json.loads((built / "datapackage.json").read_text())
    record = package["build"]
    inputs = {i["path"]: i["sha256"] for i in record["inputs"]}
    for name in ("source.txt", "source.yaml", "annotations.yaml", "corrections.yaml"):
        path = RAW / SOURCE_ID / name
        assert inputs[f"raw/{SOURCE_ID}/{name}"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert set(record["libraries"]) == {"dagster", "pandas", "pandera", "pyarrow", "frictionless"}
    assert record["code"]["git_commit"] and len(record["code"]["code_sha256"]) == 64
    assert isinstance(record["code"]["git_dirty"], bool)


def test_corrections_appear_in_the_chain(explain):
    code, out, _ = explain("mex-cocaine-seized-2000-h1")
    assert '"15. 5" is read as "15.5" (correction stray-space-in-cocaine-tons-2000)' in out
    assert "published value 15500 kilograms = parsed value × factor" in out
    code, out, _ = explain("--json", "mex-heroin-seized-1999")
    chain = json.loads(out)
    assert [c["correction_id"] for c in chain["corrections"]] == ["heroine-for-heroin"]
    assert chain["corrections"][0]["where"].startswith("raw/ondcp-usmx-ch3/corrections.yaml, line")


def test_explain_names_the_commit_that_last_changed_the_annotation(tmp_path, built):
    """In a git checkout, step 5 names the commit that last changed the annotation's line (its
    hash, date and subject); an uncommitted edit of that line is said to be one; exit 0."""
    repo = tmp_path / "repo"
    for part in ("pipeline", "raw", "schemas"):
        shutil.copytree(REPO_ROOT / part, repo / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(built, repo / "outputs")
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip

    def git(*args: str, date: str | None = None) -> str:
        extra = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {}
        done = subprocess.run(["git", *args], cwd=repo, env={**env, **extra},
                              capture_output=True, text=True, check=True)  # fmt: skip
        return done.stdout.strip()

    def explain_there() -> tuple[str, dict]:
        runs = [
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pipeline",
                    "explain",
                    *json_flag,
                    "mex-cocaine-seized-1999",
                ],
                cwd=repo,
                env=env,
                capture_output=True,
                text=True,
            )  # fmt: skip
            for json_flag in ([], ["--json"])
        ]
        assert [r.returncode for r in runs] == [0, 0], runs[0].stderr + runs[1].stderr
        return runs[0].stdout, json.loads(runs[1].stdout)["annotation"]

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "Annotations as first published", date="2001-02-03T04:05:06Z")
    first = git("rev-parse", "HEAD")
    out, annotation = explain_there()
    assert (
        f"last changed in commit {first[:12]} on 2001-02-03: Annotations as first published" in out
    )
    assert annotation["last_change"]["commit"] == first

    path = repo / annotation["file"]
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[annotation["line"] - 1] += "  # checked against the ministry's table"
    path.write_text("\n".join(lines), encoding="utf-8")
    out, annotation = explain_there()
    assert "the line has uncommitted changes" in out
    assert annotation["last_change"]["commit"] is None

    git("commit", "-qam", "Note on the cocaine figure", date="2002-03-04T05:06:07Z")
    second = git("rev-parse", "HEAD")
    out, annotation = explain_there()
    assert f"last changed in commit {second[:12]} on 2002-03-04: Note on the cocaine figure" in out
    assert annotation["last_change"]["commit"] == second != first
