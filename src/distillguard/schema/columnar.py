"""Validated rows (msgspec structs) → Arrow tables, column by column.

Nested messages are built from flat lists and offsets rather than from a dict per block,
which is about three times faster for pyarrow to take in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from distillguard.schema.exchange_log import BLOCK_TYPE, MESSAGE_TYPE, Field


class _MessageColumns:
    """Flat lists that become the nested messages column."""

    def __init__(self) -> None:
        self.message_offsets = [0]
        self.roles: list[str] = []
        self.block_offsets = [0]
        self.block_fields: tuple[list[Any], ...] = ([], [], [], [])

    def add_blocks(self, content: Any) -> None:
        kinds, texts, names, media = self.block_fields
        if type(content) is str:
            kinds.append("text")
            texts.append(content)
            names.append(None)
            media.append(None)
        elif content is not None:
            for block in content:
                kinds.append(block.type)
                texts.append(block.text)
                names.append(block.name)
                media.append(block.media_type)
        self.block_offsets.append(len(kinds))

    def add_row(self, messages: Any) -> None:
        for message in messages:
            self.roles.append(message.role)
            self.add_blocks(message.content)
        self.message_offsets.append(len(self.roles))

    def array(self) -> pa.Array:
        strings = [pa.array(values, pa.string()) for values in self.block_fields]
        blocks = pa.StructArray.from_arrays(strings, fields=list(BLOCK_TYPE))
        content = pa.ListArray.from_arrays(pa.array(self.block_offsets, pa.int32()), blocks)
        roles = pa.array(self.roles, pa.string())
        messages = pa.StructArray.from_arrays([roles, content], fields=list(MESSAGE_TYPE))
        return pa.ListArray.from_arrays(pa.array(self.message_offsets, pa.int32()), messages)


def _messages_array(values: list[Any]) -> pa.Array:
    columns = _MessageColumns()
    for messages in values:
        columns.add_row(messages)
    return columns.array()


def rows_to_table(rows: Sequence[Any], fields: tuple[Field, ...], schema: pa.Schema) -> pa.Table:
    """An Arrow table of validated rows, in the schema's column order."""
    arrays: list[pa.Array] = []
    for field in fields:
        values = [getattr(row, field.name) for row in rows]
        if field.kind == "messages":
            arrays.append(_messages_array(values))
        else:
            arrays.append(pa.array(values, schema.field(field.name).type))
    return pa.Table.from_arrays(arrays, schema=schema)
