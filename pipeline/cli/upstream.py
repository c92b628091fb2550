"""`python -m pipeline upstream [SOURCE_ID ...] [--json] [--save DIR]`: is each source still
printed upstream as its snapshot says?

Prints one report line per witness as it is checked (the whole report at the end with
`--json`), writes each fetched witness's text to `DIR/<source_id>/<witness>.txt` with
`--save`, and keeps ETags and the last report in the state folder (`--state`). Exit 0: every
witness reached is the same; 3: one differs; 4: none could be reached; 1: a bad input; 2: a
bad argument. It never writes into raw/, outputs/ or git.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from pipeline.core.errors import REPO_ROOT, display_path

TIMEOUT_ENV = "USMX_UPSTREAM_TIMEOUT"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source_ids", nargs="*", metavar="SOURCE_ID", help="default: every source")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--save", type=Path, metavar="DIR", help="write each witness's text here")
    parser.add_argument(
        "--raw", type=Path, help="raw/ folder (default: $USMX_RAW_DIR or the project's)"
    )
    parser.add_argument(
        "--state", type=Path, metavar="DIR",
        help="state kept between checks (default: $USMX_UPSTREAM_DIR or .upstream/)",
    )  # fmt: skip
    parser.add_argument("--no-state", action="store_true", help="neither read nor write the state")
    parser.add_argument(
        "--timeout", type=_positive, metavar="SECONDS",
        help=f"to connect and for each read (default: ${TIMEOUT_ENV} or 30)",
    )  # fmt: skip
    parser.add_argument("--max-bytes", type=int, metavar="N", help="size cap of one response")
    parser.set_defaults(parser=parser)


def _positive(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number of seconds")
    return seconds


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def upstream_main(args: argparse.Namespace) -> int:
    from pipeline.core.sources import RAW_DIR
    from pipeline.upstream.check import UnknownSource, check
    from pipeline.upstream.fetch import FetchSettings
    from pipeline.upstream.render import summary, witness_text
    from pipeline.upstream.state import State, default_state_dir

    parser: argparse.ArgumentParser = args.parser
    raw = args.raw or Path(os.environ.get("USMX_RAW_DIR") or RAW_DIR)
    if args.save is not None:
        for folder in (raw, REPO_ROOT / "outputs", REPO_ROOT / ".git"):
            if _inside(args.save, folder):
                where = display_path(folder)
                parser.error(f"--save {args.save} is inside {where}, which the check never writes")
    settings = FetchSettings()
    timeout = args.timeout or float(os.environ.get(TIMEOUT_ENV) or 0) or settings.timeout
    settings = FetchSettings(
        timeout=timeout,
        deadline=max(settings.deadline, timeout),
        max_bytes=args.max_bytes or settings.max_bytes,
    )
    state = None if args.no_state else State(args.state or default_state_dir())

    def progress(result) -> None:
        if not args.json:
            print("\n".join(witness_text(result)), flush=True)

    try:
        report = check(raw, args.source_ids, settings, state, progress)
    except UnknownSource as exc:
        parser.error(str(exc))
    if args.save is not None:
        for w in report.witnesses:
            if w.text is not None:
                target = args.save / w.source_id / f"{w.witness}.txt"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(w.text, encoding="utf-8", newline="")
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(summary(report))
        if args.save is not None:
            saved = sum(w.text is not None for w in report.witnesses)
            texts = f"{saved} text{'s' * (saved != 1)}"
            print(f"Saved {texts} under {args.save}/<source_id>/<witness>.txt.")
    return report.exit_code
