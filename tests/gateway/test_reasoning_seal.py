"""Withheld thinking sealed for the client, and restored when it comes back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from distillguard.errors import UserError
from distillguard.gateway.reasoning_seal import SEAL_PREFIX, ReasoningSeal, Restored

ORIGINAL = {"type": "thinking", "thinking": "step 1: the secret plan", "signature": "sig-9"}


def _key(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _withheld(seal: ReasoningSeal) -> dict[str, Any]:
    return {
        "type": "thinking",
        "thinking": "[reasoning withheld]",
        "signature": seal.seal(ORIGINAL),
    }


def _turn(*blocks: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": "hi"},
                         {"role": "assistant", "content": list(blocks)}]}  # fmt: skip


def test_a_sealed_block_hides_the_reasoning_and_comes_back_whole() -> None:
    seal = ReasoningSeal.generate()
    withheld = _withheld(seal)
    assert withheld["signature"].startswith(SEAL_PREFIX)
    assert "secret" not in withheld["signature"] and "sig-9" not in withheld["signature"]
    tool = {"type": "tool_use", "id": "t1", "name": "run", "input": {}}
    body = _turn(withheld, tool)
    assert seal.restore_many(body) == Restored(restored=1)
    assert body["messages"][1]["content"] == [ORIGINAL, tool]


# (case, how the block the client sends back is made from the withheld one, outcome)
CASES = [
    ("another key", lambda w: _withheld(ReasoningSeal.generate()), False),
    ("altered", lambda w: {**w, "signature": w["signature"][:-6] + "AAAAAA"}, False),
    ("not base64", lambda w: {**w, "signature": SEAL_PREFIX + "%%%"}, False),
    ("the API's own signature", lambda w: ORIGINAL, None),
    ("redacted thinking", lambda w: {"type": "redacted_thinking", "data": "x"}, None),
    ("text", lambda w: {"type": "text", "text": "hi"}, None),
    ("not a block", lambda w: "just text", None),
]


@pytest.mark.parametrize(("case", "make", "outcome"), CASES, ids=[c[0] for c in CASES])
def test_what_is_restored_dropped_or_left(case: str, make: Any, outcome: bool | None) -> None:
    seal = ReasoningSeal.generate()
    block = make(_withheld(seal))
    sent, got = seal.restore_one(block)
    assert got is outcome, case
    assert sent == (ORIGINAL if outcome else None if outcome is False else block)


def test_a_dropped_block_is_counted_and_left_out() -> None:
    seal = ReasoningSeal.generate()
    body = _turn(_withheld(ReasoningSeal.generate()), {"type": "text", "text": "ok"})
    assert seal.restore_many(body) == Restored(dropped=1)
    assert body["messages"][1]["content"] == [{"type": "text", "text": "ok"}]
    assert Restored(2, 1).notes() == ["reasoning restored: 2", "sealed reasoning dropped: 1"]


def test_replicas_share_a_key_file_and_rotation_keeps_old_blocks(tmp_path: Path) -> None:
    old = _key(tmp_path / "old.key", "o" * 40)
    new = _key(tmp_path / "new.key", "n" * 40)
    sealed_old = _withheld(ReasoningSeal.load([old]))
    other_replica = ReasoningSeal.load([old])
    assert other_replica.restore_one(sealed_old) == (ORIGINAL, True)
    rotated = ReasoningSeal.load([new, old])
    assert rotated.restore_one(sealed_old) == (ORIGINAL, True)
    assert ReasoningSeal.load([old]).restore_one(_withheld(rotated))[1] is False  # new seals
    assert rotated.source == f"{new}, {old}" and "n" * 40 not in repr(rotated.__dict__)


@pytest.mark.parametrize(
    ("text", "message"), [("short", "holds 5 bytes; it needs at least 32"), (None, "cannot read")]
)
def test_an_unusable_key_file_is_one_line(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "seal.key"
    if text is not None:
        path.write_text(text)
    with pytest.raises(UserError, match=message):
        ReasoningSeal.load([path])
