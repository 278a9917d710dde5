"""What an account's combiner explanation quotes: the features of the tick it peaked at.

The replay keeps, per account, the tick and row where its probability peaked
(detect/decide.py); the explanation reads those columns back here, in the words an analyst
reads (whole accounts, not the log2 counts the combiner reads).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from distillguard.detect.boost import BOOST_STRENGTH, boost_facts

# Features an explanation quotes from the tick where the combiner peaked.
FACTS = (
    "pct_volume",
    "pct_harvest",
    "rich_share",
    "card_sharers",
    "signup_ip_sharers",
    "signup_burst_sharers",
    "cluster_log_size",
    "cluster_pct_volume",
    "cluster_harvest",
    "cluster_sync",
)


# Counts the combiner reads on a log2 scale (of the key's holders, itself included, or of
# its group's size), quoted in accounts under names of their own: an analyst read
# `card_sharers = 2.322` as a fraction of an account where four others shared the card,
# and a run from before the change keeps its old names, so old and new never mix.
OTHERS_HOLDING = {
    "card_sharers": "other_accounts_on_its_card",
    "signup_ip_sharers": "other_accounts_from_its_signup_address",
    "signup_burst_sharers": "other_accounts_in_its_signup_burst",
}


def readable_facts(features: dict[str, float]) -> dict[str, float]:
    """The quoted features as an explanation gives them: log2 counts turned back into
    whole accounts before any rounding (rounded logs lost an account past 1,474), the
    rest to three decimals."""
    readable: dict[str, float] = {}
    for name, value in features.items():
        if name in OTHERS_HOLDING:
            readable[OTHERS_HOLDING[name]] = round(2.0**value) - 1
        elif name == "cluster_log_size":
            readable["cluster_accounts"] = round(2.0**value)  # 1: linked to none
        else:
            readable[name] = round(value, 3)
    if readable.get("cluster_accounts") == 1:  # no group: its "sync 0.0" measured nothing
        readable = {k: v for k, v in readable.items() if not k.startswith("cluster_")}
        readable["cluster_accounts"] = 1
    return readable


@dataclass(frozen=True)
class TickFacts:
    """The FACTS columns and the combiner's own estimate of the accounts whose probability
    rose to a new peak at one linking tick, kept as columns: building each peak's dict as
    it happened cost more than the rest of the tick's decisions."""

    columns: dict[str, np.ndarray]
    own: np.ndarray
    arrays: dict[str, np.ndarray]  # the outside evidence's strength, when a boost is on

    @classmethod
    def of(
        cls,
        features: dict[str, np.ndarray],
        own: np.ndarray,
        arrays: dict[str, np.ndarray],
        rows: np.ndarray,
    ) -> TickFacts:
        """The facts of a tick's `rows` (the accounts that rose to a new peak)."""
        return cls(
            {k: features[k][rows] for k in FACTS},
            own[rows],
            {k: arrays[k][rows] for k in (BOOST_STRENGTH,) if k in arrays},
        )

    def at(self, row: int) -> dict[str, float]:
        facts = readable_facts({k: float(v[row]) for k, v in self.columns.items()})
        facts.update(boost_facts(self.own, self.arrays, row))
        return facts
