"""What capability an exchange exercises: a text model plus the request's structure.

The text model is a multinomial logistic regression over hashed word uni- and bigrams,
trained by `scripts/train_capability.py` on permissively licensed public prompts (code,
math, tool-use, judge and chat corpora; see models/capability.json) and shipped in the
package as sparse weights, so nothing is downloaded at run time. Structure then decides what
text cannot: images make vision, screenshots with GUI tools make computer use, a tool loop
makes agentic work.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from distillguard.signals.capabilities import CAPABILITIES
from distillguard.signals.ngrams import hashed_ngrams
from distillguard.signals.regex import matches

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import HashingVectorizer

TEXT_CLASSES = ("coding", "math", "agentic", "grading", "chat")
N_FEATURES = 1 << 18
DATA_ANALYSIS = (
    r"\b(csv|dataframe|pandas|regression|dataset|correlation|forecast|pivot table|"
    r"anomal\w*|statistic\w*|significance test|a/b test|cohort|time series)\b"
)
COMPUTER_TOOLS = frozenset({"computer", "screenshot", "computer_use", "browser", "mouse"})
# What each text class means as a capability: math and judging are both reasoning work.
_TEXT_TO_CAPABILITY = np.array(
    [
        CAPABILITIES.index(c)
        for c in ("coding", "reasoning", "agentic", "reasoning", "chat")  # TEXT_CLASSES order
    ],
    dtype=np.int64,
)


def vectorizer() -> HashingVectorizer:
    """The features the model was trained on; `hashed_ngrams` computes the same at run time
    (scikit-learn is imported here, for training and tests: signal workers do not need it)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        n_features=N_FEATURES, ngram_range=(1, 2), alternate_sign=False, norm="l2", lowercase=True
    )


@dataclass(frozen=True)
class TextModel:
    coef: sp.csr_matrix  # classes x features
    intercept: np.ndarray

    def predict_proba(self, texts: pa.Array) -> np.ndarray:
        """Class probabilities per text; identical texts are scored once."""
        encoded = pc.dictionary_encode(pc.fill_null(texts, ""))
        features = hashed_ngrams(encoded.dictionary, N_FEATURES)
        logits = np.asarray((features @ self.coef.T).todense()) + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        return np.asarray(probs[np.asarray(encoded.indices)], dtype=float)


@functools.cache
def text_model() -> TextModel:
    path = resources.files("distillguard.signals") / "models" / "capability.npz"
    with resources.as_file(path) as file, np.load(file) as data:
        coef = sp.csr_matrix(
            (data["data"], data["indices"], data["indptr"]), shape=(len(TEXT_CLASSES), N_FEATURES)
        )
        return TextModel(coef, data["intercept"])


def capability(
    text_probs: np.ndarray,
    lowered: pa.Array,
    images: np.ndarray,
    tool_blocks: np.ndarray,
    tools: pa.Array,
) -> np.ndarray:
    """One capability per exchange (an index into CAPABILITIES)."""
    out: np.ndarray = _TEXT_TO_CAPABILITY[text_probs.argmax(axis=1)]
    analysis = matches(lowered, DATA_ANALYSIS)
    out[analysis & (text_probs.max(axis=1) < 0.9)] = CAPABILITIES.index("data_analysis")
    declared = pc.fill_null(pc.list_value_length(tools), 0).to_numpy()
    out[(tool_blocks > 0) | ((declared > 0) & (out == CAPABILITIES.index("chat")))] = (
        CAPABILITIES.index("agentic")
    )
    flat = pc.list_flatten(tools)
    parents = np.asarray(pc.list_parent_indices(tools))
    gui = np.asarray(pc.fill_null(pc.is_in(flat, pa.array(sorted(COMPUTER_TOOLS))), False))
    computer = np.zeros(len(out), dtype=bool)
    computer[parents[gui]] = True
    out[images > 0] = CAPABILITIES.index("vision")
    out[computer] = CAPABILITIES.index("computer_use")
    return out
