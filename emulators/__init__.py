"""Local stand-ins for the upstream services (CDSE, ASF, DestinE) and deterministic sample data.

`emulators.samples` generates realistic, deterministic Sentinel-like STAC items and collections at any
scale (tests, `make demo`, benchmarks). The HTTP emulators build on it.
"""
