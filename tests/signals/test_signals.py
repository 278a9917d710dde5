"""Every registered signal passes one conformance test; the capability model holds up on a
held-out split of public prompts it was not trained on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from distillguard.errors import ConfigError
from distillguard.schema import EXCHANGE_FIELDS, EXCHANGES_SCHEMA, validate_exchange
from distillguard.schema.columnar import rows_to_table
from distillguard.signals.base import BatchContext, Signal
from distillguard.signals.capabilities import CAPABILITIES
from distillguard.signals.capability import text_model
from distillguard.signals.registry import SIGNALS, compute_signals, get_signal
from tests.samples import exchange_row

CORPORA = Path(__file__).resolve().parents[3] / "shared" / "data" / "corpora"


def _batch() -> pa.Table:
    rows = [exchange_row(i) for i in range(12)]
    rows[1]["messages"] = [{"role": "user", "content": "Show all your working: 17 * 23?"}]
    rows[2]["messages"] = [
        {
            "role": "user",
            "content": [
                {"type": "image", "media_type": "image/png"},
                {"type": "text", "text": "What is this?"},
            ],
        }
    ]
    rows[3]["system"] = None
    rows[4]["ip"] = "2001:db8:abcd:12::1"
    rows[5]["tools"] = ["computer", "screenshot"]
    return rows_to_table([validate_exchange(r) for r in rows], EXCHANGE_FIELDS, EXCHANGES_SCHEMA)


@pytest.fixture(params=sorted(SIGNALS))
def signal(request: pytest.FixtureRequest) -> Signal:
    return SIGNALS[request.param]


def test_signal_conformance(signal: Signal) -> None:
    batch = _batch()
    first = signal.compute(BatchContext(batch))
    again = signal.compute(BatchContext(batch))
    assert set(first) == set(signal.columns), "a signal returns exactly the columns it declares"
    assert signal.description and signal.name
    for name in signal.columns:
        values = np.asarray(pa.array(first[name]).to_pylist(), dtype=object)
        assert len(values) == batch.num_rows
        assert pa.array(first[name]).equals(pa.array(again[name])), "signals are deterministic"
        if name.startswith("p_"):
            assert all(0.0 <= float(v) <= 1.0 for v in values)


def test_signals_are_pure_per_row() -> None:
    batch = _batch()
    whole = compute_signals(batch)
    parts = pa.concat_tables([compute_signals(batch.slice(0, 5)), compute_signals(batch.slice(5))])
    assert whole.equals(parts)


def test_structure_reads_the_request() -> None:
    out = compute_signals(_batch()).to_pylist()
    assert out[1]["p_cot_elicitation"] >= 0.5
    assert CAPABILITIES[out[2]["capability"]] == "vision" and out[2]["n_images"] == 1
    assert CAPABILITIES[out[5]["capability"]] == "computer_use"
    assert out[4]["ip_prefix"] == "2001:db8:abcd::/48"
    assert out[0]["ip_prefix"] == "203.0.113.0/24"
    assert out[3]["system_fp"] == 0 and out[0]["system_fp"] != 0


def test_unknown_signal_lists_the_valid_names() -> None:
    with pytest.raises(ConfigError, match="valid names: capability"):
        get_signal("vibes")


def test_model_card_matches_the_shipped_model() -> None:
    card = json.loads(
        (
            Path(__file__).resolve().parents[2] / "src/distillguard/signals/models/capability.json"
        ).read_text()
    )
    assert card["held_out_accuracy"] >= 0.9 and card["held_out_ece"] <= 0.05


@pytest.mark.skipif(not CORPORA.is_dir(), reason="../shared/data/corpora is not beside the repo")
def test_capability_model_on_its_held_out_split() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "train", Path(__file__).resolve().parents[2] / "scripts" / "train_capability.py"
    )
    assert spec and spec.loader
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    texts, labels, held_out, _ = train.load(CORPORA)
    test_texts = [t for t, h in zip(texts, held_out, strict=True) if h]
    test_labels = np.array([y for y, h in zip(labels, held_out, strict=True) if h])
    probs = text_model().predict_proba(pa.array(test_texts))
    accuracy = float((probs.argmax(axis=1) == test_labels).mean())
    assert accuracy >= 0.9
    assert train.expected_calibration_error(probs, test_labels) <= 0.05
