"""Detection: signals → profiles → linking → scores, replayed tick by tick."""
