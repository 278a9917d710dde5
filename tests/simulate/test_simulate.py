"""The simulator's contract: deterministic, ingestible, labelled, at realistic rates."""

from __future__ import annotations

import filecmp
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from distillguard.errors import ConfigError, UserError
from distillguard.ingest import ingest
from distillguard.simulate import SimSummary, simulate
from distillguard.simulate.config import load_preset, plan, preset_names


def test_same_seed_same_bytes(tiny_preset: Path, tmp_path: Path) -> None:
    for fmt in ("parquet", "jsonl"):
        a = simulate(str(tiny_preset), tmp_path / f"a-{fmt}", seed=3, days=2, fmt=fmt)
        b = simulate(str(tiny_preset), tmp_path / f"b-{fmt}", seed=3, days=2, fmt=fmt)
        for left, right in zip(a.files, b.files, strict=True):
            assert filecmp.cmp(left, right, shallow=False), f"{left.name} differs"


def test_different_seeds_differ(tiny_preset: Path, tmp_path: Path) -> None:
    a = simulate(str(tiny_preset), tmp_path / "a", seed=1, days=1)
    b = simulate(str(tiny_preset), tmp_path / "b", seed=2, days=1)
    assert not filecmp.cmp(a.files[0], b.files[0], shallow=False)


def test_output_ingests_without_quarantine(tiny_run: SimSummary, tmp_path: Path) -> None:
    exchanges, accounts, _ = tiny_run.files
    summary = ingest([exchanges], tmp_path / "lake", [accounts])
    assert summary.quarantined == 0 and summary.accounts_quarantined == 0
    assert summary.kept == sum(c.exchanges for c in tiny_run.counts)


def test_jsonl_output_ingests_without_quarantine(tiny_preset: Path, tmp_path: Path) -> None:
    run = simulate(str(tiny_preset), tmp_path / "sim", seed=5, days=1, fmt="jsonl")
    summary = ingest([run.files[0]], tmp_path / "lake", [run.files[1]])
    assert (summary.quarantined, summary.accounts_quarantined) == (0, 0)
    assert summary.kept == sum(c.exchanges for c in run.counts) > 0


def test_labels_hold_every_population_and_campaign(tiny_run: SimSummary) -> None:
    labels = pq.read_table(tiny_run.files[2]).to_pylist()
    populations = {row["population"] for row in labels}
    assert populations == {c.population for c in tiny_run.counts}
    campaigns = {row["campaign"] for row in labels if row["label"] == "attack"}
    assert campaigns == {
        *("reasoning", "agentic", "hydra", "quiet"),
        *("bought", "sticky", "relay", "wave", "slow", "churn"),
    }
    assert all(row["campaign"] is None for row in labels if row["label"] == "benign")
    accounts = pq.read_table(tiny_run.files[1], columns=["account_id"]).column(0).to_pylist()
    assert sorted(accounts) == sorted(row["account_id"] for row in labels)
    assert len(set(accounts)) == len(accounts)


def test_summary_counts_match_the_files(tiny_run: SimSummary) -> None:
    rows = pq.read_metadata(tiny_run.files[0]).num_rows
    assert rows == sum(c.exchanges for c in tiny_run.counts)
    assert all(c.exchanges > 0 for c in tiny_run.counts), tiny_run.counts


# The scale each preset is run at, and the benign accounts a world needs there: a 0.1%
# false-positive rate must be measurable (the randomised world is small, for benchmarks
# that run 20 and more of them, and pools their benign accounts).
PRESET_SCALES = {
    "reported-2026": (0.01, 10_000),
    "adaptive": (0.01, 10_000),
    "randomized": (1.0, 3_000),
}


def test_every_builtin_preset_plans(tmp_path: Path) -> None:
    assert set(PRESET_SCALES) == set(preset_names())
    for name in preset_names():
        scale, least = PRESET_SCALES[name]
        sim = plan(load_preset(name), scale=scale)
        benign = sum(p.accounts for p in sim.populations if p.campaign is None)
        attack = sum(p.accounts for p in sim.populations if p.campaign is not None)
        assert benign >= least, "a 0.1% false-positive rate must be measurable"
        assert attack < 0.06 * (benign + attack), "attack accounts are a few percent at most"
        assert all(p.accounts >= 30 for p in sim.populations if p.campaign is None)


