"""Workload generator, benchmarks, load and fault scripts."""
