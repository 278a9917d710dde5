"""Withheld thinking sealed for the client, and restored when it comes back: only to the
account it was served to, only within the unfinished tool-use cycle, only for a while."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from distillguard.errors import UserError
from distillguard.gateway import reasoning_seal
from distillguard.gateway.reasoning_seal import SEAL_PREFIX, ReasoningSeal, Restored

ORIGINAL = {"type": "thinking", "thinking": "step 1: the secret plan", "signature": "sig-9"}
TOOL = {"type": "tool_use", "id": "t1", "name": "run", "input": {}}
RESULT = {"type": "tool_result", "tool_use_id": "t1", "content": "ok"}


def _key(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _withheld(seal: ReasoningSeal, account: str = "a1") -> dict[str, Any]:
    signature = seal.seal(ORIGINAL, account)
    return {"type": "thinking", "thinking": "[reasoning withheld]", "signature": signature}


def _loop(*blocks: Any) -> dict[str, Any]:
    """A tool loop's next request: prompt, the assistant's turn, its tool result."""
    return {"messages": [{"role": "user", "content": "hi"},
                         {"role": "assistant", "content": list(blocks)},
                         {"role": "user", "content": [RESULT]}]}  # fmt: skip


def test_a_sealed_block_hides_the_reasoning_and_comes_back_whole() -> None:
    seal = ReasoningSeal.generate()
    withheld = _withheld(seal)
    assert withheld["signature"].startswith(SEAL_PREFIX)
    assert "secret" not in withheld["signature"] and "sig-9" not in withheld["signature"]
    body = _loop(withheld, TOOL)
    assert seal.restore_many(body, "a1") == Restored(restored=1)
    assert body["messages"][1]["content"] == [ORIGINAL, TOOL]


SEAL = ReasoningSeal.generate()
# (case, how the block the client sends back is made from the withheld one, outcome)
CASES = [
    ("another key", lambda w: _withheld(ReasoningSeal.generate()), False),
    ("another account", lambda w: {**w, "signature": SEAL.seal(ORIGINAL, "a2")}, False),
    ("altered", lambda w: {**w, "signature": w["signature"][:-6] + "AAAAAA"}, False),
    ("not base64", lambda w: {**w, "signature": SEAL_PREFIX + "%%%"}, False),
    ("the API's own signature", lambda w: ORIGINAL, None),
    ("redacted thinking", lambda w: {"type": "redacted_thinking", "data": "x"}, None),
    ("text", lambda w: {"type": "text", "text": "hi"}, None),
    ("not a block", lambda w: "just text", None),
]


@pytest.mark.parametrize(("case", "make", "outcome"), CASES, ids=[c[0] for c in CASES])
def test_what_is_restored_dropped_or_left(case: str, make: Any, outcome: bool | None) -> None:
    block = make(_withheld(SEAL))
    sent, got = SEAL.open_one(block, "a1")
    assert got is outcome, case
    assert sent == (ORIGINAL if outcome else None if outcome is False else block)


def test_a_block_sealed_long_ago_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    seal = ReasoningSeal.generate()
    old = _withheld(seal)
    monkeypatch.setattr(reasoning_seal, "SEAL_TTL_S", -1)  # every token is now too old
    assert seal.open_one(old, "a1") == (None, False)


# (case, the messages: "W" a withheld block, "T" tool use, "R" tool results, "P" a prompt,
# "RP" tool results with text beside them, as agents add reminders)
CYCLES = [
    ("the unfinished turn", ["P", "WT", "R"], Restored(restored=1)),
    ("tool results with text beside them", ["P", "WT", "RP"], Restored(restored=1)),
    ("interleaved: every step of the turn", ["P", "WT", "R", "WT", "R"], Restored(restored=2)),
    ("a finished turn, then a new prompt", ["P", "WT", "R", "W", "P"], Restored(dropped=2)),
    ("an earlier turn's, with the current one's", ["P", "W", "P", "WT", "R"], Restored(1, 1)),
]


@pytest.mark.parametrize(("case", "shape", "outcome"), CYCLES, ids=[c[0] for c in CYCLES])
def test_only_the_unfinished_tool_use_cycle_is_restored(
    case: str, shape: list[str], outcome: Restored
) -> None:
    seal = ReasoningSeal.generate()
    messages: list[dict[str, Any]] = []
    for step in shape:
        if step == "P":
            messages.append({"role": "user", "content": "next question"})
        elif step.startswith("R"):
            text = [{"type": "text", "text": "<reminder>"}] if "P" in step else []
            messages.append({"role": "user", "content": [RESULT, *text]})
        else:
            blocks = [_withheld(seal), *([TOOL] if "T" in step else [])]
            messages.append({"role": "assistant", "content": blocks})
    body = {"messages": messages}
    assert seal.restore_many(body, "a1") == outcome, case
    remaining = [b for m in messages if isinstance(m["content"], list) for b in m["content"]]
    assert not any(str(b.get("signature", "")).startswith(SEAL_PREFIX) for b in remaining)


def test_a_request_carrying_many_sealed_blocks_opens_only_so_many() -> None:
    seal = ReasoningSeal.generate()
    many = reasoning_seal.MAX_OPENED + 5
    body = _loop(*[_withheld(seal) for _ in range(many)], TOOL)
    assert seal.restore_many(body, "a1") == Restored(reasoning_seal.MAX_OPENED, 5)


def test_blocks_that_fail_to_open_count_against_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Altered blocks cost a check each: a request full of them must not buy unbounded
    work, so a good block after the cap is left out unopened."""
    seal = ReasoningSeal.generate()
    altered = {**_withheld(seal, "a2")}  # sealed for another account: fails to open
    opened: list[Any] = []
    real = seal.open_one

    def counted(block: Any, account: str) -> tuple[Any, bool | None]:
        opened.append(block)
        return real(block, account)

    monkeypatch.setattr(seal, "open_one", counted)
    blocks = [altered] * (reasoning_seal.MAX_OPENED + 5) + [_withheld(seal), TOOL]
    result = seal.restore_many(_loop(*blocks), "a1")
    assert result == Restored(dropped=reasoning_seal.MAX_OPENED + 6)
    assert len(opened) == reasoning_seal.MAX_OPENED


