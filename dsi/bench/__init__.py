"""Benchmarks that print figures (gas tables, errors, calls per second); never timed tests."""
