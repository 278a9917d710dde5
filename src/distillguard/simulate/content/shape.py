"""The shape of a request by task kind: messages, tools and system prompt for one exchange.

Agent sessions carry their tool loop as history: turn k of a session holds the task and
k-1 tool calls with their results. Chat sessions carry earlier user turns and replies.
"""

from __future__ import annotations

from distillguard.simulate.clients import (
    AGENT_SYSTEM_PROMPT,
    AGENT_TOOLS,
    APP_TOOLS,
    COMPUTER_TOOLS,
)
from distillguard.simulate.conversation import ASSISTANT_REPLIES, MessagesBuilder

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
    out: MessagesBuilder, kind: str, prompt: str, history: list[str], turn: int, pick: int
) -> None:
    """One row of messages: history of the session, then the new turn."""
    if kind in AGENT_KINDS:
        _agent_loop(out, kind, prompt, min(turn - 1, 2 * MAX_HISTORY), pick)
    else:
        for j, earlier in enumerate(history[-MAX_HISTORY:]):
            out.text_message("user", earlier)
            out.text_message("assistant", ASSISTANT_REPLIES[(pick + j) % len(ASSISTANT_REPLIES)])
        if kind in IMAGE_KINDS:
            out.block("image", media="image/png")
        out.block("text", prompt)
        out.message("user")
    out.end_row()


def _agent_loop(out: MessagesBuilder, kind: str, task: str, steps: int, pick: int) -> None:
    out.block("text", task)
    if kind == "computer_use":
        out.block("image", media="image/png")
    out.message("user")
    tools = COMPUTER_TOOLS if kind == "computer_use" else AGENT_TOOLS
    for step in range(steps):
        name = tools[(pick + step) % len(tools)]
        out.block("tool_use", name=name)
        out.message("assistant")
        if name == "screenshot":
            out.block("image", media="image/png")
        out.block(
            "tool_result", text=TOOL_RESULTS[(pick * 7 + step) % len(TOOL_RESULTS)], name=name
        )
        out.message("tool")
