"""A learned combiner of an account's relative and cohort features (scoring/cohort.py).

Gradient-boosted trees trained by `benchmarks/robustness` (`run train`) on randomised
simulated worlds only (`simulate --preset randomized`, seeds listed in the model file) and
judged there on worlds it never saw. The trees are shipped as JSON (feature
names, thresholds, leaf values) and evaluated here (scoring/forest.py), so no pickled object is
loaded and the model reads nothing but the features it names.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import orjson

from distillguard.errors import ConfigError
from distillguard.scoring.forest import Forest

MODEL_FILE = "combiner.json"


@dataclass(frozen=True)
class Tree:
    feature: np.ndarray  # per node; -2 at leaves
    threshold: np.ndarray  # go left when x <= threshold
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray  # leaf values (raw log-odds steps)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The leaf value each row of x (rows x features) falls in: the sum of this one
        tree from 0 at rate 1."""
        return Forest.of([self]).sums(x, 0.0, 1.0)


@dataclass(frozen=True)
class Combiner:
    features: tuple[str, ...]
    baseline: float
    learning_rate: float
    trees: tuple[Tree, ...]
    about: dict[str, Any]

    def matrix(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        missing = [f for f in self.features if f not in columns]
        if missing:
            raise ConfigError(f"combiner needs features {missing}")
        return np.stack([np.nan_to_num(columns[f].astype(float)) for f in self.features], axis=1)

    def score(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        """The probability the model gives each row of being an attack account."""
        raw = self._forest.sums(self.matrix(columns), self.baseline, self.learning_rate)
        return np.asarray(1.0 / (1.0 + np.exp(-raw)), dtype=float)

    @functools.cached_property
    def _forest(self) -> Forest:
        return Forest.of(self.trees)

    def to_json(self) -> bytes:
        trees = [
            {k: getattr(t, k).tolist() for k in ("feature", "threshold", "left", "right", "value")}
            for t in self.trees
        ]
        doc = {
            "features": list(self.features),
            "baseline": self.baseline,
            "learning_rate": self.learning_rate,
            "trees": trees,
            "about": self.about,
        }
        return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)

    @classmethod
    def from_json(cls, text: bytes) -> Combiner:
        doc = orjson.loads(text)
        trees = tuple(
            Tree(
                np.asarray(t["feature"], dtype=np.int64),
                np.asarray(t["threshold"], dtype=float),
                np.asarray(t["left"], dtype=np.int64),
                np.asarray(t["right"], dtype=np.int64),
                np.asarray(t["value"], dtype=float),
            )
            for t in doc["trees"]
        )
        return cls(
            tuple(doc["features"]),
            float(doc["baseline"]),
            float(doc["learning_rate"]),
            trees,
            dict(doc.get("about", {})),
        )


@functools.cache
def shipped() -> Combiner:
    """The combiner shipped in the package (scoring/models/combiner.json)."""
    path = resources.files("distillguard.scoring") / "models" / MODEL_FILE
    return Combiner.from_json(path.read_bytes())
