"""The gateway's exchange log: whole files only, rotated by rows and by age; what it keeps of
what the model returned."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from distillguard.gateway.exchange_log import ExchangeLog, recover_abandoned
from tests.fake_upstream import FakeUpstream
from tests.gateway.client import send, verdict
from tests.gateway.conftest import ServeGateway
from tests.gateway.test_ladder_http import store_with


def rows(n: int) -> list[dict[str, object]]:
    return [{"request_id": f"r{i}", "ts": "2026-02-02T10:00:00Z", "account_id": "a", "model": "m",
             "messages": [{"role": "user", "content": "hi"}]} for i in range(n)]  # fmt: skip


def read(directory: Path) -> list[bytes]:
    return [line for p in sorted(directory.glob("*.jsonl")) for line in p.read_bytes().splitlines()]


def test_many_equals_one_by_one_and_rotates_by_rows(tmp_path: Path) -> None:
    many, one = (
        ExchangeLog(tmp_path / "many", max_rows=4),
        ExchangeLog(tmp_path / "one", max_rows=4),
    )
    many.write_many(rows(4))
    many.write_many(rows(6)[4:])
    for row in rows(6):
        one.write_one(row)
    assert len(list((tmp_path / "one").glob("*.jsonl"))) == 1  # 4 rows: one whole file
    assert len(list((tmp_path / "one").glob("*.partial"))) == 1  # 2 rows still being written
    many.close()
    one.close()
    assert read(tmp_path / "many") == read(tmp_path / "one")
    assert [orjson.loads(r)["request_id"] for r in read(tmp_path / "one")] == [
        f"r{i}" for i in range(6)
    ]
    assert not list((tmp_path / "one").glob("*.partial"))


def test_rotates_by_age(tmp_path: Path) -> None:
    log = ExchangeLog(tmp_path, max_age_s=0.05)
    log.write_one(rows(1)[0])
    log.rotate_if_due()
    assert not list(tmp_path.glob("*.jsonl"))
    time.sleep(0.06)
    log.rotate_if_due()
    assert len(read(tmp_path)) == 1 and log.rows_written == 1


def test_a_crashed_writers_partial_file_is_finished_by_the_next_log(tmp_path: Path) -> None:
    """A killed gateway's partial file holds no lock; a running one's does."""
    dead = tmp_path / "exchanges-20260202T100000-1-00001.jsonl.partial"
    dead.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows(3)))
    live = ExchangeLog(tmp_path)
    assert live.recovered == 1 and len(read(tmp_path)) == 3
    live.write_one(rows(1)[0])
    (held,) = tmp_path.glob("*.partial")
    assert held.stat().st_mode & 0o777 == 0o600  # customers' prompts: the owner's only
    other = ExchangeLog(tmp_path)  # a second gateway on the same folder
    assert other.recovered == 0 and held.exists()
    live.close()
    assert len(read(tmp_path)) == 4 and not list(tmp_path.glob("*.partial"))


def test_a_gateway_starting_while_another_rotates_leaves_its_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another log opened on the folder at the moment a writer renames its finished file:
    the writer still holds the lock then, so the file is not taken for a dead one's."""
    rename, inside = Path.rename, [False]

    def rename_with_a_newcomer(self: Path, target: Path) -> Path:
        if self.name.endswith(".jsonl.partial") and not inside[0]:
            inside[0] = True
            assert recover_abandoned(self.parent) == 0
            inside[0] = False
        return rename(self, target)

    log = ExchangeLog(tmp_path, max_rows=2)
    monkeypatch.setattr(Path, "rename", rename_with_a_newcomer)
    log.write_many(rows(3))  # rotates after two rows
    log.close()
    assert len(read(tmp_path)) == 3


def logged_rows(directory: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in read(directory)]


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_the_log_keeps_the_thinking_budget_and_reasoning_tokens(
    serve_gateway: ServeGateway, upstream: FakeUpstream, tmp_path: Path, api: str
) -> None:
    """`thinking.budget_tokens` is read in both shapes (Anthropic's OpenAI-compatible endpoint
    takes it too); OpenAI's usage details count reasoning tokens apart, and are logged."""
    recorded = {"input_tokens": 40, "output_tokens": 900, "reasoning_tokens": 700,
                "stop_reason": "max_tokens"}  # fmt: skip
    upstream.recorded[f"rec-{api}"] = recorded
    thinking = {"type": "enabled", "budget_tokens": 8192}
    with serve_gateway() as (url, _):
        send(url, api, f"log-{api}", thinking=thinking, metadata={"replay_of": f"rec-{api}"})
    (row,) = logged_rows(tmp_path / "exchanges")
    assert row["thinking_budget"] == 8192
    if api == "openai":  # the fake answers with the recorded usage on Chat Completions
        assert (row["output_tokens"], row["reasoning_tokens"]) == (900, 700)
        assert row["stop_reason"] == "max_tokens"  # OpenAI's "length", in the log's terms
    else:  # Anthropic counts thinking inside output_tokens: nothing apart to log
        assert "reasoning_tokens" not in row


def test_degrade_caps_a_thinking_budget_sent_on_chat_completions(
    serve_gateway: ServeGateway, upstream: FakeUpstream
) -> None:
    thinking = {"type": "enabled", "budget_tokens": 16000}
    with serve_gateway(store_with(verdict("dg-oc", "degrade"))) as (url, _):
        r = send(url, "openai", "dg-oc", thinking=thinking)
    assert r.status_code == 200
    sent = upstream.seen("dg-oc")[0]["body"]
    # The request set no limit: the default policy gives it max_completion_tokens 1,024
    # (Anthropic's OpenAI-compatible endpoint reads it), leaving no room for the least
    # budget Anthropic accepts (1,024, below the limit): thinking is turned off.
    assert sent["max_completion_tokens"] == 1024 and sent["thinking"] == {"type": "disabled"}
