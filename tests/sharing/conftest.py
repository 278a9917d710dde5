from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from distillguard.detect.run import detect
from distillguard.ingest import ingest
from distillguard.sharing import keys
from distillguard.sharing.export import ExportOptions, export
from distillguard.simulate import simulate
from tests.sharing.leaks import Secrets, lake_secrets

CORPORA = Path(__file__).resolve().parents[3] / "shared" / "data" / "corpora"

# A small world: every benign population and three reported campaigns, three days.
WORLD = """
days: 3
start: "2026-02-02T00:00:00Z"
models:
  current: [model-large-2025-10, model-fast-2025-10]
  new: model-large-2026-02
  release_day: 2
benign:
  casual: {accounts: 700}
  power_user: {accounts: 30}
  coding_agent: {accounts: 60, rate_per_day: 20}
  batch_pipeline: {accounts: 30, rate_per_day: 40}
  eval_runner: {accounts: 30, burst_size: 60}
  app_backend: {accounts: 30, rate_per_day: 60}
  ci_agent: {accounts: 30, rate_per_day: 20}
  student: {accounts: 150}
campaigns:
  reasoning: {archetype: reasoning, exchanges: 2000, accounts: 30}
  agentic: {archetype: agentic, exchanges: 4000, accounts: 30}
  hydra: {archetype: hydra, exchanges: 4000, accounts: 40, lifetime_days: 2.0}
"""


@dataclass(frozen=True)
class World:
    """A simulated provider: its traffic, lake, detect output and exported bundle."""

    traffic: Path
    lake: Path
    detect: Path
    bundle: Path
    key: keys.CommunityKey


def _world(root: Path, key: keys.CommunityKey, seed: int, corpus: Path | None) -> World:
    preset = root / "world.yaml"
    preset.write_text(WORLD)
    traffic, lake, out = root / "traffic", root / "lake", root / "detect"
    sim = simulate(str(preset), traffic, seed=seed, corpus=corpus)
    ingest([sim.files[0]], lake, [sim.files[1]])
    detect([lake], out)
    bundle = root / "bundle.json"
    export(out, key, bundle, ExportOptions(producer="provider A"), lake)
    return World(traffic, lake, out, bundle, key)


@pytest.fixture(scope="session")
def community_key() -> keys.CommunityKey:
    return keys.generate()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, community_key: keys.CommunityKey) -> World:
    """Provider A, with real third-party prompts where the corpora are beside the repo (the
    leak test is about real text), else with the built-in grammar."""
    corpus = CORPORA if CORPORA.is_dir() else None
    return _world(tmp_path_factory.mktemp("world"), community_key, 22, corpus)


@pytest.fixture(scope="session")
def world_secrets(world: World) -> Secrets:
    return lake_secrets(world.lake)
