"""The upstream check in Dagster: the asset `upstream_editions` in its own job
`upstream_check_job`, materialized by the schedule `nightly_upstream_check` (02:00 UTC, STOPPED
by default like the others), with a non-blocking check that fails when a witness differs.

The asset runs `python -m pipeline upstream` for every source (pipeline/upstream/check.py):
its materialization's metadata holds the report (a Markdown table per source and each
passage that differs) and the JSON report; nothing of it reaches outputs/, and it is not
part of `rebuild_job` or of the build (`python -m pipeline build` does not load it).
"""

# no `from __future__ import annotations`: Dagster reads the context's annotation at run time
import os
from pathlib import Path

import dagster as dg

from pipeline.cache.keys import code_version
from pipeline.defs.resources import Layout
from pipeline.defs.sources import raw_files
from pipeline.upstream.fetch import FetchSettings
from pipeline.upstream.state import DEFAULT_STATE_DIR, STATE_ENV

GROUP = "upstream"
CHECK_NAME = "every_witness_is_the_same"
UPSTREAM_CHECK = dg.AssetCheckSpec(
    CHECK_NAME,
    asset="upstream_editions",
    blocking=False,
    description="Fails (ERROR) when a witness of a source differs from its snapshot, and "
    "(WARN) when no witness could be reached.",
)


class UpstreamSettings(dg.ConfigurableResource):
    """Where the check keeps its state and how patient it is ($USMX_UPSTREAM_DIR,
    $USMX_UPSTREAM_TIMEOUT); tests shorten the timeout."""

    state_dir: str = str(DEFAULT_STATE_DIR)
    timeout_seconds: float = FetchSettings.timeout
    max_bytes: int = FetchSettings.max_bytes

    def fetch_settings(self) -> FetchSettings:
        deadline = max(FetchSettings.deadline, self.timeout_seconds)
        return FetchSettings(self.timeout_seconds, deadline, max_bytes=self.max_bytes)


def upstream_from_environment() -> UpstreamSettings:
    found = {}
    if os.environ.get(STATE_ENV):
        found["state_dir"] = os.environ[STATE_ENV]
    if os.environ.get("USMX_UPSTREAM_TIMEOUT"):
        found["timeout_seconds"] = float(os.environ["USMX_UPSTREAM_TIMEOUT"])
    return UpstreamSettings(**found)


@dg.asset(
    group_name=GROUP,
    deps=[raw_files],
    code_version=code_version(),
    check_specs=[UPSTREAM_CHECK],
    description="Every witness of every source (source.yaml's url, archived_url, "
    "report_pdf_url) fetched and compared with raw/<source_id>/source.txt: same, differs (the "
    "passages and the records they touch) or unreachable. Never part of the build.",
)
def upstream_editions(
    context: dg.AssetExecutionContext, layout: Layout, upstream: UpstreamSettings
) -> dg.MaterializeResult:
    from pipeline.upstream.check import check
    from pipeline.upstream.render import as_markdown, witness_line
    from pipeline.upstream.state import State

    report = check(
        Path(layout.raw_dir), [], upstream.fetch_settings(), State(Path(upstream.state_dir))
    )
    for witness in report.witnesses:
        context.log.info(witness_line(witness))
    counts = {s: report.count(s) for s in ("same", "differs", "unreachable")}
    if counts["differs"]:
        passed, severity = False, dg.AssetCheckSeverity.ERROR
    elif report.witnesses and not counts["same"]:
        passed, severity = False, dg.AssetCheckSeverity.WARN
    else:
        passed, severity = True, dg.AssetCheckSeverity.ERROR
    differing = [witness_line(w) for w in report.witnesses if w.status == "differs"]
    check_result = dg.AssetCheckResult(
        check_name=CHECK_NAME,
        passed=passed,
        severity=severity,
        metadata={
            **{k: dg.MetadataValue.int(v) for k, v in counts.items()},
            "first_problem": dg.MetadataValue.text(
                differing[0] if differing else ("no witness reached" if not passed else "")
            ),
        },
    )
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.md(as_markdown(report)),
            "exit_code": dg.MetadataValue.int(report.exit_code),
            **{k: dg.MetadataValue.int(v) for k, v in counts.items()},
            "json": dg.MetadataValue.json(report.to_dict()),
        },
        check_results=[check_result],
    )


upstream_check_job = dg.define_asset_job(
    "upstream_check_job",
    selection=dg.AssetSelection.assets(upstream_editions),
    executor_def=dg.in_process_executor,
    description="Fetch every witness of every source and compare it with its snapshot, as "
    "`python -m pipeline upstream`; writes nothing under raw/ or outputs/.",
)


@dg.schedule(
    job=upstream_check_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Checks every source upstream at 02:00 UTC, so the morning's report says what "
    "changed at the publisher.",
)
def nightly_upstream_check(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(tags={"usmx/trigger": "nightly upstream check"})
