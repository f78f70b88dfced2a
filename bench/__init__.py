"""Benchmarks of the platform (run as scripts: `.venv/bin/python bench/<name>.py`)."""
