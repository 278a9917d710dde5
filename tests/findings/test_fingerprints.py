from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from distillguard.errors import UserError
from distillguard.findings.collect import FindingsOptions
from distillguard.findings.fingerprints import keyed, read_key, template_fingerprints
from distillguard.findings.sink import RunResults


def test_each_groups_most_used_templates_used_at_least_twice() -> None:
    con = duckdb.connect()
    rows = [("a", 5)] * 3 + [("a", 7)] * 2 + [("a", 9)] + [("b", 7)] * 4 + [("b", 0)] * 9
    rows += [("a", 8)] * 2 + [("a", 6)] * 2
    signals = pa.table({"account_id": [a for a, _ in rows], "skeleton_fp": [f for _, f in rows]})
    con.register("signals", signals)
    groups = {"a": ["a"], "b": ["b"], "c1": ["a", "b"], "none": ["z"]}
    assert template_fingerprints(con, "signals", groups) == {
        "a": (5, 6, 7),  # ties broken by value; 9 was used once; 0 is no template
        "b": (7,),
        "c1": (7, 5, 6),
    }


def test_keyed_fingerprints_depend_on_the_key() -> None:
    assert keyed(b"k" * 16, 1) == keyed(b"k" * 16, 1) != keyed(b"j" * 16, 1)
    assert keyed(b"k" * 16, 1) != keyed(b"k" * 16, 2)


def test_a_short_or_missing_key_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "short").write_bytes(b"tiny\n")
    with pytest.raises(UserError, match="shorter than 16"):
        read_key(tmp_path / "short")
    with pytest.raises(UserError, match="cannot read"):
        read_key(tmp_path / "missing")
    (tmp_path / "ok").write_bytes(b"  0123456789abcdef\n")
    assert read_key(tmp_path / "ok") == b"0123456789abcdef"


def test_the_fingerprint_key_is_never_in_a_repr() -> None:
    """A run's results and options may end up in a log line; the key must not."""
    key = b"s3cret-fingerprint-key-0123456789"
    run = RunResults((), (), datetime(2026, 2, 2, tzinfo=UTC), fingerprint_key=key)
    options = FindingsOptions(fingerprint_key=key)
    for thing in (run, options):
        assert "s3cret" not in repr(thing) and thing.fingerprint_key == key
