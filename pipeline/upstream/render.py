"""The upstream report as a person reads it: plain text (the command line) and Markdown (the
Dagster UI). `--json` prints `Report.to_dict()`; all three say the same things.

Each witness's first line is `<source_id> <witness>: <status>: <sentence>`; a witness that
differs is followed by each passage (its line in source.txt and the word diff) and the
records it touches; the last line counts the witnesses and gives the exit code.
"""

from __future__ import annotations

from pipeline.upstream.check import Report, WitnessReport


def witness_line(w: WitnessReport) -> str:
    return f"{w.source_id} {w.witness}: {w.status}: {w.sentence}"


def record_line(record: dict) -> str:
    what = "; ".join(record["changes"]) or "unchanged"
    return (
        f"{record['record_type']} {record['record_id']} (mention {record['mention']}, "
        f'{record["where"]} the passage): {what}; quote "{record["quote"]}"'
    )


def witness_text(w: WitnessReport) -> list[str]:
    lines = [witness_line(w)]
    for passage in w.passages:
        lines.append(f"  line {passage['line']}: {passage['diff']}")
        lines += [f"    {record_line(r)}" for r in passage["records"]]
    return lines


def summary(report: Report) -> str:
    n, m = len(report.witnesses), len(report.sources)
    counts = ", ".join(f"{report.count(s)} {s}" for s in ("same", "differs", "unreachable"))
    line = f"{n} witness{'es' * (n != 1)} of {m} source{'s' * (m != 1)}: {counts}; "
    line += f"exit {report.exit_code}."
    if report.count("differs"):
        line += (
            " Save the texts with --save DIR and follow README's corrected-edition steps "
            "(Correcting a source)."
        )
    return line


def as_text(report: Report) -> str:
    lines = [line for w in report.witnesses for line in witness_text(w)]
    return "\n".join([*lines, summary(report)])


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def as_markdown(report: Report) -> str:
    """A table of the witnesses per source, then each passage that differs."""
    out = []
    for source in report.sources:
        out += [
            f"### {source.source_id}",
            "",
            f"`{source.text_path}`, sha256 `{source.sha256[:16]}…`",
            "",
            "| witness | status | URL | what was found |",
            "| --- | --- | --- | --- |",
        ]
        for w in source.witnesses:
            url = _cell(w.final_url or w.url)
            out.append(f"| {w.witness} | **{w.status}** | {url} | {_cell(w.sentence)} |")
        for w in source.witnesses:
            if not w.passages:
                continue
            out += ["", f"#### {w.witness}: what differs", ""]
            for passage in w.passages:
                out += [f"Line {passage['line']}:", "", "```", passage["diff"], "```", ""]
                out += [f"- {_cell(record_line(r))}" for r in passage["records"]]
                out.append("")
        out.append("")
    out.append(summary(report))
    return "\n".join(out)
