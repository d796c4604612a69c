"""Processing of catalogued products into analysis-ready data (Sentinel-1 GRD backscatter, mosaics, animations)."""
