"""The body cap of the console and the TAXII server: a body past it is refused with 413
and read no further, whether it declares its length or comes in chunks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from distillguard.body_limit import BodyLimit

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


def _run(chunks: list[bytes], length: str | None) -> tuple[int, list[bytes], int]:
    """(status, bodies the app read, chunks the client was asked for)."""
    app, asked, sent = Echo(), [0], []
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
    return sent[0]["status"], app.bodies, asked[0]


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
