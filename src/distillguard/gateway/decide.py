"""The decision for one request: the verdict in force plus the request's own evidence."""

from __future__ import annotations

from dataclasses import dataclass

from distillguard.verdicts.model import Verdict, severity
from distillguard.verdicts.policy import Policy

NO_ACTION = "none"


@dataclass(frozen=True)
class Decision:
    """What the gateway does (or, in monitor mode, would do), with the reasons why."""

    action: str  # a rung of the ladder, or "none"
    enforced: bool
    because: tuple[str, ...] = ()
    verdict: Verdict | None = None
    scores: tuple[tuple[str, float], ...] = ()
    retry_after: float | None = None
    failures: tuple[str, ...] = ()  # store or classifier misses, served per the fail mode

    @property
    def acts(self) -> bool:
        return self.enforced and self.action != NO_ACTION


def explain(verdict: Verdict) -> str:
    where = f" [{verdict.evidence}]" if verdict.evidence else ""
    return f"{verdict.source} verdict on {verdict.key}: {verdict.action} ({verdict.reason}){where}"


def decide(
    policy: Policy,
    verdict: Verdict | None,
    scores: dict[str, float],
    rate_wait: float,
    failures: tuple[str, ...] = (),
) -> Decision:
    """The strongest rung that any piece of evidence calls for."""
    candidates: list[tuple[str, str]] = []
    if verdict is not None:
        candidates.append((verdict.action, explain(verdict)))
    for rule in policy.request.classifiers:
        score = scores.get(rule.signal, 0.0)
        if score >= rule.min:
            candidates.append((rule.action, f"prompt {rule.signal} {score:.2f} >= {rule.min}"))
    if rate_wait > 0:
        candidates.append(("throttle", "account over the per-minute request rate"))
    action = max((a for a, _ in candidates), key=severity, default=NO_ACTION)
    return Decision(
        action=action,
        enforced=policy.mode == "enforce",
        because=tuple(why for a, why in candidates if a == action),
        verdict=verdict,
        scores=tuple(sorted(scores.items())),
        retry_after=rate_wait if rate_wait > 0 and action == "throttle" else None,
        failures=failures,
    )
