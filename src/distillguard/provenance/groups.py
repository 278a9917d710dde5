"""The synonym groups the watermark chooses between, read from groups.txt and weights.tsv.

A group is a set of words that fit the same sentences (big/large, often/frequently). Which
member a watermarked text uses in a given context is the key's choice; everything here is public
and key-free.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DETERMINERS = _words(
    "the a an this that these those my your his her its our their no any some each every "
    "many few several"
)
VERB_CONTEXT = _words(
    "to can could will would may might must should shall i we they you and or please let lets"
)
_MACROS = {"@det": DETERMINERS, "@verbctx": VERB_CONTEXT}
ARTICLES = frozenset({"a", "an"})


@dataclass(frozen=True)
class SynonymGroup:
    """Interchangeable words, their natural shares, and where the group may be used."""

    members: tuple[str, ...]
    shares: tuple[float, ...]
    after: frozenset[str] | None
    not_after: frozenset[str]
    # words that may follow one member and not another ("needs to", never "requires to"):
    # a member right before one of them is left as it is (see scanner.ChunkScanner.step)
    not_before: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return "/".join(self.members)

    def allows(self, prev_word: str) -> bool:
        """Whether a member may be swapped right after `prev_word` (lowercase, "" if none)."""
        if self.after is not None and prev_word not in self.after:
            return False
        if prev_word in self.not_after:
            return False
        # "a big" / "an enormous": the article fixes which members fit.
        return not (prev_word in ARTICLES and self._mixed_vowels)

    @functools.cached_property
    def _mixed_vowels(self) -> bool:
        return len({m[0] in "aeiou" for m in self.members}) > 1


@dataclass(frozen=True)
class GroupIndex:
    """Every group, and for each member word its group and position in it."""

    groups: tuple[SynonymGroup, ...]
    by_word: dict[str, tuple[SynonymGroup, int]]

    def lookup(self, word: str) -> tuple[SynonymGroup, int] | None:
        return self.by_word.get(word)


def _expand(words: str) -> frozenset[str]:
    out: set[str] = set()
    for word in words.split(","):
        out |= _MACROS.get(word, {word})
    return frozenset(out)


def parse_group(line: str, frequency: dict[str, float]) -> SynonymGroup:
    """One line of groups.txt: `member member [| after=w,w] [| notafter=w,w]
    [| notbefore=w,w]`."""
    body, *constraints = line.split("|")
    members = tuple(body.split())
    if len(members) < 2 or len(set(members)) != len(members):
        raise ValueError(f"a synonym group needs two or more distinct members: {line!r}")
    after: frozenset[str] | None = None
    not_after: frozenset[str] = frozenset()
    not_before: frozenset[str] = frozenset()
    for constraint in " ".join(constraints).split():
        name, _, words = constraint.partition("=")
        if name == "after":
            after = _expand(words)
        elif name == "notafter":
            not_after = _expand(words)
        elif name == "notbefore":
            not_before = _expand(words)
        else:
            raise ValueError(f"unknown synonym-group constraint {name!r} in {line!r}")
    shares = tuple(frequency[m] / sum(frequency[m] for m in members) for m in members)
    return SynonymGroup(members, shares, after, not_after, not_before)


@functools.cache
def default_groups() -> GroupIndex:
    """The curated groups shipped with distillguard."""
    folder = resources.files("distillguard.provenance")
    frequency = {
        word: float(value)
        for word, value in (
            row.split("\t") for row in folder.joinpath("weights.tsv").read_text().splitlines()
        )
    }
    lines = (
        line.split("#", 1)[0].strip()
        for line in folder.joinpath("groups.txt").read_text().splitlines()
    )
    groups = tuple(parse_group(line, frequency) for line in lines if line)
    return build_index(groups)


def build_index(groups: tuple[SynonymGroup, ...]) -> GroupIndex:
    by_word: dict[str, tuple[SynonymGroup, int]] = {}
    for group in groups:
        for i, member in enumerate(group.members):
            if member in by_word:
                raise ValueError(f"{member!r} is in two synonym groups")
            by_word[member] = (group, i)
    return GroupIndex(groups, by_word)
