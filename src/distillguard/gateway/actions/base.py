"""What an Action is: one rung of the ladder, applied to a request and to its response."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from distillguard.errors import ConfigError
from distillguard.gateway.apis import ApiName, Refusal
from distillguard.gateway.reasoning_seal import ReasoningSeal
from distillguard.verdicts.model import Verdict


@dataclass
class RequestContext:
    """One request on its way upstream; an action may rewrite `body` (caps) or refuse it."""

    api: ApiName
    account: str
    body: dict[str, Any]
    verdict: Verdict | None = None
    retry_after: float | None = None  # set when the per-account rate rule already ran out
    # what was changed, for tests and the gateway's log (exchange-log v1 has no field for it)
    notes: list[str] = field(default_factory=list)
    # seals withheld Anthropic thinking for the client to carry back (None: not sealed,
    # where no Anthropic response is served, as in LiteLLM's hooks)
    seal: ReasoningSeal | None = None
    # the gateway's id of the request (x-distillguard-request-id and the exchange log's
    # request_id), so its log lines join both; empty where none is given (LiteLLM's hooks)
    request_id: str = ""


class StreamFilter(Protocol):
    """Per-stream state: each SSE event's JSON in, the events to send in its place out (none
    drops it; several send text held back from earlier events before it, in order)."""

    def on_event(self, event: dict[str, Any]) -> list[dict[str, Any]]: ...


class PassThrough:
    def on_event(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        return [event]


@runtime_checkable
class Action(Protocol):
    name: str

    async def on_request(self, ctx: RequestContext) -> Refusal | None:
        """A refusal to send instead of calling upstream, or None to go on (maybe rewritten)."""

    def on_response(self, ctx: RequestContext, response: dict[str, Any]) -> dict[str, Any]:
        """The non-streamed response body the client receives."""

    def stream_filter(self, ctx: RequestContext) -> StreamFilter:
        """A fresh filter for one streamed response."""


class Passive:
    """Mixin for actions that leave responses as they are."""

    def on_response(self, ctx: RequestContext, response: dict[str, Any]) -> dict[str, Any]:
        return response

    def stream_filter(self, ctx: RequestContext) -> StreamFilter:
        return PassThrough()


class Monitor(Passive):
    """Serve as usual; the verdict is only logged and labelled."""

    name = "monitor"

    def __init__(self, settings: dict[str, Any]) -> None:
        del settings

    async def on_request(self, ctx: RequestContext) -> Refusal | None:
        return None


def setting_number(
    settings: dict[str, Any],
    action: str,
    name: str,
    default: float,
    *,
    whole: bool = False,
    least: float = 0.0,
) -> float:
    """A positive number from an action's policy settings, or a ConfigError naming it
    (`actions.degrade.max_tokens must be ...`): a typo in a policy is one line at start,
    never a traceback, nor a negative limit sent upstream. A number YAML reads as a string
    (PyYAML takes 1e3 for one) counts as the number."""
    value = settings.get(name, default)
    kind = "whole number" if whole else "number"
    try:
        number = float(value) if isinstance(value, int | float | str) else math.nan
    except (ValueError, OverflowError):
        number = math.nan
    fits = math.isfinite(number) and number > 0 and not isinstance(value, bool)
    if not fits or (whole and number != int(number)):
        raise ConfigError(f"actions.{action}.{name} must be a positive {kind}, not {value!r}")
    if number < least:  # below what the model API accepts: every such request refused
        raise ConfigError(f"actions.{action}.{name} must be at least {least:g}, not {value!r}")
    return number
