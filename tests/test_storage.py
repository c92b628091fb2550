"""The steps of a `build` hand each other their outputs in memory, and storage/ is written
once the run is over (pipeline/defs/storage.py): a step run later (from the UI) still finds
every input, no other run sees storage/ half written, and nothing stale is left to load."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd

from conftest import RAW, tree_digest
from pipeline.cli.main import BuildRunner
from pipeline.definitions import build_definitions
from pipeline.defs.assets import BUILD_LOCK, Layout
from pipeline.defs.storage import HANDOFF

TRY_LOCK = """
import fcntl, sys
with open(sys.argv[1], "a") as handle:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(1)
"""

TABLES = ["sources", "figures", "events", "provenance", "measures", "claims", "corrections"]


def lock_is_free(path: Path) -> bool:
    """Whether another process could take the build lock now."""
    return subprocess.run([sys.executable, "-c", TRY_LOCK, str(path)]).returncode == 0


def test_storage_is_written_after_the_run_and_the_lock_held_until_then(tmp_path: Path):
    runner = BuildRunner(RAW, tmp_path / "outputs")
    storage = Path(runner.instance.storage_directory())
    try:
        assert runner.run() == 0
        runner.finish()
        assert all((storage / f"{t}_table").is_file() for t in TABLES)
        assert runner.run() == 0
        # the run is over and outputs/ published; storage/ is not written yet, and holds
        # no file of the earlier run either (nothing stale to load), and no other run may
        # start
        assert (tmp_path / "outputs" / "datapackage.json").is_file()
        assert sorted(Path(p).name for p in HANDOFF.kept) == sorted(
            ["source_snapshots", "anchored_annotations", *(f"{t}_table" for t in TABLES)]
        )
        assert not any((storage / f"{t}_table").exists() for t in TABLES)
        assert not lock_is_free(storage / BUILD_LOCK)
        runner.finish()
        assert HANDOFF.kept == {} and lock_is_free(storage / BUILD_LOCK)
        for name in TABLES:
            stored = pickle.loads((storage / f"{name}_table").read_bytes())
            published = pd.read_parquet(tmp_path / "outputs" / f"{name}.parquet")
            assert stored.shape == published.shape and list(stored.columns) == list(
                published.columns
            )
    finally:
        runner.close()


def test_a_step_run_later_from_storage_publishes_what_the_build_published(tmp_path: Path):
    """After `build`, materializing data_package alone (as from the UI, which loads its
    inputs from storage/) publishes the same package, byte for byte."""
    first, second = tmp_path / "first", tmp_path / "second"
    runner = BuildRunner(RAW, first)
    try:
        assert runner.run() == 0
    finally:
        runner.close()
    layout = Layout(raw_dir=str(RAW), outputs_dir=str(second), cache_dir=str(tmp_path / "c"))
    job = build_definitions(layout).resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        instance=dg.DagsterInstance.get(), asset_selection=[dg.AssetKey("data_package")]
    )
    assert result.success
    assert tree_digest(second) == tree_digest(first)
