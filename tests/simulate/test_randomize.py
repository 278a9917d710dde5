"""Domain randomisation: knobs drawn per seed within the documented ranges, so that no
absolute number separates benign from attack populations across worlds."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from distillguard.simulate import randomize, simulate
from distillguard.simulate.accounts import P_CARD, P_VERIFIED, make_accounts
from distillguard.simulate.archetypes import ARCHETYPES, HARD_NEGATIVES, TACTICS
from distillguard.simulate.behaviour import TIERS
from distillguard.simulate.config import PopulationPlan, load_preset, plan
from distillguard.simulate.randomize import HOURS, randomize_behaviour

KNOBS = (
    "rate_per_day",
    "output_scale",
    "thinking_share",
    "cot_share",
    "session_turns",
    "ip_rotation",
    "active_prob",
)


def _knobs(seed: int | None) -> dict[str, object]:
    sim = plan(load_preset("randomized"), randomize=seed)
    return {p.name: p.behaviour for p in sim.populations}


def test_same_seed_same_world_and_seeds_differ() -> None:
    assert _knobs(3) == _knobs(3)
    assert _knobs(3) != _knobs(4)


def test_the_randomized_preset_is_randomized_without_the_flag() -> None:
    doc = load_preset("randomized")
    assert doc["randomize"] is True
    assert plan(doc) == plan(doc, randomize=0)


@pytest.mark.parametrize("name", sorted(ARCHETYPES))
def test_every_knob_stays_in_its_documented_range(name: str) -> None:
    base = ARCHETYPES[name]
    for seed in range(40):
        b = randomize_behaviour(base, np.random.default_rng(seed))
        assert base.rate_per_day / 3 - 1e-9 <= b.rate_per_day <= 3 * base.rate_per_day + 1e-9
        assert 0.6 * base.output_scale <= b.output_scale <= 1.7 * base.output_scale
        assert b.session_turns >= 1.0
        assert 0.02 <= b.active_prob <= 1.0
        for share in (b.cot_share, b.thinking_share, b.ip_rotation, b.relay_share):
            assert 0.0 <= share <= 0.95
        assert b.hours == base.hours or b.hours in HOURS
        for mix in (b.task_mix, b.clients, b.networks):
            assert sum(mix.values()) == pytest.approx(1.0)
        assert set(b.task_mix) == set(base.task_mix)
        assert (b.lifetime_days is None) == (base.lifetime_days is None)
        assert b.label == base.label and b.templated == base.templated
        assert (b.suite_share > 0) == (base.suite_share > 0)
        assert b.suite_share <= 0.95 and b.resample_share <= 0.95
        assert not b.resample_share or b.label == "attack"
        if base.template_odds == 0:
            assert b.operator_templates == 0
        elif b.operator_templates:
            assert 2 <= b.operator_templates <= 40


SHARED_TEMPLATES = (
    "coding_agent",
    "batch_pipeline",
    "eval_runner",
    "ci_agent",
    "judge_pipeline",
    "synthetic_data",
    "computer_use_product",
    "script_runner",
)


def test_campaigns_and_tool_users_share_templates_in_about_half_the_worlds() -> None:
    for name, base in sorted(ARCHETYPES.items()):
        runs = base.label == "attack" or name in SHARED_TEMPLATES
        assert base.template_odds == (0.5 if runs else 0.0), name
        drawn = [randomize_behaviour(base, np.random.default_rng(s)) for s in range(200)]
        shared = [b for b in drawn if b.operator_templates]
        assert (0.35 < len(shared) / 200 < 0.65) if runs else not shared, name
        assert len({b.operator_seed for b in shared}) == len(shared), "each world its own"


# The knobs drawn last, in their order: each with a stand-in that draws nothing and the
# fields it sets, with a value to leave them at (they, and every later knob's, move when
# it stops drawing).
LATE_KNOBS: tuple[tuple[str, Any, dict[str, Any]], ...] = (
    ("_templates", lambda b, rng: (0, 0), {"operator_templates": 0, "operator_seed": 0}),
    ("_declarations", lambda b, rng: b.org_declared, {"org_declared": None}),
    ("_tiers", lambda b, rng: b.tiers, {"tiers": {}}),
    (
        "_repeats",
        lambda b, rng: (b.suite_share, b.suite_size, b.resample_share),
        {"suite_share": 0.0, "suite_size": 0, "resample_share": 0.0},
    ),
)


@pytest.mark.parametrize("late", range(len(LATE_KNOBS)))
@pytest.mark.parametrize("name", ["agentic", "hydra"])
def test_late_knobs_are_drawn_after_every_earlier_one(
    monkeypatch: pytest.MonkeyPatch, late: int, name: str
) -> None:
    """Every knob before a late one is what a draw without it gives (as worlds of the
    simulator before it drew them): its draws come after theirs in the stream."""
    base = ARCHETYPES[name]
    drawn = [randomize_behaviour(base, np.random.default_rng(seed)) for seed in range(30)]
    function, stand_in, own = LATE_KNOBS[late]
    monkeypatch.setattr(randomize, function, stand_in)
    moved = {f: v for _, _, fields in LATE_KNOBS[late:] for f, v in fields.items()}
    without = [randomize_behaviour(base, np.random.default_rng(seed)) for seed in range(30)]
    for with_knob, without_knob in zip(drawn, without, strict=True):
        assert dataclasses.replace(with_knob, **moved) == dataclasses.replace(without_knob, **moved)
    assert any(
        [getattr(a, f) for f in own] != [getattr(b, f) for f in own]
        for a, b in zip(drawn, without, strict=True)
    ), "the knob is drawn in some worlds"


@pytest.mark.parametrize("name", ["reasoning", "agentic", "hydra", "casual", "family", "ci_agent"])
def test_campaigns_and_customers_alike_redraw_tiers_in_some_worlds(name: str) -> None:
    base = ARCHETYPES[name]
    drawn = [randomize_behaviour(base, np.random.default_rng(s)).tiers for s in range(300)]
    redrawn = [t for t in drawn if t != base.tiers]
    assert 0.2 < len(redrawn) / 300 < 0.4
    for tiers in redrawn:
        assert set(tiers) == set(TIERS) and sum(tiers.values()) == pytest.approx(1.0)
    # in some worlds most of the population's accounts are enterprise ones
    assert max(t["enterprise"] for t in redrawn) > 0.5


def test_every_tier_has_its_sign_up_chances() -> None:
    assert set(TIERS) == set(P_VERIFIED) == set(P_CARD)
    for b in ARCHETYPES.values():
        assert set(b.tiers) <= set(TIERS)


@pytest.mark.parametrize("name", ["reasoning", "hydra", "batch_pipeline", "ci_agent", "small_team"])
def test_campaigns_and_customers_alike_redraw_declarations_in_some_worlds(name: str) -> None:
    drawn = [randomize_behaviour(ARCHETYPES[name], np.random.default_rng(s)) for s in range(300)]
    shares = [b.org_declared for b in drawn if b.org_declared is not None]
    assert 0.2 < len(shares) / 300 < 0.4
    assert min(shares) < 0.2 and max(shares) > 0.8


def test_a_preset_s_own_templates_are_kept() -> None:
    base = dataclasses.replace(ARCHETYPES["agentic"], operator_templates=7, operator_seed=5)
    for seed in range(20):
        b = randomize_behaviour(base, np.random.default_rng(seed))
        assert (b.operator_templates, b.operator_seed) == (7, 5)


def test_no_absolute_knob_separates_benign_from_attack_across_worlds() -> None:
    ranges: dict[tuple[str, str], list[float]] = {}
    for seed in range(30):
        for p in plan(load_preset("randomized"), randomize=seed).populations:
            for knob in KNOBS:
                value = float(
                    getattr(p.behaviour, knob) if knob != "rate_per_day" else p.rate_per_day
                )
                ranges.setdefault((knob, p.behaviour.label), []).append(value)
    for knob in KNOBS:
        benign, attack = ranges[(knob, "benign")], ranges[(knob, "attack")]
        assert min(attack) < max(benign) and min(benign) < max(attack), knob


def test_new_archetypes_are_labelled_as_intended() -> None:
    assert all(b.label == "benign" for b in HARD_NEGATIVES.values())
    assert all(b.label == "attack" for b in TACTICS.values())


def test_a_small_team_shares_one_card_and_office_without_declaring_an_org() -> None:
    team = dataclasses.replace(ARCHETYPES["small_team"], card_pool=5)
    block = make_accounts(PopulationPlan("t", None, team, 20, 10.0), np.random.default_rng(1), 0, 7)
    rows = block.table.to_pylist()
    assert all(r["org_id"] is None for r in rows)
    for g in range(4):
        members = rows[5 * g : 5 * g + 5]
        assert len({r["payment_fingerprint"] for r in members}) == 1
        assert len({r["signup_ip"] for r in members}) == 1
    assert len({r["payment_fingerprint"] for r in rows}) == 4


def test_randomize_flag_changes_the_traffic(tmp_path: Path, tiny_preset: Path) -> None:
    plain = simulate(str(tiny_preset), tmp_path / "a", seed=2, days=1)
    drawn = simulate(str(tiny_preset), tmp_path / "b", seed=2, days=1, randomize=True)
    again = simulate(str(tiny_preset), tmp_path / "c", seed=2, days=1, randomize=True)
    counts = [pq.read_metadata(r.files[0]).num_rows for r in (plain, drawn, again)]
    assert counts[0] != counts[1] and counts[1] == counts[2]


def _declarations(name: str, share: float | None) -> list[dict[str, object]]:
    knobs = dataclasses.replace(ARCHETYPES[name], org_declared=share)
    population = PopulationPlan("p", None, knobs, 400, 10.0)
    rows: list[dict[str, object]] = make_accounts(
        population, np.random.default_rng(2), 0, 7
    ).table.to_pylist()
    return rows


@pytest.mark.parametrize(
    ("name", "share"),
    [
        ("hydra", 1.0),  # a campaign typing a company name for each card pool
        ("hydra", 0.5),
        ("family", 0.5),  # consumers too, members without a card of their own included
        ("bought_accounts", 1.0),
    ],
)
def test_a_card_group_declares_one_organisation_by_chance(name: str, share: float) -> None:
    rows = _declarations(name, share)
    declaring = [r for r in rows if r["org_id"] is not None]
    assert len(declaring) / len(rows) == pytest.approx(share, abs=0.15)
    org_of_card: dict[object, set[object]] = {}
    card_of_org: dict[object, set[object]] = {}
    for r in declaring:
        if r["payment_fingerprint"] is not None:
            org_of_card.setdefault(r["payment_fingerprint"], set()).add(r["org_id"])
            card_of_org.setdefault(r["org_id"], set()).add(r["payment_fingerprint"])
    assert all(len(orgs) == 1 for orgs in org_of_card.values()), "one card, one organisation"
    assert all(len(cards) == 1 for cards in card_of_org.values()), "one organisation, one card"
    if share == 1.0:
        assert len(declaring) == len(rows), "card-less members declare their group's too"


def test_a_share_of_nothing_declares_nothing_not_even_enterprise_accounts() -> None:
    assert any(
        r["tier"] == "enterprise" and r["org_id"] for r in _declarations("coding_agent", None)
    )
    for name in ("coding_agent", "batch_pipeline"):
        assert all(r["org_id"] is None for r in _declarations(name, 0.0)), name


def test_a_preset_s_own_declarations_are_kept() -> None:
    base = dataclasses.replace(ARCHETYPES["hydra"], org_declared=0.9)
    assert {
        randomize_behaviour(base, np.random.default_rng(s)).org_declared for s in range(50)
    } == {0.9}


# make_accounts of five archetypes (50 accounts, seed 7) as the simulator before
# org_declared drew them (e3157fe): a knob left empty must not move the stream. If a change
# moves it on purpose, bump SIMULATOR_VERSION and write the new fingerprints here.
BEFORE_DECLARATIONS = {
    "casual": "981119b9ea295785",
    "batch_pipeline": "92e48a79295744e9",
    "coding_agent": "58c8a91c75473a6a",
    "hydra": "1962313581ebdc14",
    "family": "5d521c6b2ed11dde",
}


@pytest.mark.parametrize(("name", "fingerprint"), sorted(BEFORE_DECLARATIONS.items()))
def test_accounts_without_declarations_drawn_are_drawn_as_before(
    name: str, fingerprint: str
) -> None:
    population = PopulationPlan("p", None, ARCHETYPES[name], 50, 10.0)
    block = make_accounts(population, np.random.default_rng(7), 0, 7)
    kept = [
        (r["account_id"], r["payment_fingerprint"], r["org_id"], r["email_domain"])
        for r in block.table.to_pylist()
    ]
    text = repr(kept) + repr(block.rate.round(9).tolist())
    assert hashlib.sha256(text.encode()).hexdigest()[:16] == fingerprint
