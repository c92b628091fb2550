"""The one Dagster `Definitions` of the project (`dagster dev -m pipeline.definitions`).

Without an explicit Layout the definitions read the project's raw/ and outputs/, or the
folders named by the environment variables USMX_RAW_DIR, USMX_OUTPUTS_DIR and
USMX_CACHE_DIR when set: that
is how a `dagster dev` or `dagster-daemon run` process (and the end-to-end test of the
sensor) is pointed at other folders.
"""

from __future__ import annotations

import os

import dagster as dg

from pipeline.defs.assets import ALL_ASSETS, BuildLock, Layout
from pipeline.defs.automation import nightly_rebuild, raw_files_changed, rebuild_job
from pipeline.defs.storage import HandoffIOManagerFactory

LAYOUT_ENV = {
    "raw_dir": "USMX_RAW_DIR",
    "outputs_dir": "USMX_OUTPUTS_DIR",
    "cache_dir": "USMX_CACHE_DIR",
}


def layout_from_environment() -> Layout:
    """The default Layout, with each folder overridden by its environment variable if set."""
    return Layout(
        **{field: os.environ[var] for field, var in LAYOUT_ENV.items() if os.environ.get(var)}
    )


def build_definitions(layout: Layout | None = None) -> dg.Definitions:
    """Assemble the definitions; tests pass a Layout pointing at temporary folders."""
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[rebuild_job],
        sensors=[raw_files_changed],
        schedules=[nightly_rebuild],
        resources={
            "layout": layout or layout_from_environment(),
            "build_lock": BuildLock(),
            "io_manager": HandoffIOManagerFactory(),
        },
    )


defs = build_definitions()
