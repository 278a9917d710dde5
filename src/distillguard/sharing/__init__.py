"""Indicator sharing: keyed fingerprints of a campaign as STIX 2.1, over TAXII 2.1.

Nothing a customer wrote leaves: every fingerprint in a bundle is an HMAC under a key the
sharing community holds (`keys`), so a peer with the key can match its own traffic against
it, and anyone without the key learns nothing, not even by guessing templates or addresses.
"""
