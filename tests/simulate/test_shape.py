"""Request shapes built column-wise: histories, tool loops and images land where they should."""

from __future__ import annotations

from typing import Any

import numpy as np

from distillguard.schema import validate_exchange
from distillguard.simulate.content.shape import MAX_HISTORY, messages_column

Message = tuple[str, list[tuple[str, str]]]


def _rows(kinds: list[str], turns: list[int]) -> list[list[dict[str, Any]]]:
    prompts = [f"prompt {i}" for i in range(len(kinds))]
    picks = np.zeros(len(kinds), dtype=np.int64)
    rows: list[list[dict[str, Any]]] = messages_column(
        kinds, prompts, np.asarray(turns), picks
    ).to_pylist()
    return rows


def _summary(messages: list[dict[str, Any]]) -> list[Message]:
    """(role, [(block type, its text, tool name or media type)]) per message."""
    return [
        (m["role"], [(b["type"], b["text"] or b["name"] or b["media_type"]) for b in m["content"]])
        for m in messages
    ]


def test_chat_turns_carry_the_sessions_earlier_prompts() -> None:
    rows = _rows(["chat", "chat", "chat"], [1, 2, 3])
    assert _summary(rows[0]) == [("user", [("text", "prompt 0")])]
    third = _summary(rows[2])
    assert [role for role, _ in third] == ["user", "assistant", "user", "assistant", "user"]
    assert third[0][1] == [("text", "prompt 0")] and third[2][1] == [("text", "prompt 1")]
    assert third[4][1] == [("text", "prompt 2")]


def test_agent_turns_carry_the_task_and_tool_loop() -> None:
    third = _summary(_rows(["agentic_coding"] * 3, [1, 2, 3])[2])
    assert [role for role, _ in third] == ["user", "assistant", "tool", "assistant", "tool"]
    assert third[0][1] == [("text", "prompt 2")]
    assert [kind for _, blocks in third[1:] for kind, _ in blocks] == [
        "tool_use",
        "tool_result",
        "tool_use",
        "tool_result",
    ]


def test_images_and_history_caps() -> None:
    rows = _rows(["vision", "computer_use", "chat"], [1, 1, 40])
    assert _summary(rows[0]) == [("user", [("image", "image/png"), ("text", "prompt 0")])]
    assert _summary(rows[1]) == [("user", [("text", "prompt 1"), ("image", "image/png")])]
    assert len(rows[2]) == 2 * MAX_HISTORY + 1


def test_rows_validate_as_exchange_log() -> None:
    for messages in _rows(["chat", "agentic_coding", "vision", "computer_use"], [2, 3, 1, 2]):
        row = {
            "request_id": "r",
            "ts": "2026-02-02T00:00:00Z",
            "account_id": "a",
            "model": "m",
            "messages": messages,
        }
        validate_exchange(row)
