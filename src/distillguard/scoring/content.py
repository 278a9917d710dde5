"""Content cohorts: what an account's prompts look like next to everyone else's in the window.

A distillation campaign pays for volume and coverage. Spread over many quiet accounts, each
sends little, but together they sweep one source: many distinct prompts, almost none sent
twice, all drawn from one content distribution. Hiding that costs the attacker what it came
for (it would have to repeat itself or ask what it does not need), so it is evidence that
survives the per-account disguise.

From the linking window's key holdings (linking.window.KeyWindow: per account, the prompt
template starts and ends and the near-duplicate MinHash bands it used, and in how many
hours) this module computes, per account active at a tick:
- sweep coverage: distinct content keys per exchange (as a rank), the share of its keys it
  used in more than one hour (repeats), the share no other account holds;
- a content sketch: MinHash over the account's set of content keys, banded for LSH, so
  accounts whose prompts come from one distribution land in one bucket without comparing
  every pair; and what each account's bucket-mates show together (how many, their pooled
  volume as a rank, their harvest rank, rich outputs, new accounts, synchronised hours);
- how widely its network and client fingerprints are shared (how many accounts hold its
  /24, its ASN and its system prompt, as a rank).

Everything is a rank, a share or a count of accounts; no labels, ids or simulator fields.
"""

from __future__ import annotations

import numpy as np

from distillguard.compiled import kernel
from distillguard.errors import ConfigError
from distillguard.linking.window import KeyWindow
from distillguard.scoring.evidence import Arrays
from distillguard.scoring.ranks import percentile
from distillguard.signals.capabilities import CAPABILITIES
from distillguard.signals.sketch import hash_permutations

CONTENT_KINDS = ("prompt_start", "prompt_end", "prompt_near")
FINGERPRINT_KINDS = ("network", "asn", "system")
BANDS = 6
ROWS = 2  # a band is two 32-bit minima: one 64-bit bucket key (band_buckets)
POPULAR = 0.05
MIN_KEYS = 3  # an account with fewer content keys has no sketch: too little to compare
_SEED = 20261129  # fixed, so sketches compare across runs and machines
_EMPTY = np.iinfo(np.uint32).max
HOD = [f"hod_{k}" for k in range(24)]
PROFILE_COUNTS = (
    "n_thinking",
    "n_rich",
    "n_elicit",
    "n_cot",
    "n_trace",
    "n_rewrite",
    "n_grading",
    "n_single_turn",
    "n_tool_loop",
    *(f"cap_{c}" for c in CAPABILITIES),
)
KIN_BANDS = 6
TWIN_VALUES = ("pct_volume", "pct_harvest", "rich_share", "thinking_share", "new_share")
KIN_BUCKET = 8  # accounts a profile bucket holds on average
KIN_MAX_BITS = 16


_A, _B = hash_permutations(_SEED, BANDS * ROWS, high=2**62)
_PLANES = np.random.default_rng(_SEED + 1).normal(
    size=(len(PROFILE_COUNTS) + 6, KIN_BANDS, KIN_MAX_BITS)
)


Held = dict[str, np.ndarray]  # one group's holdings: row, key, hours, degree (and value)


def holdings(keys: KeyWindow, accounts: np.ndarray) -> dict[str, Held]:
    """The window's live holdings of `accounts` (rows in their order), per group: "content"
    (the prompt kinds, with each key's value to hash) and each fingerprint kind by name;
    per holding its account row, key code, hours held and key degree. Holdings of other
    kinds or of accounts not in `accounts` are left out."""
    codes = keys.codes
    if len(codes.key_value) != len(codes.key_kind):
        raise ConfigError("the linking window's key codes carry no key values to hash")
    position = {a: i for i, a in enumerate(accounts.tolist())}
    row_of = np.array([position.get(a, -1) for a in codes.accounts.tolist()], dtype=np.int64)
    live = keys.counts > 0
    groups = {"content": CONTENT_KINDS, **{kind: (kind,) for kind in FINGERPRINT_KINDS}}
    out = {}
    for group, kinds in groups.items():
        # Each group picks its pairs straight from the window: slicing one table of all
        # the kinds and then each group from it copied every column twice.
        pairs = np.flatnonzero(live & codes.kind_mask(kinds))
        rows = row_of[codes.pair_account[pairs]] if len(row_of) else np.zeros(0, np.int64)
        mine = rows >= 0
        pairs, rows = pairs[mine], rows[mine]
        key = codes.pair_key[pairs]
        out[group] = {
            "row": rows,
            "key": key,
            "hours": keys.counts[pairs].astype(np.int64),
            "degree": keys.degree[key].astype(np.int64),
        }
    out["content"]["value"] = codes.key_value[out["content"]["key"]]
    return out


