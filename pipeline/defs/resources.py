"""The resources of the definitions: where a build reads and writes."""

from __future__ import annotations

import os

import dagster as dg

from pipeline.core.errors import REPO_ROOT
from pipeline.core.sources import RAW_DIR

LAYOUT_ENV = {
    "raw_dir": "USMX_RAW_DIR",
    "outputs_dir": "USMX_OUTPUTS_DIR",
    "cache_dir": "USMX_CACHE_DIR",
}


class Layout(dg.ConfigurableResource):
    """Where the build reads and writes; tests point these at temporary copies."""

    raw_dir: str = str(RAW_DIR)
    outputs_dir: str = str(REPO_ROOT / "outputs")
    cache_dir: str = str(REPO_ROOT / ".cache")


def layout_from_environment(**given: str) -> Layout:
    """The default Layout, each folder overridden by its environment variable if set (how a
    `dagster dev` or `dagster-daemon` process is pointed at other folders), then by `given`."""
    found = {field: os.environ[var] for field, var in LAYOUT_ENV.items() if os.environ.get(var)}
    return Layout(**{**found, **{k: v for k, v in given.items() if v}})
