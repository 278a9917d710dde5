"""Where a text chose between synonyms: counts of each member used, per (group, context).

These counts are all the provenance test needs from a suspect's outputs (or from a reference
text). They are a mergeable aggregate: counts of a whole corpus equal the merged counts of its
parts, so large suspect samples can be counted in pieces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from distillguard.provenance.groups import GroupIndex, SynonymGroup, default_groups
from distillguard.provenance.scanner import ChunkScanner

_CHUNK = re.compile(r"(\s*)(\S+)")
ContextKey = tuple[str, str]  # (group name, context)


@dataclass(frozen=True)
class Answer:
    """A suspect's answer to a probe: the probe's prefix only sets the context of the answer's
    first words; its own words are never scored."""

    prefix: str
    text: str


Output = str | Answer


@dataclass(frozen=True)
class PositionCounts:
    """Member counts per (group name, context)."""

    counts: Mapping[ContextKey, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def count_one(cls, output: Output, index: GroupIndex | None = None) -> PositionCounts:
        return cls.count_many([output], index)

    @classmethod
    def count_many(
        cls, outputs: Iterable[Output], index: GroupIndex | None = None
    ) -> PositionCounts:
        """Counts over many outputs, each scanned as a separate response."""
        index = index or default_groups()
        counts: dict[ContextKey, list[int]] = {}
        for output in outputs:
            scanner = ChunkScanner(index)
            if isinstance(output, Answer):
                for match in _CHUNK.finditer(output.prefix):
                    scanner.step(match.group(1), match.group(2))
                scanner.finish()  # the prefix's own words are the probe's, never scored
                text = output.text if output.text[:1].isspace() else " " + output.text
            else:
                text = output
            _count_into(counts, text, scanner)
        return cls({k: tuple(v) for k, v in counts.items()})

    def merge(self, other: PositionCounts) -> PositionCounts:
        merged = dict(self.counts)
        for key, row in other.counts.items():
            old = merged.get(key)
            merged[key] = (
                row if old is None else tuple(a + b for a, b in zip(old, row, strict=True))
            )
        return PositionCounts(merged)

    @property
    def positions(self) -> int:
        return sum(sum(row) for row in self.counts.values())

    def group_totals(self) -> dict[str, tuple[int, ...]]:
        """Member counts per group over all contexts (the context-free word shares)."""
        totals: dict[str, list[int]] = {}
        for (name, _), row in self.counts.items():
            acc = totals.setdefault(name, [0] * len(row))
            for i, n in enumerate(row):
                acc[i] += n
        return {name: tuple(row) for name, row in totals.items()}


def _count_into(counts: dict[ContextKey, list[int]], text: str, scanner: ChunkScanner) -> None:
    slots = (scanner.step(m.group(1), m.group(2)) for m in _CHUNK.finditer(text))
    for slot in [*slots, scanner.finish()]:
        if slot is not None:
            key = (slot.group.name, slot.context)
            row = counts.setdefault(key, [0] * len(slot.group.members))
            row[slot.member] += 1


def group_by_name(index: GroupIndex) -> dict[str, SynonymGroup]:
    return {group.name: group for group in index.groups}
