"""YAML loading that remembers where each record was written.

Every mapping loaded here carries its 1-based line in the file under the key `__line__`,
so an error or a provenance row can point a person at the exact annotation. Malformed
YAML becomes a `BuildError` naming the file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline.core.errors import BuildError

LINE_KEY = "__line__"


# libyaml's parser when PyYAML was built with it, else pure Python.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_Base):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        duplicates = sorted({k for k in keys if keys.count(k) > 1}, key=str)
        if duplicates:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{duplicates[0]}'", node.start_mark
            )
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE_KEY] = node.start_mark.line + 1
        return mapping


def load_yaml(path: Path) -> Any:
    """Parse a YAML file; mappings get `__line__`. Raises BuildError on malformed YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise BuildError(path, "the file is missing", "create it or restore it from git") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = f"the YAML is malformed ({exc.problem or exc.context})"
        raise BuildError(path, problem, "fix the YAML syntax there", line=line) from exc
    except yaml.YAMLError as exc:
        raise BuildError(path, f"the YAML is malformed ({exc})", "fix the YAML syntax") from exc


def strip_lines(value: Any) -> Any:
    """The same data without the `__line__` bookkeeping keys."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != LINE_KEY}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value
