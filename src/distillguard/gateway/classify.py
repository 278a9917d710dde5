"""The content classifiers on requests: one through the classifiers' own one-text code,
many through the batch code that `detect` runs.

`detect` scores a lake with `signals.registry.compute_signals`, whose lexicon signals score
a small batch text by text with `LexiconClassifier.score_text`. A single request calls that
same function on its prompt, extracted and lower-cased without Arrow: a one-row Arrow
batch cost 0.16-0.23 ms a request, about 0.14 ms of it building and slicing arrays. Tests
hold both paths equal on simulated rows and on edge cases, so a prompt scores the same
live as in a replay.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pyarrow as pa

from distillguard.errors import unknown_name_error
from distillguard.schema.exchange_log import EXCHANGES_SCHEMA
from distillguard.signals.base import BatchContext
from distillguard.signals.lexicon import CLASSIFIERS
from distillguard.signals.registry import get_signal
from distillguard.signals.text import last_text_of_row, lower_one

CLASSIFIER_NAMES = tuple(c.name for c in CLASSIFIERS)
_BY_NAME = {c.name: c for c in CLASSIFIERS}
_MESSAGES = pa.schema([EXCHANGES_SCHEMA.field("messages")])


def check_classifier(name: str) -> str:
    if name not in CLASSIFIER_NAMES:
        raise unknown_name_error("request classifier", name, list(CLASSIFIER_NAMES))
    return name


def score_many(rows: list[dict[str, Any]], names: tuple[str, ...]) -> list[dict[str, float]]:
    """P(positive) of each named classifier for each exchange-log row, as a batch."""
    if not rows or not names:
        return [{} for _ in rows]
    table = pa.Table.from_pylist([{"messages": r["messages"]} for r in rows], schema=_MESSAGES)
    ctx = BatchContext(table)
    columns = {n: get_signal(n).compute(ctx)[f"p_{n}"].tolist() for n in names}
    return [{n: float(columns[n][i]) for n in names} for i in range(len(rows))]


def score_one(row: dict[str, Any], names: tuple[str, ...]) -> dict[str, float]:
    """What `score_many` gives this row, from its Python objects."""
    return score_prompt(last_text_of_row(row["messages"]), names)


def score_prompt(prompt: str, names: tuple[str, ...]) -> dict[str, float]:
    """`score_one` of a row whose last message's text is `prompt`."""
    lowered = lower_one(prompt)
    return {n: _BY_NAME[n].score_text(lowered) for n in names}


# Prompts up to this many characters are scored on the event loop: RE2 runs in time linear
# in the text, so that is at most about 0.1 ms here, less than the hop to a thread and back
# costs (measured: 0.2 ms of CPU and more latency under load). Longer ones go to a thread.
INLINE_CHARS = 4_000


class ClassifierWorker:
    """Scores prompts within a timeout: short ones on the event loop, long ones off it.

    Off the loop, the requests that queue while a batch runs are scored together in the
    next one (the batch code costs about the same for one row as for a few). On the loop,
    a score that took longer than the timeout is a timeout all the same: the fail mode
    decides, as it does for a thread that did not answer.
    """

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = tuple(check_classifier(n) for n in names)
        self._pending: list[tuple[dict[str, Any], asyncio.Future[dict[str, float]]]] = []
        self._task: asyncio.Task[None] | None = None

    async def score(self, row: dict[str, Any], timeout_s: float) -> dict[str, float]:
        if not self.names:
            return {}
        prompt = last_text_of_row(row["messages"])  # the last message: all they read
        if self._task is None and len(prompt) <= INLINE_CHARS:
            return self._score_inline(prompt, timeout_s)
        return await asyncio.wait_for(self._score_off_loop(row), timeout_s)

    def _score_inline(self, prompt: str, timeout_s: float) -> dict[str, float]:
        started = time.perf_counter()
        scores = score_prompt(prompt, self.names)
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError(f"classifiers took longer than {timeout_s * 1000:g} ms")
        return scores

    async def _score_off_loop(self, row: dict[str, Any]) -> dict[str, float]:
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
