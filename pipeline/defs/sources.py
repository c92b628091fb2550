"""Assets of the `sources` group: the files under raw/ and the verified snapshots."""

from __future__ import annotations

import warnings
from pathlib import Path

import dagster as dg

from pipeline import progress
from pipeline.cache.keys import code_version
from pipeline.core.sources import load_snapshot, raw_file_hashes, raw_tree_sha256, source_folders
from pipeline.defs.metadata import shas, sources_metadata
from pipeline.defs.resources import Layout

# Observable source assets and Output(data_version=...) are marked beta in dagster 1.13;
# the versions are locked, so the warning tells a user of this project nothing.
warnings.filterwarnings("ignore", category=dg.BetaWarning)


@dg.observable_source_asset(
    group_name="sources",
    description="The files under raw/ (snapshots, sidecars, annotations); observing it records "
    "their content hash as the data version, so a change marks everything downstream stale.",
)
def raw_files(layout: Layout) -> dg.DataVersion:
    return dg.DataVersion(raw_tree_sha256(Path(layout.raw_dir)))


@dg.asset(
    group_name="sources",
    deps=[raw_files],
    code_version=code_version(),
    description="Every raw/<source_id>/ snapshot, sha256-verified.",
)
def source_snapshots(layout: Layout) -> dg.Output:
    raw = Path(layout.raw_dir)
    hashes = raw_file_hashes(raw)
    folders = source_folders(raw, hashes)
    snapshots = []
    with progress.step("source_snapshots", total=len(folders)):
        for folder in folders:
            snapshots.append(load_snapshot(folder, hashes))
            progress.advance()
    return dg.Output(
        snapshots,
        data_version=dg.DataVersion(raw_tree_sha256(raw, hashes)),
        metadata=sources_metadata(shas(snapshots)),
    )
