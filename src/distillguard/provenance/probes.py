"""Probe prompts: ask a suspect model to continue text that stops right before a word the
watermark controls, so its answers are dense in scored positions.

Probes need no key (the contexts are public); build them from text that was NOT watermarked,
so a model that merely echoes the prompt cannot look like it learned the watermark.
"""

from __future__ import annotations

import random
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from distillguard.provenance.groups import GroupIndex, default_groups
from distillguard.provenance.scanner import ChunkScanner, Slot

_CHUNK = re.compile(r"(\s*)(\S+)")
PREFIX_WORDS = 12
INSTRUCTION = "Continue the following text with a few sentences:"


@dataclass(frozen=True)
class Probe:
    """One prompt, the text it ends with, and the context it sets up."""

    prompt: str
    prefix: str
    context: str
    group: str

    def to_dict(self) -> dict[str, str]:
        return {"prompt": self.prompt, "prefix": self.prefix}


def probe_prefixes(text: str, index: GroupIndex | None = None) -> list[Probe]:
    """A probe for every swappable word in `text`: the words before it on the same line."""
    scanner = ChunkScanner(index or default_groups())
    probes = []
    # the line's last words so far, kept as the text streams by: cutting the text before
    # each slot again made a long line dense in slots quadratic
    before: deque[str] = deque(maxlen=PREFIX_WORDS)
    held: list[str] = []  # the words before the chunk the scanner holds (see step)

    def add(slot: Slot | None) -> None:
        if slot is not None and len(held) >= 3:
            prefix = " ".join(held)
            probes.append(
                Probe(f"{INSTRUCTION}\n\n{prefix}", prefix, slot.context, slot.group.name)
            )

    for match in _CHUNK.finditer(text):
        space, word = match.group(1), match.group(2)
        add(scanner.step(space, word))  # the slot of the chunk before this one
        if "\n" in space:
            before.clear()
        held = list(before)
        before.append(word)
    add(scanner.finish())
    return probes


def make_probes(
    texts: Iterable[str], limit: int, seed: int = 0, index: GroupIndex | None = None
) -> list[Probe]:
    """Up to `limit` probes, spread over as many (group, context) pairs as possible."""
    index = index or default_groups()
    by_context: dict[tuple[str, str], list[Probe]] = {}
    for text in texts:
        for probe in probe_prefixes(text, index):
            by_context.setdefault((probe.group, probe.context), []).append(probe)
    rng = random.Random(seed)
    pools = [by_context[k] for k in sorted(by_context)]
    for pool in pools:
        rng.shuffle(pool)
    rng.shuffle(pools)
    chosen: list[Probe] = []
    depth = 0
    while len(chosen) < limit and any(depth < len(pool) for pool in pools):
        chosen.extend(pool[depth] for pool in pools if depth < len(pool))
        depth += 1
    return chosen[:limit]
