"""Train the capability text model shipped in src/distillguard/signals/models/.

    .venv/bin/python scripts/train_capability.py [--corpora ../shared/data/corpora]

Only rows under permissive licences (Apache, MIT, CC0, CC-BY) are used, never
non-commercial or share-alike ones. Rows are split 80/20 by a hash of their text; the
held-out figures go to models/capability.json beside the weights.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
from pathlib import Path

import numpy as np
import orjson
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from distillguard.signals.capability import TEXT_CLASSES, vectorizer

KIND_TO_CLASS = {
    "task-code": "coding",
    "distill-code": "coding",
    "task-math": "math",
    "task-agentic": "agentic",
    "distill-tooluse": "agentic",
    "distill-judge": "grading",
    "benign": "chat",
    "distill": "chat",
    "distill-seed": "chat",
    "human-redteam": "chat",
}
PERMISSIVE = ("apache", "mit", "cc0", "cc-by-4.0")
OUT = Path(__file__).resolve().parents[1] / "src" / "distillguard" / "signals" / "models"


def permissive(license_text: str) -> bool:
    text = license_text.lower()
    return text.startswith(PERMISSIVE) and "nc" not in text.split("(")[0] and "-sa" not in text


def held_out(text: str) -> bool:
    return hashlib.sha1(text.encode(), usedforsecurity=False).digest()[0] < 52  # ~20%


def load(corpora: Path) -> tuple[list[str], list[int], list[bool], dict[str, int]]:
    texts: list[str] = []
    labels: list[int] = []
    test: list[bool] = []
    counts: dict[str, int] = {}
    for path in sorted(corpora.glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            row = orjson.loads(line)
            label = KIND_TO_CLASS.get(row["kind"])
            if label is None or not permissive(row["license"]):
                continue
            texts.append(row["text"][:4000])
            labels.append(TEXT_CLASSES.index(label))
            test.append(held_out(row["text"]))
            counts[label] = counts.get(label, 0) + 1
    return texts, labels, test, counts


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    confidence, predicted = probs.max(axis=1), probs.argmax(axis=1)
    edges = np.linspace(0, 1, bins + 1)
    error = 0.0
    for lo, hi in itertools.pairwise(edges):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            accuracy = (predicted[inside] == y[inside]).mean()
            error += inside.mean() * abs(accuracy - confidence[inside].mean())
    return float(error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpora", type=Path, default=Path("../shared/data/corpora"))
    args = parser.parse_args()
    texts, labels, test, counts = load(args.corpora)
    x = vectorizer().transform(texts)
    y, test_mask = np.asarray(labels), np.asarray(test)
    # Balanced class weights: the judge and code corpora are much larger than the math one.
    model = LogisticRegression(C=8.0, max_iter=400, class_weight="balanced")
    model.fit(x[~test_mask], y[~test_mask])
    probs = model.predict_proba(x[test_mask])
    accuracy = float((probs.argmax(axis=1) == y[test_mask]).mean())
    coef = sp.csr_matrix(np.where(np.abs(model.coef_) > 1e-4, model.coef_, 0).astype(np.float32))
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        OUT / "capability.npz",
        data=coef.data,
        indices=coef.indices,
        indptr=coef.indptr,
        intercept=model.intercept_.astype(np.float32),
    )
    card = {
        "classes": list(TEXT_CLASSES),
        "train_rows": int((~test_mask).sum()),
        "held_out_rows": int(test_mask.sum()),
        "held_out_accuracy": round(accuracy, 4),
        "held_out_ece": round(expected_calibration_error(probs, y[test_mask]), 4),
        "rows_per_class": counts,
        "licences": "Apache-2.0, MIT, CC0-1.0, CC-BY-4.0 only",
    }
    (OUT / "capability.json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
