"""Apply the watermark: swap each swappable word for the member the key picks in its context.

`watermark_text` does one whole response; `Watermarker` does a streamed one, delta by delta,
holding back only the chunk still being written (a word is swapped once the space after it
has arrived, so "large" is never swapped while "large-scale" may still be coming).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from distillguard.provenance.groups import GroupIndex, default_groups
from distillguard.provenance.key import WatermarkKey
from distillguard.provenance.scanner import ChunkScanner, Slot, match_case

_CHUNK = re.compile(r"(\s*)(\S+)")


@dataclass(frozen=True)
class WatermarkResult:
    """A watermarked text and what was done to it."""

    text: str
    words: int
    candidates: int
    changed: int

    @property
    def explanation(self) -> str:
        return (
            f"{self.changed} of {self.words} words changed; {self.candidates} words could "
            "carry the watermark (the rest were left as written, along with all code, "
            "quotations, numbers and structured data)"
        )


class Watermarker:
    """Streaming watermark: `feed(delta)` returns the text safe to send now, `flush()` the rest."""

    def __init__(self, key: WatermarkKey, index: GroupIndex | None = None) -> None:
        self._key = key
        self._scanner = ChunkScanner(index or default_groups())
        self._pending = ""
        self._held = ""  # the last chunk, until the scanner says whether it is a slot
        self.words = 0
        self.candidates = 0
        self.changed = 0

    def feed(self, delta: str) -> str:
        """Add a piece of the response; return what can be sent without waiting for more."""
        self._pending += delta
        out: list[str] = []
        done = 0
        for match in _CHUNK.finditer(self._pending):
            if match.end() == len(self._pending):
                break  # the chunk may continue in the next delta
            out.append(self._apply(match.group(1), match.group(2)))
            done = match.end()
        self._pending = self._pending[done:]
        return "".join(out)

    def flush(self) -> str:
        """The end of the response: everything still held back."""
        out: list[str] = []
        done = 0
        for match in _CHUNK.finditer(self._pending):
            out.append(self._apply(match.group(1), match.group(2)))
            done = match.end()
        out.append(self._release(self._scanner.finish()) + self._pending[done:])
        self._pending = ""
        return "".join(out)

    def result(self, text: str) -> WatermarkResult:
        return WatermarkResult(text, self.words, self.candidates, self.changed)

    def _apply(self, space: str, chunk: str) -> str:
        """The text of the chunk before this one, now that the scanner has seen what follows
        it (its space stays, its word may be swapped); this one waits."""
        self.words += 1
        released = self._release(self._scanner.step(space, chunk))
        self._held = space + chunk
        return released

    def _release(self, slot: Slot | None) -> str:
        held, self._held = self._held, ""
        if slot is None:
            return held
        self.candidates += 1
        chunk = slot.lead + slot.core + slot.trail
        replacement = self._replacement(slot)
        if replacement == chunk:
            return held
        self.changed += 1
        return held[: len(held) - len(chunk)] + replacement

    def _replacement(self, slot: Slot) -> str:
        chosen = slot.group.members[self._key.choose(slot.group, slot.context)]
        return slot.lead + match_case(chosen, slot.core) + slot.trail


def watermark_text(
    text: str, key: WatermarkKey, index: GroupIndex | None = None
) -> WatermarkResult:
    """Watermark one whole response."""
    marker = Watermarker(key, index)
    out = marker.feed(text) + marker.flush()
    return marker.result(out)


def watermark_many(
    texts: list[str], key: WatermarkKey, index: GroupIndex | None = None
) -> list[WatermarkResult]:
    """Watermark responses one by one (each starts with a fresh scanner, as a new response)."""
    return [watermark_text(text, key, index) for text in texts]
