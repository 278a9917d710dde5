"""The shape of a request by task kind: messages, tools and system prompt for one exchange.

Agent sessions carry their tool loop as history: turn k of a session holds the task and
k-1 tool calls with their results. Chat sessions carry earlier user turns and replies.
"""

from __future__ import annotations

from functools import lru_cache

from distillguard.simulate.clients import (
    AGENT_SYSTEM_PROMPT,
    AGENT_TOOLS,
    APP_TOOLS,
    COMPUTER_TOOLS,
)
from distillguard.simulate.conversation import ASSISTANT_REPLIES, Fragment, MessagesBuilder

AGENT_KINDS = frozenset({"agentic_coding", "computer_use"})
IMAGE_KINDS = frozenset({"vision", "computer_use"})
MAX_HISTORY = 6
TOOL_RESULTS = (
    "exit code 0",
    "3 tests failed",
    "file written",
    "no matches",
    "OK",
    "Traceback (most recent call last): ...",
    "screenshot captured",
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


def add_messages(
    out: MessagesBuilder, kind: str, prompt: str, history: Fragment, *, turn: int, pick: int
) -> Fragment:
    """One row of messages: the session's history, then the new turn. Returns the history
    the session's next turn will carry."""
    if kind in AGENT_KINDS:
        _agent_loop(out, kind, prompt, min(turn - 1, 2 * MAX_HISTORY), pick)
        out.end_row()
        return history
    out.extend(history)
    if kind in IMAGE_KINDS:
        out.block("image", media="image/png")
    out.block("text", prompt)
    out.message("user")
    out.end_row()
    history = history.tail(2 * MAX_HISTORY - 2).copy()
    history.text_message("user", prompt)
    history.text_message("assistant", ASSISTANT_REPLIES[pick % len(ASSISTANT_REPLIES)])
    return history


def _agent_loop(out: MessagesBuilder, kind: str, task: str, steps: int, pick: int) -> None:
    out.block("text", task)
    if kind == "computer_use":
        out.block("image", media="image/png")
    out.message("user")
    out.extend(_tool_steps(kind, steps, pick % 16))


@lru_cache(maxsize=4096)
def _tool_steps(kind: str, steps: int, variant: int) -> Fragment:
    """An agent's tool calls and their results; these repeat, so they are built once."""
    steps_out = Fragment()
    tools = COMPUTER_TOOLS if kind == "computer_use" else AGENT_TOOLS
    for step in range(steps):
        name = tools[(variant + step) % len(tools)]
        steps_out.block("tool_use", name=name)
        steps_out.message("assistant")
        if name == "screenshot":
            steps_out.block("image", media="image/png")
        result = TOOL_RESULTS[(variant * 7 + step) % len(TOOL_RESULTS)]
        steps_out.block("tool_result", text=result, name=name)
        steps_out.message("tool")
    return steps_out
