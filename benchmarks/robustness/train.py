"""Train the combiner shipped in src/distillguard/scoring/models/combiner.json.

Only randomised simulated worlds of the train seeds are used (their labels joined to the
features of every linking tick); the last train seed is held out and its ROC AUC written
beside the trees. The benchmark's fit seeds (which freeze the thresholds) and its fresh
seeds (drawn later) are never trained on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from benchmarks.robustness.worlds import World
from distillguard.scoring.combiner import MODEL_FILE, Combiner, Tree

OUT = Path(__file__).resolve().parents[2] / "src" / "distillguard" / "scoring" / "models"
PARAMS = {"n_estimators": 200, "max_depth": 3, "learning_rate": 0.1, "subsample": 0.7}
MAX_ROWS_PER_WORLD = 20_000
MAX_WEIGHT = 20.0


def balanced(groups: np.ndarray) -> np.ndarray:
    """Row weights giving every group the same total (each row at most MAX_WEIGHT times
    the mean): a rare heavy benign population counts as much as casual users, since every
    population must stay under the false-positive bar, and a small campaign as much as a
    large one."""
    names, index, counts = np.unique(groups, return_inverse=True, return_counts=True)
    weight = (len(groups) / len(names)) / counts[index]
    return np.asarray(np.minimum(weight, MAX_WEIGHT), dtype=float)


def rows(world: World, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(features, attack?, weight, feature names) of a sample of one world's (tick, account)
    rows; attack and benign each weigh half."""
    names = sorted(n for n in world.ticks.column_names if n != "account_id")
    accounts = world.accounts.to_pydict()
    population = dict(zip(accounts["account_id"], accounts["population"], strict=True))
    label = dict(zip(accounts["account_id"], accounts["label"], strict=True))
    ids = world.ticks["account_id"].to_pylist()
    keep = np.random.default_rng(seed).permutation(len(ids))[:MAX_ROWS_PER_WORLD]
    kept = [ids[i] for i in keep.tolist()]
    y = np.array([label.get(a) == "attack" for a in kept])
    groups = np.array([population.get(a, "?") for a in kept], dtype=object)
    w = np.zeros(len(kept))
    for side in (True, False):
        mine = y == side
        if mine.any():
            w[mine] = balanced(groups[mine]) * (0.5 * len(kept) / mine.sum())
    x = np.stack([world.ticks[n].to_numpy() for n in names], axis=1)[keep]
    return np.nan_to_num(x.astype(float)), y, w, names


def export(
    model: GradientBoostingClassifier, names: list[str], about: dict[str, object]
) -> Combiner:
    trees = tuple(
        Tree(
            t.tree_.feature.astype(np.int64),
            t.tree_.threshold.astype(float),
            t.tree_.children_left.astype(np.int64),
            t.tree_.children_right.astype(np.int64),
            t.tree_.value[:, 0, 0].astype(float),
        )
        for t in model.estimators_[:, 0]
    )
    lr = float(model.learning_rate)
    probe = np.zeros((1, len(names)))
    baseline = float(model.decision_function(probe)[0]) - lr * sum(
        float(t.predict(probe)[0]) for t in trees
    )
    return Combiner(tuple(names), baseline, lr, trees, about)


def train(worlds: dict[int, World]) -> Combiner:
    seeds = sorted(worlds)
    data = {s: rows(worlds[s], s) for s in seeds}
    names = data[seeds[0]][3]
    x = np.concatenate([data[s][0] for s in seeds[:-1]])
    y = np.concatenate([data[s][1] for s in seeds[:-1]])
    w = np.concatenate([data[s][2] for s in seeds[:-1]])
    model = GradientBoostingClassifier(random_state=0, **PARAMS).fit(x, y, sample_weight=w)
    held_x, held_y, _, _ = data[seeds[-1]]
    auc = float(roc_auc_score(held_y, model.predict_proba(held_x)[:, 1]))
    about = {
        "preset": "randomized",
        "train_seeds": seeds[:-1],
        "held_out_seed": seeds[-1],
        "held_out_tick_roc_auc": round(auc, 4),
        "rows": len(y),
        "weights": "every benign population and every campaign the same total, attack and "
        f"benign half each, at most {MAX_WEIGHT:g} times the mean per row",
        "params": PARAMS,
    }
    combiner = export(model, names, about)
    check = combiner.score({n: held_x[:, i] for i, n in enumerate(names)})
    if not np.allclose(check, model.predict_proba(held_x)[:, 1], atol=1e-9):
        raise SystemExit("the exported trees do not reproduce scikit-learn's probabilities")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / MODEL_FILE).write_bytes(combiner.to_json())
    return combiner
