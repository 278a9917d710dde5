"""Times read back from files people and other tools write: always with their zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def zoned_time(text: Any) -> datetime:
    """An ISO 8601 time that carries its zone. A bare one is refused (ValueError): it could
    not be compared with the UTC times it is checked against, and guessing a zone would
    move an expiry by hours."""
    value = datetime.fromisoformat(str(text))
    if value.tzinfo is None:
        raise ValueError(f"time {text} has no zone; write it as {text}+00:00")
    return value
