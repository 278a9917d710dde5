"""The moving window of key holdings: running counts, so a tick costs its new hours only.

For every (account, key) pair the window counts the hours it was seen in; a key's degree is
the number of accounts holding it in the window, an account is active while it holds any
traffic key. Adding an hour and expiring one touch only those hours' pairs. The weighted
keys a linking tick needs are then read off the counts (see `weighted`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from distillguard.errors import ConfigError
from distillguard.linking.codes import HourSlice, KeyCodes
from distillguard.linking.keys import KIND_CODE, KINDS, STRONG_KINDS

KEY_WEIGHTS = {
    "card": 1.0,
    "signup_ip": 1.0,
    "signup_burst": 0.8,
    "prompt_start": 0.35,
    "prompt_end": 0.35,
    "prompt_near": 0.3,
    "coactive": 0.4,
    "system": 0.35,
    "network": 0.3,
    "asn": 0.1,
}
# Weak keys link only when rare: a prompt skeleton used by dozens of accounts is a popular
# prompt, not a shared operator.
WEAK_MAX_DEGREE = {
    "prompt_start": 12,
    "prompt_end": 12,
    "prompt_near": 12,
    "coactive": 12,
    "system": 12,
    "network": 30,
    "asn": 30,
}
_WEIGHT = np.array([KEY_WEIGHTS[k] for k in KINDS])
_STRONG = np.isin(np.arange(len(KINDS)), [KIND_CODE[k] for k in STRONG_KINDS])


@dataclass(frozen=True)
class WeightedKeys:
    """The (account, key) holdings that link in a window, with each one's weight
    kind_weight / log2(1 + degree); codes as in KeyCodes."""

    account: np.ndarray
    key: np.ndarray
    strong: np.ndarray
    degree: np.ndarray
    weight: np.ndarray


class KeyWindow:
    """Running pair counts over the hours added and not yet expired."""

    def __init__(self, codes: KeyCodes) -> None:
        self.codes = codes
        self.counts = np.zeros(len(codes.pair_account), np.int32)
        self.degree = np.zeros(len(codes.key_kind), np.int32)
        self.held = np.zeros(len(codes.accounts), np.int32)  # traffic keys held, per account
        self._hours: deque[HourSlice] = deque()
        self._caps_by_max: dict[int, np.ndarray] = {}

    def update_one(self, hour: HourSlice) -> None:
        """Add one hour; hours must come in time order."""
        self.update_many([hour])

    def update_many(self, hours: Iterable[HourSlice]) -> None:
        """Add several hours at once; the same state as adding them one by one."""
        added = list(hours)
        times = [self._hours[-1].hour] if self._hours else []
        times += [h.hour for h in added]
        if any(later <= earlier for earlier, later in pairwise(times)):
            raise ConfigError("hours must be added in time order")  # before any change
        self._hours.extend(added)
        if added:
            self._apply(np.concatenate([h.pairs for h in added]), +1)

    def advance(self, start: np.datetime64, end: np.datetime64) -> None:
        """Move the window to [start, end): add the hours since the last one, expire the
        hours before start."""
        begin = self._hours[-1].hour + np.timedelta64(1, "h") if self._hours else start
        self.update_many(self.codes.slices(max(begin, start), end))
        self.expire_before(start)

    def expire_before(self, start: np.datetime64) -> None:
        """Drop the hours before `start`: the window is now [start, ...)."""
        gone = []
        while self._hours and self._hours[0].hour < start:
            gone.append(self._hours.popleft().pairs)
        if gone:
            self._apply(np.concatenate(gone), -1)

    def _apply(self, pairs: np.ndarray, sign: int) -> None:
        # Only the pairs these hours touch are visited (a pair seen in several hours counts
        # each time): the cost follows the hours added, not every pair the run's codes hold.
        touched, times = np.unique(pairs, return_counts=True)
        before = self.counts[touched] > 0
        self.counts[touched] += sign * times.astype(np.int32)
        changed = touched[before != (self.counts[touched] > 0)]
        step = np.where(self.counts[changed] > 0, 1, -1).astype(np.int32)
        np.add.at(self.degree, self.codes.pair_key[changed], step)
        np.add.at(self.held, self.codes.pair_account[changed], step)

    def weighted(self, max_degree: int) -> WeightedKeys:
        """Holdings of keys 2 to the kind's degree cap accounts hold, with their weights.
        Sign-up keys count for the accounts active in the window."""
        codes = self.codes
        active = self.held[codes.strong_account] > 0
        degree = self.degree + np.bincount(
            codes.strong_key[active], minlength=len(codes.key_kind)
        ).astype(np.int32)
        linking = (degree >= 2) & (degree <= self._caps(max_degree))
        live = np.flatnonzero(self.counts > 0)  # the window's pairs, a few of the run's
        held = live[linking[codes.pair_key[live]]]
        signed = np.flatnonzero(active & linking[codes.strong_key])
        account = np.concatenate([codes.pair_account[held], codes.strong_account[signed]])
        key = np.concatenate([codes.pair_key[held], codes.strong_key[signed]])
        kind = codes.key_kind[key]
        return WeightedKeys(
            account=account,
            key=key,
            strong=_STRONG[kind],
            degree=degree[key],
            weight=_WEIGHT[kind] / np.log2(1.0 + degree[key]),
        )

    def _caps(self, max_degree: int) -> np.ndarray:
        """Each key's degree cap, built once per cap: the keys are fixed for the window."""
        if max_degree not in self._caps_by_max:
            caps = np.array([WEAK_MAX_DEGREE.get(k, max_degree) for k in KINDS], np.int32)
            self._caps_by_max[max_degree] = caps[self.codes.key_kind]
        return self._caps_by_max[max_degree]

    def state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pair counts, key degrees, keys held per account), copied."""
        return self.counts.copy(), self.degree.copy(), self.held.copy()
