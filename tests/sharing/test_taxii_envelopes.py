"""A push bigger than the server's `max_content_length` goes in several envelopes, each
within it: against medallion (the OASIS reference server, which refuses a bigger request
with 413) and against our own server through `share push`."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from distillguard.cli.main import main
from distillguard.errors import UserError
from distillguard.sharing.taxii.auth import Users, hash_password
from distillguard.sharing.taxii.client import ENVELOPE_OBJECTS, TaxiiClient, envelopes
from distillguard.sharing.taxii.server import make_app
from distillguard.sharing.taxii.store import TaxiiStore
from tests.sharing.notes import note
from tests.sharing.servers import MEDALLION_COLLECTION, medallion_serving, uvicorn_serving

PASSWORD = "correct horse battery staple"


# (case, objects, limit, envelopes expected; None: as few as the greedy packing gives)
CASES: list[tuple[str, list[dict[str, Any]], int | None, int | None]] = [
    ("no limit: one envelope", [note(i) for i in range(50)], None, 1),
    # 6,000 objects in one envelope ran past the push's timeout, 4,681 of them stored
    ("many objects, no limit", [note(i) for i in range(1_200)], None, 3),
    ("many objects within a large limit", [note(i) for i in range(1_001)], 10_000_000, 3),
    ("all fit", [note(i) for i in range(5)], 100_000, 1),
    ("split", [note(i) for i in range(50)], 2_000, None),
    ("one object each", [note(i, padding=20) for i in range(4)], 500, 4),
    ("nothing to send: one empty envelope", [], 1_000, 1),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_envelopes_hold_every_object_in_order_within_the_limit(
    case: tuple[str, list[dict[str, Any]], int | None, int | None],
) -> None:
    _, objects, limit, expected = case
    sent = list(envelopes(objects, limit))
    assert expected is None or len(sent) == expected
    assert all(limit is None or len(e.content) <= limit for e in sent)
    for full, following in itertools.pairwise(sent):  # each full: the next would not fit
        first = json.dumps(json.loads(following.content)["objects"][0], separators=(",", ":"))
        by_size = limit is not None and len(full.content) + 1 + len(first.encode()) > limit
        assert by_size or full.count == ENVELOPE_OBJECTS
    unpacked = [o for e in sent for o in json.loads(e.content)["objects"]]
    assert unpacked == objects and [e.count for e in sent] == [
        len(json.loads(e.content)["objects"]) for e in sent
    ]


def test_an_object_too_big_for_any_envelope_is_one_line_naming_it() -> None:
    with pytest.raises(UserError, match=r"note--\S+0007 takes .* max_content_length of 800"):
        list(envelopes([note(1), note(7, padding=200)], 800))


def test_a_push_to_medallion_is_split_by_its_max_content_length(tmp_path: Path) -> None:
    notes = [note(i) for i in range(60)]
    with medallion_serving(tmp_path, max_content_length=4_000) as base:
        url = f"{base}/api1/collections/{MEDALLION_COLLECTION}/"
        with TaxiiClient(url, "peer", "secret") as client:
            assert client.max_content_length() == 4_000
            result = client.push(notes)
            pulled = client.pull(limit=50)
    assert (result.success, result.failure, result.total) == (60, 0, 60)
    assert len(result.status_ids) == len(list(envelopes(notes, 4_000))) > 1
    assert sorted(o["id"] for o in pulled) == sorted(o["id"] for o in notes)


def test_share_push_says_it_split_the_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = TaxiiStore(tmp_path / "taxii.duckdb")
    cid = store.add_collection("indicators")
    users = Users({"peer": hash_password(PASSWORD, iterations=1000)})
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"type": "bundle", "objects": [note(i) for i in range(30)]}))
    monkeypatch.setenv("DISTILLGUARD_TAXII_PASSWORD", PASSWORD)
    with uvicorn_serving(make_app(store, users, max_content=3_000)) as base:
        url = f"{base}/api1/collections/{cid}/"
        code = main(["share", "push", str(bundle), "--url", url, "--user", "peer"])
    store.close()
    out = capsys.readouterr().out
    assert code == 0 and "30/30 objects accepted, 0 failed (in " in out


def _mock_client(limit: int, refuse_from: int | None = None) -> tuple[TaxiiClient, list[int]]:
    """A client whose server (httpx's mock transport) states `limit` and takes envelopes,
    refusing from the `refuse_from`-th one with 413; the sizes of the POSTs it saw."""
    posts: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"title": "root", "max_content_length": limit})
        posts.append(len(request.content))
        if refuse_from is not None and len(posts) >= refuse_from:
            return httpx.Response(413, json={"title": "envelope too large"})
        count = len(json.loads(request.content)["objects"])
        return httpx.Response(202, json={"id": f"s{len(posts)}", "total_count": count,
                                         "success_count": count, "failure_count": 0})  # fmt: skip

    client = TaxiiClient("http://taxii.test/api1/collections/c1/", "peer", PASSWORD)
    client._http = httpx.Client(transport=httpx.MockTransport(answer))
    return client, posts


def test_an_object_too_big_stops_the_push_before_anything_is_sent() -> None:
    """Envelopes were sent as they were packed: two were on the server before the third
    object turned out too big, and the one line said nothing of them."""
    client, posts = _mock_client(limit=800)
    with client, pytest.raises(UserError, match="over the server's max_content_length"):
        client.push([note(1), note(2), note(7, padding=200)])
    assert posts == []


def test_an_envelope_refused_midway_says_what_was_taken_before_it() -> None:
    client, posts = _mock_client(limit=800, refuse_from=2)
    with client, pytest.raises(UserError) as refused:
        client.push([note(i, padding=20) for i in range(6)])
    assert len(posts) == 2  # the first taken, the second refused, the third never sent
    message = str(refused.value)
    assert "HTTP 413" in message and "(envelope 2 of " in message
    assert "the 1 before it were taken: 2 of 2 objects accepted" in message
