"""Sentinel-1 bursts from every source as one collection: identity and the STAC mapping."""

from indexer.bursts.mapping import COLLECTION_ID, MalformedBurst, asf_feature_to_item, cdse_burst_to_item, collection

__all__ = ["COLLECTION_ID", "MalformedBurst", "asf_feature_to_item", "cdse_burst_to_item", "collection"]