def sweep_features(content: Held, n: np.ndarray) -> dict[str, np.ndarray]:
    """Coverage of each account's content keys: distinct keys per exchange (rank), repeats
    (keys used in more than one hour) and keys no other account holds, as shares."""
    rows = len(n)
    distinct = np.bincount(content["row"], minlength=rows).astype(float)
    repeated = np.bincount(content["row"], weights=content["hours"] > 1, minlength=rows)
    alone = np.bincount(content["row"], weights=content["degree"] <= 1, minlength=rows)
    some = np.maximum(distinct, 1.0)
    return {
        "pct_content_per_exchange": percentile(distinct / np.maximum(n, 1.0)),
        "content_repeat_share": repeated / some,
        "content_alone_share": alone / some,
    }


def signatures(content: Held, rows: int) -> np.ndarray:
    """(rows, BANDS*ROWS) MinHash signatures of each account's shared content keys: held by
    at least one other account and by at most a POPULAR share of the window's accounts (a
    key only it holds cannot make it anyone's twin; one nearly everyone holds says nothing
    of where its prompts come from). Accounts with fewer than MIN_KEYS are all _EMPTY."""
    cap = max(12.0, POPULAR * rows)
    shared = (content["degree"] >= 2) & (content["degree"] <= cap)
    row = content["row"][shared]
    if len(row) and not 0 <= row.min() <= row.max() < rows:  # the kernel writes out[row]
        raise ConfigError(f"content holdings name rows outside 0..{rows - 1}")
    out = np.full((rows, BANDS * ROWS), _EMPTY, dtype=np.uint32)
    # The key's value, not its dense code: codes depend on which keys the replay's run
    # holds (future hours included), values do not.
    _min_hashes(row, content["value"][shared].astype(np.uint64), _A, _B, out)
    out[np.bincount(row, minlength=rows) < MIN_KEYS] = _EMPTY
    return out


@kernel
def _min_hashes(
    row: np.ndarray, key: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray
) -> None:
    """out[row[i], j] = min(out[row[i], j], high 32 bits of key[i] * a[j] + b[j]), over
    all i, in one pass (uint64 arithmetic wraps as NumPy's does). Compiled: twelve NumPy
    passes over a tick's million holdings, each hashing then reducing, cost four times as
    much."""
    for i in range(len(row)):
        for j in range(len(a)):
            hashed = np.uint32((key[i] * a[j] + b[j]) >> np.uint64(32))
            out[row[i], j] = min(out[row[i], j], hashed)


def band_buckets(sig: np.ndarray) -> np.ndarray:
    """(rows, BANDS) bucket ids, dense per band; -1 where the account has no sketch."""
    out = np.full((len(sig), BANDS), -1, dtype=np.int64)
    usable = sig[:, 0] != _EMPTY
    for band in range(BANDS):
        part = sig[usable, band * ROWS : (band + 1) * ROWS]
        if len(part):
            joined = part[:, 0].astype(np.uint64) << np.uint64(32) | part[:, 1].astype(np.uint64)
            _, inverse = np.unique(joined, return_inverse=True)
            out[usable, band] = inverse.reshape(-1)
    return out


def twin_features(
    f: Arrays, buckets: np.ndarray, values: dict[str, np.ndarray], prefix: str
) -> dict[str, np.ndarray]:
    """What each account's bucket-mates (other accounts sharing a band's bucket) show,
    averaged over the bands: how many (log2), their pooled volume as a rank among single
    accounts, the mean of each of `values` over the mates, and how closely their pooled
    hours follow the account's. Zeros for an account alone in every bucket."""
    rows = len(buckets)
    n = f["n"].astype(float)
    hod = np.stack([f[h].astype(float) for h in HOD], axis=1)
    # One table of what a group sums: volume, each value, then the 24 hours.
    summed = np.column_stack([n, *values.values(), hod])
    first_hour = 1 + len(values)
    sorted_n = np.sort(n)
    hod_norm = _norms(hod)  # each row's own, the same in every band
    count, pooled, sync = np.zeros(rows), np.zeros(rows), np.zeros(rows)
    means = np.zeros((rows, len(values)))  # the mates' mean of each value, summed over bands
    for band in range(buckets.shape[1]):
        has = np.flatnonzero(buckets[:, band] >= 0)
        if len(has) == 0:
            continue
        idx = buckets[has, band]
        others = np.bincount(idx).astype(float)[idx] - 1.0
        mated = others > 0
        who, mates, group_of = has[mated], others[mated], idx[mated]
        count[who] += mates
        group = _group_sums(idx, summed[has])
        # A group's rank once, not once per member: the same numbers.
        pooled[has] += (np.searchsorted(sorted_n, group[:, 0]) / max(rows, 1))[idx]
        theirs = group[group_of] - summed[who]  # what the mates hold without the account
        means[who] += theirs[:, 1:first_hour] / mates[:, None]
        sync[who] += _cosine(hod[who], theirs[:, first_hour:], hod_norm[who])
    k = float(max(buckets.shape[1], 1))
    out = {
        f"{prefix}_log_count": np.log2(1.0 + count / k),
        f"{prefix}_pct_pooled_volume": pooled / k,
        f"{prefix}_sync": sync / k,
    }
    out.update({f"{prefix}_{name}": means[:, j] / k for j, name in enumerate(values)})
    return out


