"""The one loader of the project's YAML files, and strict UTF-8 text.

Every YAML file of raw/ and schemas/ is read here, as a restricted YAML that is refused before
anything is built from it when it holds what the data never needs: an anchor (`&`), an alias
(`*`), an explicit tag (`!`), a top level that is not a mapping of keys, or more than
`MAX_YAML_BYTES` bytes (docs/annotating.md). So a "billion laughs" document is refused at its
first `&`, in milliseconds and without growing memory. A value that is no real date or
number is refused as it is read, with its key and record.

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
MAX_YAML_BYTES = 2 * 1024 * 1024  # 2 MiB a file: 25 times the chapter's annotations.yaml

# libyaml's parser when PyYAML was built with it, else pure Python.
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NODE_EVENTS = (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)


class _BadValue(Exception):
    """A value that the YAML resolver takes for a date or number that does not exist."""

    def __init__(self, node: yaml.Node, key: str, record: str | None, reason: str) -> None:
        super().__init__(reason)
        self.line, self.key, self.record = node.start_mark.line + 1, key, record
        self.value, self.reason = node.value, reason


class Items(list):
    """A YAML list that remembers the line of each item (for an item that is not a mapping)."""

    lines: list[int]


def items(doc: dict, key: str) -> list[tuple[Any, int | None]]:
    """(item, its line) for each item of the list `doc[key]` (none when it is absent)."""
    value = doc.get(key) or []
    if not isinstance(value, list):
        return [(value, doc.get(LINE_KEY))]  # not a list: its type check names it
    return list(zip(value, getattr(value, "lines", [None] * len(value)), strict=True))


_STR, _SEQ, _MAP = (f"tag:yaml.org,2002:{kind}" for kind in ("str", "seq", "map"))


class _LineLoader(_Base):
    """libyaml composes the nodes; they are built here depth first, in document order: text
    as it is, a list as `Items` with its lines, a mapping with its `__line__`, any other value
    (a number, a date, true, null) by PyYAML's own constructor for its resolved tag. PyYAML's
    generic machinery (kept objects for aliases, deferred generators) has nothing to do in a
    document without anchors and aliases, and cost a third of the time (docs/performance.md)."""

    def build(self, node: yaml.Node) -> Any:
        tag = node.tag
        if tag == _STR and isinstance(node, yaml.ScalarNode):
            return node.value
        if tag == _MAP and isinstance(node, yaml.MappingNode):
            return self.build_mapping(node)
        if tag == _SEQ and isinstance(node, yaml.SequenceNode):
            found = Items(self.build(item) for item in node.value)
            found.lines = [item.start_mark.line + 1 for item in node.value]
            return found
        constructor = self.yaml_constructors.get(tag)
        if constructor is not None and isinstance(node, yaml.ScalarNode):
            try:
                return constructor(self, node)
            except (ValueError, OverflowError) as exc:  # e.g. 2000-02-30, month 13
                raise _BadValue(node, "", None, str(exc)) from exc  # its key: build_mapping
        return self.construct_object(node, deep=True)  # what PyYAML itself would make of it

    def build_mapping(self, node: yaml.MappingNode) -> dict[str, Any]:
        keys = [self.build(k) for k, _ in node.value]
        duplicates = sorted({k for k in keys if keys.count(k) > 1}, key=str)
        if duplicates:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{duplicates[0]}'", node.start_mark
            )
        record = next(
            (v.value for k, v in node.value if k.value == "id" and isinstance(v, yaml.ScalarNode)),
            None,
        )
        mapping: dict[Any, Any] = {}
        for key, (_, value_node) in zip(keys, node.value, strict=True):
            try:
                mapping[key] = self.build(value_node)
            except _BadValue as exc:  # a value of this key, or an item of its list
                if not exc.key:
                    exc.key, exc.record = str(key), record
                raise
            except TypeError as exc:  # a mapping or list used as a key
                raise yaml.constructor.ConstructorError(
                    None, None, "a key is not a plain value", value_node.start_mark
                ) from exc
        mapping[LINE_KEY] = node.start_mark.line + 1
        return mapping

    def load(self) -> Any:
        try:
            node = self.get_single_node()
            return None if node is None else self.build(node)
        finally:
            self.dispose()


def decode_utf8(path: Path, data: bytes) -> str:
    """`data` decoded as strict UTF-8; an invalid byte is a BuildError with its line, column
    and byte offset."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8")) + 1
        raise BuildError(
            path,
            f"column {column} (byte {exc.start}) holds 0x{data[exc.start]:02x}, which is not "
            f"UTF-8 ({exc.reason})",
            "save the file as UTF-8 (retype the character there)",
            line=line,
        ) from None


