"""Actions that refuse before the upstream is called: block_account, block_cluster, reverify."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlencode

import httpx

from distillguard.errors import ConfigError
from distillguard.gateway.actions.base import Passive, RequestContext, setting_number
from distillguard.gateway.apis import Refusal
from distillguard.verdicts.model import now

log = logging.getLogger(__name__)


class BlockAccount(Passive):
    name = "block_account"
    kind = "account_blocked"

    def __init__(self, settings: dict[str, Any]) -> None:
        self.message = str(settings.get("message", "This account is suspended."))

    async def on_request(self, ctx: RequestContext) -> Refusal | None:
        return Refusal(403, self.kind, self.message)


class BlockCluster(BlockAccount):
    name = "block_cluster"
    kind = "cluster_blocked"


class Reverify(Passive):
    """Refuse with a verification URL, and tell the provider's identity system (a webhook)."""

    name = "reverify"

    def __init__(self, settings: dict[str, Any]) -> None:
        self.url = str(settings.get("url") or "")
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError("reverify needs a url (http:// or https://) in the policy")
        self.webhook = settings.get("webhook")
        if self.webhook and not str(self.webhook).startswith(("http://", "https://")):
            raise ConfigError(
                f"actions.{self.name}.webhook must be an http:// or https:// URL, not "
                f"{self.webhook!r}"
            )
        self.timeout_s = setting_number(settings, self.name, "webhook_timeout_ms", 1000) / 1000
        self._client: httpx.AsyncClient | None = None
        self._pending: set[asyncio.Task[None]] = set()

    async def on_request(self, ctx: RequestContext) -> Refusal | None:
        link = f"{self.url}?{urlencode({'account': ctx.account})}"
        if self.webhook:
            task = asyncio.create_task(self._notify(ctx))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        return Refusal(
            403,
            "verification_required",
            "Verify your identity to continue using this API.",
            extra=(("verification_url", link),),
        )

    async def _notify(self, ctx: RequestContext) -> None:
        verdict = ctx.verdict
        payload = {
            "event": "distillguard.reverify",
            "account": ctx.account,
            "at": now().isoformat(),
            "reason": verdict.reason if verdict else "request evidence",
            "evidence": verdict.evidence if verdict else "",
        }
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_s)
        try:
            response = await self._client.post(str(self.webhook), json=payload)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("reverify webhook failed for %s: %s", ctx.account, exc)

    async def drain(self) -> None:
        """Wait for webhooks in flight (on shutdown and in tests)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
