"""The ablation sets one input on the rows of the accounts it names, and nowhere else."""

from __future__ import annotations

import pyarrow as pa
import pytest
from benchmarks.robustness.ablate import with_feature
from benchmarks.robustness.worlds import World

WORLD = World(
    pa.table({"account_id": ["a", "b", "c"], "group": ["benign", "reported", "adaptive"]}),
    pa.table(
        {
            "account_id": ["a", "b", "c", "a"],
            "tick": [1, 1, 1, 2],
            "declared_org": [0.0, 0.0, 0.0, 0.0],
        }
    ),
)


@pytest.mark.parametrize(
    ("whose", "after"),
    [
        ("none", [0.0, 0.0, 0.0, 0.0]),
        ("attack", [0.0, 1.0, 1.0, 0.0]),
        ("benign", [1.0, 0.0, 0.0, 1.0]),
    ],
)
def test_only_the_named_accounts_rows_change(whose: str, after: list[float]) -> None:
    changed = with_feature(WORLD, "declared_org", 1.0, whose)
    assert changed.ticks["declared_org"].to_pylist() == after
    assert changed.accounts == WORLD.accounts
    assert WORLD.ticks["declared_org"].to_pylist() == [0.0] * 4  # the world is not changed


def test_an_unknown_feature_names_the_features() -> None:
    with pytest.raises(SystemExit, match=r"unknown feature 'made_up'.*declared_org"):
        with_feature(WORLD, "made_up", 1.0, "attack")


def test_a_kept_column_that_is_no_input_is_refused() -> None:
    with pytest.raises(SystemExit, match="unknown feature 'tick'"):
        with_feature(WORLD, "tick", 1.0, "attack")


def test_tick_rows_of_an_unlabelled_account_are_refused() -> None:
    unlabelled = World(WORLD.accounts.slice(0, 2), WORLD.ticks)
    with pytest.raises(SystemExit, match="1 account"):
        with_feature(unlabelled, "declared_org", 1.0, "attack")
