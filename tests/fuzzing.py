"""Mutations of the real raw/ files, for the property "a bad input is one sentence".

A `Mutation` is small and readable (a file, an operation, where, what), so that every input
that ever failed is kept as an explicit `@example` of the property test
(tests/test_fuzz_inputs.py) and replayed by the long campaign (benchmarks/fuzz.py).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml
from hypothesis import strategies as st

from pipeline.core.entry_keys import KEYS

SOURCE_ID = "ondcp-usmx-ch3"
FILES = ("annotations.yaml", "corrections.yaml", "source.yaml", "source.txt")
OPERATIONS = ("flip", "insert", "delete_line", "duplicate_line", "swap_lines", "truncate",
              "value", "key")  # fmt: skip
KNOWN_KEYS = sorted({k for keys in KEYS.values() for k in (*keys.required, *keys.optional)})
KEY_LINE = re.compile(rb"^(\s*(?:- )?)([A-Za-z_]+):(.*)$")
TRICKY = [b"&a ", b"*a", b"!!str ", b"! ", b"\xff", b"\xc3", b"\r\n", b"\r", b"\x00", b"\t",
          b"'", b'"', b"{", b"[", b"- ", b": ", b"#", b"%YAML 1.1\n", b"---\n", b"...\n",
          b"\xef\xbb\xbf", b"\\u0000", b"2000-02-30", b"1e999", b"0x1F", b".nan", b"~"]  # fmt: skip


@dataclass(frozen=True)
class Mutation:
    file: str
    operation: str
    at: int = 0  # a byte offset or a line index, taken modulo the file's size
    other: int = 0  # the second line of a swap
    payload: bytes = b""

    def apply(self, data: bytes) -> bytes:
        lines = data.splitlines(keepends=True) or [b""]
        i, j = self.at % len(lines), self.other % len(lines)
        at = self.at % (len(data) + 1)
        if self.operation == "flip":
            at = min(at, len(data) - 1)
            return data[:at] + bytes([data[at] ^ (self.payload[:1] or b"\x01")[0]]) + data[at + 1 :]
        if self.operation == "insert":
            return data[:at] + self.payload + data[at:]
        if self.operation == "truncate":
            return data[:at]
        if self.operation == "delete_line":
            return b"".join(lines[:i] + lines[i + 1 :])
        if self.operation == "duplicate_line":
            return b"".join(lines[: i + 1] + lines[i:])
        if self.operation == "swap_lines":
            lines[i], lines[j] = lines[j], lines[i]
            return b"".join(lines)
        keyed = [n for n, line in enumerate(lines) if KEY_LINE.match(line.rstrip(b"\r\n"))]
        if not keyed:
            return data
        n = keyed[self.at % len(keyed)]
        indent, key, _ = KEY_LINE.match(lines[n].rstrip(b"\r\n")).groups()
        if self.operation == "value":  # a random scalar, list or mapping for a known key
            lines[n] = indent + key + b": " + self.payload + b"\n"
        else:  # "key": another known key for the value
            lines[n] = indent + self.payload + b":" + lines[n][len(indent) + len(key) + 1 :]
        return b"".join(lines)


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(allow_nan=True),
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)), st.text(max_size=12),
    st.sampled_from(["1995", "34.6", "yes", "null", "2000-02-30", "*x", "&x", "!!str", "1,472"]),
)  # fmt: skip
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _flow(value: object) -> bytes:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6)
    return text.removesuffix("\n...\n").strip().replace("\n", " ").encode("utf-8")


@st.composite
def mutations(draw: st.DrawFn) -> Mutation:
    file = draw(st.sampled_from(FILES))
    operation = draw(st.sampled_from(OPERATIONS))
    at, other = draw(st.integers(0, 2**31)), draw(st.integers(0, 2**31))
    payload = b""
    if operation == "flip":
        payload = bytes([draw(st.integers(1, 255))])
    elif operation == "insert":
        payload = draw(st.sampled_from(TRICKY) | st.binary(min_size=1, max_size=4))
    elif operation == "value":
        payload = _flow(draw(_values))
    elif operation == "key":
        payload = draw(st.sampled_from(KNOWN_KEYS)).encode()
    return Mutation(file, operation, at, other, payload)


def mutated_raw(raw: Path, into: Path, mutation: Mutation) -> Path:
    """A copy of `raw` (at `into`, replaced) with one file mutated."""
    shutil.rmtree(into, ignore_errors=True)
    shutil.copytree(raw, into)
    path = into / SOURCE_ID / mutation.file
    data = path.read_bytes() if path.exists() else b""
    path.write_bytes(mutation.apply(data))
    return into


def read_raw(raw: Path) -> None:
    """Everything the build reads from raw/, in this process: the folders, the snapshots, the
    annotations anchored, the rows typed and checked. Returns, or raises a BuildError."""
    from pipeline.cache.rows import rows_key
    from pipeline.core.annotations import anchor_annotations
    from pipeline.core.records import make_rows
    from pipeline.core.sources import load_snapshot, raw_file_hashes, source_folders

    hashes = raw_file_hashes(raw)
    snapshots = [load_snapshot(folder, hashes) for folder in source_folders(raw, hashes)]
    anchored = [anchor_annotations(s) for s in snapshots]
    make_rows(anchored, snapshots, [rows_key(s) for s in snapshots])
