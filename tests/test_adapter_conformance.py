"""Every registered adapter passes the same checks: it names and describes itself, knows its
own shape and no other, and turns its samples into rows the validator keeps."""

from __future__ import annotations

import pytest

from distillguard.ingest.adapters import ADAPTERS, Adapter
from distillguard.schema import validate_account, validate_exchange
from tests.samples import SAMPLES


@pytest.fixture(params=sorted(ADAPTERS))
def adapter(request: pytest.FixtureRequest) -> Adapter:
    return ADAPTERS[request.param]()


def test_every_adapter_has_samples() -> None:
    assert set(SAMPLES) == set(ADAPTERS)


def test_names_and_descriptions(adapter: Adapter) -> None:
    assert adapter.name and adapter.name == adapter.name.lower()
    assert len(adapter.description) > 20


def test_matches_its_own_samples_only(adapter: Adapter) -> None:
    for name, records in SAMPLES.items():
        for record in records:
            if name == adapter.name:
                assert adapter.matches(record), f"{adapter.name} does not know its own sample"
            elif adapter.name != "exchange-log":
                assert not adapter.matches(record), f"{adapter.name} claims a {name} record"


def test_samples_convert_to_valid_rows(adapter: Adapter) -> None:
    for record in SAMPLES[adapter.name]:
        rows = [validate_exchange(row) for row in adapter.convert(record)]
        assert rows, f"{adapter.name} produced no row"
        assert all(row.request_id and row.account_id for row in rows)


def test_non_objects_are_not_matched(adapter: Adapter) -> None:
    for value in (None, 3, "text", [1, 2]):
        assert not adapter.matches(value)


def test_declared_accounts_are_valid_rows_of_the_records_own_account(adapter: Adapter) -> None:
    for record in SAMPLES[adapter.name]:
        declared = adapter.account(record)
        if declared is not None:
            rows = list(adapter.convert(record))
            assert all(isinstance(row, dict) for row in rows)  # no exchange it cannot read
            accounts = {row["account_id"] for row in rows if isinstance(row, dict)}
            assert validate_account(declared).account_id in accounts
    for value in (None, 3, "text", [1, 2]):
        assert adapter.account(value) is None
