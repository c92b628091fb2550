"""README's test command prints the seed of its shuffled order first, even under -q, and that
seed repeats the order: a failure that depends on the order can be run again."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[1]


def collect(*extra: str) -> tuple[str, list[str]]:
    """The line `dev.py test` prints about the order (or "") and the tests it collects."""
    run = subprocess.run(
        [sys.executable, "dev.py", "test", "-q", "-p", "no:xdist", "--collect-only",
         "tests/test_numerals.py", "tests/test_periods.py", *extra],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    lines = run.stdout.splitlines()
    said = [line for line in lines if line.startswith("Test order")]
    assert len(said) <= 1 and (not said or lines.index(said[0]) < 2), lines[:3]
    return (said or [""])[0], [line for line in lines if "::" in line]


def test_the_printed_seed_repeats_the_order():
    first, order = collect()
    match = re.fullmatch(
        r"Test order: --randomly-seed=(\d+) \(repeat: python3 dev\.py test --randomly-seed=\1\)",
        first,
    )
    assert match, first
    again_first, again = collect(f"--randomly-seed={match[1]}")
    assert again_first == "", again_first  # the caller's seed, not a new one
    assert again == order and len(order) > 20
    _, other = collect("--randomly-seed=" + str(int(match[1]) + 1))
    assert other != order and sorted(other) == sorted(order)
