"""What each observed fact in an explanation counts, in words, for the report.

A fact's name alone can mislead: `accounts_linked_in_window = 7` on a 5-account cluster reads
as an error until one knows it counts the whole linked community at that tick, members that
did not qualify for the flag included. The words below come from reading the rules in
`scoring/account.py` and `scoring/cluster.py`; a test fails when a rule gains a fact that
has none here. Facts are keyed by (rule code, fact name), since one name (`share`,
`exchanges`) can count different things in different rules.
"""

from __future__ import annotations

RICH = "reasoning-rich outputs (thinking or reasoning tokens, or 1,000+ output tokens)"
ACCOUNT_FACTS: dict[tuple[str, str], str] = {
    ("peer_indicator", "matched_exchanges"): "its exchanges, before the window's end, that "
    "matched a peer's shared indicators",
    ("peer_indicator", "indicators"): "distinct peer indicators those exchanges matched",
    # `share match`'s findings: the summary, then one per indicator an account matched
    ("peer_campaign", "campaigns"): "the peer's campaigns those indicators belong to, by the "
    "names the peer gave them",
    ("peer_campaign", "indicators"): "distinct peer indicators its exchanges matched",
    ("peer_campaign", "exchanges"): "its exchanges that matched at least one of them, each "
    "counted once",
    ("peer_indicator", "indicator"): "the peer's indicator, by its STIX id",
    ("peer_indicator", "kind"): "what the indicator fingerprints (a prompt template, a "
    "client, a network, a card...), keyed so that neither side sees the other's values",
    ("peer_indicator", "exchanges"): "its exchanges that matched the indicator while it was valid",
    ("peer_indicator", "first_seen"): "its first exchange that matched the indicator",
    # The learned combiner's inputs, quoted from the tick where its estimate peaked.
    ("combiner", "pct_volume"): "its exchanges in the window, as a percentile of all active "
    "accounts (1 = the busiest)",
    ("combiner", "pct_harvest"): "how far its outputs run past the population's usual length "
    "for the same tasks, as a percentile of all active accounts",
    ("combiner", "rich_share"): f"share of its exchanges with {RICH}",
    ("combiner", "other_accounts_on_its_card"): "other accounts paying with its card (its "
    "most shared card, if it has several)",
    ("combiner", "other_accounts_from_its_signup_address"): "other accounts that signed up "
    "from the address it signed up from",
    ("combiner", "other_accounts_in_its_signup_burst"): "other accounts signed up in the "
    "same burst from its network",
    ("combiner", "cluster_accounts"): "accounts in its linked group at that tick, itself "
    "included (1 when it is linked to none)",
    ("combiner", "cluster_pct_volume"): "its linked group's exchanges, as a percentile of "
    "single accounts' volumes",
    ("combiner", "cluster_harvest"): "the linked group's mean output excess per exchange",
    ("combiner", "cluster_sync"): "how alike the group's hours of activity are (1 = the same "
    "hours for every account)",
    ("combiner", "own_estimate"): "the combiner's estimate from the account's own traffic and "
    "group, before outside evidence",
    ("combiner", "outside_evidence"): "strength of outside evidence (a peer's indicators, "
    "matched before that tick) joined to that estimate as a noisy-OR",
    ("elicits_reasoning", "eliciting_exchanges"): "its exchanges whose prompt elicits "
    "step-by-step reasoning, a reasoning trace, grading or a rewrite",
    ("elicits_reasoning", "exchanges"): "all its exchanges",
    ("elicits_reasoning", "share"): "eliciting exchanges / all its exchanges",
    ("elicits_reasoning", "active_hours"): "hours in which it sent at least one request",
    ("elicits_reasoning", "mean_output_tokens"): "mean output tokens per exchange",
    ("extracts_hidden_reasoning", "trace_requests"): "exchanges asking the model to reveal "
    "or reconstruct its hidden reasoning",
    ("extracts_hidden_reasoning", "share"): "those requests / all its exchanges",
    ("censorship_rewrites", "rewrite_requests"): "exchanges asking for a politically "
    "sanitised rewrite",
    ("round_the_clock", "hour_entropy"): "how evenly its requests spread over the 24 hours "
    "of the day: 1 = evenly round the clock, 0 = all in one hour",
    ("round_the_clock", "active_hours"): "hours in which it sent at least one request",
    ("machine_regular", "inter_arrival_cv"): "spread of the gaps between its requests "
    "(standard deviation / mean): near 0 = a fixed schedule, about 1 = a person",
    ("machine_regular", "gaps"): "gaps under 6 hours between consecutive requests, the ones "
    "the spread is measured on",
    ("new_at_full_speed", "account_age_days"): "days from its sign-up to that tick",
    ("new_at_full_speed", "exchanges"): "all its exchanges",
    ("broad_rich_coverage", "capabilities"): "valuable capabilities (coding, agentic, "
    "reasoning, data analysis, computer use, vision) each making up at least 5% and at least 5 "
    "of its exchanges",
    ("broad_rich_coverage", "rich_share"): f"share of its exchanges with {RICH}",
    ("address_churn", "network_hours_per_exchange"): "distinct (network /24, hour) pairs per "
    "exchange: near 1 = a new network for almost every request",
    ("thin_rich_harvest", "output_vs_usual_for_task"): "its outputs' length against the "
    "population's usual for the same capability (geometric mean; 1 = usual)",
    ("thin_rich_harvest", "rich_share"): f"share of its exchanges with {RICH}",
    ("thin_rich_harvest", "exchanges"): "all its exchanges",
    ("thin_rich_harvest", "exchanges_per_active_day"): "exchanges per day it was active",
    ("light_tier_heavy_use", "tier"): "its account tier",
    ("light_tier_heavy_use", "exchanges"): "all its exchanges",
}

