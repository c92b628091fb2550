"""How the steps hand each other their outputs: in memory in `python -m pipeline build` and
`watch` (Dagster's `mem_io_manager`), through the instance's storage/ folder in any other run
(Dagster's `FilesystemIOManager`: the UI, the sensor, the schedule), so a step started later
from the UI finds the inputs an earlier UI run stored."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from conftest import RAW, tree_digest
from pipeline.cli.runner import BuildRunner
from pipeline.definitions import build_definitions
from pipeline.defs.resources import Layout

TABLES = ["sources", "figures", "events", "provenance", "measures", "claims", "corrections"]


def test_the_command_line_build_hands_outputs_over_in_memory_and_leaves_nothing_stale(
    tmp_path: Path,
):
    runner = BuildRunner(RAW, tmp_path / "outputs")
    storage = Path(runner.instance.storage_directory())
    stale = storage / "figures_table"  # as an earlier run from the UI left it
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"an older run's pickle")
    try:
        assert runner.run() == 0
    finally:
        runner.close()
    assert (tmp_path / "outputs" / "datapackage.json").is_file()
    assert not any((storage / f"{t}_table").exists() for t in TABLES)


def test_a_step_run_later_from_storage_publishes_what_the_whole_run_published(tmp_path: Path):
    """After a run of every asset with the definitions' own IO manager, materializing
    data_package alone (as from the UI, loading its inputs from storage/) publishes the
    same package, byte for byte."""
    first, second = tmp_path / "first", tmp_path / "second"
    cache = str(tmp_path / "cache")
    with dg.DagsterInstance.ephemeral(tempdir=str(tmp_path / "home")) as instance:
        whole = Layout(raw_dir=str(RAW), outputs_dir=str(first), cache_dir=cache)
        job = build_definitions(whole).resolve_implicit_global_asset_job_def()
        assert job.execute_in_process(instance=instance).success
        storage = Path(instance.storage_directory())
        assert all((storage / f"{t}_table").is_file() for t in TABLES)
        alone = Layout(raw_dir=str(RAW), outputs_dir=str(second), cache_dir=cache)
        job = build_definitions(alone).resolve_implicit_global_asset_job_def()
        result = job.execute_in_process(
            instance=instance, asset_selection=[dg.AssetKey("data_package")]
        )
        assert result.success
    assert tree_digest(second) == tree_digest(first)
