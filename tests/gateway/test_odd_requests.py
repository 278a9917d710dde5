"""Request bodies of odd shapes, and forwarded addresses: the gateway answers or logs
them, never crashes on them, and logs only what its own watch can ingest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from distillguard.gateway.apis import log_messages, max_tokens, thinking_budget, tool_names
from distillguard.schema.validate import validate_exchange
from tests.fake_upstream import FakeUpstream
from tests.gateway.client import body
from tests.gateway.conftest import ServeGateway
from tests.gateway.test_exchange_log import logged_rows

# (case, the body's odd fields, what the log takes of them: tools, max_tokens, budget)
ODD = [
    ("tools a number", {"tools": 5}, ([], None, None)),
    ("tools true", {"tools": True}, ([], None, None)),
    ("a function a string", {"tools": [{"function": "run"}, {"name": "ok"}]}, (["ok"], None, None)),
    ("max_tokens true", {"max_tokens": True}, ([], None, None)),
    ("max_tokens negative", {"max_tokens": -5}, ([], None, None)),
    ("max_tokens past int64", {"max_tokens": 10**30}, ([], None, None)),
    ("a budget true", {"thinking": {"budget_tokens": True}}, ([], None, None)),
    ("a budget past int64", {"thinking": {"budget_tokens": 10**30}}, ([], None, None)),
    ("plain", {"max_tokens": 64, "tools": [{"name": "run"}]}, (["run"], 64, None)),
]  # fmt: skip


# (case, a message's tool_calls, the names logged); each was an AttributeError and a 500,
# before the API key was checked
ODD_CALLS = [
    ("a function a string", [{"function": "x"}], [None]),
    ("a function a list", [{"function": [1]}], [None]),
    ("calls a number", 5, []),
    ("calls true", True, []),
    ("a call a string", ["run"], [None]),
    ("a name a number", [{"function": {"name": 7}}], [None]),
    ("plain", [{"function": {"name": "run"}}], ["run"]),
]


@pytest.mark.parametrize(("case", "calls", "names"), ODD_CALLS, ids=[c[0] for c in ODD_CALLS])
def test_odd_tool_calls_are_logged_not_a_crash(
    case: str, calls: object, names: list[str | None]
) -> None:
    sent = {"messages": [{"role": "assistant", "content": "x", "tool_calls": calls}]}
    for api in ("openai", "anthropic"):
        _, messages = log_messages(api, sent)
        assert [b["name"] for b in messages[0]["content"][1:]] == names, case


def test_odd_tool_calls_over_http_are_served_and_logged(
    serve_gateway: ServeGateway, upstream: FakeUpstream, tmp_path: Path
) -> None:
    sent = body("openai", "calls")
    sent["messages"].append(
        {"role": "assistant", "content": "x", "tool_calls": [{"function": "x"}]}
    )
    headers = {"x-distillguard-account": "calls"}
    with serve_gateway() as (url, _):
        answer = httpx.post(url + "/v1/chat/completions", json=sent, headers=headers)
    assert answer.status_code == 200
    (row,) = logged_rows(tmp_path / "exchanges")
    validate_exchange(row)


@pytest.mark.parametrize(("case", "odd", "logged"), ODD, ids=[o[0] for o in ODD])
def test_odd_fields_are_read_as_the_log_can_hold_them(
    case: str, odd: dict[str, Any], logged: tuple[list[str], int | None, int | None]
) -> None:
    """'tools': 5 was a TypeError and a 500 before the key or the verdict was checked;
    max_tokens true or -5 was logged, and watch quarantined the served exchange."""
    assert (tool_names(odd), max_tokens("openai", odd), thinking_budget(odd)) == logged, case


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_a_request_with_odd_tools_is_served_and_logged_whole(
    serve_gateway: ServeGateway, upstream: FakeUpstream, tmp_path: Path, api: str
) -> None:
    path = "/v1/messages" if api == "anthropic" else "/v1/chat/completions"
    sent = {**body(api, "odd", "hello"), "tools": 5, "max_tokens": True}
    headers = {"x-distillguard-account": "odd", "authorization": "Bearer sk-test"}
    with serve_gateway() as (url, _):
        answer = httpx.post(url + path, json=sent, headers=headers, timeout=30)
    assert answer.status_code == 200 and answer.headers["x-distillguard-action"]
    (row,) = logged_rows(tmp_path / "exchanges")
    validate_exchange(row)  # what watch ingests: not quarantined


@pytest.mark.parametrize("stream", [1, "true", [], {}])
def test_a_stream_that_is_not_true_or_false_is_refused(
    serve_gateway: ServeGateway, upstream: FakeUpstream, stream: object
) -> None:
    """A lenient upstream streams for 1 or "true"; the gateway took the non-streamed path,
    whose degradations a stream escapes (a degraded account got its reasoning)."""
    sent = {**body("openai", "st", "hello"), "stream": stream}
    headers = {"x-distillguard-account": "st", "authorization": "Bearer sk-test"}
    with serve_gateway() as (url, _):
        answer = httpx.post(url + "/v1/chat/completions", json=sent, headers=headers, timeout=30)
    assert answer.status_code == 400 and "stream" in answer.text
    assert upstream.seen("st") == []


# (case, X-Forwarded-For as sent, the address logged)
FORWARDED = [
    ("one address", "203.0.113.9", "203.0.113.9"),
    ("the client's own entry first", "not-an-ip<script>, 203.0.113.9", "203.0.113.9"),
    ("a forged address first", "10.0.0.1, 198.51.100.4", "198.51.100.4"),
    ("the last entry not an address", "203.0.113.9, junk", "127.0.0.1"),
]


@pytest.mark.parametrize("forwarded", FORWARDED, ids=[f[0] for f in FORWARDED])
def test_behind_a_balancer_the_address_it_appended_is_logged(
    serve_gateway: ServeGateway, upstream: FakeUpstream, tmp_path: Path,
    forwarded: tuple[str, str, str],
) -> None:  # fmt: skip
    """The leftmost entry is whatever the client sent; the balancer appends the last."""
    case, header, ip = forwarded
    headers = {"x-distillguard-account": "fw", "authorization": "Bearer sk-test",
               "x-forwarded-for": header}  # fmt: skip
    with serve_gateway(settings={"trust_forwarded": True}) as (url, _):
        httpx.post(url + "/v1/chat/completions", json=body("openai", "fw", "hi"), headers=headers)
    (row,) = logged_rows(tmp_path / "exchanges")
    assert row["ip"] == ip, case


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("model", ["m", "rate-429"])
def test_the_upstreams_headers_reach_the_client(
    serve_gateway: ServeGateway, upstream: FakeUpstream, stream: bool, model: str
) -> None:
    """retry-after on a 429 (which SDKs wait by) and the request id a provider's support
    asks for were dropped; the upstream's cookies are still not the client's."""
    sent = {**body("openai", "hd", "hello"), "model": model, "stream": stream}
    headers = {"x-distillguard-account": "hd", "authorization": "Bearer sk-test"}
    with serve_gateway() as (url, _):
        answer = httpx.post(url + "/v1/chat/completions", json=sent, headers=headers)
    assert answer.headers["x-request-id"] == "req_fake" and "set-cookie" not in answer.headers
    assert answer.headers["x-distillguard-action"]  # the gateway's own still there
    if model == "rate-429":
        assert (answer.status_code, answer.headers["retry-after"]) == (429, "17")


def test_a_path_not_served_is_an_api_error_the_sdks_read(
    serve_gateway: ServeGateway, upstream: FakeUpstream
) -> None:
    """/v1/models was a plain-text 'Not Found' that the SDKs could not parse."""
    with serve_gateway() as (url, _):
        oa = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0)
        with pytest.raises(openai.NotFoundError) as listed:
            oa.models.list()
        ant = anthropic.Anthropic(base_url=url, api_key="sk-test", max_retries=0)
        with pytest.raises(anthropic.NotFoundError) as counted:
            ant.messages.count_tokens(model="m", messages=[{"role": "user", "content": "hi"}])
        wrong_method = httpx.get(url + "/v1/chat/completions")
        # a bare 307 to the path without its slash, which no SDK reads
        slashed = httpx.post(url + "/v1/chat/completions/", json={"model": "m"})
    assert slashed.status_code == 404
    assert "POST /v1/chat/completions/ is not one of them" in slashed.json()["error"]["message"]
    assert all(r.headers["x-distillguard-request-id"] for r in (slashed, wrong_method))
    assert "GET /v1/models is not one of them" in listed.value.message
    assert "POST /v1/messages/count_tokens is not one of them" in counted.value.message
    shape = counted.value.body
    assert isinstance(shape, dict) and shape["type"] == "error"
    assert shape["error"]["type"] == "not_found_error"
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
    assert "POST /v1/chat/completions" in wrong_method.json()["error"]["message"]


# (the API, what the client sent, the header the upstream gets the reseller's key in)
RESOLD = [
    ("openai", {"authorization": "Bearer sk-cust"}, "authorization"),
    ("anthropic", {"x-api-key": "sk-cust"}, "x-api-key"),
    ("anthropic", {"authorization": "Bearer sk-cust"}, "x-api-key"),
]
PATHS = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages"}


@pytest.mark.parametrize(("api", "sent", "upstream_gets"), RESOLD)
def test_a_resellers_own_key_goes_upstream_never_the_clients(
    serve_gateway: ServeGateway,
    upstream: FakeUpstream,
    api: str,
    sent: dict[str, str],
    upstream_gets: str,
) -> None:
    """With keys it issued, a reseller's gateway handed each customer's key to the
    provider, where it is a leak and, often, no credential at all."""
    headers = {"x-distillguard-account": "rs", **sent}
    path = PATHS[api]
    with serve_gateway(settings={"upstream_key": "sk-reseller"}) as (url, gateway):
        assert "sk-reseller" not in repr(gateway.settings)
        reply = httpx.post(url + path, json=body(api, "rs", "hi"), headers=headers)
    assert reply.status_code == 200
    got = {k: v for k, v in upstream.seen("rs")[-1]["headers"].items()}
    assert "sk-cust" not in str(got)
    expected = "Bearer sk-reseller" if upstream_gets == "authorization" else "sk-reseller"
    assert got[upstream_gets] == expected
    assert ({"authorization", "x-api-key"} - {upstream_gets}).isdisjoint(got)


def test_without_an_upstream_key_the_clients_key_is_passed_on(
    serve_gateway: ServeGateway, upstream: FakeUpstream
) -> None:
    headers = {"x-distillguard-account": "pk", "authorization": "Bearer sk-own"}
    with serve_gateway() as (url, _):
        httpx.post(url + "/v1/chat/completions", json=body("openai", "pk", "hi"), headers=headers)
    assert upstream.seen("pk")[-1]["headers"]["authorization"] == "Bearer sk-own"
