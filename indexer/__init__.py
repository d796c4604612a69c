"""Providers: upstream records (CDSE, ASF, DestinE) to STAC items, and their fetch steps.

Depends on :mod:`catalog`, never the reverse. The harvesters arrive with their own issues.
"""