@pytest.mark.parametrize("messages", [5, True, None, "hi", [5, "x", {"content": None}]])
def test_odd_messages_are_left_for_the_api_to_refuse(messages: Any) -> None:
    body = {"messages": messages}
    assert ReasoningSeal.generate().restore_many(body, "a1") == Restored()
    assert body == {"messages": messages}


def test_replicas_share_a_key_file_and_rotation_keeps_old_blocks(tmp_path: Path) -> None:
    old = _key(tmp_path / "old.key", "o" * 40)
    new = _key(tmp_path / "new.key", "n" * 40)
    sealed_old = _withheld(ReasoningSeal.load([old]))
    assert ReasoningSeal.load([old]).open_one(sealed_old, "a1") == (ORIGINAL, True)
    rotated = ReasoningSeal.load([new, old])
    assert rotated.open_one(sealed_old, "a1") == (ORIGINAL, True)
    assert ReasoningSeal.load([old]).open_one(_withheld(rotated), "a1")[1] is False  # new seals
    assert rotated.source == f"{new}, {old}"
    assert "n" * 40 not in repr(vars(rotated))


def test_notes_say_what_was_restored_and_dropped() -> None:
    assert Restored(2, 1).notes() == ["reasoning restored: 2", "sealed reasoning dropped: 1"]
    assert Restored().notes() == []


@pytest.mark.parametrize(
    ("text", "message"), [("short", "holds 5 bytes, shorter than 32"), (None, "cannot read")]
)
def test_an_unusable_key_file_is_one_line(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "seal.key"
    if text is not None:
        path.write_text(text)
    with pytest.raises(UserError, match=message):
        ReasoningSeal.load([path])


def _conversation(seal: ReasoningSeal, shape: list[str]) -> list[dict[str, Any]]:
    """Messages: "P" a prompt, "W" an assistant turn of a withheld block, "WT" with a tool
    call, "R" its tool result."""
    messages: list[dict[str, Any]] = []
    for step in shape:
        if step in {"P", "R"}:
            content: Any = "next question" if step == "P" else [RESULT]
            messages.append({"role": "user", "content": content})
        else:
            blocks = [_withheld(seal), *([TOOL] if "T" in step else [])]
            messages.append({"role": "assistant", "content": blocks})
    return messages


def test_earlier_turns_blocks_do_not_use_up_the_cap() -> None:
    """A long conversation's earlier turns are left out unopened: they cost nothing, and
    counting them kept the unfinished call's thinking from being opened."""
    seal = ReasoningSeal.generate()
    earlier = ["P", "W"] * (reasoning_seal.MAX_OPENED + 8)
    messages = _conversation(seal, [*earlier, "P", "WT", "R"])
    restored = seal.restore_many({"messages": messages}, "a1")
    assert restored == Restored(1, reasoning_seal.MAX_OPENED + 8)
    assert messages[-2]["content"] == [ORIGINAL, TOOL]


def test_a_cycle_longer_than_the_cap_keeps_its_unfinished_call() -> None:
    """The cap is spent newest first: the API requires the last call's thinking."""
    seal = ReasoningSeal.generate()
    messages = _conversation(seal, ["P", *["WT", "R"] * (reasoning_seal.MAX_OPENED + 8)])
    restored = seal.restore_many({"messages": messages}, "a1")
    assert restored == Restored(reasoning_seal.MAX_OPENED, 8)
    assert messages[-2]["content"] == [ORIGINAL, TOOL]
