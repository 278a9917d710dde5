"""The degrade step's `watermark`: the provenance watermark on the answer a degraded account
reads, so that a model later trained on it can be shown to have learned from it.

Only assistant answer text is marked: OpenAI `choices[].message.content` (and its deltas),
Anthropic `text` blocks (and their `text_delta`s). Reasoning, tool calls and their arguments,
`tool_use` input and every other field pass as they are; inside the text the watermark itself
leaves code, JSON, quotations and numbers alone. Each choice and each text block is one
response to the watermark (its own `Watermarker`), so a streamed answer comes out exactly as
the same answer served whole. Token log-probabilities would show the words before the swap,
so they are not requested for a watermarked account.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from distillguard.errors import ConfigError, UserError
from distillguard.gateway.apis import ApiName
from distillguard.provenance import Watermarker, WatermarkKey, watermark_text
from distillguard.verdicts.policy import Policy

KEY_SETTING = "watermark_key"
LOGPROB_FIELDS = ("logprobs", "top_logprobs")


def load_key(settings: dict[str, Any]) -> WatermarkKey:
    """The key the degrade step's settings name; a one-line ConfigError when it cannot be read
    (the message names the file, never its contents)."""
    path = settings.get(KEY_SETTING)
    if not path:
        raise ConfigError(
            "the degrade step's watermark needs a key: set actions.degrade.watermark_key to a "
            "file from 'distillguard provenance keygen' (or start the gateway with "
            "--watermark-key FILE)"
        )
    try:
        return WatermarkKey.load(Path(str(path)))
    except UserError as exc:
        raise ConfigError(f"degrade watermark: {exc}") from None


def with_key(policy: Policy, path: Path, default_degradations: tuple[str, ...]) -> Policy:
    """The policy with `path` as the watermark key and `watermark` among degrade's degradations
    (what `--watermark-key FILE` asks for: naming a key means marking with it)."""
    degrade = dict(policy.settings("degrade"))
    named = list(degrade.get("degradations", default_degradations))
    degrade["degradations"] = [*named, "watermark"] if "watermark" not in named else named
    degrade[KEY_SETTING] = str(path)
    return msgspec.structs.replace(policy, actions={**policy.actions, "degrade": degrade})


def drop_logprobs(body: dict[str, Any]) -> bool:
    """Remove the log-probability options from an OpenAI request; True when there were any."""
    return bool([body.pop(name) for name in LOGPROB_FIELDS if name in body])


def mark_response(api: ApiName, response: dict[str, Any], key: WatermarkKey) -> dict[str, Any]:
    """A non-streamed response with its answer text watermarked."""
    if api == "anthropic":
        _mark_blocks(response.get("content"), key)
        return response
    for choice in response.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        message = choice.get("message")
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            message["content"] = watermark_text(message["content"], key).text
        elif isinstance(message, dict):
            _mark_blocks(message.get("content"), key)  # content as a list of text parts
        if choice.get("logprobs") is not None:
            choice["logprobs"] = None
    return response


def _mark_blocks(blocks: Any, key: WatermarkKey) -> None:
    for block in blocks if isinstance(blocks, list) else []:
        if _is_text(block):
            block["text"] = watermark_text(block["text"], key).text


def _is_text(block: Any, kind: str = "text") -> bool:
    """A dict of type `kind` with a string `text`: an Anthropic text block or text delta."""
    if not isinstance(block, dict) or block.get("type") != kind:
        return False
    return isinstance(block.get("text"), str)


class WatermarkStream:
    """Streamed answers watermarked delta by delta: each delta carries the text that is safe to
    send now, and what is held back (at most the word still being written) goes out before its
    choice finishes or calls a tool, or before its Anthropic text block stops."""

    def __init__(self, api: ApiName, key: WatermarkKey) -> None:
        self.api, self.key = api, key
        self._markers: dict[int, Watermarker] = {}

    def on_event(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        if self.api == "anthropic":
            return self._anthropic(event)
        for choice in event.get("choices") or []:
            if isinstance(choice, dict):
                self._openai_choice(choice)
        return [event]

    def _marker(self, index: Any) -> Watermarker:
        slot = index if isinstance(index, int) else 0
        if slot not in self._markers:
            self._markers[slot] = Watermarker(self.key)
        return self._markers[slot]

    def _openai_choice(self, choice: dict[str, Any]) -> None:
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            delta = choice["delta"] = {}
        text = delta.get("content")
        marker = self._marker(choice.get("index"))
        out = marker.feed(text) if isinstance(text, str) else ""
        if choice.get("finish_reason") or delta.get("tool_calls"):
            out += marker.flush()
        if isinstance(text, str) or out:
            delta["content"] = out
        if choice.get("logprobs") is not None:
            choice["logprobs"] = None

    def _anthropic(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        kind, index = event.get("type"), event.get("index")
        if kind == "content_block_delta" and _is_text(event.get("delta"), "text_delta"):
            out = self._marker(index).feed(event["delta"]["text"])
            return [{**event, "delta": {**event["delta"], "text": out}}] if out else []
        if kind == "content_block_start" and _is_text(event.get("content_block"), "text"):
            out = self._marker(index).feed(event["content_block"]["text"])  # usually ""
            return [{**event, "content_block": {**event["content_block"], "text": out}}]
        if kind == "content_block_stop" and isinstance(index, int):
            return [*self._flushed([index]), event]
        if kind in ("message_delta", "message_stop"):  # a block that never said it stopped
            return [*self._flushed(list(self._markers)), event]
        return [event]

    def _flushed(self, indexes: list[int]) -> list[dict[str, Any]]:
        """Text deltas for what the given blocks still hold back; their markers are done."""
        events = []
        for index in indexes:
            marker = self._markers.pop(index, None)
            rest = marker.flush() if marker is not None else ""
            if rest:
                delta = {"type": "text_delta", "text": rest}
                events.append({"type": "content_block_delta", "index": index, "delta": delta})
        return events
