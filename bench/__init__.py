"""Benchmarks for eocat: ingest and query, each against peers measured in the same run.

See ``bench/README.md``. Run with ``make bench`` or ``python -m bench.run [--quick]``.
"""
