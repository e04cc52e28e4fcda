"""Benchmarks: code in the repo, run by a documented command (see benchmarks/README.md)."""
