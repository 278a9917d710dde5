"""Evidence: what was observed (counts, shared keys, example request ids) and what we infer
from it, with how sure we are. Scores combine evidence strengths as a noisy-OR."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

Fact = int | float | str | list[str]
Arrays = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Evidence:
    """One reason behind a score: observed facts apart from the inference drawn from them."""

    code: str
    title: str
    observed: dict[str, Fact]
    inference: str
    confidence: float

    def line(self) -> str:
        facts = ", ".join(f"{k}={v}" for k, v in self.observed.items())
        return f"{self.title} [{facts}] -> {self.inference} ({self.confidence:.2f})"


@dataclass(frozen=True)
class Rule:
    """A kind of evidence: how strong it is for each row, and which facts support it."""

    code: str
    title: str
    inference: str
    strength: Callable[[Arrays], np.ndarray]
    facts: Callable[[Arrays, int], dict[str, Fact]]

    def evidence(self, arrays: Arrays, row: int, strength: float) -> Evidence:
        return Evidence(
            self.code,
            self.title,
            self.facts(arrays, row),
            self.inference,
            round(float(strength), 3),
        )


@dataclass(frozen=True)
class Scored:
    """Scores for many rows, with each rule's strength kept for the explanations."""

    score: np.ndarray
    strengths: dict[str, np.ndarray] = field(default_factory=dict)

    def evidence(
        self, rules: tuple[Rule, ...], arrays: Arrays, row: int, floor: float = 0.05
    ) -> list[Evidence]:
        items = [
            r.evidence(arrays, row, self.strengths[r.code][row])
            for r in rules
            if self.strengths[r.code][row] >= floor
        ]
        return sorted(items, key=lambda e: -e.confidence)

    def score_without(self, codes: frozenset[str]) -> np.ndarray:
        """The noisy-OR of every rule's strength but those in `codes`."""
        return _combine(
            [s for code, s in self.strengths.items() if code not in codes], len(self.score)
        )


def _combine(strengths: list[np.ndarray], rows: int) -> np.ndarray:
    miss = np.ones(rows)
    for s in strengths:
        miss *= 1.0 - s
    return 1.0 - miss


def noisy_or(rules: tuple[Rule, ...], arrays: Arrays, rows: int) -> Scored:
    strengths = {r.code: np.clip(np.nan_to_num(r.strength(arrays)), 0.0, 0.99) for r in rules}
    return Scored(_combine(list(strengths.values()), rows), strengths)


def saturate(x: np.ndarray, scale: float) -> np.ndarray:
    """0 at 0, about 0.63 at `scale`, towards 1 beyond: diminishing returns on counts."""
    return np.asarray(1.0 - np.exp(-np.maximum(x, 0) / scale), dtype=float)


def hour_entropy(hours: np.ndarray) -> np.ndarray:
    """Entropy of each row's hour-of-day histogram (rows x 24), scaled to [0, 1]:
    1 is traffic spread evenly round the clock, 0 all in one hour."""
    p = hours / np.maximum(hours.sum(axis=1, keepdims=True), 1.0)
    logs = np.log(np.where(p > 0, p, 1.0))
    return np.asarray(-(p * logs).sum(axis=1) / np.log(24), dtype=float)


def ramp(x: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.asarray(np.clip((x - low) / (high - low), 0.0, 1.0), dtype=float)
