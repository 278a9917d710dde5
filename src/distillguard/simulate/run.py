"""`simulate`: accounts, then day by day every population's exchanges, then labels."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from distillguard.errors import ConfigError
from distillguard.schema import ACCOUNTS_SCHEMA, EXCHANGES_SCHEMA, LABELS_SCHEMA
from distillguard.simulate.accounts import AccountBlock, make_accounts
from distillguard.simulate.config import PopulationPlan, SimPlan, load_preset, plan
from distillguard.simulate.content.compose import CorpusSource, GrammarSource, PromptSource
from distillguard.simulate.traffic import day_table
from distillguard.simulate.writer import TableWriter

# A block of accounts is sized so that one day of its traffic stays near this many rows.
ROWS_PER_BLOCK_DAY = 60_000


@dataclass(frozen=True)
class PopulationCount:
    population: str
    label: str
    campaign: str | None
    accounts: int
    exchanges: int


@dataclass(frozen=True)
class SimSummary:
    out: Path
    files: tuple[Path, ...]
    counts: tuple[PopulationCount, ...]


def _blocks(
    pop: PopulationPlan, seed: int, index: int, start_ms: int, days: int
) -> list[AccountBlock]:
    b = pop.behaviour
    per_account_day = max(pop.rate_per_day * b.active_prob, b.burst_size * b.burst_prob, 1.0)
    size = int(min(max(ROWS_PER_BLOCK_DAY / per_account_day, 20), 20_000))
    blocks = []
    for j in range(math.ceil(pop.accounts / size)):
        part = dataclasses.replace(pop, accounts=min(size, pop.accounts - j * size))
        rng = np.random.default_rng([seed, index, j, 0])
        blocks.append(make_accounts(part, rng, start_ms, days))
    return blocks


def _labels(block: AccountBlock) -> pa.Table:
    n = len(block)
    return pa.table(
        {
            "account_id": block.account_id,
            "label": [block.plan.behaviour.label] * n,
            "campaign": pa.array([block.plan.campaign] * n, pa.string()),
            "population": [block.plan.name] * n,
        },
        schema=LABELS_SCHEMA,
    )


def _refuse_other_format(out: Path, fmt: str) -> None:
    """A world in the other format left beside this one would be read with it."""
    other = ".jsonl.gz" if fmt == "parquet" else ".parquet"
    if (out / f"exchanges{other}").exists():
        raise ConfigError(
            f"{out} holds an earlier simulated world as exchanges{other}: simulate into an "
            f"empty folder (or with the format it has)"
        )


def simulate(
    preset: str,
    out: Path,
    *,
    scale: float = 1.0,
    days: int | None = None,
    seed: int = 0,
    corpus: Path | None = None,
    fmt: str = "parquet",
    randomize: bool = False,
    progress: Callable[[Iterator[int], int], Iterator[int]] | None = None,
) -> SimSummary:
    """Write DIR/exchanges, DIR/accounts and DIR/labels for a preset; with `randomize`, or
    a preset that sets `randomize: true`, its knobs are drawn for `seed` first."""
    if seed < 0:  # numpy's generators take none
        raise ConfigError(f"--seed must be 0 or more, got {seed}")
    _refuse_other_format(out, fmt)
    doc = load_preset(preset)
    drawn = seed if randomize or doc.get("randomize", False) else None
    sim: SimPlan = plan(doc, scale, days, drawn)
    source: PromptSource = CorpusSource(corpus) if corpus else GrammarSource()
    out.mkdir(parents=True, exist_ok=True)
    start_ms = int(sim.start.timestamp() * 1000)
    blocks = [
        (k, block)
        for k, pop in enumerate(sim.populations)
        for block in _blocks(pop, seed, k, start_ms, sim.days)
    ]
    exchanges = TableWriter(out, "exchanges", EXCHANGES_SCHEMA, fmt)
    per_population: dict[str, int] = {}
    days_iter: Iterator[int] = iter(range(sim.days))
    for day in progress(days_iter, sim.days) if progress else days_iter:
        for j, (k, block) in enumerate(blocks):
            rng = np.random.default_rng([seed, k, j, day + 1])
            table = day_table(block, sim, day, source, rng)
            exchanges.write(table)
            per_population[block.plan.name] = (
                per_population.get(block.plan.name, 0) + table.num_rows
            )
    exchanges.close()
    accounts = TableWriter(out, "accounts", ACCOUNTS_SCHEMA, fmt)
    labels = TableWriter(out, "labels", LABELS_SCHEMA, fmt)
    for _, block in blocks:
        accounts.write(block.table)
        labels.write(_labels(block))
    accounts.close()
    labels.close()
    counts = tuple(
        PopulationCount(
            pop.name,
            pop.behaviour.label,
            pop.campaign,
            sum(len(b) for _, b in blocks if b.plan.name == pop.name),
            per_population.get(pop.name, 0),
        )
        for pop in sim.populations
    )
    return SimSummary(out, (exchanges.path, accounts.path, labels.path), counts)
