"""Which texts of a column a regular expression matches: RE2 both ways, by batch size.

Arrow's `match_substring_regex` runs RE2 over a whole column, but compiles the pattern on
every call: on a lake's batches that is nothing, on the gateway's one prompt it was most
of the cost (about a millisecond per prompt, far more under load). Small batches therefore
search with the same engine, RE2 (google-re2), its patterns compiled once per process,
with the options Arrow gives RE2 (UTF-8, case-sensitive, not literal), so both paths
accept the same patterns and match the same texts (tests/signals/test_regex_parity.py).
RE2 runs in time linear in the text whatever the pattern, as on Arrow's path: a prompt
written to make a backtracking engine stall cannot stall either.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import re2

# Up to this many rows, patterns compiled once search row by row; above it, Arrow's
# vectorised kernel's compile cost is spread thin and its per-row speed wins.
SMALL_BATCH = 64


@functools.cache
def compiled(pattern: str) -> Any:
    """The pattern compiled by RE2 with Arrow's options, once per process."""
    options = re2.Options()
    options.encoding = re2.Options.Encoding.UTF8
    options.case_sensitive = True
    options.literal = False
    options.log_errors = False
    return re2.compile(pattern, options)


def matches_small(texts: pa.Array, pattern: str) -> np.ndarray:
    """Row by row, with the pattern compiled once (nulls match nothing)."""
    regex = compiled(pattern)
    return np.fromiter(
        (t is not None and regex.search(t.encode()) is not None for t in texts.to_pylist()),
        dtype=bool,
        count=len(texts),
    )


def matches_arrow(texts: pa.Array, pattern: str) -> np.ndarray:
    """Arrow's vectorised kernel over the whole column (nulls match nothing)."""
    return np.asarray(pc.fill_null(pc.match_substring_regex(texts, pattern), False))


def matches(texts: pa.Array, pattern: str) -> np.ndarray:
    """Per row, whether `pattern` occurs anywhere in the text."""
    if len(texts) <= SMALL_BATCH:
        return matches_small(texts, pattern)
    return matches_arrow(texts, pattern)
