from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest

from distillguard.cli.main import main
from distillguard.detect.boost import apply_boost
from distillguard.detect.config import DetectConfig
from distillguard.detect.run import detect
from distillguard.ingest.lake import sql_path
from distillguard.scoring.evidence import Rule, Scored
from distillguard.sharing.boost import PeerBoost
from distillguard.sharing.peer import PeerBundle, PeerIndicator
from tests.sharing.conftest import World


class _Fixed:
    """A boost of a fixed strength per account, for the hook's arithmetic."""

    rule = Rule("fixed", "fixed", "fixed", lambda a: a["fixed"], lambda a, r: {})

    def prepare(self, con: duckdb.DuckDBPyConnection, signals: str, accounts: str | None) -> None:
        return None

    def columns(self, account_id: np.ndarray, window_end: np.ndarray) -> dict[str, np.ndarray]:
        return {"fixed": np.where(account_id == "a", 0.5, 0.0)}


def test_boost_is_a_noisy_or_on_score_and_member_score() -> None:
    arrays = {"account_id": np.array(["a", "b"]), "member_score": np.array([0.2, 0.2])}
    scored = Scored(np.array([0.6, 0.6]), {"x": np.array([0.6, 0.6])})
    boosted = apply_boost(_Fixed(), arrays, scored, np.zeros(2, "datetime64[us]"))
    assert np.allclose(boosted.score, [0.8, 0.6])
    assert np.allclose(arrays["member_score"], [0.6, 0.2])
    assert set(boosted.strengths) == {"x", "fixed"}


def _indicator(kind: str) -> PeerIndicator:
    return PeerIndicator("indicator--1", kind, "k", 1.0, "", datetime(2026, 1, 1), None)


def test_peer_strength_is_causal_and_grows_with_matches() -> None:
    boost = PeerBoost(PeerBundle((_indicator("template_prefix"),), {}, 0, 0), key=None)  # type: ignore[arg-type]
    times = np.array(["2026-02-02T10:00", "2026-02-02T11:00", "2026-02-02T12:00"], "datetime64[us]")
    boost.events = {"a": [(_indicator("template_prefix"), times)]}
    ends = np.array(["2026-02-02T10:00", "2026-02-02T11:30", "2026-02-03T00:00"], "datetime64[us]")
    cols = boost.columns(np.array(["a", "a", "a"]), ends)
    assert cols["peer_matches"].tolist() == [0, 2, 3]  # nothing at or after a row's end counts
    strength = cols["peer_strength"]
    assert strength[0] == 0 and 0 < strength[1] < strength[2] < 0.6
    assert boost.columns(np.array(["b"]), ends[:1])["peer_strength"].tolist() == [0.0]


def test_an_exchange_matching_several_indicators_counts_once() -> None:
    boost = PeerBoost(PeerBundle((_indicator("payment"),), {}, 0, 0), key=None)  # type: ignore[arg-type]
    times = np.array(["2026-02-02T10:00", "2026-02-02T11:00"], "datetime64[us]")
    boost.events = {"a": [(_indicator("payment"), times), (_indicator("template_band"), times[1:])]}
    cols = boost.columns(
        np.array(["a", "a"]), np.array(["2026-02-02T10:30", "2026-02-03"], "datetime64[us]")
    )
    assert cols["peer_matches"].tolist() == [1, 2] and cols["peer_indicators"].tolist() == [1, 2]


# With the rules deciding, the peer evidence joins the rules' noisy-OR (and the member
# scores the cluster flags read); test_combiner_boost checks the combiner's path.
RULES = DetectConfig(decide_by="rules")


@pytest.fixture(scope="module")
def with_indicators(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("with")
    detect([world.lake], out, config=RULES, boost=PeerBoost.from_files(world.bundle, world.key))
    return out


@pytest.fixture(scope="module")
def without_indicators(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("without")
    detect([world.lake], out, config=RULES)
    return out


def _flags(out: Path) -> dict[str, tuple[bool, datetime, str]]:
    path = sql_path(out / "accounts.parquet")
    sql = f"SELECT account_id, flagged, first_flagged_at, reasons FROM read_parquet('{path}')"
    return {a: (f, t, r) for a, f, t, r in duckdb.connect().execute(sql).fetchall()}


def test_indicators_flag_no_later_and_explain_themselves(
    without_indicators: Path, with_indicators: Path
) -> None:
    without, with_ = _flags(without_indicators), _flags(with_indicators)
    for account, (flagged, first, _) in without.items():
        if flagged:
            assert with_[account][0] and with_[account][1] <= first, account
    assert any("matches a peer's indicators" in r for _, _, r in with_.values())


def test_detect_indicators_need_a_key(world: World, tmp_path: Path) -> None:
    args = ["detect", str(world.lake), "--out", str(tmp_path), "--indicators", str(world.bundle)]
    assert main(args) == 2
