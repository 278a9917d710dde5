"""The degrade step's watermark as a unit: settings, several choices, events held back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from distillguard.errors import ConfigError
from distillguard.gateway.actions import watermark
from distillguard.gateway.actions.degrade import DEFAULT_DEGRADATIONS, Degrade
from distillguard.provenance import WatermarkKey, watermark_text
from distillguard.verdicts.policy import load_policy
from tests.gateway import test_actions as conformance

KEY = WatermarkKey.generate(seed=7)
TEXTS = ("Moreover, the big model often gives a large answer.",
         "For example, anyone can obtain the whole result quickly.")  # fmt: skip


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    KEY.save(tmp_path / "prov.key")
    return tmp_path / "prov.key"


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_a_watermarking_degrade_passes_the_action_conformance_test(
    key_path: Path, api: Any
) -> None:
    named = [*DEFAULT_DEGRADATIONS, "watermark"]
    conformance.test_every_action_conforms(
        Degrade({"degradations": named, "watermark_key": key_path}), api
    )


def test_the_key_option_adds_watermark_once_and_keeps_the_rest(key_path: Path) -> None:
    policy = watermark.with_key(load_policy(), key_path, DEFAULT_DEGRADATIONS)
    degrade = policy.settings("degrade")
    assert degrade["degradations"] == [*DEFAULT_DEGRADATIONS, "watermark"]
    assert degrade["watermark_key"] == str(key_path)
    again = watermark.with_key(policy, key_path, DEFAULT_DEGRADATIONS)
    assert again.settings("degrade")["degradations"] == degrade["degradations"]
    assert Degrade(degrade).key == KEY


def test_watermark_without_a_key_names_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"actions\.degrade\.watermark_key"):
        Degrade({"degradations": ["watermark"]})
    assert Degrade({}).key is None  # not named, not needed: the default does not watermark


def test_a_key_without_watermark_named_is_a_mistake_not_silence(key_path: Path) -> None:
    """The answers went out unmarked, and nothing said so."""
    with pytest.raises(ConfigError, match="do not name watermark"):
        Degrade({"degradations": ["cap_max_tokens"], "watermark_key": str(key_path)})
    with pytest.raises(ConfigError, match="do not name watermark"):  # the default list
        Degrade({"watermark_key": str(key_path)})


def _chunk(index: int, finish: str | None = None, **delta: Any) -> dict[str, Any]:
    return {"choices": [{"index": index, "delta": delta, "finish_reason": finish}]}


def test_each_streamed_choice_is_marked_on_its_own() -> None:
    stream = watermark.WatermarkStream("openai", KEY)
    events = [_chunk(i, content=t[j : j + 5]) for j in range(0, 60, 5) for i, t in enumerate(TEXTS)]
    events += [_chunk(0, "stop"), _chunk(1, "stop")]
    out = [e for event in events for e in stream.on_event(event)]
    assert len(out) == len(events)  # one event out for each in: the rest rides on the finish
    for i, text in enumerate(TEXTS):
        sent = "".join(c["delta"].get("content", "") for e in out for c in e["choices"]
                       if c["index"] == i)  # fmt: skip
        assert sent == watermark_text(text, KEY).text


def test_non_streamed_choices_and_text_parts_are_marked_and_logprobs_dropped() -> None:
    response = {"choices": [
        {"index": 0, "message": {"content": TEXTS[0]}, "logprobs": {"content": []}},
        {"index": 1, "message": {"content": [{"type": "text", "text": TEXTS[1]}]}},
    ]}  # fmt: skip
    out = watermark.mark_response("openai", response, KEY)
    assert out["choices"][0]["message"]["content"] == watermark_text(TEXTS[0], KEY).text
    assert out["choices"][0]["logprobs"] is None
    assert out["choices"][1]["message"]["content"][0]["text"] == watermark_text(TEXTS[1], KEY).text


def test_anthropic_text_at_a_blocks_start_is_marked_with_the_rest() -> None:
    stream = watermark.WatermarkStream("anthropic", KEY)
    start = {"type": "content_block_start", "index": 0,
             "content_block": {"type": "text", "text": TEXTS[0][:20]}}  # fmt: skip
    delta = {"type": "content_block_delta", "index": 0,
             "delta": {"type": "text_delta", "text": TEXTS[0][20:]}}  # fmt: skip
    events = [start, delta, {"type": "content_block_stop", "index": 0}]
    out = [e for event in events for e in stream.on_event(event)]
    assert [e["type"] for e in out] == ["content_block_start", "content_block_delta",
                                        "content_block_delta", "content_block_stop"]  # fmt: skip
    sent = out[0]["content_block"]["text"] + "".join(e["delta"]["text"] for e in out[1:3])
    assert sent == watermark_text(TEXTS[0], KEY).text
