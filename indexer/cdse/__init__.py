"""CDSE (Copernicus Data Space Ecosystem) OData catalogue -> STAC: the record mapping (pure, no HTTP).

:func:`product_to_item` maps one OData ``Products`` entity to a STAC 1.1 item, :func:`collection_id` names its
collection (CDSE STAC ids where they exist), :func:`collections` returns the STAC Collections for every id the
mapping can produce. The mapping tables are data: ``mapping.json`` and ``collections/*.json``.
"""

from indexer.cdse.mapping import MalformedRecord, collection_id, collection_ids, collections, product_to_item

__all__ = ["MalformedRecord", "collection_id", "collection_ids", "collections", "product_to_item"]
