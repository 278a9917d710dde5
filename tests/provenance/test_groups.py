from __future__ import annotations

import pytest

from distillguard.provenance.groups import (
    ARTICLES,
    DETERMINERS,
    build_index,
    default_groups,
    parse_group,
)


def test_shipped_groups_are_consistent() -> None:
    index = default_groups()
    assert len(index.groups) >= 100
    for group in index.groups:
        assert abs(sum(group.shares) - 1.0) < 1e-9
        assert min(group.shares) >= 0.08, group.name  # rare members were left out on purpose
        for word in (group.after or frozenset()) | group.not_after | ARTICLES:
            # A constraint word must not be swappable, or watermarking could change whether
            # the next word is eligible and the test would see other positions.
            assert index.lookup(word) is None, (word, group.name)


@pytest.mark.parametrize(
    ("line", "prev", "allowed"),
    [
        ("big large", "the", True),
        ("big large", "", True),
        ("huge enormous", "a", False),  # "a enormous"
        ("huge enormous", "the", True),
        ("big large | notafter=at", "at", False),
        ("example instance | after=for", "for", True),
        ("example instance | after=for", "an", False),
        ("begins starts | notafter=@det", "the", False),
    ],
)
def test_where_a_group_may_be_swapped(line: str, prev: str, allowed: bool) -> None:
    members = line.split("|", maxsplit=1)[0].split()
    group = parse_group(line, dict.fromkeys(members, 1.0))
    assert group.allows(prev) is allowed


@pytest.mark.parametrize(
    ("line", "message"),
    [("big", "two or more"), ("big big", "two or more"), ("big large | sometimes=x", "unknown")],
)
def test_bad_group_lines_raise(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_group(line, {"big": 1.0, "large": 1.0})


def test_a_word_in_two_groups_is_refused() -> None:
    freq = {"big": 1.0, "large": 1.0, "huge": 1.0}
    with pytest.raises(ValueError, match="two synonym groups"):
        build_index((parse_group("big large", freq), parse_group("large huge", freq)))


def test_determiners_macro_expands() -> None:
    group = parse_group("begins starts | notafter=@det", {"begins": 1.0, "starts": 1.0})
    assert group.not_after >= DETERMINERS
