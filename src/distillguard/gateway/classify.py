"""The content classifiers on one request: a one-row Arrow batch through the batch code.

`detect` scores a lake with `signals.registry.compute_signals`; the gateway runs the very
same signals on a batch of one, so a prompt scores the same live as in a replay. The
batch holds only the messages, the one column these signals read: building the whole
exchange-log row as Arrow cost a third of the classifiers' time per request.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pyarrow as pa

from distillguard.errors import unknown_name_error
from distillguard.schema.exchange_log import EXCHANGES_SCHEMA
from distillguard.signals.base import BatchContext
from distillguard.signals.lexicon import CLASSIFIERS
from distillguard.signals.registry import get_signal

CLASSIFIER_NAMES = tuple(c.name for c in CLASSIFIERS)
_MESSAGES = pa.schema([EXCHANGES_SCHEMA.field("messages")])


def check_classifier(name: str) -> str:
    if name not in CLASSIFIER_NAMES:
        raise unknown_name_error("request classifier", name, list(CLASSIFIER_NAMES))
    return name


def score_many(rows: list[dict[str, Any]], names: tuple[str, ...]) -> list[dict[str, float]]:
    """P(positive) of each named classifier for each exchange-log row."""
    if not rows or not names:
        return [{} for _ in rows]
    table = pa.Table.from_pylist([{"messages": r["messages"]} for r in rows], schema=_MESSAGES)
    ctx = BatchContext(table)
    columns = {n: get_signal(n).compute(ctx)[f"p_{n}"].tolist() for n in names}
    return [{n: float(columns[n][i]) for n in names} for i in range(len(rows))]


def score_one(row: dict[str, Any], names: tuple[str, ...]) -> dict[str, float]:
    return score_many([row], names)[0]


class ClassifierWorker:
    """Scores prompts off the event loop, batching the requests that arrive meanwhile.

    The batch code costs about the same for one row as for a few, so the requests that
    queue while a batch runs are scored together in the next one.
    """

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = tuple(check_classifier(n) for n in names)
        self._pending: list[tuple[dict[str, Any], asyncio.Future[dict[str, float]]]] = []
        self._task: asyncio.Task[None] | None = None

    async def score(self, row: dict[str, Any]) -> dict[str, float]:
        if not self.names:
            return {}
        future: asyncio.Future[dict[str, float]] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    scores = await asyncio.to_thread(score_many, [r for r, _ in batch], self.names)
                except Exception as exc:  # a classifier fault is the fail mode's to handle
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), score in zip(batch, scores, strict=True):
                    if not future.done():
                        future.set_result(score)
        finally:
            self._task = None
