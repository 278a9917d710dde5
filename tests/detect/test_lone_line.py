"""The lone line at a linking tick (detect/decide.learned_tick): an account's ticks count
towards its own flag at combiner_flag while it sits in a linked group or a peer's strong
match stands in for one, and at combiner_flag_lone anywhere; one held between the two is
listed for review."""

from __future__ import annotations

import numpy as np
import pytest

from distillguard.detect.boost import BOOST_STRENGTH
from distillguard.detect.config import DetectConfig
from distillguard.detect.decide import ReplayState, learned_tick
from distillguard.detect.tick_facts import FACTS
from tests.given_combiner import given_combiner

CONFIG = DetectConfig()  # two ticks; flag 0.989, lone line 0.9935


def _tick(state: ReplayState, at: int, p: float, linked: bool, strength: float) -> None:
    arrays = {"account_id": np.array(["a"], dtype=object), BOOST_STRENGTH: np.array([strength])}
    features = {"p": np.array([p]), **{name: np.zeros(1) for name in FACTS}}
    learned_tick(
        state,
        np.datetime64(at, "h"),
        arrays=arrays,
        features=features,
        linked=np.array([linked]),
        combiner=given_combiner(),
        config=CONFIG,
    )


@pytest.mark.parametrize(
    ("ticks", "flagged", "held"),
    [
        # (probability, linked, a peer's match strength) per tick
        ([(0.99, True, 0.0), (0.99, True, 0.0)], True, False),  # two linked ticks
        ([(0.99, False, 0.0), (0.99, False, 0.0)], False, True),  # alone, under 0.9935
        ([(0.995, False, 0.0), (0.995, False, 0.0)], True, False),  # alone, over it
        ([(0.992, True, 0.0), (0.990, False, 0.0)], False, True),  # one linked tick only
        ([(0.99, True, 0.0)], False, False),  # one tick: not yet for k = 2
        # a strong match (0.975 joined with 0.6: 0.99) stands in for the ticks and a group
        ([(0.975, False, 0.6)], True, False),
        # a weak one (0.98 joined with 0.5: 0.99) joins the probability only
        ([(0.98, False, 0.5), (0.98, False, 0.5)], False, True),
    ],
)
def test_flags_and_holds_at_the_lone_line(
    ticks: list[tuple[float, bool, float]], flagged: bool, held: bool
) -> None:
    state = ReplayState()
    for hour, (p, linked, strength) in enumerate(ticks):
        _tick(state, hour, p, linked, strength)
    assert ("a" in state.account_flag) is flagged
    assert ("a" in state.lone_over and not flagged) is held
    assert not held or "a" in state.account_review
