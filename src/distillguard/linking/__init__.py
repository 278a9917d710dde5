"""Cross-account linking: accounts joined through shared evidence keys, weighted by rarity."""
