"""The eocat application shell: the command line over the catalog and indexer libraries."""
