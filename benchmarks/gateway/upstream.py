"""The tests' fake OpenAI/Anthropic upstream as its own process, for the gateway benchmark."""

from __future__ import annotations

import argparse
import gc
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from tests.fake_upstream import FakeUpstream, build


class _Discard(list):  # type: ignore[type-arg]
    def append(self, item: object) -> None:
        del item


@dataclass
class Forgetful(FakeUpstream):
    """Keeps no record of requests: a long benchmark must not grow its memory.

    A dataclass of its own, so that the field below is what `__init__` sets (a bare
    `__post_init__` on a subclass is never called: the parent's generated `__init__`
    has no call to it, and the upstream kept every request it served).
    """

    requests: list[dict[str, Any]] = field(default_factory=_Discard)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # A stand-in for the model API: its full collections are not the gateway's latency.
    gc.collect()
    gc.freeze()
    uvicorn.run(build(Forgetful()), host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False)  # fmt: skip


if __name__ == "__main__":
    main()
