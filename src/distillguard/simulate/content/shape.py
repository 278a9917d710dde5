"""The shape of requests by task kind: messages, tools and system prompt, built column-wise.

Rows of one session are contiguous and in turn order, so a chat turn's history is simply the
prompts of the rows before it, and an agent turn carries the task and its earlier tool calls
with their results. Everything is computed with numpy over all rows at once: no Python
loop per message or block.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from distillguard.schema.exchange_log import BLOCK_TYPE, MESSAGE_TYPE
from distillguard.simulate.clients import (
    AGENT_SYSTEM_PROMPT,
    AGENT_TOOLS,
    APP_TOOLS,
    COMPUTER_TOOLS,
)

AGENT_KINDS = frozenset({"agentic_coding", "computer_use"})
IMAGE_KINDS = frozenset({"vision", "computer_use"})
MAX_HISTORY = 6  # earlier chat turns, or agent tool steps, that a request carries
ASSISTANT_REPLIES = np.array(
    [
        "Sure, here is a first version.",
        "Good question. In short: it depends on the context.",
        "Here's a summary of the main points.",
        "I've made the change you asked for.",
        "Let me break that down.",
        "That's a common confusion; the key idea is simple.",
    ],
    dtype=object,
)
TOOL_RESULTS = np.array(
    [
        "exit code 0",
        "3 tests failed",
        "file written",
        "no matches",
        "OK",
        "Traceback (most recent call last): ...",
        "screenshot captured",
    ],
    dtype=object,
)


def tools_for(kind: str, agent_client: bool) -> list[str] | None:
    if kind == "computer_use":
        return list(COMPUTER_TOOLS)
    if kind == "agentic_coding" or (agent_client and kind == "code"):
        return list(AGENT_TOOLS)
    if kind == "tool_use":
        return list(APP_TOOLS)
    return None


def system_for(kind: str, agent_client: bool, app_prompt: str | None) -> str | None:
    if app_prompt is not None:
        return app_prompt
    if agent_client or kind in AGENT_KINDS:
        return AGENT_SYSTEM_PROMPT
    return None


def _offsets(counts: np.ndarray) -> pa.Array:
    offsets = np.zeros(len(counts) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.array(offsets)


def _positions(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For repeated items: which parent each belongs to, and its position in the parent."""
    parent = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return parent, np.arange(len(parent)) - starts[parent]


def _strings(codes: np.ndarray, vocabulary: tuple[str, ...]) -> pa.Array:
    """Small-vocabulary strings from integer codes (-1 for null), expanded in C++."""
    indices = pa.array(codes, mask=codes < 0, type=pa.int32())
    return pa.DictionaryArray.from_arrays(indices, pa.array(vocabulary)).cast(pa.string())


ROLES = ("user", "assistant", "tool")
BLOCK_KINDS = ("text", "image", "tool_use", "tool_result")
TOOL_NAMES = tuple(dict.fromkeys(AGENT_TOOLS + COMPUTER_TOOLS))
AGENT_CODES = np.array([TOOL_NAMES.index(t) for t in AGENT_TOOLS])
COMPUTER_CODES = np.array([TOOL_NAMES.index(t) for t in COMPUTER_TOOLS])


def messages_column(
    kinds: list[str], prompts: list[str], turn: np.ndarray, picks: np.ndarray
) -> pa.Array:
    """The messages column: history (chat) or tool loop (agent), then the new turn."""
    kind = np.asarray(kinds, dtype=object)
    agent, image = np.isin(kind, list(AGENT_KINDS)), np.isin(kind, list(IMAGE_KINDS))
    computer = kind == "computer_use"
    steps = np.minimum(turn - 1, MAX_HISTORY)
    row, pos = _positions(1 + 2 * steps)
    is_agent, pick, odd = agent[row], picks[row], pos % 2 == 1
    final = ~is_agent & (pos == 2 * steps[row])
    first = is_agent & (pos == 0)
    step = np.maximum(pos - 1, 0) // 2
    tool_code = np.where(
        computer[row],
        COMPUTER_CODES[(pick + step) % len(COMPUTER_CODES)],
        AGENT_CODES[(pick + step) % len(AGENT_CODES)],
    )
    role = np.where(is_agent & (pos > 0) & ~odd, 2, odd.astype(int))
    msg_kind = np.where(is_agent & (pos > 0), np.where(odd, 2, 3), 0)
    msg_name = np.where(is_agent & (pos > 0), tool_code, -1)
    # Text comes from one pool: this row's prompt, an earlier prompt, a reply or a tool result.
    n = len(prompts)
    pool = np.concatenate(
        [
            np.asarray(prompts, dtype=object),
            ASSISTANT_REPLIES,
            TOOL_RESULTS,
            np.array([None], dtype=object),
        ]
    )
    reply = n + (pick + pos // 2) % len(ASSISTANT_REPLIES)
    result = n + len(ASSISTANT_REPLIES) + (pick * 7 + step) % len(TOOL_RESULTS)
    earlier = np.clip(row - steps[row] + pos // 2, 0, max(n - 1, 0))
    chat_text = np.where(final, row, np.where(odd, reply, earlier))
    agent_text = np.where(pos == 0, row, np.where(odd, len(pool) - 1, result))
    msg_text = pool[np.where(is_agent, agent_text, chat_text)]
    per_message = 1 + ((final | first) & image[row])
    message, block_pos = _positions(per_message)
    is_image = (per_message[message] == 2) & np.where(
        first[message], block_pos == 1, block_pos == 0
    )
    blocks = pa.StructArray.from_arrays(
        [
            _strings(np.where(is_image, 1, msg_kind[message]), BLOCK_KINDS),
            pa.array(np.where(is_image, None, msg_text[message]), pa.string()),
            _strings(np.where(is_image, -1, msg_name[message]), TOOL_NAMES),
            _strings(np.where(is_image, 0, -1), ("image/png",)),
        ],
        fields=list(BLOCK_TYPE),
    )
    content = pa.ListArray.from_arrays(_offsets(per_message), blocks)
    messages = pa.StructArray.from_arrays(
        [_strings(role, ROLES), content], fields=list(MESSAGE_TYPE)
    )
    return pa.ListArray.from_arrays(_offsets(1 + 2 * steps), messages)
