"""Presets: YAML files naming populations and campaigns, scaled into a simulation plan."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from distillguard.errors import ConfigError, unknown_name_error
from distillguard.simulate.archetypes import behaviour
from distillguard.simulate.behaviour import Behaviour
from distillguard.simulate.randomize import (
    population_rng,
    randomize_accounts,
    randomize_behaviour,
)

_TOP_KEYS = {
    "description",
    "days",
    "start",
    "models",
    "min_benign_accounts",
    "benign",
    "campaigns",
    "retain_output_text",
    "randomize",
}
_COUNT_KEYS = {"archetype", "accounts", "min_accounts", "exchanges"}


@dataclass(frozen=True)
class PopulationPlan:
    """One population after scaling: how many accounts, at what rate, labelled how."""

    name: str
    campaign: str | None
    behaviour: Behaviour
    accounts: int
    rate_per_day: float


@dataclass(frozen=True)
class Models:
    current: tuple[str, ...]
    new: str
    release_day: int


@dataclass(frozen=True)
class SimPlan:
    start: datetime
    days: int
    models: Models
    retain_output_text: bool
    populations: tuple[PopulationPlan, ...]


def preset_names() -> list[str]:
    folder = resources.files("distillguard.simulate") / "presets"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def load_preset(name_or_path: str) -> dict[str, Any]:
    """A built-in preset by name, or a YAML file by path."""
    if name_or_path.endswith((".yaml", ".yml")):
        path = Path(name_or_path)
        if not path.is_file():
            raise ConfigError(f"preset file not found: {path}")
        text = path.read_text()
    elif name_or_path in preset_names():
        folder = resources.files("distillguard.simulate") / "presets"
        text = (folder / f"{name_or_path}.yaml").read_text()
    else:
        raise unknown_name_error("preset", name_or_path, preset_names())
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"preset {name_or_path}: invalid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"preset {name_or_path}: expected a mapping at the top level")
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"preset {name_or_path}: unknown keys {unknown}; valid: {sorted(_TOP_KEYS)}"
        )
    return doc


def _number(entry: dict[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = entry.get(key, default)
    if value is None:
        raise ConfigError(f"{where}: {key!r} is missing (a non-negative number)")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: {key!r} must be a non-negative number, got {value!r}")
    return float(value)


def _split(entry: Any, where: str) -> tuple[str | None, dict[str, Any]]:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping of knobs")
    return entry.get("archetype"), {k: v for k, v in entry.items() if k not in _COUNT_KEYS}


def _named(name: str, split: tuple[str | None, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """(archetype, knobs) of a population: its archetype defaults to its name."""
    archetype, knobs = split
    return archetype or name, knobs


@dataclass(frozen=True)
class Draw:
    """Domain randomisation of a plan: None keeps the preset's knobs as written."""

    seed: int | None = None

    def behaviour(self, b: Behaviour, index: int) -> Behaviour:
        if self.seed is None:
            return b
        return randomize_behaviour(b, population_rng(self.seed, index))

    def accounts(self, n: float, index: int) -> float:
        if self.seed is None:
            return n
        return randomize_accounts(n, population_rng(self.seed, 1000 + index))


def _benign(doc: dict[str, Any], scale: float, draw: Draw) -> list[PopulationPlan]:
    entries = doc.get("benign") or {}
    # Knobs first: a misspelt `accounts` is an unknown knob, not a missing count.
    written = [behaviour(*_named(n, _split(e, f"benign.{n}"))) for n, e in entries.items()]
    total = sum(_number(e, "accounts", f"benign.{n}") for n, e in entries.items())
    floor = _number(doc, "min_benign_accounts", "preset", 0)
    benign_scale = max(scale, floor / total) if total else scale
    plans = []
    for k, (name, entry) in enumerate(entries.items()):
        b = draw.behaviour(written[k], k)
        least = _number(entry, "min_accounts", f"benign.{name}", 30)
        wanted = draw.accounts(_number(entry, "accounts", f"benign.{name}") * benign_scale, k)
        n = max(int(least), round(wanted))
        plans.append(PopulationPlan(name, None, b, n, b.rate_per_day))
    return plans


def _campaigns(doc: dict[str, Any], scale: float, days: int, draw: Draw) -> list[PopulationPlan]:
    """Campaign volumes are for the preset's own window; a shorter or longer --days keeps
    the per-account rate and changes only how long the campaign runs. A campaign without
    `exchanges` runs at its behaviour's rate_per_day."""
    window = int(_number(doc, "days", "preset", 14))
    plans = []
    for k, (name, entry) in enumerate((doc.get("campaigns") or {}).items(), start=500):
        b = draw.behaviour(behaviour(*_named(name, _split(entry, f"campaigns.{name}"))), k)
        least = _number(entry, "min_accounts", f"campaigns.{name}", 5)
        wanted = draw.accounts(_number(entry, "accounts", f"campaigns.{name}") * scale, k)
        concurrent = max(int(least), round(wanted))
        lives = max(1, round(days / b.lifetime_days)) if b.lifetime_days else 1
        live_days = window * (1 - b.signup_in_window / 2) if not b.lifetime_days else window
        if "exchanges" in entry:
            exchanges = _number(entry, "exchanges", f"campaigns.{name}") * scale
            rate = exchanges / max(concurrent * live_days * b.active_prob, 1e-9)
        else:
            rate = b.rate_per_day
        plans.append(PopulationPlan(name, name, b, concurrent * lives, rate))
    return plans


MAX_SCALE = 100.0
MAX_DAYS = 366


def plan(
    doc: dict[str, Any], scale: float = 1.0, days: int | None = None, randomize: int | None = None
) -> SimPlan:
    """The scaled plan of a preset document; with `randomize` (a seed), or a preset that
    sets `randomize: true` (then seeded with 0 unless given), every population's knobs and
    account counts are drawn for that seed (see simulate.randomize)."""
    # nan and inf fail deep inside, and 1e308 overflowed into a traceback; scale 1 is the
    # reported campaigns' own size (about 150M exchanges), so 100 is far past any use
    if not math.isfinite(scale) or not 0 < scale <= MAX_SCALE:
        raise ConfigError(f"--scale must be a number above 0 and at most {MAX_SCALE}, got {scale}")
    days = int(days if days is not None else _number(doc, "days", "preset", 14))
    if not 1 <= days <= MAX_DAYS:
        raise ConfigError(f"--days must be from 1 to {MAX_DAYS}, got {days}")
    models = doc.get("models") or {}
    try:
        start = datetime.fromisoformat(str(doc.get("start", "2026-02-02T00:00:00Z")))
        release_day = min(int(models.get("release_day", days // 2)), days - 1)
        model_plan = Models(tuple(models["current"]), str(models["new"]), release_day)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"preset: bad 'start' or 'models' ({exc})") from None
    if randomize is None and doc.get("randomize", False):
        randomize = 0
    draw = Draw(randomize)
    populations = _benign(doc, scale, draw) + _campaigns(doc, scale, days, draw)
    if not populations:
        raise ConfigError("preset defines no populations")
    return SimPlan(
        start.astimezone(UTC),
        days,
        model_plan,
        bool(doc.get("retain_output_text", False)),
        tuple(populations),
    )
