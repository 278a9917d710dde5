"""Engines: where the row-heavy work of detection runs (DuckDB embedded, or Spark)."""
