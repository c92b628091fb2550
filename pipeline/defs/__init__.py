"""Dagster's side: the assets, their checks, the resources, the sensor and the schedule."""
