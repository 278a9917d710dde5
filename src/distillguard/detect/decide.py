"""What a linking tick decides with the combiner, and what the replay keeps between ticks.

A tick's flags and reviews come from the combiner's probability, its linked groups'
followers from scoring/followers.py, and its flagged clusters from the flagged members
(with the rules deciding instead: detect/rule_clusters.py). The replay
(detect/replay.py) links each tick and hands it here.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from distillguard.detect.boost import stands_in, with_boost
from distillguard.detect.config import DetectConfig
from distillguard.detect.tick_facts import TickFacts
from distillguard.scoring.cluster import RULES as CLUSTER_RULES
from distillguard.scoring.cluster import ClusterFrame
from distillguard.scoring.combiner import Combiner
from distillguard.scoring.evidence import Evidence, Scored
from distillguard.scoring.followers import followers


@dataclass
class ClusterRecord:
    """A flagged cluster at one tick."""

    tick: np.datetime64
    members: list[str]
    score: float
    evidence: list[Evidence]


@dataclass
class ReplayState:
    """What the replay holds between ticks and runs: when each account was first flagged
    (on its own or with a cluster) and listed for review, the flagged clusters, and with
    the combiner deciding each account's score, its highest tick probabilities and the
    tick where it peaked."""

    account_flag: dict[str, np.datetime64] = field(default_factory=dict)
    account_review: dict[str, np.datetime64] = field(default_factory=dict)
    cluster_flag: dict[str, np.datetime64] = field(default_factory=dict)
    cluster_score: dict[str, float] = field(default_factory=dict)
    flagged_clusters: list[ClusterRecord] = field(default_factory=list)
    ticks: int = 0
    # decide_by="combiner": each account's score, the k-th highest of its tick
    # probabilities (k = combiner_flag_ticks; 0 before its k-th tick; with k = 1 its peak),
    # and its k highest, highest first
    learned_score: dict[str, float] = field(default_factory=dict)
    learned_top: dict[str, list[float]] = field(default_factory=dict)
    # ... the same over the ticks where the account sat in a linked group (or matched a
    # peer's indicators strongly): what its own flag reads at combiner_flag (its score
    # reads combiner_flag_lone)
    linked_score: dict[str, float] = field(default_factory=dict)
    linked_top: dict[str, list[float]] = field(default_factory=dict)
    # accounts whose score reached combiner_flag while their ticks in a linked group had
    # not: listed, not flagged (unless later), and their explanations say why
    lone_over: set[str] = field(default_factory=set)
    # ... and the tick and row it peaked at, whose features explain it (read only for the
    # accounts reported)
    learned_at: dict[str, tuple[TickFacts, int]] = field(default_factory=dict)

    def peak_of(self, account: str) -> float:
        """An account's highest tick probability (its score when k = 1)."""
        return self.learned_top[account][0]

    @property
    def learned_peak(self) -> dict[str, float]:
        """Every account's highest tick probability."""
        return {a: top[0] for a, top in self.learned_top.items()}

    def facts_of(self, account: str) -> dict[str, float]:
        """The features an account's combiner explanation quotes, from its peak tick."""
        tick, row = self.learned_at[account]
        return tick.at(row)

    @property
    def learned_facts(self) -> dict[str, dict[str, float]]:
        """Every account's quoted features (for comparing two replays whole)."""
        return {a: self.facts_of(a) for a in self.learned_at}


@dataclass(frozen=True)
class CombinerTick:
    """One linking tick's inputs to the decisions of the combiner that decides."""

    tick: np.datetime64
    arrays: dict[str, np.ndarray]
    features: dict[str, np.ndarray]
    frame: ClusterFrame
    scored: Scored
    combiner: Combiner

    def decide(self, state: ReplayState, config: DetectConfig) -> None:
        """Flags, reviews, followers and flagged clusters of this tick, into `state`."""
        ids, groups = self.arrays["account_id"], self.frame.of_row
        p = learned_tick(
            state,
            self.tick,
            arrays=self.arrays,
            features=self.features,
            linked=groups >= 0,
            combiner=self.combiner,
            config=config,
        )
        follow = followers_at(state, ids, groups, p, config)
        learned_clusters(state, self.tick, self.frame, self.scored, follow=follow, config=config)


def learned_tick(
    state: ReplayState,
    tick: np.datetime64,
    *,
    arrays: dict[str, np.ndarray],
    features: dict[str, np.ndarray],
    linked: np.ndarray,
    combiner: Combiner,
    config: DetectConfig,
) -> np.ndarray:
    """Flags and reviews from the combiner's probability at this tick, which it returns:
    an account is listed for review at the tick its score, the k-th highest of its tick
    probabilities so far, reaches combiner_review, and flagged at the tick the k-th
    highest of its probabilities at ticks where it sat in a linked group (`linked`)
    reaches combiner_flag, or its score reaches the lone line (config.lone_line): a campaign
    needs many accounts, and a lone account that looks like a harvester is as often a heavy
    customer, so it needs more before anything acts on it. Each account keeps its peak
    and the features it peaked with. Outside evidence (a boost: a peer's indicators) joins
    the probability before the thresholds, and a strong match (at least
    STAND_IN_STRENGTH) stands in for the ticks and for a linked group: a peer saw the
    account's tooling or network harvest already."""
    own = combiner.score(features)
    p = with_boost(own, arrays)
    ids = arrays["account_id"].tolist()  # one row per account at a tick
    top = state.learned_top
    peak = np.fromiter((top[a][0] if a in top else -1.0 for a in ids), float, len(ids))
    rose = np.flatnonzero(p > peak)  # read before this tick joins the top lists
    outside = stands_in(arrays, len(ids))
    _own_lines(state, tick, ids, p, outside=outside, config=config)
    in_group = np.where(linked | outside, p, -1.0)
    _linked_line(state, tick, ids, in_group, outside=outside, config=config)
    _keep_peaks(state, ids, rose, TickFacts.of(features, own, arrays, rose))
    return p


