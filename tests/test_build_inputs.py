"""The build record covers every input: `build.inputs` of datapackage.json lists every file of
each source folder under raw/ and of schemas/ with its sha256, and changing any one of them
(source text, sidecar, annotations, corrections, each schema file) changes that entry."""

from __future__ import annotations

import json
from pathlib import Path

from test_code_version import copy_project, run_in

from conftest import SOURCE_ID, tree_digest

# builds the copy once per edit in one process; prints build.inputs after each build
BUILDS = """
import hashlib, json, re, sys
from pathlib import Path
from pipeline.cli.main import build
project, outputs = Path.cwd(), Path(sys.argv[1])
for n, (name, text) in enumerate([(None, None)] + json.loads(sys.argv[2])):
    if name:
        path = project / name
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    if name and name.endswith("source.txt"):  # a corrected text: its sha256 recorded
        sidecar = path.with_name("source.yaml")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        sidecar.write_text(re.sub(r"sha256: \\w+", f"sha256: {digest}", sidecar.read_text()))
    assert build(project / "raw", outputs / str(n)) == 0, name
    package = json.loads((outputs / str(n) / "datapackage.json").read_text(encoding="utf-8"))
    print(json.dumps(package["build"]["inputs"]))
"""


def test_every_input_file_is_recorded_and_each_change_shows(tmp_path: Path):
    project = copy_project(tmp_path / "project")
    source = f"raw/{SOURCE_ID}"
    edits = [(f"{source}/source.txt", "\n")]
    edits += [(f"{source}/{name}", "\n# an edit\n")
              for name in ("source.yaml", "annotations.yaml", "corrections.yaml")]  # fmt: skip
    edits += [(f"schemas/{p.name}", "\n# an edit\n") for p in sorted(project.glob("schemas/*"))]
    assert len(edits) >= 9
    (tmp_path / "dh").mkdir()
    env = {"DAGSTER_HOME": str(tmp_path / "dh"), "USMX_CACHE_DIR": str(tmp_path / "cache")}
    done = run_in(project, "-c", BUILDS, str(tmp_path / "out"), json.dumps(edits), env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("[")]
    assert len(records) == len(edits) + 1

    # every file of the source folder and of schemas/, in path order, as on disk at the end
    digests = {f"{folder}/{name}": sha for folder in (source, "schemas")
               for name, sha in tree_digest(project / folder).items()}  # fmt: skip
    expected = [{"path": path, "sha256": digests[path]} for path in sorted(digests)]
    assert records[-1] == expected
    assert [e["path"] for e in records[0]] == [e["path"] for e in expected]

    for (name, _), before, after in zip(edits, records[:-1], records[1:], strict=True):
        changed = {a["path"] for a, b in zip(after, before, strict=True) if a != b}
        also = {f"{source}/source.yaml"} if name.endswith("source.txt") else set()
        assert changed == {name} | also, name
