"""The one Dagster `Definitions` of the project (`dagster dev -m pipeline.definitions`).

Runs started from the UI, the sensor or the schedule hand their outputs from step to step
through Dagster's filesystem IO manager (the instance's storage/ folder); `python -m
pipeline build` and `watch` run every step in one process and pass `dg.mem_io_manager`.
"""

from __future__ import annotations

import dagster as dg

from pipeline.defs import ALL_ASSETS
from pipeline.defs.automation import nightly_rebuild, raw_files_changed, rebuild_job
from pipeline.defs.resources import Layout, layout_from_environment


def build_definitions(
    layout: Layout | None = None, io_manager: dg.IOManagerDefinition | None = None
) -> dg.Definitions:
    """Assemble the definitions; tests pass a Layout pointing at temporary folders."""
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[rebuild_job],
        sensors=[raw_files_changed],
        schedules=[nightly_rebuild],
        resources={
            "layout": layout or layout_from_environment(),
            "io_manager": io_manager or dg.FilesystemIOManager(),
        },
    )


defs = build_definitions()
