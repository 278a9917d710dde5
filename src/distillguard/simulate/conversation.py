"""Builds the nested messages column from appends, without a dict per block.

Message and row boundaries are kept as counts and turned into Arrow offsets once at the
end; runs of messages that repeat (an agent's tool loop) are appended as cached fragments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from distillguard.schema.exchange_log import BLOCK_TYPE, MESSAGE_TYPE

ASSISTANT_REPLIES = (
    "Sure, here is a first version.",
    "Good question. In short: it depends on the context.",
    "Here's a summary of the main points.",
    "I've made the change you asked for.",
    "Let me break that down.",
    "That's a common confusion; the key idea is simple.",
)


@dataclass
class Fragment:
    """A run of whole messages: per-block columns and per-message roles and block counts."""

    kinds: list[str] = field(default_factory=list)
    texts: list[str | None] = field(default_factory=list)
    names: list[str | None] = field(default_factory=list)
    media: list[str | None] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    _pending: int = 0

    def block(
        self, kind: str, text: str | None = None, name: str | None = None, media: str | None = None
    ) -> None:
        self.kinds.append(kind)
        self.texts.append(text)
        self.names.append(name)
        self.media.append(media)
        self._pending += 1

    def message(self, role: str) -> None:
        """Close the blocks added since the last message as one message with this role."""
        self.roles.append(role)
        self.counts.append(self._pending)
        self._pending = 0

    def text_message(self, role: str, text: str) -> None:
        self.block("text", text)
        self.message(role)

    def tail(self, messages: int) -> Fragment:
        """The last whole messages of this fragment (blocks counted back from the end)."""
        if len(self.roles) <= messages:
            return self
        kept = sum(self.counts[-messages:])
        return Fragment(
            self.kinds[-kept:],
            self.texts[-kept:],
            self.names[-kept:],
            self.media[-kept:],
            self.roles[-messages:],
            self.counts[-messages:],
        )

    def copy(self) -> Fragment:
        return Fragment(
            list(self.kinds),
            list(self.texts),
            list(self.names),
            list(self.media),
            list(self.roles),
            list(self.counts),
        )

    def extend(self, other: Fragment) -> None:
        self.kinds.extend(other.kinds)
        self.texts.extend(other.texts)
        self.names.extend(other.names)
        self.media.extend(other.media)
        self.roles.extend(other.roles)
        self.counts.extend(other.counts)


class MessagesBuilder(Fragment):
    """A Fragment cut into rows; `array()` gives the exchange-log messages column."""

    def __init__(self) -> None:
        super().__init__()
        self.row_counts: list[int] = []
        self._row_start = 0

    def end_row(self) -> None:
        self.row_counts.append(len(self.roles) - self._row_start)
        self._row_start = len(self.roles)

    def array(self) -> pa.Array:
        strings = [
            pa.array(v, pa.string()) for v in (self.kinds, self.texts, self.names, self.media)
        ]
        blocks = pa.StructArray.from_arrays(strings, fields=list(BLOCK_TYPE))
        content = pa.ListArray.from_arrays(_offsets(self.counts), blocks)
        messages = pa.StructArray.from_arrays(
            [pa.array(self.roles, pa.string()), content], fields=list(MESSAGE_TYPE)
        )
        return pa.ListArray.from_arrays(_offsets(self.row_counts), messages)


def _offsets(counts: list[int]) -> pa.Array:
    offsets = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.array(offsets)