def test_reported_volumes_scale_with_the_reported_figures() -> None:
    sim = plan(load_preset("reported-2026"), scale=1.0)
    campaigns = {p.name: p for p in sim.populations if p.campaign}
    days = sim.days
    for name, reported in (("reasoning", 150_000), ("agentic", 3_400_000), ("hydra", 13_000_000)):
        p = campaigns[name]
        lives = round(days / p.behaviour.lifetime_days) if p.behaviour.lifetime_days else 1
        live_days = (
            days if p.behaviour.lifetime_days else days * (1 - p.behaviour.signup_in_window / 2)
        )
        expected = p.rate_per_day * (p.accounts / lives) * live_days * p.behaviour.active_prob
        assert expected == pytest.approx(reported, rel=0.01)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "benign: {casual: {accounts: 10, colour: 3}}\nmodels: {current: [a], new: b}",
            "unknown knob",
        ),
        ("benign: {nobody: {accounts: 10}}\nmodels: {current: [a], new: b}", "unknown archetype"),
        ("benign: {casual: {accounts: -1}}\nmodels: {current: [a], new: b}", "non-negative"),
        ("benign: {casual: {accounts: 10}}", "models"),
        (
            "benign: {casual: {accounts: 10, mix_spread: -1}}\nmodels: {current: [a], new: b}",
            "mix_spread must be a number from 0 to 3",
        ),
        (
            "benign: {casual: {accounts: 10, mix_spread: wide}}\nmodels: {current: [a], new: b}",
            "mix_spread must be a number",
        ),
        (
            "benign: {casual: {accounts: 10, template_odds: 2}}\nmodels: {current: [a], new: b}",
            "template_odds must be a number from 0 to 1",
        ),
        (
            "benign: {casual: {accounts: 10, suite_share: 1}}\nmodels: {current: [a], new: b}",
            "suite_share must be a number from 0 to 0.95",
        ),
        (
            "benign: {casual: {accounts: 10, suite_share: 0.5}}\nmodels: {current: [a], new: b}",
            "suite_share needs a suite_size of 1 or more",
        ),
        (
            "benign: {casual: {accounts: 10, suite_size: 2.5}}\nmodels: {current: [a], new: b}",
            "suite_size must be a whole number from 0 to 100000",
        ),
        (
            "benign: {casual: {accounts: 9, resample_share: -1}}\nmodels: {current: [a], new: b}",
            "resample_share must be a number from 0 to 0.95",
        ),
        (
            "benign: {casual: {accounts: 10, org_declared: 1.5}}\nmodels: {current: [a], new: b}",
            "org_declared must be empty or a number from 0 to 1",
        ),
        (
            "benign: {casual: {accounts: 10, operator_templates: many}}\n"
            "models: {current: [a], new: b}",
            "operator_templates must be a whole number",
        ),
        (
            "benign: {casual: {accounts: 10, operator_templates: -2}}\n"
            "models: {current: [a], new: b}",
            "operator_templates must be a whole number",
        ),
        (
            "benign: {casual: {accounts: 10, operator_seed: -1}}\nmodels: {current: [a], new: b}",
            "operator_seed must be a whole number from 0 up",
        ),
        (
            "benign: {casual: {accounts: 10, operator_seed: 1.5}}\nmodels: {current: [a], new: b}",
            "operator_seed must be a whole number",
        ),
        ("speed: 3", "unknown keys"),
        ("[1, 2]", "mapping at the top level"),
        # a misspelt count is an unknown knob, not a missing count
        ("benign: {casual: {acounts: 50}}\nmodels: {current: [a], new: b}", "'acounts'"),
        (
            "benign: {casual: {hours: flat}}\nmodels: {current: [a], new: b}",
            "'accounts' is missing",
        ),
        (
            "benign: {casual: {accounts: 10, hours: weird}}\nmodels: {current: [a], new: b}",
            "unknown hours 'weird'",
        ),
        # a name a mix weighs: once a KeyError deep in the simulation, output half written
        (
            "benign: {casual: {accounts: 10, task_mix: {chatt: 1}}}\n"
            "models: {current: [a], new: b}",
            "unknown task_mix 'chatt'; valid names: agentic_coding, chat,",
        ),
        (
            "campaigns: {r: {archetype: reasoning, accounts: 5, late_task_mix: {mathh: 1}}}\n"
            "models: {current: [a], new: b}",
            "unknown late_task_mix 'mathh'",
        ),
        (
            "benign: {casual: {accounts: 10, clients: {pythn-sdk: 1}}}\n"
            "models: {current: [a], new: b}",
            "unknown clients 'pythn-sdk'; valid names: .*python-sdk",
        ),
        (
            "benign: {casual: {accounts: 10, networks: {resi: 1}}}\nmodels: {current: [a], new: b}",
            "unknown networks 'resi'; valid names: .*residential",
        ),
        (
            "benign: {casual: {accounts: 10, tiers: {freee: 1}}}\nmodels: {current: [a], new: b}",
            "unknown tiers 'freee'; valid names: education, enterprise, free,",
        ),
        (
            "benign: {casual: {accounts: 10, tiers: {free: -1}}}\nmodels: {current: [a], new: b}",
            "tiers: the weight of 'free' must be a number from 0 up",
        ),
        (
            "benign: {casual: {accounts: 10, tiers: {free: 0}}}\nmodels: {current: [a], new: b}",
            "tiers: the weights add up to 0",
        ),
        (
            "benign: {casual: {accounts: 10, clients: web-app}}\nmodels: {current: [a], new: b}",
            "clients must be a mapping of names to weights",
        ),
    ],
)
def test_bad_presets_raise_config_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        plan(load_preset(str(path)))


