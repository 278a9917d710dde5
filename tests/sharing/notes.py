"""Small STIX notes for the TAXII tests: a predictable id, and a size to choose."""

from __future__ import annotations

from typing import Any


def note(i: int, padding: int = 0) -> dict[str, Any]:
    """Note number `i`, its content "note i" followed by `padding` words of 5 bytes."""
    return {
        "type": "note",
        "spec_version": "2.1",
        "id": f"note--00000000-0000-4000-8000-{i:012d}",
        "created": "2026-02-02T00:00:00.000Z",
        "modified": "2026-02-02T00:00:00.000Z",
        "content": f"note {i}" + " word" * padding,
        "object_refs": ["identity--5b0c7a43-8f53-4c35-9d1e-5d1c0f6a2b71"],
    }
