"""A combiner whose tick probabilities are the ticks' own `p` column: for tests of what the
robustness benchmark decides from probabilities, without a trained model."""

from __future__ import annotations

import numpy as np

from distillguard.scoring.combiner import Combiner


class GivenCombiner(Combiner):
    def score(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(columns["p"], dtype=float)


def given_combiner() -> GivenCombiner:
    return GivenCombiner(features=("p",), baseline=0.0, learning_rate=1.0, trees=(), about={})
