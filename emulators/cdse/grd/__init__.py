"""Sentinel-1 GRD products with real, physical SAFE content (geometry, product files, OData record)."""
