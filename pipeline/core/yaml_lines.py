"""YAML loading that remembers where each record was written.

Every mapping loaded here carries its 1-based line in the file under the key `__line__`,
so an error or a provenance row can point a person at the exact annotation. Malformed
YAML becomes a `BuildError` naming the file and the line where the problem is.
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
        line, problem = _where(text, exc)
        problem = f"the YAML is malformed ({problem})"
        raise BuildError(path, problem, "fix the YAML syntax there", line=line) from exc
    except yaml.YAMLError as exc:
        raise BuildError(path, f"the YAML is malformed ({exc})", "fix the YAML syntax") from exc


def _where(text: str, exc: yaml.MarkedYAMLError) -> tuple[int | None, str]:
    """The line where the problem is, and what it is. A quote, key or flow collection left open
    is named where it opens (the error's context), not where the parser gives up. A quote that
    a later quote closes ends the parser just after that one: the line of its opening is named."""
    context, mark = exc.context or "", exc.problem_mark
    if exc.context_mark and context.startswith(("while scanning", "while parsing a flow")):
        return exc.context_mark.line + 1, exc.problem or context
    if not mark:
        return None, exc.problem or context
    last = None  # the last scalar before the problem
    try:
        for token in yaml.scan(text, Loader=_Base):
            if token.start_mark.index >= mark.index:
                break
            last = token if isinstance(token, yaml.ScalarToken) else last
    except yaml.YAMLError:
        pass
    if last and last.style in ("'", '"') and last.start_mark.line < last.end_mark.line:
        runs_on = f"a quote opened on this line runs on to line {mark.line + 1}"
        return last.start_mark.line + 1, runs_on
    return mark.line + 1, exc.problem or context


def strip_lines(value: Any) -> Any:
    """The same data without the `__line__` bookkeeping keys."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != LINE_KEY}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value
