"""Dagster's side: the assets, their checks, the resources, the sensor and the schedule.

sources       raw_files, source_snapshots    the verified text of every raw/<source_id>/
annotations   anchored_annotations           quotes resolved to spans, numerals read
tables        <table>_table                  one DataFrame per published table
published     data_package                   Parquet + CSV + datapackage.json in outputs/
upstream      upstream_editions              every witness upstream compared with its snapshot
                                             (its own job; not in the build: defs/upstream.py)

Every check that guards what must never be published is blocking, so a failing one stops
the build before `data_package` touches outputs/.
"""

from pipeline.defs.annotations import COVERAGE_CHECK, anchored_annotations
from pipeline.defs.published import PACKAGE_CHECK, data_package
from pipeline.defs.sources import raw_files, source_snapshots
from pipeline.defs.tables import TABLE_CHECKS, table_assets

ALL_ASSETS = [raw_files, source_snapshots, anchored_annotations, table_assets, data_package]
ALL_CHECK_SPECS = [COVERAGE_CHECK, *TABLE_CHECKS, PACKAGE_CHECK]
