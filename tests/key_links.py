"""Linking keys written by hand for tests: which accounts hold which key (a card, a
sign-up address), as linking's key table gives them, with no pairwise edges."""

from __future__ import annotations

import numpy as np

from distillguard.linking.graph import Links


def links_of(holders: dict[str, list[str]]) -> Links:
    """Links whose key holders are `holders` (key -> accounts), and no edges."""
    account = [a for accounts in holders.values() for a in accounts]
    key = [k for k, accounts in holders.items() for _ in accounts]
    empty = np.zeros(0)
    return Links(empty, empty, empty, np.array(account, object), np.array(key, object))
