"""The response the gateway took against an account, as OCSF's security-control outcome.

The gateway enforces the policy ladder (monitor, throttle, re-verify, degrade outputs,
block the account, block its cluster); a finding carries the rung it applied so a SIEM
sees what was done as well as what was found. Each rung maps to OCSF `action_id` (what the
control did) and `disposition_id` (the outcome), per the `security_control` profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from distillguard.errors import unknown_name_error

# rung -> (action_id, action, disposition_id, disposition)
RUNGS: dict[str, tuple[int, str, int, str]] = {
    "monitor": (3, "Observed", 17, "Logged"),
    "throttle": (4, "Modified", 14, "Delayed"),
    "reverify": (4, "Modified", 23, "Challenge"),
    "degrade": (4, "Modified", 7, "Custom Action"),
    "block_account": (2, "Denied", 2, "Blocked"),
    "block_cluster": (2, "Denied", 2, "Blocked"),
}


@dataclass(frozen=True)
class GatewayAction:
    """One rung of the ladder applied to an account, since `at`, by `source`."""

    rung: str
    at: datetime | None = None
    source: str = "gateway"

    def __post_init__(self) -> None:
        if self.rung not in RUNGS:
            raise unknown_name_error("response rung", self.rung, list(RUNGS))


_SEVERITY = {"monitor": 0, "throttle": 1, "reverify": 2, "degrade": 3}


def strongest(actions: list[GatewayAction]) -> GatewayAction | None:
    """The most severe of the actions on a cluster's members (blocks above everything)."""
    if not actions:
        return None
    return max(actions, key=lambda a: (_SEVERITY.get(a.rung, 4), a.rung))


def ocsf_fields(action: GatewayAction | None) -> dict[str, Any]:
    """The security-control attributes of a finding; none when the gateway did not act."""
    if action is None:
        return {}
    action_id, action_name, disposition_id, disposition = RUNGS[action.rung]
    return {
        "action_id": action_id,
        "action": action_name,
        "disposition_id": disposition_id,
        "disposition": disposition,
    }
