"""Domain code: snapshots, annotation reading, anchoring, numerals, periods, corrections,
claims, the field definitions and each source's rows. No Dagster here, and nothing written."""