CLUSTER_FACTS: dict[tuple[str, str], str] = {
    ("shared_payment", "accounts_sharing_a_card"): "accounts in the linked community that "
    "share a payment card with another of its accounts (a declared organisation's own card "
    "does not count)",
    ("signup_burst", "accounts_in_a_burst"): "accounts in the linked community that signed "
    "up in a burst from one network",
    ("shared_signup_address", "accounts_sharing_a_signup_ip"): "accounts in the linked "
    "community that signed up from an address another of its accounts used",
    ("dense_block", "share_of_members_in_block"): "share of the linked community's accounts "
    "inside a dense block of rarely shared keys",
    ("dense_block", "block_density"): "the block's density: shared-key weight per account",
    ("suspicious_members", "volume_weighted_member_score"): "the accounts' own scores, "
    "averaged weighting each by its exchanges",
    ("suspicious_members", "accounts_linked_in_window"): "accounts in the linked community at "
    "that tick. It can differ from the cluster's size either way: the flagged cluster keeps "
    "only the accounts that share payment or sign-up infrastructure, or show enough evidence "
    "of their own, and gathers those it was flagged with at its other ticks",
    ("collective_elicitation", "eliciting_exchanges"): "the community's exchanges whose "
    "prompt elicits reasoning, a trace, grading or a rewrite",
    ("collective_elicitation", "share"): "eliciting exchanges / all the community's exchanges",
    ("collective_coverage", "capabilities"): "valuable capabilities each making up at least "
    "5% and at least 5 of the community's exchanges",
    ("collective_coverage", "rich_share"): f"share of the community's exchanges with {RICH}",
    ("collective_coverage", "exchanges"): "all the community's exchanges",
}


def fact_label(code: str, name: str, *, cluster: bool) -> str:
    """What the fact `name` of rule `code` counts; KeyError names the missing entry."""
    table = CLUSTER_FACTS if cluster else ACCOUNT_FACTS
    if (code, name) not in table:
        where = "CLUSTER_FACTS" if cluster else "ACCOUNT_FACTS"
        raise KeyError(f"no words for fact {name!r} of rule {code!r}: add them to {where}")
    return table[(code, name)]


def fact_words(code: str, name: str, *, cluster: bool) -> str:
    """`fact_label`, or "" for a fact it has no words for (a run from an older version, or
    another tool's evidence): a page that shows what others wrote shows the name alone."""
    table = CLUSTER_FACTS if cluster else ACCOUNT_FACTS
    return table.get((code, name), "")
