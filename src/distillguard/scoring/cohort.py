"""Features of an account at a linking tick, relative to the traffic of that tick.

Absolute rates and lengths differ from one provider, generator or month to the next; the
position of an account within the population it is seen with does not. So magnitudes enter
as percentile ranks among the accounts active in the window (overall and within the
account's tier), and cohort evidence enters as what the account's linked group shows
together: shared cards, addresses and sign-up bursts, dense blocks of rare keys, the
group's volume, capability coverage, rich outputs and synchronised hours. A shared card or
address alone is normal for a team or a family; the combiner (scoring/combiner.py) learns
how much it weighs next to the group's harvest.

No labels, simulator fields or ids enter: only the window rows, the links and the groups.
"""

from __future__ import annotations

import numpy as np

from distillguard.linking.graph import Links
from distillguard.linking.window import KeyWindow
from distillguard.scoring.cluster import ClusterFrame
from distillguard.scoring.content import content_features
from distillguard.scoring.evidence import Arrays
from distillguard.scoring.ranks import percentile, percentile_within

HOD = [f"hod_{k}" for k in range(24)]
STRONG = ("card", "signup_ip", "signup_burst")


def _share(f: Arrays, name: str) -> np.ndarray:
    return np.asarray(f[name] / np.maximum(f["n"], 1.0), dtype=float)


def own_features(f: Arrays, own_score: np.ndarray) -> dict[str, np.ndarray]:
    """The account's own behaviour, magnitudes as ranks among the tick's accounts."""
    n = np.maximum(f["n"].astype(float), 1.0)
    tier = np.asarray([str(t) for t in f["tier"].tolist()], dtype=object)
    harvest_per = (f["output_tokens"] + f["reasoning_tokens"]) / n
    age = np.where(np.isfinite(f["age_days"]), f["age_days"], 3650.0)
    return {
        "pct_volume": percentile(n),
        "pct_volume_in_tier": percentile_within(n, tier),
        "pct_daily_rate": percentile(f["daily_rate"]),
        "pct_active_hours": percentile(f["active_hours"]),
        "pct_output": percentile(harvest_per),
        "pct_harvest": percentile(f["mean_harvest_excess"]),
        "pct_harvest_in_tier": percentile_within(f["mean_harvest_excess"], tier),
        "harvest_excess": np.clip(f["mean_harvest_excess"], -3, 3),
        "rich_share": f["rich_share"],
        "thinking_share": _share(f, "n_thinking"),
        "elicit_share": f["elicit_share"],
        "trace_share": f["trace_share"],
        "rewrite_share": f["rewrite_share"],
        "single_turn_share": _share(f, "n_single_turn"),
        "tool_share": _share(f, "n_tool_loop"),
        "new_model_share": _share(f, "n_new_model"),
        "coverage": f["coverage"],
        "hour_entropy": f["entropy"],
        "pct_hour_entropy": percentile(f["entropy"]),
        "gap_cv": np.clip(f["gap_cv"], 0, 5),
        "pct_churn": percentile(f["churn"]),
        "log_age_days": np.log1p(np.clip(age, 0, 3650)),
        "light_tier": f["light_tier"].astype(float),
        "declared_org": np.asarray(
            [isinstance(o, str) and bool(o) for o in f["org_id"].tolist()], dtype=float
        ),
        "active_days": f["active_days"].astype(float),
        "rule_score": own_score,
    }


def key_sharers(accounts: np.ndarray, edges: Links) -> dict[str, np.ndarray]:
    """Per account and strong kind: log2(1 + other accounts holding the same key)."""
    position = {a: i for i, a in enumerate(accounts.tolist())}
    out = {f"{kind}_sharers": np.zeros(len(accounts)) for kind in STRONG}
    for kind in STRONG:
        column = out[f"{kind}_sharers"]
        for holders in edges.holders(kind).values():
            for a in holders:
                if a in position:
                    column[position[a]] = max(column[position[a]], np.log2(len(holders)))
    return out


