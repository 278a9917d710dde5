"""Degrade: serve the account, but make what it gets less useful for training a rival.

Each degradation is named in the policy and is invisible in meaning to a person reading the
answer: the reasoning is withheld (replaced by a short summary), `max_tokens` and the
thinking budget are capped, and for requests that declare tools the model's narration
around tool calls is cut short (the calls themselves pass unchanged, so agents still work),
and, when the policy names `watermark` and a key, the answer text carries the provenance
watermark (`watermark.py`). Streamed responses get the same treatment event by event.
"""

from __future__ import annotations

from typing import Any

from distillguard.errors import ConfigError, unknown_name_error
from distillguard.gateway.actions import watermark
from distillguard.gateway.actions.base import RequestContext, StreamFilter, setting_number
from distillguard.gateway.apis import ApiName, Refusal

# What degrade does when the policy does not list its degradations; `watermark` needs a key,
# so it is only done when named (or when the gateway is given --watermark-key).
DEFAULT_DEGRADATIONS = (
    "withhold_reasoning",
    "cap_max_tokens",
    "cap_thinking_budget",
    "trim_tool_traces",
)
DEGRADATIONS = (*DEFAULT_DEGRADATIONS, "watermark")
_OPENAI_REASONING = ("reasoning_content", "reasoning")
# The fields that limit an answer's length.
_LIMIT_KEYS: dict[ApiName, tuple[str, ...]] = {
    "openai": ("max_completion_tokens", "max_tokens"),
    "anthropic": ("max_tokens", "max_completion_tokens"),
}

MIN_THINKING_BUDGET = 1024  # the least budget_tokens Anthropic accepts


