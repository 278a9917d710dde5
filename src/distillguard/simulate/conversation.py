"""Builds the nested messages column from appends, without a dict per block."""

from __future__ import annotations

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


class MessagesBuilder:
    """Append messages and blocks row by row; `array()` gives the exchange-log column."""

    def __init__(self) -> None:
        self.row_offsets = [0]
        self.roles: list[str] = []
        self.block_offsets = [0]
        self.kinds: list[str] = []
        self.texts: list[str | None] = []
        self.names: list[str | None] = []
        self.media: list[str | None] = []

    def block(
        self, kind: str, text: str | None = None, name: str | None = None, media: str | None = None
    ) -> None:
        self.kinds.append(kind)
        self.texts.append(text)
        self.names.append(name)
        self.media.append(media)

    def message(self, role: str) -> None:
        """Close the blocks added since the last message as a message with this role."""
        self.roles.append(role)
        self.block_offsets.append(len(self.kinds))

    def text_message(self, role: str, text: str) -> None:
        self.block("text", text)
        self.message(role)

    def end_row(self) -> None:
        self.row_offsets.append(len(self.roles))

    def array(self) -> pa.Array:
        strings = [
            pa.array(v, pa.string()) for v in (self.kinds, self.texts, self.names, self.media)
        ]
        blocks = pa.StructArray.from_arrays(strings, fields=list(BLOCK_TYPE))
        content = pa.ListArray.from_arrays(pa.array(self.block_offsets, pa.int32()), blocks)
        messages = pa.StructArray.from_arrays(
            [pa.array(self.roles, pa.string()), content], fields=list(MESSAGE_TYPE)
        )
        return pa.ListArray.from_arrays(pa.array(self.row_offsets, pa.int32()), messages)
