"""Followers of a linked group (scoring/followers.py), case by case."""

from __future__ import annotations

import numpy as np
import pytest

from distillguard.detect.config import DetectConfig
from distillguard.errors import ConfigError
from distillguard.scoring.followers import FollowRule, followers

RULE = FollowRule(min_flagged=3, min_share=0.5, floor=0.9)

# (case, groups, flagged on their own, probabilities, expected followers)
CASES = [
    (
        "a half-flagged group takes its members above the floor",
        [0, 0, 0, 0, 0, 0],
        [1, 1, 1, 0, 0, 0],
        [0.99, 0.99, 0.99, 0.95, 0.90, 0.89],
        [0, 0, 0, 1, 1, 0],
    ),
    (
        "three flagged in a group of seven is under half",
        [0, 0, 0, 0, 0, 0, 0],
        [1, 1, 1, 0, 0, 0, 0],
        [0.99, 0.99, 0.99, 0.95, 0.95, 0.95, 0.95],
        [0, 0, 0, 0, 0, 0, 0],
    ),
    (
        "two flagged are too few, whatever their share",
        [0, 0, 0],
        [1, 1, 0],
        [0.99, 0.99, 0.95],
        [0, 0, 0],
    ),
    (
        "accounts in no group follow nobody",
        [-1, -1, -1, -1],
        [1, 1, 1, 0],
        [0.99, 0.99, 0.99, 0.95],
        [0, 0, 0, 0],
    ),
    (
        "each group is counted on its own",
        [0, 0, 0, 0, 1, 1, 1, 1],
        [1, 1, 1, 0, 1, 1, 0, 0],
        [0.99, 0.99, 0.99, 0.93, 0.99, 0.99, 0.93, 0.93],
        [0, 0, 0, 1, 0, 0, 0, 0],
    ),
    ("an empty tick", [], [], [], []),
]


@pytest.mark.parametrize(("case", "groups", "flagged", "p", "expected"), CASES)
def test_followers(
    case: str, groups: list[int], flagged: list[int], p: list[float], expected: list[int]
) -> None:
    got = followers(
        np.array(groups, dtype=np.int64),
        np.array(flagged, dtype=bool),
        np.array(p, dtype=float),
        RULE,
    )
    assert got.tolist() == [bool(e) for e in expected], case


@pytest.mark.parametrize(
    ("flagged", "share", "floor"), [(0, 0.5, 0.9), (3, 0.0, 0.9), (3, 1.5, 0.9), (3, 0.5, 0.0)]
)
def test_a_rule_out_of_range_raises(flagged: int, share: float, floor: float) -> None:
    with pytest.raises(ConfigError):
        FollowRule(flagged, share, floor)


def test_detect_settings_for_followers_are_fractions() -> None:
    with pytest.raises(ConfigError, match="combiner_follow_share"):
        DetectConfig(combiner_follow_share=1.5)
    with pytest.raises(ConfigError, match="combiner_follow_floor"):
        DetectConfig(combiner_follow_floor=0.0)
    assert DetectConfig().follow_rule == FollowRule(3, 0.5, 0.9)


@pytest.mark.parametrize("name", ["cluster_min_accounts", "combiner_flag_ticks"])
@pytest.mark.parametrize("size", [0, 2.5, -1])
def test_counts_must_be_whole_numbers_of_at_least_one(name: str, size: float) -> None:
    with pytest.raises(ConfigError, match=name):
        DetectConfig(**{name: size})  # type: ignore[arg-type]
