"""A linked group's shared cards: the rules discount a declared organisation's own card,
the combiner's input does not (a campaign can type a company name at sign-up)."""

from __future__ import annotations

import numpy as np
import pytest

from distillguard.profiles.hourly import VALUABLE
from distillguard.scoring.cluster import cluster_frame
from distillguard.scoring.cohort import cluster_features
from tests.key_links import links_of

ACCOUNTS = ["a", "b", "c", "d"]


def _arrays(orgs: list[str | None]) -> dict[str, np.ndarray]:
    ones = np.ones(len(ACCOUNTS))
    arrays = {"n": ones * 10, "n_elicit": ones, "n_rich": ones}
    arrays |= {f"hod_{h}": ones for h in range(24)}
    arrays |= {f"cap_{c}": ones for c in VALUABLE}
    return arrays | {"org_id": np.array(orgs, dtype=object)}


CASES = [
    # (case, card holders, org ids of a..d, sharers the rules count, sharers in all)
    ("no declaration", {"card:p": ["a", "b", "c"]}, [None] * 4, 3, 3),
    ("every holder declares", {"card:p": ["a", "b", "c"]}, ["o1", "o1", "o1", None], 0, 3),
    ("one holder declares", {"card:p": ["a", "b", "c"]}, ["o1", None, None, None], 2, 3),
    # the rules drop a declaring holder whichever organisation it names
    ("each holder its own", {"card:p": ["a", "b", "c"]}, ["o1", "o2", None, None], 0, 3),
    ("no shared card", {"card:p": ["a"]}, ["o1"] * 4, 0, 0),
]


@pytest.mark.parametrize(("case", "holders", "orgs", "discounted", "every"), CASES)
def test_a_declaration_hides_a_shared_card_from_the_rules_only(
    case: str, holders: dict[str, list[str]], orgs: list[str | None], discounted: int, every: int
) -> None:
    frame = cluster_frame(
        np.array(ACCOUNTS, dtype=object),
        _arrays(orgs),
        np.zeros(len(ACCOUNTS)),
        {a: 0 for a in ACCOUNTS},  # one linked group
        links_of(holders),
    )
    assert frame.arrays["shared_card"].tolist() == [discounted], case
    assert frame.arrays["shared_card_any"].tolist() == [every], case
    arrays = _arrays(orgs) | {"harvest_excess": np.zeros(len(ACCOUNTS))}
    own = {"log_age_days": np.ones(len(ACCOUNTS)), "pct_harvest": np.zeros(len(ACCOUNTS))}
    features = cluster_features(arrays, frame.of_row, frame.arrays, np.zeros(1), own)
    size = len(ACCOUNTS)
    assert features["cluster_card_share"].tolist() == [discounted / size] * size, case
    assert features["cluster_any_card_share"].tolist() == [every / size] * size, case
