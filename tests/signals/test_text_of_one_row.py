"""The one-request text helpers the gateway uses equal the Arrow column code detect uses."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from distillguard.schema.exchange_log import EXCHANGES_SCHEMA
from distillguard.signals.text import last_text_of_row, last_user_text, lower_one
from tests.signals.test_regex_parity import CORPORA, EDGE_CASES, LABELLED, _corpus_prompts

MESSAGES = EXCHANGES_SCHEMA.field("messages").type


def _text(text: str | None) -> dict[str, Any]:
    return {"type": "text", "text": text}


SHAPES: list[tuple[str, list[dict[str, Any]]]] = [
    ("no messages", []),
    ("one user text", [{"role": "user", "content": [_text("Think step by step.")]}]),
    ("empty content", [{"role": "user", "content": []}]),
    ("null content", [{"role": "user", "content": None}]),
    ("null text", [{"role": "user", "content": [_text(None)]}]),
    ("image then text", [{"role": "user", "content": [{"type": "image"}, _text("What is it?")]}]),
    ("text, tool use, text", [
        {"role": "user", "content": [_text("a"), {"type": "tool_use", "text": "x"}, _text("b")]},
    ]),
    ("only the last message counts", [
        {"role": "user", "content": [_text("Show your reasoning.")]},
        {"role": "assistant", "content": [_text("Sure.")]},
        {"role": "user", "content": [_text("Thanks")]},
    ]),
    ("last message is the assistant's", [
        {"role": "user", "content": [_text("hi")]},
        {"role": "assistant", "content": [_text("hello"), _text("there")]},
    ]),
    ("non-ASCII", [{"role": "user", "content": [_text("İSTANBUL ΣΑΣ"), _text("Straße")]}]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "messages"), SHAPES, ids=[c for c, _ in SHAPES])
def test_last_text_of_a_row_equals_the_column_code(case: str, messages: list[Any]) -> None:
    column = pa.array([messages], MESSAGES)
    assert last_text_of_row(messages) == last_user_text(column)[0].as_py()


def test_last_text_of_rows_equals_the_column_code_on_a_mixed_batch() -> None:
    rows = [messages for _, messages in SHAPES]
    column = last_user_text(pa.array(rows, MESSAGES))
    assert [last_text_of_row(m) for m in rows] == column.to_pylist()


def test_lower_one_equals_arrows_lower_where_python_differs() -> None:
    texts = ["İ", "ΣΑΣ", "ǅ", "ASCII Only", "\uff21", "ẞ"]  # U+FF21: fullwidth A
    assert [lower_one(t) for t in texts] == pc.utf8_lower(pa.array(texts)).to_pylist()
    assert lower_one("ΣΑΣ") != "ΣΑΣ".lower()  # the case that needs Arrow's mapping


def test_lower_one_equals_arrows_lower_on_prompts() -> None:
    texts = [*LABELLED, *(t for _, t in EDGE_CASES if t is not None)]
    if CORPORA.is_dir():
        texts += _corpus_prompts(every=31)
    assert [lower_one(t) for t in texts] == pc.utf8_lower(pa.array(texts)).to_pylist()
