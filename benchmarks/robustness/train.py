"""Train the combiner shipped in src/distillguard/scoring/models/combiner.json.

Only randomised simulated worlds of the train seeds are used (their labels joined to the
features of every linking tick); the last train seed is held out and its ROC AUC written
beside the trees. The benchmark's fit seeds (which freeze the thresholds) and its fresh
seeds (drawn later) are never trained on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from benchmarks.robustness.worlds import World
from distillguard.scoring.combiner import MODEL_FILE, Combiner, Tree

OUT = Path(__file__).resolve().parents[2] / "src" / "distillguard" / "scoring" / "models"
# Histogram gradient boosting: fast enough to learn from many worlds (what generalises to
# worlds never seen is the variety of worlds, not the number of rows from each); a fixed
# number of trees and no early stopping, so a run is reproducible from its seeds.
PARAMS: dict[str, object] = {
    "max_iter": 500,
    "max_depth": 5,
    "learning_rate": 0.08,
    "l2_regularization": 1.0,
    "early_stopping": False,
}
MAX_ROWS_PER_WORLD = 20_000
NOT_FEATURES = ("account_id", "tick", "cluster")  # kept with the ticks, for judging
MAX_WEIGHT = 20.0


def balanced(groups: np.ndarray) -> np.ndarray:
    """Row weights giving every group the same total (each row at most MAX_WEIGHT times
    the mean): a rare heavy benign population counts as much as casual users, since every
    population must stay under the false-positive bar, and a small campaign as much as a
    large one."""
    names, index, counts = np.unique(groups, return_inverse=True, return_counts=True)
    weight = (len(groups) / len(names)) / counts[index]
    return np.asarray(np.minimum(weight, MAX_WEIGHT), dtype=float)


def rows(
    world: World, seed: int, without: tuple[str, ...] = ()
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(features, attack?, weight, feature names) of a sample of one world's (tick, account)
    rows, the features `without` left out; attack and benign each weigh half."""
    left_out = (*NOT_FEATURES, *without)
    names = sorted(n for n in world.ticks.column_names if n not in left_out)
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
    model: HistGradientBoostingClassifier, names: list[str], about: dict[str, object]
) -> Combiner:
    """The fitted trees as the combiner's JSON trees. scikit-learn keeps them in
    `_predictors` (one node table per boosting round, leaf values already scaled by the
    learning rate) beside `_baseline_prediction`; train() checks the export reproduces
    predict_proba, so a change in those private fields fails loudly, never silently."""
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        trees.append(
            Tree(
                np.where(leaf, -2, nodes["feature_idx"]).astype(np.int64),
                nodes["num_threshold"].astype(float),
                np.where(leaf, -1, nodes["left"]).astype(np.int64),
                np.where(leaf, -1, nodes["right"]).astype(np.int64),
                nodes["value"].astype(float),
            )
        )
    baseline = float(np.ravel(model._baseline_prediction)[0])
    return Combiner(tuple(names), baseline, 1.0, tuple(trees), about)


def train(
    worlds: dict[int, World], sizes: str = "", prompts: str = "", without: tuple[str, ...] = ()
) -> Combiner:
    """The combiner trained on all but the last of `worlds`, the features `without` left
    out (an input only the simulator makes differ between the classes), written where the
    package ships it."""
    seeds = sorted(worlds)
    inputs = set(worlds[seeds[0]].ticks.column_names) - set(NOT_FEATURES)
    if unknown := sorted(set(without) - inputs):
        raise SystemExit(f"--without: no feature named {', '.join(unknown)}")
    data = {s: rows(worlds[s], s, without) for s in seeds}
    names = data[seeds[0]][3]
    x = np.concatenate([data[s][0] for s in seeds[:-1]])
    y = np.concatenate([data[s][1] for s in seeds[:-1]])
    w = np.concatenate([data[s][2] for s in seeds[:-1]])
    model = HistGradientBoostingClassifier(random_state=0, **PARAMS)
    model.fit(x, y, sample_weight=w)
    held_x, held_y, _, _ = data[seeds[-1]]
    auc = float(roc_auc_score(held_y, model.predict_proba(held_x)[:, 1]))
    about = {
        "preset": "randomized",
        "train_seeds": seeds[:-1],
        "held_out_seed": seeds[-1],
        "held_out_tick_roc_auc": round(auc, 4),
        **({"world_sizes": sizes} if sizes else {}),
        **({"prompts": prompts} if prompts else {}),
        "rows": len(y),
        **({"without": list(without)} if without else {}),
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
