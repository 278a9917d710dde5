"""Members who follow their linked group into a flag, when the learned combiner decides.

A campaign must spread its volume over many accounts, and some of them carry little of
it: their own traffic looks like a customer's (old accounts, a few requests at one hour
of the day), so the combiner's estimate for each stays under the flag threshold, which
the heaviest benign users set, or reaches it at fewer ticks than a flag waits for. Once a
linked group holds several accounts flagged on their own evidence, making up a real share
of it, a member whose own estimate is high (though under the flag, or not yet for long
enough) is no longer an independent customer who happens to look busy: it is flagged with
the group. The share keeps a few flagged accounts from carrying a large group of
strangers linked through a carrier NAT or a reseller's egress; the floor keeps members
with no evidence of their own out, as the rules' member floor does.

Only accounts flagged on their own count towards a group, so a follower never makes
another. The probability is the one an account's own flag reads: the combiner's, joined
with outside evidence when detect is given a peer's indicators. Detect's tick decisions
(detect/decide.py) and the robustness benchmark (which recomputes the flags offline from
the features every tick exposes) call the same function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from distillguard.errors import ConfigError


@dataclass(frozen=True)
class FollowRule:
    min_flagged: int  # accounts flagged on their own evidence in the group
    min_share: float  # and at least this share of its members
    floor: float  # a follower's probability at the tick, as its own flag reads it

    def __post_init__(self) -> None:
        if self.min_flagged < 1:
            raise ConfigError("a follow rule needs at least one flagged member")
        if not (0 < self.min_share <= 1 and 0 < self.floor <= 1):
            raise ConfigError("a follow rule's share and floor must be in (0, 1]")


def followers(
    clusters: np.ndarray, flagged: np.ndarray, probability: np.ndarray, rule: FollowRule
) -> np.ndarray:
    """Per account at one tick (row): whether it follows its group into a flag.

    `clusters` is each account's group at the tick (-1: none), `flagged` whether it has
    been flagged on its own evidence at this tick or before, `probability` what its own
    flag reads at the tick."""
    inside = np.flatnonzero(clusters >= 0)
    out = np.zeros(len(clusters), dtype=bool)
    if len(inside) == 0:
        return out
    group = clusters[inside]
    size = np.bincount(group)
    hits = np.bincount(group, weights=flagged[inside].astype(float), minlength=len(size))
    proven = (hits >= rule.min_flagged) & (hits >= rule.min_share * size)
    out[inside] = proven[group]
    return np.asarray(out & ~flagged & (probability >= rule.floor))
