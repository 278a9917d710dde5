"""Structure of a request and its response: what the attacker pays for and what it gets."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from distillguard.signals.base import BatchContext, Columns, Signal


def _ints(array: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(array, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


class Structure(Signal):
    name = "structure"
    columns = (
        "n_tools",
        "n_images",
        "n_tool_blocks",
        "user_turns",
        "thinking_budget",
        "max_tokens",
        "output_tokens",
        "reasoning_tokens",
        "input_tokens",
        "ok",
        "prompt_chars",
    )
    description = "tools, images, tool loop, turns, thinking budget, token counts and success"

    def compute(self, ctx: BatchContext) -> Columns:
        status = _ints(ctx.column("status"))
        return {
            "n_tools": _ints(pc.list_value_length(ctx.column("tools"))),
            "n_images": ctx.images,
            "n_tool_blocks": ctx.tool_blocks,
            "user_turns": ctx.user_turns,
            "thinking_budget": _ints(ctx.column("thinking_budget")),
            "max_tokens": _ints(ctx.column("max_tokens")),
            "output_tokens": _ints(ctx.column("output_tokens")),
            "reasoning_tokens": _ints(ctx.column("reasoning_tokens")),
            "input_tokens": _ints(ctx.column("input_tokens")),
            "ok": (status == 200) | (status == 0),
            "prompt_chars": _ints(pc.utf8_length(ctx.prompt)),
        }
