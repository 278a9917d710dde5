"""What a linking tick decides, and what the replay keeps of it between ticks.

With the combiner deciding, a tick's flags and reviews come from its probability, its
linked groups' followers from scoring/followers.py, and its flagged clusters from the
flagged members; with the rules deciding, from the cluster score and what each member
shares. The replay (detect/replay.py) links each tick and hands it here.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from distillguard.detect.boost import BOOST_STRENGTH, boost_facts, stands_in, with_boost
from distillguard.detect.config import DetectConfig
from distillguard.linking.graph import Links
from distillguard.linking.keys import STRONG_KINDS
from distillguard.scoring.cluster import RULES as CLUSTER_RULES
from distillguard.scoring.cluster import ClusterFrame, declared_members
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


# Features an explanation quotes from the tick where the combiner peaked.
FACTS = (
    "pct_volume",
    "pct_harvest",
    "rich_share",
    "card_sharers",
    "signup_ip_sharers",
    "signup_burst_sharers",
    "cluster_log_size",
    "cluster_pct_volume",
    "cluster_harvest",
    "cluster_sync",
)


# Counts the combiner reads on a log2 scale (of the key's holders, itself included, or of
# its group's size), quoted in accounts under names of their own: an analyst read
# `card_sharers = 2.322` as a fraction of an account where four others shared the card,
# and a run from before the change keeps its old names, so old and new never mix.
OTHERS_HOLDING = {
    "card_sharers": "other_accounts_on_its_card",
    "signup_ip_sharers": "other_accounts_from_its_signup_address",
    "signup_burst_sharers": "other_accounts_in_its_signup_burst",
}


def readable_facts(features: dict[str, float]) -> dict[str, float]:
    """The quoted features as an explanation gives them: log2 counts turned back into
    whole accounts before any rounding (rounded logs lost an account past 1,474), the
    rest to three decimals."""
    readable: dict[str, float] = {}
    for name, value in features.items():
        if name in OTHERS_HOLDING:
            readable[OTHERS_HOLDING[name]] = round(2.0**value) - 1
        elif name == "cluster_log_size":
            readable["cluster_accounts"] = round(2.0**value)  # 1: linked to none
        else:
            readable[name] = round(value, 3)
    if readable.get("cluster_accounts") == 1:  # no group: its "sync 0.0" measured nothing
        readable = {k: v for k, v in readable.items() if not k.startswith("cluster_")}
        readable["cluster_accounts"] = 1
    return readable


@dataclass(frozen=True)
class TickFacts:
    """The FACTS columns and the combiner's own estimate of the accounts whose probability
    rose to a new peak at one linking tick, kept as columns: building each peak's dict as
    it happened cost more than the rest of the tick's decisions."""

    columns: dict[str, np.ndarray]
    own: np.ndarray
    arrays: dict[str, np.ndarray]  # the outside evidence's strength, when a boost is on

    def at(self, row: int) -> dict[str, float]:
        facts = readable_facts({k: float(v[row]) for k, v in self.columns.items()})
        facts.update(boost_facts(self.own, self.arrays, row))
        return facts


@dataclass(frozen=True)
class SharedInfrastructure:
    """Who in the window shares sign-up infrastructure with another account. Members of a
    declared organisation sharing its card are a company, not a fleet."""

    card: set[str]
    any_key: set[str]

    @classmethod
    def of(cls, edges: Links, arrays: dict[str, np.ndarray]) -> SharedInfrastructure:
        declared = declared_members(arrays["account_id"], arrays["org_id"])
        card = edges.sharing("card", 2, declared)
        others = {
            a
            for kind in STRONG_KINDS
            if kind != "card"
            for a in edges.sharing(kind, 2, frozenset())
        }
        return cls(card, card | others)


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
    k = config.combiner_flag_ticks
    for i in sustained_rose(state, ids, p, k, outside):
        score = state.learned_score[ids[i]]
        if score >= config.combiner_review:
            state.account_review.setdefault(ids[i], tick)
        if score >= config.lone_line:
            state.account_flag.setdefault(ids[i], tick)
        elif score >= config.combiner_flag:
            state.lone_over.add(ids[i])
    in_group = np.where(linked | outside, p, -1.0)
    for i in sustained_rose(state, ids, in_group, k, outside, linked=True):
        if state.linked_score[ids[i]] >= config.combiner_flag:
            state.account_flag.setdefault(ids[i], tick)
    facts = TickFacts(
        {k: features[k][rose] for k in FACTS},
        own[rose],
        {k: arrays[k][rose] for k in (BOOST_STRENGTH,) if k in arrays},
    )
    for j, i in enumerate(rose.tolist()):
        state.learned_at[ids[i]] = (facts, j)
    return p


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


def rule_clusters(
    state: ReplayState,
    tick: np.datetime64,
    arrays: dict[str, np.ndarray],
    *,
    edges: Links,
    frame: ClusterFrame,
    scored: Scored,
    config: DetectConfig,
) -> None:
    """With the rules deciding: flagged clusters, and the members flagged with them."""
    shared = SharedInfrastructure.of(edges, arrays)
    own = dict(zip(arrays["account_id"].tolist(), arrays["member_score"].tolist(), strict=True))
    for j in np.flatnonzero(
        (scored.score >= config.cluster_threshold)
        & (frame.arrays["size"] >= config.cluster_min_accounts)
    ):
        # A member is flagged on a shared card alone (the fleet's replacement accounts are
        # caught on their first tick), on shared sign-up infrastructure plus some evidence of
        # its own (VPN exits and carrier NAT put strangers on one address), or on enough
        # evidence of its own.
        members = [
            a
            for a in frame.members[j].tolist()
            if a in shared.card
            or (a in shared.any_key and own.get(a, 0.0) >= config.member_floor)
            or own.get(a, 0.0) >= 2 * config.member_floor
        ]
        if len(members) < config.cluster_min_accounts:
            continue
        state.flagged_clusters.append(
            ClusterRecord(
                tick,
                members,
                float(scored.score[j]),
                scored.evidence(CLUSTER_RULES, frame.arrays, int(j)),
            )
        )
        for a in members:
            state.cluster_score[a] = max(state.cluster_score.get(a, 0.0), float(scored.score[j]))
            state.cluster_flag.setdefault(a, tick)