def read_bytes(path: Path, what: str = "the file") -> bytes:
    """The bytes of a regular file; a missing file, a folder or a link is a BuildError."""
    if path.is_symlink():
        raise BuildError(path, f"{what} is a symbolic link, which is never followed",
                         "replace the link by the file itself")  # fmt: skip
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BuildError(path, f"{what} is missing", "create it or restore it from git") from None
    except OSError as exc:
        raise BuildError(path, f"{what} cannot be read ({exc.strerror})",
                         "make it a readable file") from None  # fmt: skip


def load_yaml(path: Path) -> Any:
    """Parse a restricted YAML file (see the module's docstring); mappings get `__line__`.
    An empty file is an empty mapping. Raises BuildError on anything refused."""
    data = read_bytes(path)
    if len(data) > MAX_YAML_BYTES:
        raise BuildError(
            path, f"the file has {len(data):,} bytes, more than the {MAX_YAML_BYTES:,} a YAML "
            "file of this project may have", "split it or remove what is not annotation",
        )  # fmt: skip
    text = decode_utf8(path, data)
    try:
        _refuse_unsafe(path, text)
        doc = _LineLoader(text).load()  # a SafeLoader's parser and constructors
    except _BadValue as exc:
        raise BuildError(
            path, f"its {exc.key} '{exc.value}' is not a real date or number ({exc.reason})",
            f"write {exc.key} as it is meant (a date as YYYY-MM-DD, one that exists)",
            line=exc.line, record=exc.record,
        ) from None  # fmt: skip
    except yaml.MarkedYAMLError as exc:
        line, problem = _where(text, exc)
        problem = f"the YAML is malformed ({problem})"
        raise BuildError(path, problem, "fix the YAML syntax there", line=line) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (a control code)
        line = text.count("\n", 0, exc.position) + 1
        problem = f"it holds the character #x{exc.character:04x}, which YAML does not allow"
        raise BuildError(path, problem, "remove it", line=line) from None
    except yaml.YAMLError as exc:
        raise BuildError(path, f"the YAML is malformed ({exc})", "fix the YAML syntax") from None
    return {LINE_KEY: 1} if doc is None else doc


def _refuse_unsafe(path: Path, text: str) -> None:
    """Stop at the first anchor, alias or explicit tag, or a top level that is not a mapping,
    before any of the document is built: a parse of events, in constant memory. A text without
    "&", "*" and "!" can hold no anchor, alias or tag, so only its first node is looked at."""
    top_level, marked = True, any(sign in text for sign in "&*!")
    for event in yaml.parse(text, Loader=_Base):
        if not isinstance(event, (*_NODE_EVENTS, yaml.AliasEvent)):
            continue
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or event.anchor is not None:
            sign = "an alias (*" if isinstance(event, yaml.AliasEvent) else "an anchor (&"
            raise BuildError(
                path, f"it uses {sign}{event.anchor}), which annotations never need",
                "write the value out in full where it is used", line=line,
            )  # fmt: skip
        if event.tag is not None:
            raise BuildError(
                path, f"it uses the explicit tag {event.tag}, which annotations never need",
                "remove the tag (quote the value if it must stay text)", line=line,
            )  # fmt: skip
        if top_level and not isinstance(event, yaml.MappingStartEvent):
            kind = "a list" if isinstance(event, yaml.SequenceStartEvent) else "a single value"
            raise BuildError(
                path, f"the top level is {kind}, but it must be a mapping of keys",
                "write it as key: value lines, starting at the first column", line=line,
            )  # fmt: skip
        if not marked:
            return
        top_level = False


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
        return [strip_lines(v) for v in value]  # a plain list
    return value