def _group_sums(group: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(groups, columns): each column of `weights` summed per group, in one bincount over
    (group, column) cells. Each cell adds its rows in row order, as a bincount per column
    would, so the sums are the same to the bit, for a thirtieth of the calls."""
    columns = weights.shape[1]
    cells = (group[:, None] * columns + np.arange(columns)).ravel()
    size = (int(group.max()) + 1) * columns
    return np.bincount(cells, weights=weights.ravel(), minlength=size).reshape(-1, columns)


def _norms(a: np.ndarray) -> np.ndarray:
    """Each row's l2 norm, as np.linalg.norm(a, axis=1) gives it (the same sum of squares
    in the same order), without its copies."""
    return np.asarray(np.sqrt(np.add.reduce(a * a, axis=1)), dtype=float)


def _cosine(a: np.ndarray, b: np.ndarray, a_norm: np.ndarray) -> np.ndarray:
    """Row-wise cosine of a and b, given a's row norms."""
    norms = a_norm * _norms(b)
    return np.asarray((a * b).sum(axis=1) / np.maximum(norms, 1e-9), dtype=float)


def profile_vectors(f: Arrays) -> np.ndarray:
    """Each account's mix (capabilities, elicitation, rich and thinking outputs, single
    turns, tool loops, hours of the day in 4-hour bins) as shares of its exchanges, each
    standardised over the window's accounts: where it sits against everyone seen now."""
    n = np.maximum(f["n"].astype(float), 1.0)
    shares = [f[c] / n for c in PROFILE_COUNTS]
    hod = np.stack([f[h].astype(float) for h in HOD], axis=1)
    shares += list((hod.reshape(len(n), 6, 4).sum(axis=2) / n[:, None]).T)
    x = np.stack(shares, axis=1)
    spread = x.std(axis=0)
    return np.asarray((x - x.mean(axis=0)) / np.where(spread > 0, spread, 1.0), dtype=float)


def profile_buckets(f: Arrays) -> np.ndarray:
    """(rows, KIN_BANDS) SimHash buckets of the profile vectors: each band cuts the space
    with its own random hyperplanes, as many as put about KIN_BUCKET accounts in a bucket,
    so the buckets hold accounts of one mix whatever the window's size."""
    x = profile_vectors(f)
    rows = len(x)
    bits = int(np.clip(np.round(np.log2(max(rows, 1) / KIN_BUCKET)), 1, KIN_MAX_BITS))
    out = np.zeros((rows, KIN_BANDS), dtype=np.int64)
    weights = (1 << np.arange(bits)).astype(np.int64)
    for band in range(KIN_BANDS):
        side = x @ _PLANES[: x.shape[1], band, :bits] > 0
        out[:, band] = side.astype(np.int64) @ weights
    return out


def fingerprint_features(held: dict[str, Held], rows: int) -> dict[str, np.ndarray]:
    """How widely each account's most shared /24, ASN and system prompt are held, as a rank
    among the window's accounts (a popular agent's prompt ranks high in any window, however
    many accounts the provider has)."""
    out = {}
    for kind in FINGERPRINT_KINDS:
        mine = held[kind]
        widest = np.zeros(rows)
        np.maximum.at(widest, mine["row"], mine["degree"].astype(float))
        out[f"pct_{kind}_sharers"] = percentile(widest)
    return out


def feature_names() -> tuple[str, ...]:
    """The names content_features returns, in its order."""
    sweep = ("pct_content_per_exchange", "content_repeat_share", "content_alone_share")
    mates = ("log_count", "pct_pooled_volume", "sync", *TWIN_VALUES)
    twins = tuple(f"{prefix}_{m}" for prefix in ("twin", "kin") for m in mates)
    return (*sweep, *twins, *(f"pct_{kind}_sharers" for kind in FINGERPRINT_KINDS))


def needed(features: tuple[str, ...]) -> bool:
    """Whether a model reading `features` reads any content feature (the replay computes
    them only then, or when every feature is observed for training)."""
    return bool(set(features) & set(feature_names()))


def content_features(
    f: Arrays, keys: KeyWindow, pct_harvest: np.ndarray, new: np.ndarray
) -> dict[str, np.ndarray]:
    """Every content-cohort feature of the accounts of `f` (one row each) at this tick."""
    accounts = f["account_id"]
    held = holdings(keys, accounts)
    rows = len(accounts)
    n = np.maximum(f["n"].astype(float), 1.0)
    values = {
        "pct_volume": percentile(n),
        "pct_harvest": pct_harvest,
        "rich_share": np.asarray(f["rich_share"], dtype=float),
        "thinking_share": f["n_thinking"] / n,
        "new_share": new,
    }  # the order of TWIN_VALUES
    return {
        **sweep_features(held["content"], f["n"].astype(float)),
        **twin_features(f, band_buckets(signatures(held["content"], rows)), values, "twin"),
        **twin_features(f, profile_buckets(f), values, "kin"),
        **fingerprint_features(held, rows),
    }
