"""Benchmarks: each prints its figures and records them for bench/RESULTS.md."""