CORPORA = Path(__file__).resolve().parents[3] / "shared" / "data" / "corpora"


@pytest.mark.skipif(not CORPORA.is_dir(), reason="../shared/data/corpora is not beside the repo")
def test_corpus_prompts_are_read_in_place(tiny_preset: Path, tmp_path: Path) -> None:
    run = simulate(str(tiny_preset), tmp_path / "sim", seed=1, days=1, corpus=CORPORA)
    texts = pq.read_table(run.files[0], columns=["messages"]).column(0).to_pylist()
    prompts = {m[-1]["content"][-1]["text"] for m in texts}
    corpus_lines = (CORPORA / "task_math.jsonl").read_text().splitlines()[:400]
    known = {orjson.loads(line)["text"] for line in corpus_lines}
    assert prompts & known, "no prompt came from the math corpus"
    summary = ingest([run.files[0]], tmp_path / "lake")
    assert summary.quarantined == 0


def test_missing_corpus_is_a_user_error(tiny_preset: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"corpus directory .*nope: not found"):
        simulate(str(tiny_preset), tmp_path / "sim", days=1, corpus=tmp_path / "nope")


# (corpus file text, the one-line error)
BAD_CORPORA = [
    ('{"text": "a", "kind": "task-math"}\n{oops\n', "line 2: invalid JSON"),
    ('{"kind": "task-math"}\n', 'line 1: not a {"text", "kind"} object'),
    ('{"text": "a", "kind": "chat"}\n', "no corpus row .* has a kind simulate uses"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CORPORA)
def test_a_bad_corpus_is_one_line_before_anything_is_drawn(
    tiny_preset: Path, tmp_path: Path, text: str, message: str
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "c.jsonl").write_text(text)
    with pytest.raises(UserError, match=message):
        simulate(str(tiny_preset), tmp_path / "sim", days=1, corpus=corpus)
    with pytest.raises(UserError, match="a file, not a folder"):
        simulate(str(tiny_preset), tmp_path / "sim", days=1, corpus=corpus / "c.jsonl")


def test_blank_lines_in_a_corpus_are_skipped(tiny_preset: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = '\n{"text": "What is 2 + 2?", "kind": "task-math"}\n\n'
    (corpus / "c.jsonl").write_bytes(b"\xef\xbb\xbf" + text.encode())  # and a BOM
    simulate(str(tiny_preset), tmp_path / "sim", days=1, corpus=corpus)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scale": float("nan")}, "--scale must be a number above 0 and at most 100"),
        ({"scale": float("inf")}, "--scale must be a number above 0 and at most 100"),
        ({"scale": 1e308}, "--scale must be a number above 0 and at most 100"),  # a traceback
        ({"seed": -5}, "--seed must be 0 or more"),
    ],
)
def test_bad_numbers_fail_before_anything_is_written(
    tiny_preset: Path, tmp_path: Path, options: dict[str, float], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        simulate(str(tiny_preset), tmp_path / "sim", days=1, **options)  # type: ignore[arg-type]
    assert not (tmp_path / "sim").exists()


def test_a_world_in_the_other_format_is_not_left_beside_this_one(
    tiny_preset: Path, tmp_path: Path
) -> None:
    simulate(str(tiny_preset), tmp_path / "sim", days=1, fmt="parquet")
    with pytest.raises(ConfigError, match="holds an earlier simulated world"):
        simulate(str(tiny_preset), tmp_path / "sim", days=1, fmt="jsonl")
    simulate(str(tiny_preset), tmp_path / "sim", days=1, seed=2, fmt="parquet")  # the same: fine


@pytest.mark.parametrize("days", [0, 367, 100_000])  # 100,000 days wrote 640 MB, unbounded
def test_days_out_of_range_fail_before_anything_is_written(
    tiny_preset: Path, tmp_path: Path, days: int
) -> None:
    with pytest.raises(ConfigError, match="--days must be from 1 to 366"):
        simulate(str(tiny_preset), tmp_path / "sim", days=days)
    assert not (tmp_path / "sim").exists()
