"""The learned combiner's explanation of an account: what stood out, observed, apart from
what the combiner made of it, inferred.

Its title names the quoted facts that stand out (a high percentile by volume or by outputs
past the usual length for their tasks, reasoning-rich outputs, a linked group, a shared
card or sign-up address), so that the accounts table's reasons say why this account and
not the next. A single generic title on every row told an analyst nothing they could
check. The title quotes facts, not the model: the combiner reads many more inputs than
an explanation quotes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from distillguard.scoring.evidence import Evidence, Fact

LEARNED_EVIDENCE_FLOOR = 0.05  # as Scored.evidence leaves out rules weaker than this
INFERRED = ("own_estimate", "outside_evidence")  # the combiner's, quoted in its inference
GENERIC_TITLE = "its volume, outputs and linked group, ranked against the window's traffic"

HIGH_PERCENTILE = 0.8  # a percentile an analyst would call "more than most"
RICH_SHARE = 0.3  # reasoning-rich outputs in about one exchange in three or more


def _percentile(name: str, words: str) -> Callable[[dict[str, Fact]], str | None]:
    def phrase(facts: dict[str, Fact]) -> str | None:
        value = facts.get(name)
        if isinstance(value, int | float) and value >= HIGH_PERCENTILE:
            # a mid-rank (ties count half), so a percentile and not "more than N%"; whole
            # percents rounded down, at most 99
            return words.format(min(math.floor(value * 100), 99))
        return None

    return phrase


def _others(name: str, words: str, least: int) -> Callable[[dict[str, Fact]], str | None]:
    def phrase(facts: dict[str, Fact]) -> str | None:
        value = facts.get(name)
        if isinstance(value, int | float) and value >= least:
            count = int(value)
            return words.format(f"{count:,}", "" if count == 1 else "s")
        return None

    return phrase


def _rich(facts: dict[str, Fact]) -> str | None:
    value = facts.get("rich_share")
    if isinstance(value, int | float) and value >= RICH_SHARE:
        return f"{value:.0%} of its exchanges reasoning-rich"
    return None


# In the order a title lists them: the account's own traffic, then what links it.
PHRASES = (
    _percentile("pct_volume", "at percentile {} of the window's accounts by volume"),
    _percentile("pct_harvest", "at percentile {} by outputs past the usual length for their tasks"),
    _rich,
    _others("cluster_accounts", "in a linked group of {} account{}", least=2),
    _others("other_accounts_on_its_card", "its card used by {} other account{}", least=1),
    _others(
        "other_accounts_from_its_signup_address",
        "signed up from an address {} other account{} used",
        least=1,
    ),
    _others(
        "other_accounts_in_its_signup_burst", "in a sign-up burst with {} other account{}", least=1
    ),
)


def learned_title(observed: dict[str, Fact], outside: bool) -> str:
    """What stands out among the quoted facts, in words; the generic title where nothing
    does (the estimate then rests on middling facts together, or on inputs not quoted)."""
    parts = [p for p in (phrase(observed) for phrase in PHRASES) if p is not None]
    if outside:
        parts.append("matched a peer's indicators")
    return ", ".join(parts) if parts else GENERIC_TITLE


LONE = (
    "; over the flag line, but not at the ticks a flag waits for while linked to other"
    " accounts, and under the higher line for the ticks it was linked to no other account"
    " (detect --combiner-flag-lone), so listed for review and not flagged: a campaign needs"
    " many accounts, a heavy customer has one"
)


def learned_evidence(facts: dict[str, float], probability: float, lone: bool = False) -> Evidence:
    """The combiner's reason: its inputs observed, and what it made of them inferred (its
    own estimate and the outside evidence joined to it are inferences, not observations).
    `lone`: the account's score reached the flag line with no linked group behind it."""
    observed: dict[str, Fact] = {k: v for k, v in facts.items() if k not in INFERRED}
    return Evidence(
        "combiner",
        learned_title(observed, "outside_evidence" in facts),
        observed,
        _inference(facts) + (LONE if lone else ""),
        round(min(max(probability, 0.0), 0.999), 3),
    )


def _inference(facts: dict[str, float]) -> str:
    said = (
        "the learned combiner's estimate that the account harvests outputs, at the tick"
        " where it peaked (the account's score, held over the ticks a flag waits for, can be"
        " lower)"
    )
    if "outside_evidence" not in facts:
        return said
    return (
        f"{said}; {facts['own_estimate']} from its own traffic and group, joined with outside"
        f" evidence of strength {facts['outside_evidence']}: a peer's indicators its"
        " exchanges matched before that tick"
    )
