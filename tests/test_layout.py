"""The code a newcomer reads: no library's private modules, every module says what belongs
in it, and the build machinery stays out of the domain code."""

from __future__ import annotations

import ast
from pathlib import Path

from pipeline.core.errors import REPO_ROOT

PIPELINE = REPO_ROOT / "pipeline"
MODULES = sorted(PIPELINE.rglob("*.py"))


def test_nothing_imports_a_private_module_of_dagster_or_any_library():
    """No `from dagster._core...`, `import x.y._z` or `from dagster import _check`."""
    found = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            found += [
                f"{path.relative_to(REPO_ROOT)}: {name}"
                for name in names
                if any(part.startswith("_") for part in name.split(".")[1:])
                and name.split(".")[0] != "pipeline"
            ]
    assert found == []


def test_every_module_opens_with_a_docstring():
    missing = [
        str(path.relative_to(REPO_ROOT))
        for path in MODULES
        if path.name != "__main__.py" and not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert missing == []


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_domain_code_imports_neither_dagster_nor_the_machinery():
    core = sorted((PIPELINE / "core").glob("*.py"))
    bad = {
        str(path.relative_to(REPO_ROOT)): sorted(
            m
            for m in _imports(path)
            if m.split(".")[0] == "dagster"
            or m.startswith(("pipeline.cache", "pipeline.defs", "pipeline.publish", "pipeline.cli"))
        )
        for path in core
    }
    assert {k: v for k, v in bad.items() if v} == {}