def _by_cluster(index: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(index, weights=values.astype(float), minlength=k)


def cluster_features(
    f: Arrays,
    labels: np.ndarray,
    cluster: Arrays,
    cluster_score: np.ndarray,
    own: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """What each account's linked group shows together (zeros outside any group). `labels`
    is the group row of each account (-1 when unlinked), `cluster` the group aggregates of
    scoring.cluster.cluster_frame in the same row order, `cluster_score` their score."""
    rows, linked = len(labels), labels >= 0
    k = len(cluster_score)
    index = labels[linked]
    n = f["n"].astype(float)
    size = np.maximum(cluster["size"], 1.0)
    hod = np.stack([f[h].astype(float) for h in HOD], axis=1)
    total_hod = np.zeros((k, 24))
    np.add.at(total_hod, index, hod[linked])
    unit = hod[linked] / np.maximum(np.linalg.norm(hod[linked], axis=1, keepdims=True), 1e-9)
    group_unit = total_hod / np.maximum(np.linalg.norm(total_hod, axis=1, keepdims=True), 1e-9)
    cosine = (unit * group_unit[index]).sum(axis=1)
    new = (own["log_age_days"][linked] < np.log1p(30)).astype(float)
    sorted_n = np.sort(n)
    per_cluster = {
        "cluster_log_size": np.log2(size),
        "cluster_card_share": cluster["shared_card"] / size,
        "cluster_any_card_share": cluster["shared_card_any"] / size,
        "cluster_burst_share": cluster["signup_burst"] / size,
        "cluster_signup_ip_share": cluster["shared_signup_ip"] / size,
        "cluster_block_share": cluster["block_share"],
        "cluster_block_density": np.clip(cluster["block_density"], 0, 20),
        "cluster_member_score": cluster["member_score"],
        "cluster_rule_score": cluster_score,
        "cluster_rich_share": cluster["rich_share"],
        "cluster_elicit_share": cluster["elicit_share"],
        "cluster_coverage": cluster["coverage"],
        "cluster_hour_entropy": cluster["entropy"],
        "cluster_pct_volume": np.searchsorted(sorted_n, cluster["n"]) / max(len(n), 1),
        "cluster_harvest": _by_cluster(index, f["harvest_excess"][linked], k) / cluster["n"],
        "cluster_new_share": _by_cluster(index, new, k) / size,
        "cluster_sync": _by_cluster(index, cosine, k) / size,
        "cluster_pct_harvest": _by_cluster(index, own["pct_harvest"][linked], k) / size,
    }
    out = {"in_cluster": linked.astype(float)}
    for name, values in per_cluster.items():
        column = np.zeros(rows)
        column[linked] = np.nan_to_num(values)[index]
        out[name] = column
    return out


def own_and_content(
    f: Arrays, own_score: np.ndarray, keys: KeyWindow | None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The account's own features, and with the linking window's `keys` its content
    cohorts (scoring/content.py): what a tick needs that no link or cluster enters, so
    the replay computes it while the tick links (detect/replay.py)."""
    own = own_features(f, own_score)
    if keys is None:
        return own, {}
    new = (own["log_age_days"] < np.log1p(30)).astype(float)
    return own, content_features(f, keys, own["pct_harvest"], new)


def tick_features(
    f: Arrays,
    own_content: tuple[dict[str, np.ndarray], dict[str, np.ndarray]],
    *,
    frame: ClusterFrame,
    cluster_score: np.ndarray,
    edges: Links,
) -> dict[str, np.ndarray]:
    """Every feature of every account row `f` holds at one tick (one row per account), from
    `own_and_content(f, ...)` and the tick's links and clusters (`frame`, built from the
    same rows: its of_row is each row's group)."""
    own, content = own_content
    return {
        **own,
        **key_sharers(f["account_id"], edges),
        **cluster_features(f, frame.of_row, frame.arrays, cluster_score, own),
        **content,
    }
