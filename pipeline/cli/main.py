"""The command line: `python -m pipeline build | watch | explain | reanchor | upstream | ui`
(`usmx-data`).

Arguments and dispatch only; `ui` starts `dagster dev` on the project's instance.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pipeline.cli import upstream
from pipeline.cli.runner import build, ensure_dagster_home
from pipeline.core.errors import BuildError

DESCRIPTION = (
    "Build the dataset, rebuild it on every change, explain a number, re-anchor quotes after "
    "a corrected edition, check the sources upstream, open the UI."
)


def ui() -> int:
    """`dagster dev` on the project's instance, run by this Python (the venv may be off PATH)."""
    ensure_dagster_home()
    os.execv(sys.executable, [sys.executable, "-m", "dagster", "dev", "-m", "pipeline.definitions"])


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build outputs/ from raw/")
    b.add_argument("--raw", type=Path, help="raw/ folder to read (default: the project's)")
    b.add_argument("--outputs", type=Path, help="outputs/ folder to write (default: the project's)")
    b.add_argument("--verbose", action="store_true", help="print Dagster's log of the run")
    w = sub.add_parser("watch", help="a build service: build, then rebuild whenever raw/ changes")
    w.add_argument("--raw", type=Path, help="raw/ folder to watch (default: the project's)")
    w.add_argument("--outputs", type=Path, help="outputs/ folder to write (default: the project's)")
    w.add_argument("--max-builds", type=int, help="stop after this many builds (for scripts)")
    r = sub.add_parser("reanchor", help="after a corrected edition, fix quotes that moved slightly")
    r.add_argument("source_id", help="the source whose source.txt was replaced")
    r.add_argument("--raw", type=Path, help="raw/ folder (default: $USMX_RAW_DIR or the project's)")
    r.add_argument("--outputs", type=Path, help="published outputs/ (where quotes were last found)")
    r.add_argument("--dry-run", action="store_true", help="print the diff, write nothing")
    upstream.add_arguments(
        sub.add_parser("upstream", help="fetch every witness of the sources and compare it")
    )
    sub.add_parser("ui", help="open the Dagster UI (dagster dev) on the project's instance")
    e = sub.add_parser("explain", help="the lineage of one published record, top to bottom")
    e.add_argument("record_id", nargs="?", help="a figure, event, actor or correction id")
    e.add_argument("--value", type=float, help="list the figures with this value")
    e.add_argument("--search", help="list the records whose id, words or quote contain this")
    e.add_argument("--json", action="store_true", help="print the chain (or error) as JSON")
    e.add_argument("--outputs", type=Path, help="published outputs/ to read")
    e.add_argument("--raw", type=Path, help="raw/ to read")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "build":
            return build(args.raw, args.outputs, args.verbose)
        if args.command == "watch":
            from pipeline.cli.watch import watch

            return watch(args.raw, args.outputs, args.max_builds)
        if args.command == "explain":
            from pipeline.cli.explain import explain_main

            return explain_main(args)
        if args.command == "upstream":
            return upstream.upstream_main(args)
        if args.command == "reanchor":
            from pipeline.cli.reanchor import reanchor_main

            return reanchor_main(args)
        return ui()
    except BuildError as exc:  # raised before Dagster starts, e.g. a missing schema file
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted; outputs/ was left as the last complete build left it.", file=sys.stderr)
        return 130
