"""TAXII 2.1: a server over a DuckDB store, and a client for any TAXII 2.1 server."""

MEDIA_TYPE = "application/taxii+json;version=2.1"
