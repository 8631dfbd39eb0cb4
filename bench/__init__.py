"""Benchmarks: Megawatt against its peers, measured in the same run (see README)."""
