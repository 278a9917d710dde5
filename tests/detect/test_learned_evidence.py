"""The combiner's explanation names what stands out about the account, in observed facts."""

from __future__ import annotations

import pytest

from distillguard.detect.learned_evidence import GENERIC_TITLE, learned_evidence
from distillguard.scoring.evidence import Fact

CASES: list[tuple[str, dict[str, Fact], str]] = [
    ("busy", {"pct_volume": 0.972}, "at percentile 97 of the window's accounts by volume"),
    ("only middling", {"pct_volume": 0.5, "pct_harvest": 0.42, "rich_share": 0.1}, GENERIC_TITLE),
    (
        "long outputs",
        {"pct_harvest": 0.919},
        "at percentile 91 by outputs past the usual length for their tasks",
    ),
    ("the busiest", {"pct_volume": 1.0}, "at percentile 99 of the window's accounts by volume"),
    ("rich", {"rich_share": 0.371}, "37% of its exchanges reasoning-rich"),
    ("alone in its group", {"cluster_accounts": 1}, GENERIC_TITLE),
    ("a group", {"cluster_accounts": 1234}, "in a linked group of 1,234 accounts"),
    ("a card", {"other_accounts_on_its_card": 4}, "its card used by 4 other accounts"),
    (
        "an address",
        {"other_accounts_from_its_signup_address": 2},
        "signed up from an address 2 other accounts used",
    ),
    (
        "a burst",
        {"other_accounts_in_its_signup_burst": 9},
        "in a sign-up burst with 9 other accounts",
    ),
    (
        "several, in order",
        {"cluster_accounts": 95, "pct_volume": 0.95, "other_accounts_on_its_card": 1},
        "at percentile 95 of the window's accounts by volume, in a linked group of 95 accounts,"
        " its card used by 1 other account",
    ),
]


@pytest.mark.parametrize(("case", "facts", "title"), CASES, ids=[c[0] for c in CASES])
def test_the_title_names_what_stands_out(case: str, facts: dict[str, Fact], title: str) -> None:
    numeric = {k: float(v) for k, v in facts.items() if isinstance(v, int | float)}
    assert learned_evidence(numeric, 0.99).title == title


def test_outside_evidence_is_named_in_the_title_and_kept_out_of_the_facts() -> None:
    facts = {"pct_volume": 0.2, "own_estimate": 0.4, "outside_evidence": 0.6}
    evidence = learned_evidence(facts, 0.99)
    assert evidence.title == "matched a peer's indicators"
    assert evidence.observed == {"pct_volume": 0.2}


def test_the_inference_says_the_score_can_be_lower_than_the_peak() -> None:
    assert "can be lower" in learned_evidence({"pct_volume": 0.9}, 0.99).inference
