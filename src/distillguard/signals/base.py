"""What a per-exchange signal is, and the batch context signals share.

A signal is a pure function of a batch of exchanges: it reads columns (through the
context, which computes shared inputs such as the lower-cased prompt once) and returns
named columns of the same length. Signals are registered explicitly in `registry.py`.
"""

from __future__ import annotations

import abc
import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from distillguard.signals.text import block_counts, last_user_text, role_counts, skeleton


class BatchContext:
    """One batch of exchanges and the derived inputs several signals read."""

    def __init__(self, batch: pa.Table) -> None:
        self.batch = batch

    def __len__(self) -> int:
        return int(self.batch.num_rows)

    def column(self, name: str) -> pa.Array:
        column = self.batch[name]
        return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column

    @functools.cached_property
    def prompt(self) -> pa.Array:
        return last_user_text(self.column("messages"))

    @functools.cached_property
    def lowered(self) -> pa.Array:
        return pc.utf8_lower(self.prompt)

    @functools.cached_property
    def skeleton(self) -> pa.Array:
        return skeleton(self.lowered)

    @functools.cached_property
    def images(self) -> np.ndarray:
        return block_counts(self.column("messages"), "image")

    @functools.cached_property
    def tool_blocks(self) -> np.ndarray:
        messages = self.column("messages")
        loops = block_counts(messages, "tool_use") + block_counts(messages, "tool_result")
        return np.asarray(loops, dtype=np.int64)

    @functools.cached_property
    def user_turns(self) -> np.ndarray:
        return role_counts(self.column("messages"), "user")


Columns = dict[str, np.ndarray | pa.Array]


class Signal(abc.ABC):
    """A per-exchange signal producing the columns it declares."""

    name: str
    columns: tuple[str, ...]
    description: str

    @abc.abstractmethod
    def compute(self, ctx: BatchContext) -> Columns:
        """Declared columns for every row of the batch."""
