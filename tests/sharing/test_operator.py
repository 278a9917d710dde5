"""The simulator's shared operator (the sharing benchmark's premise): the same templates in
two worlds of different seeds, through different accounts."""

from __future__ import annotations

from pathlib import Path

import duckdb

from distillguard.ingest.lake import sql_path
from distillguard.simulate import simulate

DAY = """
days: 1
start: "2026-02-02T00:00:00Z"
models: {current: [model-large-2025-10], new: model-large-2026-02, release_day: 0}
"""
PRESET = (
    DAY
    + """campaigns:
  op: {archetype: agentic, accounts: 6, exchanges: 3000, operator_templates: 3,
       operator_seed: 99}
"""
)


def _templates(out: Path) -> tuple[set[str], set[str]]:
    path = sql_path(out / "exchanges.parquet")
    rows = (
        duckdb.connect()
        .execute(
            "SELECT account_id, messages[len(messages)].content[1].text "
            f"FROM read_parquet('{path}') WHERE len(messages) = 1"
        )
        .fetchall()
    )
    wrapped = [(a, t) for a, t in rows if t and "\n\nRecord:\n" in t]
    assert len(wrapped) > 0.5 * len(rows)
    return {a for a, _ in wrapped}, {t.split("\n\nRecord:\n")[0] for _, t in wrapped}


def test_one_operator_sends_the_same_templates_to_every_world(tmp_path: Path) -> None:
    preset = tmp_path / "p.yaml"
    preset.write_text(PRESET)
    a = _templates(simulate(str(preset), tmp_path / "a", seed=1).out)
    b = _templates(simulate(str(preset), tmp_path / "b", seed=2).out)
    assert not a[0] & b[0], "the two worlds must not share accounts"
    assert len(a[1]) <= 3 * 6 and a[1] == b[1], "the templates come from the operator's seed"


PIPELINE = (
    DAY
    + """benign:
  judges: {archetype: judge_pipeline, accounts: 30, rate_per_day: 40, active_prob: 1.0,
           OWN}
"""
)


def _pipeline_instructions(tmp_path: Path, own: str) -> tuple[int, list[str]]:
    preset = tmp_path / f"p{len(own)}.yaml"
    preset.write_text(PIPELINE.replace("OWN", own))
    path = sql_path(simulate(str(preset), tmp_path / f"out{len(own)}", seed=3).out)
    rows = (
        duckdb.connect()
        .execute(
            "SELECT account_id, messages[1].content[1].text "
            f"FROM read_parquet('{path}/exchanges.parquet') WHERE len(messages) = 1"
        )
        .fetchall()
    )
    assert all(t.count("\n\nRecord:\n") == 1 for _, t in rows), "one wrapper, never two"
    return len({a for a, _ in rows}), [t.split("\n\nRecord:\n")[0] for _, t in rows]


def test_a_pipeline_s_shared_templates_replace_its_own_instruction(tmp_path: Path) -> None:
    accounts, own = _pipeline_instructions(tmp_path, "")
    assert len(set(own)) == accounts, "alone, each account has one instruction of its own"
    accounts, shared = _pipeline_instructions(tmp_path, "operator_templates: 2, operator_seed: 4")
    assert accounts > 4 and len(set(shared)) <= 2 * 2, "two templates for each of two kinds"
