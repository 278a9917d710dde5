"""The analyst console: a login-protected web application over a DuckDB case store."""
