"""LiteLLM's Generic Guardrail API, served by distillguard: LiteLLM calls it, no code needed.

LiteLLM POSTs each request's texts and messages with the caller's key metadata to
`/beta/litellm_basic_guardrail_api`; the answer is `NONE` (go on) or `BLOCKED` with a
reason. Blocking rungs (throttle when out of tokens, reverify, block_account,
block_cluster, fail closed) become `BLOCKED`; degrade cannot be expressed in this
contract (it changes parameters and the response), so it needs the `CustomGuardrail`.
The caller's account is the key's team, then user, then organisation, then key hash,
as in the LiteLLM ingest adapter; an `x-api-key` shared with LiteLLM guards the route.
"""

from __future__ import annotations

import hmac
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from distillguard.gateway.actions.base import RequestContext
from distillguard.gateway.enforcer import Enforcer
from distillguard.gateway.records import request_row
from distillguard.verdicts.model import now

PATH = "/beta/litellm_basic_guardrail_api"
ACCOUNT_FIELDS = ("user_api_key_team_id", "user_api_key_user_id", "user_api_key_org_id",
                  "user_api_key_hash")  # fmt: skip


def account_of(request_data: dict[str, Any]) -> str | None:
    for name in ACCOUNT_FIELDS:
        value = request_data.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _messages(payload: dict[str, Any]) -> list[Any]:
    structured = payload.get("structured_messages")
    if isinstance(structured, list) and structured:
        return structured
    given = payload.get("texts")
    texts = [t for t in given if isinstance(t, str)] if isinstance(given, list) else []
    return [{"role": "user", "content": " ".join(texts)}]


class GenericGuardrailEndpoint:
    def __init__(self, enforcer: Enforcer, api_key: str) -> None:
        if not api_key:
            raise ValueError("the guardrail endpoint needs a key")
        self.enforcer, self.api_key = enforcer, api_key

    def _authorised(self, request: Request) -> bool:
        given = request.headers.get("x-api-key") or request.headers.get("authorization", "")
        given = given.removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), self.api_key.encode())

    async def handle(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"error": "unauthorised"}, 401)
        try:
            payload = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return JSONResponse({"error": "body must be JSON"}, 400)
        if not isinstance(payload, dict) or payload.get("input_type") != "request":
            return JSONResponse({"action": "NONE"})  # distillguard acts before the call
        request_data = payload.get("request_data")  # odd shapes: no account, not a 500
        account = account_of(request_data) if isinstance(request_data, dict) else None
        if account is None:
            return JSONResponse({"action": "BLOCKED", "blocked_reason": "no account"})
        body = {"model": payload.get("model") or "unknown", "messages": _messages(payload)}
        row = request_row(str(payload.get("litellm_call_id") or ""), now(), account, "openai",
                          body, {"access_path": "litellm"})  # fmt: skip
        decision = await self.enforcer.decide(account, row)
        ctx = RequestContext("openai", account, body, decision.verdict, decision.retry_after)
        action = self.enforcer.action_for(decision)
        refusal = await self.enforcer.on_request(decision, action, ctx)
        if refusal is None:
            return JSONResponse({"action": "NONE"})
        reason = f"distillguard {decision.action}: {refusal.message}"
        return JSONResponse({"action": "BLOCKED", "blocked_reason": reason})
