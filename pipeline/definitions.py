"""The one Dagster `Definitions` of the project (`dagster dev -m pipeline.definitions`).

Runs started from the UI, the sensor or the schedule hand their outputs from step to step
through Dagster's filesystem IO manager (the instance's storage/ folder); `python -m
pipeline build` and `watch` run every step in one process and pass `dg.mem_io_manager`.

`defs`, which Dagster loads, also carries the upstream check (`upstream_editions`, its job
`upstream_check_job` and the schedule `nightly_upstream_check`, pipeline/defs/upstream.py);
the build's definitions (`build_definitions()`, what `build`, `watch` and the tests run) leave
it out, so building never fetches anything, and `rebuild_job` never selects it.
"""

from __future__ import annotations

import dagster as dg

from pipeline.defs import ALL_ASSETS
from pipeline.defs.automation import nightly_rebuild, raw_files_changed, rebuild_job
from pipeline.defs.resources import Layout, layout_from_environment
from pipeline.defs.upstream import (
    UpstreamSettings,
    nightly_upstream_check,
    upstream_check_job,
    upstream_editions,
    upstream_from_environment,
)


def build_definitions(
    layout: Layout | None = None,
    io_manager: dg.IOManagerDefinition | None = None,
    upstream: UpstreamSettings | bool = False,
) -> dg.Definitions:
    """Assemble the definitions; tests pass a Layout pointing at temporary folders. With
    `upstream` (True, or its settings) they carry the upstream check too."""
    resources = {
        "layout": layout or layout_from_environment(),
        "io_manager": io_manager or dg.FilesystemIOManager(),
    }
    assets, jobs, schedules = list(ALL_ASSETS), [rebuild_job], [nightly_rebuild]
    if upstream:
        assets.append(upstream_editions)
        jobs.append(upstream_check_job)
        schedules.append(nightly_upstream_check)
        resources["upstream"] = (
            upstream if isinstance(upstream, UpstreamSettings) else upstream_from_environment()
        )
    sensors = [raw_files_changed]
    return dg.Definitions(
        assets=assets, jobs=jobs, sensors=sensors, schedules=schedules, resources=resources
    )


defs = build_definitions(upstream=True)
