"""The decision and the action for one request, shared by the gateway and the guardrails.

It reads the verdict (inline for the memory and file stores, on a thread with a timeout
for Redis), scores the prompt, takes from the account's rate bucket, and applies the fail
mode when the store or the classifier does not answer in time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from distillguard.gateway.actions.base import Action, RequestContext
from distillguard.gateway.actions.refuse import Reverify
from distillguard.gateway.actions.registry import build_ladder
from distillguard.gateway.actions.throttle import TokenBuckets
from distillguard.gateway.apis import Refusal
from distillguard.gateway.classify import ClassifierWorker
from distillguard.gateway.decide import NO_ACTION, Decision, decide
from distillguard.verdicts.file_store import FileStore
from distillguard.verdicts.memory import MemoryStore
from distillguard.verdicts.model import Verdict, severity, subject_key
from distillguard.verdicts.policy import Policy
from distillguard.verdicts.store import VerdictStore

log = logging.getLogger("distillguard.gateway")
RETRY_S = 5  # a fail-closed refusal's Retry-After: a store back within seconds serves again
UNAVAILABLE = Refusal(
    503,
    "distillguard_unavailable",
    f"The gateway cannot read its verdict store and fails closed: retry in {RETRY_S} seconds.",
    headers=(("retry-after", str(RETRY_S)),),
)


class Enforcer:
    def __init__(self, policy: Policy, store: VerdictStore) -> None:
        self.policy, self.store = policy, store
        self.inline_store = isinstance(store, MemoryStore | FileStore)
        self.ladder: dict[str, Action] = build_ladder(policy)
        self.classifier = ClassifierWorker(tuple(r.signal for r in policy.request.classifiers))
        rate = policy.request.rate
        self.rate = TokenBuckets(rate.per_minute, rate.burst) if rate else None
        self.failures = 0

    async def warm(self) -> None:
        """Connect to the store and start the reader threads before the first request."""
        try:
            await asyncio.to_thread(self._lookup, "")
        except Exception as exc:
            log.warning("verdict store not answering at start (%s): fail %s", exc, self.policy.fail)

    async def close(self) -> None:
        reverify = self.ladder["reverify"]
        if isinstance(reverify, Reverify):
            await reverify.drain()
        self.store.close()

    async def store_problem(self) -> str | None:
        """Why the verdict store does not answer now (None: it does), asked as a request
        would ask it: what a health check reports."""
        try:
            await self.verdict("")
        except Exception as exc:  # the same failures decide() turns into the fail mode
            return f"verdict store not answering: {type(exc).__name__}"
        return None

    def _lookup(self, account: str) -> Verdict | None:
        verdict = self.store.get(subject_key(account))
        if verdict is not None and verdict.cluster:
            group = self.store.get(subject_key(verdict.cluster, "cluster"))
            if group is not None and group.outranks(verdict):
                return group
        return verdict

    async def verdict(self, account: str) -> Verdict | None:
        if self.inline_store:
            return self._lookup(account)
        timeout = self.policy.timeouts_ms.store / 1000
        return await asyncio.wait_for(asyncio.to_thread(self._lookup, account), timeout)

    async def decide(self, account: str, row: dict[str, Any]) -> Decision:
        failures: list[str] = []
        said: list[str] = []  # the log's fuller words: "StoreFileError" alone named no file
        verdict, scores = None, {}
        try:
            verdict = await self.verdict(account)
        except Exception as exc:  # timeout, connection refused, corrupt data: the fail mode
            failures.append(f"store: {type(exc).__name__}")
            said.append(_why(failures[-1], exc))
        try:
            if self._worth_classifying(verdict):
                timeout = self.policy.timeouts_ms.classifier / 1000
                scores = await self.classifier.score(row, timeout)
        except Exception as exc:
            failures.append(f"classifier: {type(exc).__name__}")
            said.append(_why(failures[-1], exc))
        wait = self.rate.take_one(account) if self.rate else 0.0
        if failures:
            self.failures += 1
            log.warning("fail %s for %s: %s", self.policy.fail, account, "; ".join(said))
        return decide(self.policy, verdict, scores, wait, tuple(failures))

    def _worth_classifying(self, verdict: Verdict | None) -> bool:
        """No prompt score can raise a verdict already at or above every classifier rule's rung."""
        rules = self.policy.request.classifiers
        if verdict is None or not rules:
            return bool(rules)
        return severity(verdict.action) < max(severity(r.action) for r in rules)

    def action_for(self, decision: Decision) -> Action | None:
        return self.ladder[decision.action] if decision.acts else None

    async def on_request(
        self, decision: Decision, action: Action | None, ctx: RequestContext
    ) -> Refusal | None:
        """The refusal to send, if any: fail closed first, then the action's own."""
        if decision.failures and self.policy.fail == "closed" and decision.enforced:
            return UNAVAILABLE
        refusal = await action.on_request(ctx) if action is not None else None
        if decision.action != NO_ACTION:
            verb = "enforce" if decision.enforced else "would"
            request = f" (request {ctx.request_id})" if ctx.request_id else ""
            outcome = await self._throttled(decision, refusal, ctx)
            log.info("%s %s for %s%s: %s%s", verb, decision.action, ctx.account, request,
                     "; ".join(decision.because), outcome)  # fmt: skip
        return refusal

    async def _throttled(
        self, decision: Decision, refusal: Refusal | None, ctx: RequestContext
    ) -> str:
        """What a throttle did with this request (or, in monitor mode, would have: its
        bucket is taken from as enforce would), for the log: a throttled account's every
        request was logged as throttled, the ones served within its rate too, so a trial
        in monitor mode overstated what enforce would refuse."""
        if decision.action != "throttle":
            return ""
        if not decision.enforced:
            refusal = await self.ladder["throttle"].on_request(ctx)
        if refusal is None:
            return (
                " (within its throttled rate: served)"
                if decision.enforced
                else (" (within its throttled rate: would be served)")
            )
        return f" ({'refused' if decision.enforced else 'would refuse'} {refusal.status})"


def _why(failure: str, exc: Exception) -> str:
    """A failure with the words its error carries (a store file gone, a Redis refusing),
    for the log only: the response header, if any, names the kind alone."""
    detail = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{failure} ({detail})" if detail else failure
