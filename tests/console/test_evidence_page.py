"""The evidence part of a case page, rendered alone: what it says where the data is thin."""

from __future__ import annotations

from typing import Any

import pytest

from distillguard.console.casefacts import Links
from distillguard.console.users import User
from distillguard.console.web import ENV

SAMPLE = {
    "request_id": "r-1",
    "account_id": "acct-1",
    "ts": "2026-02-02 10:00",
    "model": "m",
    "system": "",
    "prompt": "Explain step by step.",
    "prompt_chars": 21,
}


def _render(output: str, role: str) -> str:
    context: dict[str, Any] = {
        "case": {"kind": "account", "id": "acct-1"},
        "evidence": [],
        "plots": [],
        "graph": "",
        "links": Links([], []),
        "accounts": ["acct-1"],
        "samples": [{**SAMPLE, "output": output, "output_chars": len(output)}],
        "user": User("alice", role),
    }
    return ENV.get_template("evidence.html").render(**context)


@pytest.mark.parametrize(
    ("output", "role", "shown"),
    [
        ("The answer is 4.", "analyst", "The answer is 4."),
        ("", "analyst", "none logged (the log keeps no output text for this exchange)"),
        ("The answer is 4.", "viewer", "[redacted: 16 characters]"),
    ],
)
def test_the_output_column_says_what_it_holds(output: str, role: str, shown: str) -> None:
    assert shown in _render(output, role)
