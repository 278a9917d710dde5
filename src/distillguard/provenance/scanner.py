"""Walks text chunk by chunk (a chunk is a run of non-space characters) and says, for each one,
whether it is a word the watermark may swap, in which context, or a protected span.

The same scanner runs when watermarking (on the original) and when testing (on a suspect's
output), so both see the same contexts. It keeps its state across calls, which is what lets the
streaming watermarker work on partial responses. Protected, never touched: fenced and indented
code, inline code, blockquote and table lines, anything inside double or single quotation
marks, inside {...} or [...] (JSON, tool arguments) or <tag>...</tag>, any chunk with a
digit, underscore, slash or other non-letter inside it, a word before a colon (a label's:
"Objective:"), and a capitalised word that does
not open a sentence (a name's: "the Large Hadron Collider"; a sentence opens at the start,
after a chunk ending in . ! or ? (a numbered item's "1." too), and after a paragraph break,
not after a heading mark, a number, a quote or a line break).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from distillguard.provenance.groups import GroupIndex, SynonymGroup

_WORD = re.compile(r"^(\(?)([A-Za-z]+(?:'[A-Za-z]+)?)([.,;:!?)]*)$")
_PUNCT_ONLY = re.compile(r"^[.,;:!?)\]]+$")
_SENTENCE_END = re.compile(r"[.!?:;]")  # ends the `after=` constraints' previous word
_OPEN_TAG = re.compile(r"<[A-Za-z_][\w:-]*(?:\s|>|$)")
_CLOSE_TAG = re.compile(r"</[A-Za-z_][\w:-]*>")
_SELF_CLOSING = re.compile(r"/>")
_INLINE_TICKS = re.compile(r"`+")
_ENDS_SENTENCE = re.compile(r"[.!?][)\]\"'\u201d\u2019]*$")  # the next word opens one
SENTENCE_START = "<s>"
OPAQUE = "<x>"


@dataclass(frozen=True)
class Slot:
    """A swappable word: its group, which member it is, and the context the key sees."""

    group: SynonymGroup
    member: int
    context: str
    lead: str
    core: str
    trail: str


def match_case(word: str, like: str) -> str:
    """`word` in the case pattern of `like` (lower, Capitalised or UPPER)."""
    if len(like) > 1 and like.isupper():
        return word.upper()
    if like[0].isupper():
        return word[0].upper() + word[1:]
    return word


def _plain_case(core: str) -> bool:
    return core.islower() or core.isupper() or (core[0].isupper() and core[1:].islower())


class ChunkScanner:
    """State machine over (whitespace, chunk) pairs; `step` returns a Slot or None."""

    def __init__(self, index: GroupIndex) -> None:
        self._index = index
        self._at_start = True
        self._in_fence = False
        self._line_protected = False
        self._in_inline = False
        self._in_double = False
        self._in_single = False
        self._depth = 0
        self._tags = 0
        self._context = (SENTENCE_START, SENTENCE_START)
        self._prev_word = ""
        self._held: Slot | None = None  # the last chunk's slot, until the next chunk is seen
        # Whether the next word opens a sentence: at the start, after . ! or ?, and after a
        # paragraph break; not after a line break, a number, a quote or a heading mark.
        self._sentence_open = True

    def step(self, space: str, chunk: str) -> Slot | None:
        """Take the next chunk; return the slot of the chunk before it, if that was one: a
        slot waits one chunk, since a member right before one of its group's `not_before`
        words ("needs to": "requires to" is wrong) is no slot. `finish` returns the last."""
        now = self._step(space, chunk)
        held, self._held = self._held, now
        if held is not None:
            word = _WORD.match(chunk)
            if word is not None and word.group(2).lower() in held.group.not_before:
                return None
        return held

    def finish(self) -> Slot | None:
        """The end of the text (or of a probe's prefix): the slot still held, if any."""
        held, self._held = self._held, None
        return held

    def _step(self, space: str, chunk: str) -> Slot | None:
        if (self._at_start or "\n" in space) and self._new_line(space, chunk):
            self._push(OPAQUE)
            return None
        protected = self._protected()
        self._track(chunk)
        word = _WORD.match(chunk)
        if word is None or protected:
            self._skip(chunk, protected)
            return None
        return self._word(*word.groups())

    def _new_line(self, space: str, chunk: str) -> bool:
        """Handle a chunk that opens a line; True when the chunk is a code fence."""
        self._at_start = False
        if space.count("\n") >= 2:  # a paragraph break closes stray quotation marks
            self._in_double = self._in_single = False
            self._sentence_open = True
        self._prev_word = ""
        indent = len(space.rsplit("\n", 1)[-1].expandtabs(4))
        if chunk.startswith(("```", "~~~")):
            self._in_fence = not self._in_fence
            return True
        self._line_protected = indent >= 4 or chunk.startswith((">", "|"))
        return False

    def _protected(self) -> bool:
        return (
            self._in_fence
            or self._line_protected
            or self._in_inline
            or self._in_double
            or self._in_single
            or self._depth > 0
            or self._tags > 0
        )

    def _track(self, chunk: str) -> None:
        """Update the protected-span state from the marks in `chunk`."""
        if self._in_fence or self._line_protected:
            return
        ticks = [t for t in _INLINE_TICKS.findall(chunk) if len(t) < 3]
        if len(ticks) % 2:
            self._in_inline = not self._in_inline
        if self._in_inline or ticks:
            return
        opens = chunk.count("{") + chunk.count("[")
        self._depth = max(0, self._depth + opens - chunk.count("}") - chunk.count("]"))
        opened = len(_OPEN_TAG.findall(chunk)) - len(_SELF_CLOSING.findall(chunk))
        self._tags = max(0, self._tags + opened - len(_CLOSE_TAG.findall(chunk)))
        self._track_quotes(chunk)

    def _track_quotes(self, chunk: str) -> None:
        core = chunk.lstrip("(").rstrip(".,;:!?)")
        if core.count('"') % 2:
            self._in_double = not self._in_double
        if "\u201c" in core:
            self._in_double = True
        if "\u201d" in core:
            self._in_double = False
        if core.startswith(("'", "\u2018")) and not core.endswith(("'", "\u2019")):
            self._in_single = True
        elif self._in_single and core.endswith(("'", "\u2019")):
            self._in_single = False

    def _skip(self, chunk: str, protected: bool) -> None:
        """Context after a chunk that is not a swappable word."""
        self._sentence_open = bool(_ENDS_SENTENCE.search(chunk))
        if not protected and _PUNCT_ONLY.match(chunk):
            # Punctuation on its own (another tokenizer's spacing) leaves the context as it was.
            if _SENTENCE_END.search(chunk):
                self._prev_word = ""
            return
        self._push(OPAQUE)
        self._prev_word = ""

    def _word(self, lead: str, core: str, trail: str) -> Slot | None:
        lower = core.lower()
        # A capital inside a sentence is a name's ("the Large Hadron Collider"): left alone.
        named = core[0].isupper() and not self._sentence_open
        self._sentence_open = bool(_ENDS_SENTENCE.search(trail))
        found = self._index.lookup(lower) if _plain_case(core) and not named else None
        slot = None
        # A word before a colon is a label more often than not ("Objective:" heading a
        # lesson plan's field), which a template or parser may expect word for word.
        if found is not None and found[0].allows(self._prev_word) and ":" not in trail:
            slot = Slot(found[0], found[1], " ".join(self._context), lead, core, trail)
        # A member's context is its group, not the word, so a swap never changes the next
        # word's context: watermarking and testing see the same contexts.
        self._push(found[0].name if found is not None else lower)
        self._prev_word = "" if _SENTENCE_END.search(trail) else lower
        return slot

    def _push(self, word: str) -> None:
        """The context is the two words before, across punctuation and sentence ends, so that
        sentence-initial words ("Moreover") get as many contexts as any other."""
        self._context = (self._context[1], word)
