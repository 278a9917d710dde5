"""The body cap of the console and the TAXII server: a body past it is refused with 413
and read no further, whether it declares its length or comes in chunks; a body the app
does not read is not read for it, and a client that leaves midway is seen to leave."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from distillguard.body_limit import BodyLimit, BodyTooLargeError

LIMIT = 1000


class Echo:
    """An app that reads the whole body and answers with its length."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(body)).encode()})


class Refuser:
    """An app that answers 401 without reading the body (a request without credentials)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _run(chunks: list[bytes], length: str | None, app: Any = None) -> tuple[int, list[bytes], int]:
    """(status, bodies the app read, chunks the client was asked for)."""
    app, asked, sent = app or Echo(), [0], []
    headers = [(b"content-length", length.encode())] if length is not None else []
    scope: dict[str, Any] = {"type": "http", "headers": headers}

    async def receive() -> Message:
        index = asked[0]
        asked[0] += 1
        more = index < len(chunks) - 1
        return {"type": "http.request", "body": chunks[index] if chunks else b"", "more_body": more}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(BodyLimit(app, LIMIT)(scope, receive, send))
    return sent[0]["status"], getattr(app, "bodies", []), asked[0]


# (case, chunks, declared length, status, chunks asked for)
CASES = [
    ("no body", [], "0", 200, 1),
    ("within, declared", [b"x" * 600], "600", 200, 1),
    ("within, in chunks", [b"x" * 300] * 3, None, 200, 3),
    ("exactly the limit", [b"x" * 500] * 2, None, 200, 2),
    ("past, declared", [b"x" * 2000], "2000", 413, 0),
    ("past, in chunks", [b"x" * 400] * 50, None, 413, 3),
    ("a length that is not a number", [b"x"], "-1", 413, 0),
]


@pytest.mark.parametrize(("case", "chunks", "length", "status", "asked"), CASES,
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_a_body_past_the_limit_is_refused_and_not_read_on(
    case: str, chunks: list[bytes], length: str | None, status: int, asked: int
) -> None:
    got, bodies, read = _run(chunks, length)
    assert (got, read) == (status, asked), case
    assert bodies == ([b"".join(chunks)] if status == 200 else []), case


def test_a_body_the_app_does_not_read_is_not_read_for_it() -> None:
    """The first version read up to the cap (10 MiB on TAXII) before the app checked the
    credentials: N clients without any held N x 10 MiB."""
    assert _run([b"x" * 400] * 2, "800", app=Refuser()) == (401, [], 0)


def test_a_client_that_leaves_midway_is_seen_to_leave() -> None:
    """The first version handed the app the half it had, as a whole body: a console
    decision with half its note."""
    seen: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.extend([await receive(), await receive()])

    given: list[Message] = [
        {"type": "http.request", "body": b"note=first half", "more_body": True},
        {"type": "http.disconnect"},
    ]
    messages = iter(given)

    async def receive() -> Message:
        return next(messages)

    async def send(message: Message) -> None:
        raise AssertionError("nothing is sent to a client that left")

    asyncio.run(BodyLimit(app, LIMIT)({"type": "http", "headers": []}, receive, send))
    assert [m["type"] for m in seen] == ["http.request", "http.disconnect"]
    assert seen[0]["more_body"] is True


def test_the_refusal_reaches_the_app_as_an_error_when_it_reads_past_the_cap() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        with pytest.raises(BodyTooLargeError):
            while True:
                await receive()
        raise BodyTooLargeError  # as an app that does not catch it would let it through

    status, _, asked = _run([b"x" * 600] * 3, None, app=app)
    assert (status, asked) == (413, 2)
