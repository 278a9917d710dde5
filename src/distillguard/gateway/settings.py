"""What a gateway is started with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from distillguard.gateway.identity import Identity
from distillguard.gateway.reasoning_seal import ReasoningSeal
from distillguard.verdicts.policy import Policy


@dataclass(frozen=True)
class GatewaySettings:
    upstream: str | None  # None: only the guardrail endpoint is served
    state: str
    policy: Policy
    identity: Identity
    log_dir: Path | None = None
    log_rotate_rows: int = 10_000
    log_rotate_s: float = 60.0
    max_body_bytes: int = 4 * 1024 * 1024
    upstream_timeout_s: float = 600.0
    access_path: str = "api"
    trust_forwarded: bool = False  # take the client address from X-Forwarded-For
    replay_clock: bool = False  # take `ts` from x-distillguard-replay-ts: replays only
    # serves LiteLLM's Generic Guardrail API when set; never in a repr or log
    guardrail_key: str | None = field(default=None, repr=False)
    # sent upstream in place of the client's key (a reseller's own); never in a repr or log
    upstream_key: str | None = field(default=None, repr=False)
    # seals the thinking degrade withholds, and opens what clients send back
    seal: ReasoningSeal = field(default_factory=ReasoningSeal.generate)
