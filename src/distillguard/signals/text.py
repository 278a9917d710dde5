"""Text and shape of a batch of exchanges, read from the nested messages column in Arrow.

Every function here works on whole columns (list offsets, flatten, take), so it costs the
same per row whatever the batch size, and never builds Python objects per message. The
two exceptions read one request already held as Python objects (the gateway's), where
building an Arrow batch would cost more than the classifiers; tests hold them equal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _last_messages(messages: pa.Array) -> tuple[pa.StructArray, np.ndarray]:
    """The last message of each row, and a mask of rows that have one."""
    offsets = np.asarray(messages.offsets)
    has = offsets[1:] > offsets[:-1]
    last = np.where(has, offsets[1:] - 1, 0)
    flat = messages.flatten()
    if len(flat) == 0:
        return flat, has
    return flat.take(pa.array(last)), has


def _joined_text(content: pa.ListArray) -> pa.Array:
    """Text blocks of each message joined by spaces (other blocks contribute nothing)."""
    blocks = content.flatten()
    is_text = pc.equal(blocks.field("type"), "text")
    texts = pc.if_else(pc.fill_null(is_text, False), pc.fill_null(blocks.field("text"), ""), "")
    rebuilt = pa.ListArray.from_arrays(content.offsets, texts)
    return pc.fill_null(pc.binary_join(rebuilt, " "), "")


def last_user_text(messages: pa.Array) -> pa.Array:
    """The new turn's text: what this exchange asked for."""
    messages = _combined(messages)
    last, has = _last_messages(messages)
    if len(last) == 0:
        return pa.array([""] * len(messages), pa.string())
    text = _joined_text(last.field("content"))
    return pc.if_else(pa.array(has), text, "")


def last_text_of_row(messages: list[dict[str, Any]]) -> str:
    """`last_user_text` of one row held as Python objects, as a gateway receives it."""
    if not messages:
        return ""
    blocks = messages[-1].get("content") or []
    return " ".join((b.get("text") or "") if b.get("type") == "text" else "" for b in blocks)


def lower_one(text: str) -> str:
    """`pc.utf8_lower` of one text; Python's `str.lower` agrees with it on ASCII only."""
    return text.lower() if text.isascii() else str(pc.utf8_lower(pa.scalar(text)).as_py())


def _combined(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def block_counts(messages: pa.Array, kind: str) -> np.ndarray:
    """How many blocks of one type each row's messages hold (images, tool results...)."""
    messages = _combined(messages)
    flat = messages.flatten()
    content = flat.field("content")
    blocks = content.flatten()
    if len(blocks) == 0:
        return np.zeros(len(messages), dtype=np.int64)
    block_message = np.asarray(pc.list_parent_indices(content))
    message_row = np.asarray(pc.list_parent_indices(messages))
    hits = np.asarray(pc.fill_null(pc.equal(blocks.field("type"), kind), False))
    return np.bincount(message_row[block_message[hits]], minlength=len(messages))


def role_counts(messages: pa.Array, role: str) -> np.ndarray:
    messages = _combined(messages)
    flat = messages.flatten()
    if len(flat) == 0:
        return np.zeros(len(messages), dtype=np.int64)
    hits = np.asarray(pc.fill_null(pc.equal(flat.field("role"), role), False))
    parents = np.asarray(pc.list_parent_indices(messages))
    return np.bincount(parents[hits], minlength=len(messages))


# Numbers, quoted spans, URLs, e-mail addresses and code blocks are a template's fillings.
_MASKS = (
    (r"```[\s\S]*?```", " <code> "),
    (r"https?://\S+", " <url> "),
    (r"[\w.+-]+@[\w-]+\.[\w.]+", " <email> "),
    (r"\"[^\"]{0,200}\"|'[^']{3,200}'", " <quoted> "),
    (r"\d+([.,]\d+)*", "0"),
    (r"[^\w<>\s]+", " "),
)


def skeleton(lowered: pa.Array) -> pa.Array:
    """The lower-cased prompt with its variable parts masked and spaces collapsed."""
    text = lowered
    for pattern, replacement in _MASKS:
        text = pc.replace_substring_regex(text, pattern, replacement)
    # Collapse every whitespace run to one space; a run that is already one space is left
    # alone, because rewriting each ordinary space cost more than all the masks together.
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"\s\s+|[^\S ]", " "))
