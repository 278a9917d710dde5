"""The response policy: detect output -> actions, request evidence, mode, fail mode, settings."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml

from distillguard.errors import ConfigError, unknown_name_error
from distillguard.unique_yaml import load_unique
from distillguard.verdicts.model import ACTIONS, parse_ttl

Mode = Literal["monitor", "enforce"]
FailMode = Literal["open", "closed"]


class PublishRule(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    action: str
    kind: Literal["account", "cluster"] = "account"
    tier: Literal["flagged", "review"] = "flagged"
    min_score: float = 0.0
    signup_tiers: list[str] | None = None  # only accounts signed up on these tiers


class Publish(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    rules: list[PublishRule]
    ttl: str = "7d"


class ClassifierRule(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    signal: str
    min: float
    action: str


class Rate(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    per_minute: float
    burst: float


class Request(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    classifiers: list[ClassifierRule] = []
    rate: Rate | None = None


class Timeouts(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    store: float = 20
    classifier: float = 50


class Policy(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    publish: Publish
    mode: Mode = "monitor"
    fail: FailMode = "open"
    label_responses: bool = False  # tells a harvester it is seen: off unless asked for
    timeouts_ms: Timeouts = Timeouts()
    request: Request = Request()
    actions: dict[str, dict[str, Any]] = {}

    @property
    def ttl(self) -> timedelta:
        return parse_ttl(self.publish.ttl)

    def settings(self, action: str) -> dict[str, Any]:
        return self.actions.get(action, {})

    def overridden(self, mode: str | None = None, fail: str | None = None) -> Policy:
        """The policy with the command line's --mode and --fail, which win over the file's."""
        changes: dict[str, Any] = {"mode": mode or self.mode, "fail": fail or self.fail}
        return _checked(msgspec.structs.replace(self, **changes))


def _checked(policy: Policy) -> Policy:
    if policy.mode not in ("monitor", "enforce"):
        raise ConfigError(f"unknown mode {policy.mode!r}; valid: enforce, monitor")
    if policy.fail not in ("open", "closed"):
        raise ConfigError(f"unknown fail mode {policy.fail!r}; valid: closed, open")
    named = [r.action for r in policy.publish.rules]
    named += [r.action for r in policy.request.classifiers] + list(policy.actions)
    for action in named:
        if action not in ACTIONS:
            raise unknown_name_error("action", action, list(ACTIONS))
    parse_ttl(policy.publish.ttl)
    for classifier in policy.request.classifiers:  # scores run 0 to 1: above, it never fires
        if not 0.0 <= classifier.min <= 1.0:
            raise ConfigError(
                f"request.classifiers: {classifier.signal} min {classifier.min} is outside "
                "0 to 1, the range its scores run over"
            )
    for rule in policy.publish.rules:  # a cluster has no sign-up tier: the rule never matched
        if rule.kind == "cluster" and rule.signup_tiers is not None:
            raise ConfigError(
                "signup_tiers applies to account rules only; a cluster's members are "
                "matched by their own account rules"
            )
    return policy


def parse_policy(text: str, origin: str = "policy") -> Policy:
    try:
        data = load_unique(text)
        return _checked(msgspec.convert(data, Policy))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML ({exc})".replace("\n", " ")) from exc
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{origin}: {exc}") from exc


def default_policy_text() -> str:
    return resources.files("distillguard.verdicts").joinpath("default_policy.yaml").read_text()


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path`, or the built-in default."""
    if path is None:
        return parse_policy(default_policy_text(), "default policy")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read policy {path}: {exc.strerror}") from exc
    except UnicodeDecodeError:
        raise ConfigError(f"policy {path} is not UTF-8 text") from None
    return parse_policy(text, str(path))
