"""Probe prefixes: the words before each swappable word, on its own line."""

from __future__ import annotations

import random
import re

import pytest

from distillguard.provenance.groups import default_groups
from distillguard.provenance.probes import INSTRUCTION, PREFIX_WORDS, Probe, probe_prefixes
from distillguard.provenance.scanner import ChunkScanner


def _probes_by_cutting(text: str) -> list[Probe]:
    """The probes as first built: the text cut before each swappable word and its line
    split again (quadratic on a long line dense in such words)."""
    scanner, probes = ChunkScanner(default_groups()), []
    matches = list(re.finditer(r"(\s*)(\S+)", text))
    # the scanner says whether a chunk is a slot once it has seen the next (see step)
    stepped = [scanner.step(m.group(1), m.group(2)) for m in matches]
    slots = [*stepped[1:], scanner.finish()] if matches else []
    for match, slot in zip(matches, slots, strict=True):
        words = text[: match.start(2)].rsplit("\n", 1)[-1].split()[-PREFIX_WORDS:]
        if slot is not None and len(words) >= 3:
            prefix = " ".join(words)
            probes.append(
                Probe(f"{INSTRUCTION}\n\n{prefix}", prefix, slot.context, slot.group.name)
            )
    return probes


WORDS = ["big", "large", "often", "frequently", "the", "model", "we", "for", "example", "a"]
SPACES = [" ", " ", " ", "  ", "\t", "\n", " \n ", "\r\n", "\u00a0", "\n\n"]


@pytest.mark.parametrize("seed", range(30))
def test_streamed_prefixes_equal_cutting_the_text_before_each_word(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.choice([0, 3, 20, 400])
    text = " " * rng.randint(0, 1) + "".join(
        rng.choice(WORDS) + rng.choice(SPACES) for _ in range(n)
    )
    assert probe_prefixes(text) == _probes_by_cutting(text)
