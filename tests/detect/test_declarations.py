"""A declared organisation is typed at sign-up and costs nothing: the shipped combiner must
score an account the same whoever declares one. Before simulator version 4 no campaign
declared one, and a model trained on those worlds read a declaration as benign (directly,
and through shared-card counts that left declaring members out)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distillguard.detect.run import detect
from distillguard.detect.summary import DetectSummary
from distillguard.ingest import ingest
from distillguard.simulate import SimSummary


def _with_orgs(accounts: pa.Table, orgs: list[str | None]) -> pa.Table:
    column = accounts.schema.get_field_index("org_id")
    return accounts.set_column(column, "org_id", pa.array(orgs, pa.string()))


def _every_card_declares(accounts: pa.Table) -> list[str | None]:
    """Each card's holders declare one organisation named after the card (what a campaign
    sharing cards would type to look like a company)."""
    cards = accounts.column("payment_fingerprint").to_pylist()
    return [f"org-{card}" if card else None for card in cards]


def _detect_with(sim: SimSummary, accounts: pa.Table, tmp: Path, name: str) -> DetectSummary:
    accounts_file = tmp / f"{name}.parquet"
    pq.write_table(accounts, accounts_file)
    lake = tmp / f"{name}-lake"
    ingest([sim.files[0]], lake, [accounts_file])
    return detect([lake], tmp / f"{name}-detect")


def _decisions(summary: DetectSummary) -> dict[str, tuple[object, ...]]:
    return {
        a.account_id: (round(a.score, 12), a.flagged, a.first_flagged_at, a.first_review_at)
        for a in summary.accounts
    }


@pytest.mark.parametrize("declares", ["every card group", "no one"])
def test_a_declaration_moves_no_account(
    tiny_sim: SimSummary, tiny_detect: DetectSummary, tmp_path: Path, declares: str
) -> None:
    accounts = pq.read_table(tiny_sim.files[1])
    assert any(accounts.column("payment_fingerprint").to_pylist())
    orgs: list[str | None] = [None] * len(accounts)
    if declares == "every card group":
        orgs = _every_card_declares(accounts)
    rewritten = _detect_with(tiny_sim, _with_orgs(accounts, orgs), tmp_path, "rewritten")
    assert _decisions(rewritten) == _decisions(tiny_detect)
