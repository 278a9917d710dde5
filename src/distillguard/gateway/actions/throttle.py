"""Token buckets per account, and the throttle action (429 with Retry-After)."""

from __future__ import annotations

import math
import time
from typing import Any

from distillguard.errors import ConfigError
from distillguard.gateway.actions.base import Passive, RequestContext, setting_number
from distillguard.gateway.apis import Refusal


class TokenBuckets:
    """One bucket per account: `burst` tokens, refilled at `per_minute`."""

    def __init__(self, per_minute: float, burst: float) -> None:
        if per_minute <= 0 or burst < 1:
            raise ConfigError("a rate needs per_minute > 0 and burst >= 1")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._state: dict[str, tuple[float, float]] = {}

    def take_one(self, account: str, at: float | None = None) -> float:
        """0.0 if a token was taken, else the seconds until one is free."""
        at = time.monotonic() if at is None else at
        tokens, last = self._state.get(account, (self.burst, at))
        tokens = min(self.burst, tokens + (at - last) * self.rate)
        if tokens >= 1.0:
            self._state[account] = (tokens - 1.0, at)
            return 0.0
        self._state[account] = (tokens, at)
        return (1.0 - tokens) / self.rate

    def take_many(self, accounts: list[str], at: float | None = None) -> list[float]:
        at = time.monotonic() if at is None else at
        return [self.take_one(a, at) for a in accounts]


def too_many(wait_s: float) -> Refusal:
    retry = max(1, math.ceil(wait_s))
    return Refusal(
        429,
        "rate_limited",
        f"Too many requests for this account; retry after {retry} s.",
        headers=(("retry-after", str(retry)),),
        extra=(("retry_after", retry),),
    )


class Throttle(Passive):
    name = "throttle"

    def __init__(self, settings: dict[str, Any]) -> None:
        self.buckets = TokenBuckets(
            setting_number(settings, self.name, "per_minute", 30),
            setting_number(settings, self.name, "burst", 5),
        )

    async def on_request(self, ctx: RequestContext) -> Refusal | None:
        wait = ctx.retry_after or self.buckets.take_one(ctx.account)
        return too_many(wait) if wait > 0 else None