class Degrade:
    name = "degrade"

    def __init__(self, settings: dict[str, Any]) -> None:
        self.applied = tuple(settings.get("degradations", DEFAULT_DEGRADATIONS))
        for name in self.applied:
            if name not in DEGRADATIONS:
                raise unknown_name_error("degradation", name, list(DEGRADATIONS))
        self.max_tokens = int(setting_number(settings, self.name, "max_tokens", 2048, whole=True))
        self.thinking_budget = int(  # Anthropic refuses a budget under 1,024 tokens
            setting_number(settings, self.name, "thinking_budget", 1024, whole=True, least=1024)
        )
        self.summary = str(settings.get("reasoning_summary", "[reasoning withheld]"))
        self.tool_trace_chars = int(
            setting_number(settings, self.name, "tool_trace_chars", 200, whole=True)
        )
        if settings.get(watermark.KEY_SETTING) and "watermark" not in self.applied:
            raise ConfigError(  # a key given is a watermark wanted: silence would lose it
                "actions.degrade.watermark_key is set, but its degradations do not name "
                "watermark: add watermark to them, or remove the key"
            )
        self.key = watermark.load_key(settings) if "watermark" in self.applied else None
        # The field an OpenAI-style request that sets no limit gets: OpenAI's current one
        # by default; `max_tokens` for an upstream that reads only the older field.
        self.openai_limit = str(settings.get("openai_limit", "max_completion_tokens"))
        if self.openai_limit not in _LIMIT_KEYS["openai"]:
            raise unknown_name_error("openai_limit", self.openai_limit, list(_LIMIT_KEYS["openai"]))

    async def on_request(self, ctx: RequestContext) -> Refusal | None:
        body = ctx.body
        if "cap_max_tokens" in self.applied:
            self._cap_max_tokens(ctx)
        if "cap_thinking_budget" in self.applied:
            self._cap_thinking(ctx)
        if isinstance(body.get("thinking"), dict) and (
            "cap_max_tokens" in self.applied or "cap_thinking_budget" in self.applied
        ):  # either cap may leave the budget at or over max_tokens
            self._fit_thinking(ctx)
        if self.key is not None and ctx.api == "openai" and watermark.drop_logprobs(body):
            ctx.notes.append("watermark: logprobs not requested")
        return None

    def _cap_max_tokens(self, ctx: RequestContext) -> None:
        """Cap whichever limit the request sets (both, if it sets both; a null limit is
        no limit). An OpenAI request that sets none gets `openai_limit`, by default
        max_completion_tokens: OpenAI's reasoning models refuse the older max_tokens,
        which Anthropic's API requires and always carries."""
        keys = [k for k in _LIMIT_KEYS[ctx.api] if ctx.body.get(k) is not None]
        keys = keys or [self.openai_limit if ctx.api == "openai" else "max_tokens"]
        capped = False
        for key in keys:
            asked = ctx.body.get(key)
            if not isinstance(asked, int) or asked > self.max_tokens:
                ctx.body[key] = self.max_tokens
                capped = True
        if capped:
            ctx.notes.append("cap_max_tokens")

    def _cap_thinking(self, ctx: RequestContext) -> None:
        thinking = ctx.body.get("thinking")
        if isinstance(thinking, dict):  # Anthropic, or its OpenAI-compatible endpoint
            budget = thinking.get("budget_tokens")
            if isinstance(budget, int) and budget > self.thinking_budget:
                ctx.body["thinking"] = {**thinking, "budget_tokens": self.thinking_budget}
                ctx.notes.append("cap_thinking_budget")
        elif ctx.api == "openai" and ctx.body.get("reasoning_effort") not in (
            None,
            "low",
            "minimal",
        ):
            ctx.body["reasoning_effort"] = "low"
            ctx.notes.append("cap_thinking_budget")

    @staticmethod
    def _fit_thinking(ctx: RequestContext) -> None:
        """Anthropic requires budget_tokens of at least 1,024 and below max_tokens, which a
        capped max_tokens may no longer leave room for: then the budget goes just under
        it, or, with no room for 1,024, thinking is turned off (the request would
        otherwise be refused upstream; a degraded account gets no thinking to train on)."""
        thinking = ctx.body["thinking"]
        limits = [ctx.body.get(k) for k in ("max_tokens", "max_completion_tokens")]
        limit = min((n for n in limits if isinstance(n, int)), default=None)  # the tighter
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or not isinstance(limit, int) or budget < limit:
            return
        if limit - 1 >= MIN_THINKING_BUDGET:
            ctx.body["thinking"] = {**thinking, "budget_tokens": limit - 1}
        else:
            ctx.body["thinking"] = {"type": "disabled"}
        ctx.notes.append("cap_thinking_budget")

    def _trims(self, ctx: RequestContext) -> bool:
        return "trim_tool_traces" in self.applied and bool(ctx.body.get("tools"))

    def on_response(self, ctx: RequestContext, response: dict[str, Any]) -> dict[str, Any]:
        degraded = self._degraded(ctx, response)
        if self.key is None:
            return degraded
        return watermark.mark_response(ctx.api, degraded, self.key)

    def _degraded(self, ctx: RequestContext, response: dict[str, Any]) -> dict[str, Any]:
        withhold = "withhold_reasoning" in self.applied
        if ctx.api == "anthropic":
            blocks = [self._block(b, withhold, ctx) for b in response.get("content") or []]
            return {**response, "content": blocks}
        for choice in response.get("choices") or []:
            message = choice.get("message") or {}
            for key in _OPENAI_REASONING:
                if withhold and message.get(key):
                    message[key] = self.summary
            if self._trims(ctx) and isinstance(message.get("content"), str):
                message["content"] = message["content"][: self.tool_trace_chars]
        return response

    def _block(self, block: dict[str, Any], withhold: bool, ctx: RequestContext) -> dict[str, Any]:
        # redacted_thinking is already encrypted by the API: it passes as it came.
        if withhold and block.get("type") == "thinking":
            return self.withheld(block, ctx)
        if self._trims(ctx) and block.get("type") == "text":
            return {**block, "text": block.get("text", "")[: self.tool_trace_chars]}
        return block

    def withheld(self, block: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        """The summary in the thinking's place; its signature the sealed original, which
        the gateway restores when the client sends the block back (see reasoning_seal)."""
        signature = ctx.seal.seal(block, ctx.account) if ctx.seal is not None else ""
        return {"type": "thinking", "thinking": self.summary, "signature": signature}

    def stream_filter(self, ctx: RequestContext) -> StreamFilter:
        return _DegradedStream(self, ctx)


class _DegradedStream:
    """OpenAI: the first reasoning delta becomes the summary, the rest are dropped.
    Anthropic: each thinking block's first delta becomes the summary, the rest are held
    back, and its signature is the sealed original (see `Degrade.withheld`). Text is
    capped, then watermarked."""

    def __init__(self, degrade: Degrade, ctx: RequestContext) -> None:
        key = degrade.key
        self.marks = None if key is None else watermark.WatermarkStream(ctx.api, key)
        self.withhold = "withhold_reasoning" in degrade.applied
        self.degrade, self.ctx = degrade, ctx
        self.summary = degrade.summary
        self.trim = degrade.tool_trace_chars if degrade._trims(ctx) else None
        self.api = ctx.api
        self.summarised = False
        self.thinking: dict[Any, list[str]] = {}  # held-back thinking, by block index
        self.text_sent = 0

    def _text(self, text: str) -> str:
        if self.trim is None:
            return text
        room = max(0, self.trim - self.text_sent)
        self.text_sent += min(len(text), room)
        return text[:room]

    def _reasoning(self) -> str | None:
        if self.summarised:
            return None
        self.summarised = True
        return self.summary

    def on_event(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        kept = self._degraded(event)
        if kept is None:
            return []
        return [kept] if self.marks is None else self.marks.on_event(kept)

    def _degraded(self, event: dict[str, Any]) -> dict[str, Any] | None:
        if self.api == "anthropic":
            return self._anthropic(event)
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or {}
            for key in _OPENAI_REASONING:
                if self.withhold and delta.get(key):
                    summary = self._reasoning()
                    if summary is None:
                        del delta[key]
                    else:
                        delta[key] = summary
            if isinstance(delta.get("content"), str):
                delta["content"] = self._text(delta["content"])
        return event

    def _anthropic(self, event: dict[str, Any]) -> dict[str, Any] | None:
        delta = event.get("delta") if event.get("type") == "content_block_delta" else None
        if not isinstance(delta, dict):
            return event
        kind = delta.get("type")
        if self.withhold and kind == "thinking_delta":
            return self._thinking(event, delta)
        if self.withhold and kind == "signature_delta":
            return self._signature(event, delta)
        if kind == "text_delta":
            text = self._text(str(delta.get("text", "")))
            return {**event, "delta": {**delta, "text": text}} if text else None
        return event

    def _thinking(self, event: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any] | None:
        held = self.thinking.setdefault(event.get("index"), [])
        held.append(str(delta.get("thinking", "")))
        first = len(held) == 1
        return {**event, "delta": {**delta, "thinking": self.summary}} if first else None

    def _signature(self, event: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
        text = "".join(self.thinking.pop(event.get("index"), []))
        original = {"type": "thinking", "thinking": text, "signature": delta.get("signature")}
        sealed = self.degrade.withheld(original, self.ctx)["signature"]
        return {**event, "delta": {**delta, "signature": sealed}}
