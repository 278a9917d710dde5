"""The Generic Guardrail API endpoint over HTTP: its key, its answers, its account."""

from __future__ import annotations

from typing import Any

import httpx

from distillguard.verdicts.memory import MemoryStore
from tests.gateway.client import verdict
from tests.gateway.conftest import ServeGateway

PATH = "/beta/litellm_basic_guardrail_api"


def payload(team: str | None, **extra: Any) -> dict[str, Any]:
    data = {"user_api_key_team_id": team, "user_api_key_hash": "h1"} if team else {}
    return {
        "input_type": "request",
        "texts": ["hello"],
        "request_data": data,
        "model": "m",
        **extra,
    }


def test_generic_endpoint(serve_gateway: ServeGateway) -> None:
    store = MemoryStore()
    store.set(verdict("team-bad", "block_account"))
    store.set(verdict("h1", "reverify"))
    with serve_gateway(store, settings={"guardrail_key": "k"}) as (url, _):

        def post(body: dict[str, Any], key: str = "k") -> httpx.Response:
            return httpx.post(url + PATH, json=body, headers={"x-api-key": key})

        no_key = post(payload("team-ok"), key="wrong")
        ok = post(payload("team-ok"))
        bad = post(payload("team-bad"))
        by_hash = post({**payload("x"), "request_data": {"user_api_key_hash": "h1"}})
        response_side = post(payload("team-bad", input_type="response"))
    assert no_key.status_code == 401
    assert ok.json() == {"action": "NONE"}
    assert bad.json()["action"] == "BLOCKED" and "block_account" in bad.json()["blocked_reason"]
    assert by_hash.json()["action"] == "BLOCKED" and "reverify" in by_hash.json()["blocked_reason"]
    assert response_side.json() == {"action": "NONE"}


def test_no_key_no_endpoint(serve_gateway: ServeGateway) -> None:
    with serve_gateway() as (url, _):
        assert httpx.post(url + PATH, json=payload("t")).status_code == 404


# (case, the payload's odd fields, the action answered)
ODD_PAYLOADS: list[tuple[str, dict[str, Any], str]] = [
    ("request_data a string", {"request_data": "acct_bob"}, "BLOCKED"),  # no account
    ("texts a number", {"texts": 5}, "NONE"),
    ("texts of numbers", {"texts": [1, 2]}, "NONE"),
    ("structured messages of numbers", {"structured_messages": [1, "x"]}, "NONE"),
]


def test_odd_payloads_are_answered_not_a_500(serve_gateway: ServeGateway) -> None:
    """request_data as a string, or texts as a number, was a 500 with a traceback."""
    with serve_gateway(settings={"guardrail_key": "k"}) as (url, _):
        for case, odd, action in ODD_PAYLOADS:
            answer = httpx.post(
                url + PATH, json={**payload("t"), **odd}, headers={"x-api-key": "k"}
            )
            assert answer.status_code == 200 and answer.json()["action"] == action, case
