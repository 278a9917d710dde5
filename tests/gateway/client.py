"""Requests the tests send through the gateway, in either API's shape."""

from __future__ import annotations

from typing import Any

import httpx

from distillguard.verdicts.model import Verdict, now


def body(api: str, account: str, text: str = "hello", **extra: Any) -> dict[str, Any]:
    """A request whose prompt names the account, so the fake upstream can tell who got through."""
    prompt = f"[{account}] {text}"
    if api == "anthropic":
        return {"model": "m", "max_tokens": 4096, "messages": [{"role": "user", "content": prompt}],
                **extra}  # fmt: skip
    return {"model": "m", "messages": [{"role": "user", "content": prompt}], **extra}


def send(url: str, api: str, account: str, text: str = "hello", **extra: Any) -> httpx.Response:
    path = "/v1/messages" if api == "anthropic" else "/v1/chat/completions"
    headers = {"x-distillguard-account": account, "authorization": "Bearer sk-test"}
    return httpx.post(url + path, json=body(api, account, text, **extra), headers=headers,
                      timeout=30)  # fmt: skip


def verdict(account: str, action: str, **kw: Any) -> Verdict:
    fields: dict[str, Any] = {"reason": "test", "source": "detector", "created": now(), **kw}
    return Verdict(account, action, **fields)
