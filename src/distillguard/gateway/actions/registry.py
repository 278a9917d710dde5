"""The actions of the response ladder, registered explicitly, built from the policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from distillguard.errors import unknown_name_error
from distillguard.gateway.actions.base import Action, Monitor
from distillguard.gateway.actions.degrade import Degrade
from distillguard.gateway.actions.refuse import BlockAccount, BlockCluster, Reverify
from distillguard.gateway.actions.throttle import Throttle
from distillguard.verdicts.model import ACTIONS
from distillguard.verdicts.policy import Policy

ActionFactory = Callable[[dict[str, Any]], Action]
ACTION_TYPES: dict[str, ActionFactory] = {
    "monitor": Monitor,
    "throttle": Throttle,
    "reverify": Reverify,
    "degrade": Degrade,
    "block_account": BlockAccount,
    "block_cluster": BlockCluster,
}
if tuple(ACTION_TYPES) != ACTIONS:  # the ladder's order is the verdicts package's
    raise RuntimeError("ACTION_TYPES must follow verdicts.model.ACTIONS")


def build_action(name: str, settings: dict[str, Any]) -> Action:
    if name not in ACTION_TYPES:
        raise unknown_name_error("action", name, list(ACTION_TYPES))
    return ACTION_TYPES[name](settings)


def build_ladder(policy: Policy) -> dict[str, Action]:
    """Every rung, configured by the policy's per-action settings."""
    return {name: build_action(name, policy.settings(name)) for name in ACTION_TYPES}
