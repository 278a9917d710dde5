"""One randomised world end to end, kept for every step of the benchmark.

A world is simulated (`--preset randomized` for its seed), ingested, its signals computed
and replayed as detect does with the hand-set rules deciding (`decide_by="rules"`), while
every linking tick's features (scoring/cohort.py) are kept. From what is kept:
- the rules' result per account (its score and flags: the detector before the combiner);
- the combiner's result per account for any model, offline: detect with
  decide_by="combiner" flags an account at the k-th tick its probability reaches the
  threshold (combiner_flag_ticks, 2 by default) and reports the k-th highest of its tick
  probabilities as the score, so that over the kept ticks is that score (tests check the
  two agree); an account flagged with its linked group first reports its highest in
  detect, and the benchmark raises it to the flag threshold (judging.scored): either
  way it is over the line;
- the training rows of the combiner.

The detector sees the exchanges and accounts tables only; labels are joined here,
afterwards, for scoring the benchmark and training the combiner.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from benchmarks.robustness.leakage import attack_traffic
from distillguard.detect.config import DetectConfig
from distillguard.detect.replay import replay
from distillguard.detect.results import AccountResult, build_results
from distillguard.detect.signals_stage import signals_to_parquet
from distillguard.engine.base import SignalSource
from distillguard.engine.duckdb_engine import DuckDBEngine
from distillguard.ingest import Lake, ingest
from distillguard.ingest.lake import connect, sql_path
from distillguard.scoring.combiner import Combiner
from distillguard.scoring.followers import FollowRule, followers
from distillguard.simulate import SIMULATOR_VERSION, simulate
from distillguard.simulate.config import load_preset

PRESET = "randomized"
# Campaigns as the reports describe them; every other campaign is an adaptive attacker.
REPORTED = frozenset({"reasoning", "agentic", "hydra"})


@dataclass(frozen=True)
class WorldSpec:
    seed: int
    scale: float = 1.0
    days: int | None = None
    corpus: Path | None = None  # prompt text from these corpora instead of the grammar
    simulator: int = SIMULATOR_VERSION  # which simulator draws the world (see simulate)
    # A stress test: every campaign's card groups declare an organisation with this chance
    # (the knob `org_declared`), so a model that trusts declarations shows it. None: as the
    # preset draws them.
    campaigns_declare: float | None = None


@dataclass(frozen=True)
class World:
    accounts: pa.Table  # seed, account_id, rule_score, rule_flagged, label, ..., group
    # One row per (linking tick, account): account_id, tick, cluster (its linked group at
    # the tick, -1: none) and every feature
    ticks: pa.Table
    # The attack accounts' exchanges per hour (account_id, hour, n), for leakage; None in
    # worlds cached before it was kept
    traffic: pa.Table | None = None

    def tick_probability(self, combiner: Combiner) -> np.ndarray:
        """The combiner's probability at every kept (tick, account) row: what both the
        scores and the flags below read, so a caller computes it once."""
        if not self.ticks.num_rows:
            return np.zeros(0)
        return combiner.score({n: self.ticks[n].to_numpy() for n in combiner.features})

    def combiner_flagged(
        self,
        p: np.ndarray,
        flag: float,
        rule: FollowRule,
        ticks_needed: int = 1,
        lone_line: float | None = None,
    ) -> np.ndarray:
        """Per account, whether detect flags it, from the tick probabilities `p`: on its own
        (its probability reaches `flag` at a tick; with `ticks_needed` > 1, at that many
        ticks, as detect with combiner_flag_ticks does) or as a
        follower of its linked group (scoring/followers.py), the ticks taken in order as
        the replay takes them. With a `lone_line`, ticks count at `flag` only where the
        account sits in a linked group, and at `lone_line` anywhere (detect's
        combiner_flag_lone)."""
        flagged = self.flag_times(p, flag, rule, ticks_needed, lone_line)
        return np.array([a in flagged for a in self.accounts["account_id"].to_pylist()])

    def flag_times(
        self,
        p: np.ndarray,
        line: float,
        rule: FollowRule | None,
        ticks_needed: int = 1,
        lone_line: float | None = None,
    ) -> dict[str, np.datetime64]:
        """The tick at which detect first acts on each account it acts on, as
        combiner_flagged decides it: its `ticks_needed`-th tick with `p` at or over `line`,
        or (with a follower `rule`) the tick it follows its linked group. With no rule, the
        ticks a review tier lists accounts at (detect's first_review_at). With a
        `lone_line`, its `ticks_needed`-th tick in a linked group at or over `line`, or its
        `ticks_needed`-th tick of any kind at or over `lone_line`."""
        if "cluster" not in self.ticks.column_names:
            raise SystemExit("a world cached before linked groups were kept: delete it, rerun")
        ids = self.ticks["account_id"].to_numpy(zero_copy_only=False).astype(str)
        clusters = self.ticks["cluster"].to_numpy()
        ticks = self.ticks["tick"].to_numpy()
        bounds = np.flatnonzero(np.r_[True, ticks[1:] != ticks[:-1], True])
        lone = line if lone_line is None else max(line, lone_line)  # never under `line`
        hits: dict[str, int] = {}
        anywhere: dict[str, int] = {}  # ticks of any kind over the lone line
        alone: set[str] = set()  # flagged on their own: only they count towards a group
        first: dict[str, np.datetime64] = {}
        for start, stop in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            at, tick = ids[start:stop], ticks[start]
            reached = p[start:stop] >= line
            over_lone = p[start:stop] >= lone
            if lone_line is not None:
                for account in at[over_lone].tolist():
                    anywhere[account] = anywhere.get(account, 0) + 1
                reached &= clusters[start:stop] >= 0
            for account in at[reached].tolist():
                hits[account] = hits.get(account, 0) + 1
            for account in at[reached | over_lone].tolist():
                if max(hits.get(account, 0), anywhere.get(account, 0)) >= ticks_needed:
                    alone.add(account)
                    first.setdefault(account, tick)
            if rule is not None:  # followers come after the tick's own flags, as in detect
                own = np.fromiter((a in alone for a in at.tolist()), bool, len(at))
                for account in at[followers(clusters[start:stop], own, p[start:stop], rule)]:
                    first.setdefault(str(account), tick)
        return first

    def combiner_scores(self, p: np.ndarray, k: int = 1) -> np.ndarray:
        """Per account, the k-th highest of its tick probabilities `p` (0 for an account
        seen at fewer than k ticks): detect's score with combiner_flag_ticks = k, its peak
        for k = 1."""
        ids = self.ticks["account_id"].to_numpy(zero_copy_only=False).astype(str)
        order = np.lexsort((-p, ids))
        ranked = ids[order]
        starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
        lengths = np.diff(np.r_[starts, len(ranked)])
        rank = np.arange(len(ranked)) - np.repeat(starts, lengths)
        chosen = rank == k - 1
        kth = dict(zip(ranked[chosen].tolist(), p[order][chosen].tolist(), strict=True))
        return np.array([kth.get(a, 0.0) for a in self.accounts["account_id"].to_pylist()])


@dataclass
class TickLog:
    """What a replay's observer is shown at every linking tick, as World.ticks keeps it."""

    seen: list[pa.Table] = field(default_factory=list)

    def observe(
        self,
        tick: np.datetime64,
        accounts: np.ndarray,
        f: dict[str, np.ndarray],
        groups: np.ndarray,
    ) -> None:
        at = np.full(len(accounts), tick)
        kept = {"account_id": accounts.astype(str), "tick": at, "cluster": groups, **f}
        self.seen.append(pa.table(kept))

    def table(self) -> pa.Table:
        return pa.concat_tables(self.seen)


def load_world(spec: WorldSpec, cache: Path, work: Path) -> World:
    """The world of `spec`, from `cache` (run and cached first if it is not there). A world
    is cached by seed, with the spec it was run with beside it: one cached under another
    spec (scale, days, prompt text) is refused, never judged in its place."""
    folder = cache / f"seed-{spec.seed}"
    if not (folder / "ticks.parquet").exists():
        world = run_world(spec, work)
        folder.mkdir(parents=True, exist_ok=True)
        # The spec first: a world is cached once its ticks are there, never without a spec.
        (folder / "spec.json").write_text(_spec_json(spec))
        pq.write_table(world.accounts, folder / "accounts.parquet")
        if world.traffic is not None:  # before the ticks, which mark a world as cached
            pq.write_table(world.traffic, folder / "traffic.parquet")
        pq.write_table(world.ticks, folder / "ticks.parquet")
    _check_spec(spec, folder)
    return _read_world(folder)


def cached_world(cache: Path, seed: int) -> World:
    """The world of `seed` as it was cached, whatever spec or simulator made it; refused
    where none is cached (running it again now could give another world)."""
    folder = cache / f"seed-{seed}"
    if not (folder / "ticks.parquet").exists():
        raise SystemExit(f"{folder} holds no cached world: it is never simulated again here")
    return _read_world(folder)


def _read_world(folder: Path) -> World:
    traffic = folder / "traffic.parquet"
    return World(
        pq.read_table(folder / "accounts.parquet"),
        pq.read_table(folder / "ticks.parquet"),
        pq.read_table(traffic) if traffic.exists() else None,
    )


def _spec_json(spec: WorldSpec) -> str:
    return json.dumps({**asdict(spec), "corpus": str(spec.corpus) if spec.corpus else None})


def _check_spec(spec: WorldSpec, folder: Path) -> None:
    """Worlds cached before specs were kept beside them were all drawn from the grammar, and
    before the simulator's version was kept, by its first version."""
    kept = _kept_spec(folder / "spec.json")
    if kept is None:
        same = spec.corpus is None and spec.simulator == 1
    else:
        same = {"simulator": 1, "campaigns_declare": None, **kept} == json.loads(_spec_json(spec))
    if not same:
        raise SystemExit(
            f"{folder} holds a world of another spec or simulator version: use another --out"
        )


def _kept_spec(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        kept = json.loads(path.read_text())
    except json.JSONDecodeError:
        kept = None
    if not isinstance(kept, dict):
        raise SystemExit(f"{path} is not a world's spec: delete its folder to run it again")
    return kept


def _preset(spec: WorldSpec, folder: Path) -> str:
    """The preset a world is drawn from: `randomized`, or for a stress test a copy whose
    campaigns declare organisations (randomisation keeps a preset's own declarations)."""
    if spec.campaigns_declare is None:
        return PRESET
    doc = load_preset(PRESET)
    for campaign in doc["campaigns"].values():
        campaign["org_declared"] = spec.campaigns_declare
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "preset.yaml").write_text(yaml.safe_dump(doc))
    return str(folder / "preset.yaml")


def run_world(spec: WorldSpec, work: Path) -> World:
    folder = work / f"world-{spec.seed}"
    shutil.rmtree(folder, ignore_errors=True)
    try:
        sim = simulate(
            _preset(spec, folder),
            folder / "traffic",
            scale=spec.scale,
            days=spec.days,
            seed=spec.seed,
            corpus=spec.corpus,
        )
        lake = Lake(folder / "lake")
        ingest([sim.files[0]], lake.root, [sim.files[1]])
        signals_to_parquet(lake, folder / "signals")
        con = connect(folder)
        source = SignalSource(DuckDBEngine(), folder / "signals")
        source.engine.attach(con, source.directory)
        con.execute(
            "CREATE TEMP TABLE accounts AS SELECT * FROM "
            f"read_parquet('{sql_path(lake.accounts_path)}')"
        )
        seen = TickLog()
        config = DetectConfig(decide_by="rules")
        result = replay(con, source, "accounts", config, observe=seen.observe)
        con.close()
        rules = build_results(result)[0]
        traffic = attack_traffic(lake, sim.files[2])
        return World(_labelled(rules, sim.files[2], spec.seed), seen.table(), traffic)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _labelled(results: list[AccountResult], labels: Path, seed: int) -> pa.Table:
    scored = pa.table(
        {
            "account_id": [a.account_id for a in results],
            "rule_score": [a.score for a in results],
            "rule_flagged": [a.flagged for a in results],
            "rule_review": [a.review for a in results],
        }
    )
    reported = ", ".join(f"'{c}'" for c in sorted(REPORTED))
    with duckdb.connect() as con:
        con.register("scored", scored)
        return con.sql(f"""
            SELECT {seed}::BIGINT AS seed, s.*, l.label, l.campaign, l.population,
                   CASE WHEN l.label = 'benign' THEN 'benign'
                        WHEN l.campaign IN ({reported}) THEN 'reported'
                        ELSE 'adaptive' END AS "group"
            FROM scored s JOIN read_parquet('{labels}') l USING (account_id)
            ORDER BY s.account_id
        """).to_arrow_table()
