"""Per-account profiles: mergeable hourly aggregates, rolled over a moving window."""
