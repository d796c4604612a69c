"""GeoParquet (stac-geoparquet) export and import, DuckDB SQL over the export, inventories."""

from catalog.parquet.export import ExportReport, export_parquet

__all__ = ["ExportReport", "export_parquet"]