def _own_lines(
    state: ReplayState,
    tick: np.datetime64,
    ids: list[str],
    p: np.ndarray,
    *,
    outside: np.ndarray,
    config: DetectConfig,
) -> None:
    """Reviews at combiner_review and flags at the lone line, by the account's score over
    every tick; a score between combiner_flag and the lone line is noted (lone_over)."""
    for i in sustained_rose(state, ids, p, config.combiner_flag_ticks, outside):
        score = state.learned_score[ids[i]]
        if score >= config.combiner_review:
            state.account_review.setdefault(ids[i], tick)
        if score >= config.lone_line:
            state.account_flag.setdefault(ids[i], tick)
        elif score >= config.combiner_flag:
            state.lone_over.add(ids[i])


def _linked_line(
    state: ReplayState,
    tick: np.datetime64,
    ids: list[str],
    in_group: np.ndarray,
    *,
    outside: np.ndarray,
    config: DetectConfig,
) -> None:
    """Flags at combiner_flag, by the score over the ticks in a linked group (`in_group`:
    the probability there, -1 elsewhere)."""
    k = config.combiner_flag_ticks
    for i in sustained_rose(state, ids, in_group, k, outside, linked=True):
        if state.linked_score[ids[i]] >= config.combiner_flag:
            state.account_flag.setdefault(ids[i], tick)


def _keep_peaks(state: ReplayState, ids: list[str], rose: np.ndarray, facts: TickFacts) -> None:
    """The tick and row each account of `rose` peaked at, whose features explain it."""
    for j, i in enumerate(rose.tolist()):
        state.learned_at[ids[i]] = (facts, j)


def sustained_rose(
    state: ReplayState,
    ids: list[str],
    p: np.ndarray,
    k: int,
    outside: np.ndarray,
    *,
    linked: bool = False,
) -> list[int]:
    """The rows whose account's k highest tick probabilities change with this tick's `p`,
    after updating them and its score (the k-th, 0 while it has fewer): a flag or review
    can only start at such a row. A campaign's account stays high while it harvests; a
    benign account's one odd window is one tick (README, "Robustness"). A row with
    outside evidence (`outside`) counts as k ticks. `linked`: the lists and scores of the
    ticks in a linked group (`p` is -1 at the others)."""
    scores = state.linked_score if linked else state.learned_score
    tops = state.linked_top if linked else state.learned_top
    score = np.fromiter((scores.get(a, -1.0) for a in ids), float, len(ids))
    changed = np.flatnonzero(p > score).tolist()
    for i in changed:
        top = tops.setdefault(ids[i], [])
        for _ in range(k if outside[i] else 1):
            bisect.insort(top, float(p[i]), key=lambda x: -x)
        del top[k:]
        scores[ids[i]] = top[-1] if len(top) == k else 0.0
    return changed


def followers_at(
    state: ReplayState,
    ids: np.ndarray,
    clusters: np.ndarray,
    probability: np.ndarray,
    config: DetectConfig,
) -> dict[int, list[str]]:
    """Per linked group, the members that follow it into a flag at this tick (see
    scoring/followers.py); only accounts flagged on their own count towards a group."""
    flagged = np.fromiter((a in state.account_flag for a in ids.tolist()), bool, len(ids))
    out: dict[int, list[str]] = {}
    for i in np.flatnonzero(followers(clusters, flagged, probability, config.follow_rule)):
        out.setdefault(int(clusters[i]), []).append(str(ids[i]))
    return out


def learned_clusters(
    state: ReplayState,
    tick: np.datetime64,
    frame: ClusterFrame,
    scored: Scored,
    *,
    follow: dict[int, list[str]],
    config: DetectConfig,
) -> None:
    """A linked group with enough members flagged by the combiner is a flagged cluster,
    explained by its cluster evidence; its followers are flagged with it."""
    for j, members in enumerate(frame.members):
        flagged = [a for a in members.tolist() if a in state.account_flag]
        if len(flagged) < config.cluster_min_accounts:
            continue
        score = float(np.mean([state.learned_score[a] for a in flagged]))
        evidence = scored.evidence(CLUSTER_RULES, frame.arrays, j)
        state.flagged_clusters.append(
            ClusterRecord(tick, flagged + follow.get(j, []), score, evidence)
        )
        for a in follow.get(j, []):
            state.cluster_flag.setdefault(a, tick)
            state.cluster_score[a] = max(state.cluster_score.get(a, 0.0), score)
