"""DestinE streamed Sentinel-3 NDVI: metadata harvest, DESP login, frame materialization."""
