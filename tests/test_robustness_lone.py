"""The lone line fit freezes: the lowest on its grid at which detect's flag tier keeps every
benign population of the fit worlds within half the flag fit's population target."""

from __future__ import annotations

import pyarrow as pa
import pytest
from benchmarks.robustness import lone
from benchmarks.robustness.worlds import World

from tests.given_combiner import given_combiner


def test_the_grid_starts_at_the_flag_line_and_ends_with_never() -> None:
    lines = lone.candidate_lines(0.9889)
    assert lines[:3] == [0.9889, 0.989, 0.9895]
    assert lines[-2:] == [1.0, lone.NEVER]
    assert lone.candidate_lines(0.999) == [0.999, 0.999, 0.9995, 1.0, lone.NEVER]


def _world(lone_benign: float, lone_attack: float, benign: int = 400) -> World:
    """Two ticks. A linked campaign of three over the flag line; a lone attacker and a lone
    power user at the given probabilities; `benign` quiet power users."""
    ids = ["x1", "x2", "x3", "xa", "pu", *(f"b{i}" for i in range(benign))]
    p = [0.999, 0.999, 0.999, lone_attack, lone_benign, *([0.1] * benign)]
    cluster = [0, 0, 0, -1, -1, *([-1] * benign)]
    accounts = pa.table(
        {
            "account_id": ids,
            "group": ["reported"] * 3 + ["adaptive"] + ["benign"] * (benign + 1),
            "population": ["reasoning"] * 3 + ["quiet"] + ["power_user"] * (benign + 1),
            "campaign": ["reasoning"] * 3 + ["quiet"] + [""] * (benign + 1),
        }
    )
    ticks = pa.table(
        {"account_id": ids * 2, "tick": [1] * len(ids) + [2] * len(ids), "cluster": cluster * 2}
    )
    return World(accounts, ticks.append_column("p", pa.array(p * 2)))


@pytest.mark.parametrize(
    ("benign", "lone_benign", "lone_attack", "expected"),
    [
        # one power user in 401 is 0.25%: within the target, every tick counts alike
        (400, 0.995, 0.997, 0.99),
        # one in 201 is 0.5%: the line rises just past it, the lone attacker still over it
        (200, 0.995, 0.997, 0.9955),
        # the attacker under the power user: held too
        (200, 0.995, 0.993, 0.9955),
        # a power user at 1.0 itself: no line on the grid keeps it out
        (200, 1.0, 0.997, lone.NEVER),
    ],
)
def test_the_lowest_line_that_keeps_populations_within_the_target(
    benign: int, lone_benign: float, lone_attack: float, expected: float
) -> None:
    world = _world(lone_benign, lone_attack, benign)
    assert lone.lowest_lone_line([world], given_combiner(), 0.99, 2) == expected
