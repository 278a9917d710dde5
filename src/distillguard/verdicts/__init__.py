"""Verdicts: what the gateway does to an account or cluster, where it is kept, and the policy."""
