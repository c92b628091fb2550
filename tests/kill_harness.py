"""A build (or a recovery) that SIGKILLs itself at the Nth change it makes to the filesystem
once the package has validated, until the swap returns: for tests/test_atomic_publish.py.

Test-side fault injection, so that no kill point has to live in the code of the swap: every
filesystem primitive a swap or a recovery can use (rename, replace, unlink, rmdir, mkdir,
copyfile, the atomic exchange, and the composite rmtree and copytree, whose inner steps are
counted too) is wrapped, numbered from 1 and, with --kill N, the process kills itself just
before step N. With --record FILE it runs to the end and writes the steps it took as JSON
([name, depth] each; depth 0 is a step of the swap itself), so a test can choose kill points
before each step and midway through each composite one.

    python tests/kill_harness.py build  (--kill N | --record FILE) [--no-exchange] -- ARGS
    python tests/kill_harness.py recover (--kill N | --record FILE) OUTPUTS
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.publish import swap  # noqa: E402

state = {"armed": False, "depth": 0, "steps": []}


def _step(name: str) -> None:
    if not state["armed"]:
        return
    state["steps"].append([name, state["depth"]])
    if len(state["steps"]) == ARGS.kill:
        os.kill(os.getpid(), signal.SIGKILL)


def _wrap(owner, name: str, composite: bool = False) -> None:
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        _step(name)
        state["depth"] += composite
        try:
            return original(*args, **kwargs)
        finally:
            state["depth"] -= composite

    setattr(owner, name, wrapper)


def main() -> int:
    for name in ("rename", "replace", "unlink", "remove", "rmdir", "mkdir"):
        _wrap(os, name)
    _wrap(shutil, "copyfile")
    _wrap(shutil, "rmtree", composite=True)
    _wrap(shutil, "copytree", composite=True)
    if ARGS.no_exchange:
        swap._exchange = lambda a, b: False  # a system without renameat2's exchange
    _wrap(swap, "_exchange")
    try:
        if ARGS.mode == "recover":
            state["armed"] = True
            swap.recover(Path(ARGS.outputs))
            return 0
        checkpoint = swap.checkpoint

        def arming(point: str, staging: Path | None = None) -> None:
            checkpoint(point, staging)
            if point == "validated":
                state["armed"] = True

        swap.checkpoint = arming
        swap_in = swap.swap

        def disarming(staging: Path, outputs: Path) -> None:
            swap_in(staging, outputs)
            state["armed"] = False  # what follows (Dagster's own records) is not the swap

        swap.swap = disarming
        from pipeline.cli.main import main as pipeline_main

        return pipeline_main(ARGS.rest)
    finally:
        if ARGS.record:
            Path(ARGS.record).write_text(json.dumps(state["steps"]), encoding="utf-8")


parser = argparse.ArgumentParser()
parser.add_argument("mode", choices=("build", "recover"))
parser.add_argument("--kill", type=int, default=0)
parser.add_argument("--record")
parser.add_argument("--no-exchange", action="store_true")
parser.add_argument("outputs", nargs="?")
_split = sys.argv.index("--") if "--" in sys.argv else len(sys.argv)
ARGS = parser.parse_intermixed_args(sys.argv[1:_split])
ARGS.rest = sys.argv[_split + 1 :]

if __name__ == "__main__":
    sys.exit(main())
