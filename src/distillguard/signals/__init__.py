"""Per-exchange signals: pure functions of Arrow record batches of exchanges."""
