"""The one exception a maintainer meets: a data mistake, told as a sentence.

A `BuildError` names the file, the line, the record, what is wrong and what to do. The CLI
prints its message alone (no traceback) and exits non-zero; Dagster shows it as the failure
of the step that found it.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def display_path(path: Path | str) -> str:
    """A path as a person would type it: relative to the repository when inside it."""
    path = Path(path)
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


class BuildError(Exception):
    """A bad input that stops the build; its message is one sentence, followed by one line
    per item when several records share the problem (`details`)."""

    def __init__(
        self,
        file: Path | str,
        problem: str,
        action: str,
        line: int | None = None,
        record: str | None = None,
        details: list[str] | None = None,
    ) -> None:
        self.file = display_path(file)
        self.line = line
        self.record = record
        self.problem = problem
        self.action = action
        where = self.file + (f", line {line}" if line else "")
        who = f", record '{record}'" if record else ""
        self.details = details or []
        listing = "".join(f"\n  - {d}" for d in self.details)
        super().__init__(f"{where}{who}: {problem}; {action}.{listing}")

    def __reduce__(self) -> tuple:
        # pickled as it stands (a worker process raises it, the build reports it)
        return (_restore, (self.args, self.__dict__))


def _restore(args: tuple, state: dict) -> BuildError:
    error = BuildError.__new__(BuildError)
    error.args = args
    error.__dict__.update(state)
    return error
