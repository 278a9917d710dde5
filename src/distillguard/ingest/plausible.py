"""Plausible time: exchanges stamped outside a window are quarantined at ingest.

A timestamp in 1960 or 9999 is a broken clock or a bad conversion, never traffic; kept, it
would stretch the lake's time range over centuries. The window defaults to 2020-01-01 (before
any LLM API traffic worth harvesting) up to a day after the run (clock skew between the
logging host and this one); `ingest --earliest/--latest` moves it. Reasons name the bound
the way it was given, so re-ingesting a file quarantines its rows with the same reason and
the quarantine keeps them once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from distillguard.errors import UserError

DEFAULT_EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)
DEFAULT_AHEAD = timedelta(days=1)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class TimeWindow:
    """[earliest, latest] for exchange timestamps; `latest_given` is False when `latest`
    is the default, a day after the run."""

    earliest: datetime
    latest: datetime
    latest_given: bool = False

    @classmethod
    def around(
        cls,
        now: datetime | None = None,
        earliest: datetime | None = None,
        latest: datetime | None = None,
    ) -> TimeWindow:
        window = cls(
            earliest or DEFAULT_EARLIEST,
            latest or (now or datetime.now(UTC)) + DEFAULT_AHEAD,
            latest_given=latest is not None,
        )
        if window.earliest >= window.latest:
            raise UserError(
                f"the time window is empty: --earliest {_iso(window.earliest)} is not before"
                f" --latest {_iso(window.latest)}"
            )
        return window

    def reason(self, ts: datetime) -> str:
        when = f"field 'ts': {_iso(ts)} is"
        if ts < self.earliest:
            return f"{when} before the earliest plausible time {_iso(self.earliest)}"
        if self.latest_given:
            return f"{when} after the latest plausible time {_iso(self.latest)}"
        return f"{when} more than a day after the run"

    def outside(self, ts: pa.ChunkedArray | pa.Array) -> np.ndarray:
        """A mask of the timestamps outside the window (nulls are not outside)."""
        low = pa.scalar(self.earliest, type=ts.type)
        high = pa.scalar(self.latest, type=ts.type)
        out = pc.or_(pc.less(ts, low), pc.greater(ts, high))
        return np.asarray(pc.fill_null(out, False), dtype=bool)


def parse_time(text: str) -> datetime:
    """A --earliest/--latest value: RFC 3339, or a date (midnight UTC); naive means UTC."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(
            f"not a time: {text!r} (expected e.g. 2024-01-01 or 2024-01-01T00:00Z)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
