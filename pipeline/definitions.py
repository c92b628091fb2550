"""The one Dagster `Definitions` of the project (`dagster dev -m pipeline.definitions`)."""

from __future__ import annotations

import dagster as dg

from pipeline.assets import ALL_ASSETS, ALL_CHECKS, Layout


def build_definitions(layout: Layout | None = None) -> dg.Definitions:
    """Assemble the definitions; tests pass a Layout pointing at temporary folders."""
    return dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        resources={"layout": layout or Layout()},
    )


defs = build_definitions()
