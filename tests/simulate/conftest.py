from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.simulate import SimSummary, simulate

# Every archetype (the original ones, the hard negatives and the tactics) at a size a
# test can afford: all archetypes, every
# campaign, enough accounts of each for the realism checks to mean something.
TINY = """
days: 4
start: "2026-02-02T00:00:00Z"
models:
  current: [model-large-2025-10, model-fast-2025-10]
  new: model-large-2026-02
  release_day: 2
benign:
  casual: {accounts: 1500}
  power_user: {accounts: 60}
  coding_agent: {accounts: 120, rate_per_day: 20}
  batch_pipeline: {accounts: 30, rate_per_day: 60}
  eval_runner: {accounts: 30, burst_size: 80}
  app_backend: {accounts: 30, rate_per_day: 100}
  ci_agent: {accounts: 30, rate_per_day: 30}
  student: {accounts: 300}
  small_team: {accounts: 30}
  family: {accounts: 30}
  reseller_customer: {accounts: 30}
  shared_exit: {accounts: 30}
  judge_pipeline: {accounts: 30, rate_per_day: 40}
  synthetic_data: {accounts: 30, rate_per_day: 40}
  computer_use_product: {accounts: 30, rate_per_day: 40}
  script_runner: {accounts: 30}
  teacher_researcher: {accounts: 30}
campaigns:
  reasoning: {archetype: reasoning, exchanges: 3000, accounts: 60}
  agentic: {archetype: agentic, exchanges: 6000, accounts: 60}
  hydra: {archetype: hydra, exchanges: 8000, accounts: 60, lifetime_days: 2.0}
  quiet: {archetype: adaptive, exchanges: 1200, accounts: 60}
  bought: {archetype: bought_accounts, accounts: 10, rate_per_day: 40}
  sticky: {archetype: sticky_proxy, accounts: 10, rate_per_day: 30}
  relay: {archetype: relay, accounts: 10, rate_per_day: 30}
  wave: {archetype: signup_wave, accounts: 20, rate_per_day: 20}
  slow: {archetype: low_and_slow, accounts: 20}
  churn: {archetype: burn_churn, accounts: 10}
"""


@pytest.fixture(scope="session")
def tiny_preset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("preset") / "tiny.yaml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="session")
def tiny_run(tiny_preset: Path, tmp_path_factory: pytest.TempPathFactory) -> SimSummary:
    return simulate(str(tiny_preset), tmp_path_factory.mktemp("sim"), seed=7)
