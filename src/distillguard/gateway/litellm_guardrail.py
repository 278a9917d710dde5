"""distillguard inside LiteLLM: a CustomGuardrail that acts on verdicts before each call.

Add it to the LiteLLM proxy's config.yaml:

    guardrails:
      - guardrail_name: distillguard
        litellm_params:
          guardrail: distillguard.gateway.litellm_guardrail.DistillguardGuardrail
          mode: pre_call
          default_on: true
          distillguard_state: /var/lib/distillguard/verdicts.jsonl   # or redis://HOST:PORT/DB
          distillguard_mode: enforce                                # default: the policy's

Refusing rungs raise an HTTP error LiteLLM returns as it is (403, 429 with Retry-After),
so a blocked account's request never reaches the model; degrade caps `max_tokens` and
the reasoning effort in the request. The account is the key's team, then user, then
organisation, then key hash, or a header (`distillguard_identity: header:NAME`) when
your own auth layer in front of LiteLLM sets one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from litellm.integrations.custom_guardrail import CustomGuardrail
from litellm.types.guardrails import GuardrailEventHooks

from distillguard.errors import ConfigError
from distillguard.gateway.actions.base import RequestContext
from distillguard.gateway.enforcer import Enforcer
from distillguard.gateway.records import request_row
from distillguard.verdicts.model import now
from distillguard.verdicts.policy import load_policy
from distillguard.verdicts.store import open_store


def account_of(user: Any, data: dict[str, Any], header: str | None) -> str | None:
    if header:
        headers = (data.get("proxy_server_request") or {}).get("headers") or {}
        found = {k.lower(): v for k, v in headers.items()}.get(header.lower())
        return str(found) if found else None
    for name in ("team_id", "user_id", "org_id", "token"):
        value = getattr(user, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def _identity_header(spec: str | None) -> str | None:
    """The header naming the account, from `distillguard_identity: header:NAME`, or None
    (LiteLLM's own identity). Anything else (keys:FILE is the gateway's, or a typo) was
    ignored without a word, and the account came from LiteLLM's team or key."""
    if not spec:
        return None
    header = spec.removeprefix("header:")
    if not spec.startswith("header:") or not header:
        raise ConfigError(
            f"distillguard_identity {spec!r}: inside LiteLLM use header:NAME, or leave it out "
            "for LiteLLM's own team, user or key"
        )
    return header


class DistillguardGuardrail(CustomGuardrail):  # type: ignore[misc]
    def __init__(
        self,
        distillguard_state: str | None = None,
        distillguard_policy: str | None = None,
        distillguard_mode: str | None = None,
        distillguard_fail: str | None = None,
        distillguard_identity: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        state = distillguard_state or os.environ.get("DISTILLGUARD_STATE", "verdicts.jsonl")
        policy = load_policy(Path(distillguard_policy) if distillguard_policy else None)
        self.enforcer = Enforcer(
            policy.overridden(distillguard_mode, distillguard_fail), open_store(state)
        )
        self.header = _identity_header(distillguard_identity)

    async def async_pre_call_hook(
        self, user_api_key_dict: Any, cache: Any, data: dict[str, Any], call_type: Any
    ) -> dict[str, Any]:
        if not self.should_run_guardrail(data=data, event_type=GuardrailEventHooks.pre_call):
            return data
        account = account_of(user_api_key_dict, data, self.header)
        if account is None:
            raise HTTPException(401, {"type": "authentication_error", "message": "no account"})
        row = request_row(str(data.get("litellm_call_id") or ""), now(), account, "openai", data,
                          {"access_path": "litellm"})  # fmt: skip
        decision = await self.enforcer.decide(account, row)
        ctx = RequestContext("openai", account, data, decision.verdict, decision.retry_after)
        action = self.enforcer.action_for(decision)
        refusal = await self.enforcer.on_request(decision, action, ctx)
        if refusal is not None:
            error = refusal.body("openai")["error"]
            raise HTTPException(refusal.status, error, headers=dict(refusal.headers) or None)
        data.setdefault("metadata", {})["distillguard_action"] = decision.action
        return ctx.body
