"""The LiteLLM adapter on logs a real LiteLLM proxy wrote (tests/fixtures/real, captured by
scripts/capture_fixtures.sh: master key only, and virtual keys of users in teams)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq

from distillguard.ingest import Lake, ingest
from distillguard.ingest.adapters import FieldMapping, get_adapter
from distillguard.schema import validate_exchange
from tests.conftest import write_jsonl

REAL = Path(__file__).parent / "fixtures" / "real"
MASTER = REAL / "litellm-master-key.jsonl"
KEYS = REAL / "litellm-virtual-keys.jsonl"


def payloads(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def rows(path: Path, mapping: FieldMapping | None = None) -> list[Any]:
    adapter = get_adapter("litellm", mapping)
    return [validate_exchange(r) for p in payloads(path) for r in adapter.convert(p)]


def test_master_key_users_stay_apart() -> None:
    """Every payload says user_api_key_user_id = default_user_id; the end users differ."""
    assert {p["metadata"]["user_api_key_user_id"] for p in payloads(MASTER)} == {"default_user_id"}
    accounts = {r.account_id for r in rows(MASTER)}
    people = {f"{name}@example.com" for name in ("alice", "bob", "carol", "dave")}
    assert accounts == people | {"litellm_proxy_master_key"}


def test_virtual_keys_are_their_users_not_their_teams() -> None:
    """Three users in two teams on keys of their own, and a team's service key with no user
    (once used on behalf of an end customer)."""
    converted = rows(KEYS)
    service_key = next(r.api_key_id for r in converted if r.api_key_id.startswith("8a7d3e70"))
    assert {r.account_id for r in converted} == {
        "alice",
        "bob",
        "carol",
        service_key,  # a key with no user is its own account
        "customer-77",  # an end user named by the client beats the key
    }


def test_identity_mapping_stays_overridable() -> None:
    mapping = FieldMapping({"account_id": ("metadata.user_api_key_team_id",)})
    assert {r.account_id for r in rows(KEYS, mapping)} == {"team-research", "team-support"}


def test_failure_keeps_its_http_status() -> None:
    outcomes = [(p["status"], r) for p, r in zip(payloads(MASTER), rows(MASTER), strict=True)]
    [failed] = [r for status, r in outcomes if status == "failure"]
    assert failed.status == 500
    assert (failed.input_tokens, failed.output_tokens, failed.stop_reason) == (None, None, None)
    assert {r.status for status, r in outcomes if status == "success"} == {200}


def test_model_is_what_the_client_asked_for() -> None:
    assert {p["model"] for p in payloads(KEYS)} == {"openai/gpt-4o-mini-2024-07-18", "openai/fail"}
    assert {r.model for r in rows(KEYS)} == {"gpt-4o-mini", "broken-model"}


def test_tool_call_and_streamed_rows() -> None:
    converted = rows(MASTER)
    assert [r.stop_reason for r in converted].count("tool_use") == 1
    streamed = [r for r, p in zip(converted, payloads(MASTER), strict=True) if p["stream"]]
    assert streamed and all(r.output_text and r.output_tokens for r in streamed)


def _accounts(lake: Path) -> dict[str, Any]:
    table = pq.read_table(Lake(lake).accounts_path)
    return dict(zip(table["account_id"].to_pylist(), table["org_id"].to_pylist(), strict=True))


def test_teams_and_organisations_become_org_id(tmp_path: Path) -> None:
    summary = ingest([KEYS], tmp_path / "lake")
    assert (summary.kept, summary.quarantined) == (8, 0)
    orgs = _accounts(tmp_path / "lake")
    assert orgs["alice"] == orgs["bob"] == orgs["carol"] == "org-acme"
    assert orgs["customer-77"] == "team-support"
    assert set(orgs.values()) == {"org-acme", "team-support"}


def test_declared_orgs_never_overwrite_an_accounts_file(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    given = [{"account_id": "alice", "org_id": "org-given"}, {"account_id": "bob", "tier": "paid"}]
    ingest([], lake, [write_jsonl(tmp_path / "accounts.jsonl", given)])
    ingest([KEYS], lake)
    orgs = _accounts(lake)
    assert (orgs["alice"], orgs["bob"]) == ("org-given", "org-acme")
    tiers = pq.read_table(Lake(lake).accounts_path).to_pylist()
    assert next(r for r in tiers if r["account_id"] == "bob")["tier"] == "paid"
