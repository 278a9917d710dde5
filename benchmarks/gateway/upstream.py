"""The tests' fake OpenAI/Anthropic upstream as its own process, for the gateway benchmark."""

from __future__ import annotations

import argparse
import gc

import uvicorn
from tests.fake_upstream import FakeUpstream, build


class Forgetful(FakeUpstream):
    """Keeps no record of requests: a long benchmark must not grow its memory."""

    def __post_init__(self) -> None:
        self.requests = _Discard()


class _Discard(list):  # type: ignore[type-arg]
    def append(self, item: object) -> None:
        del item


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # A stand-in for the model API: its full collections (tens of ms) are not the gateway's.
    gc.collect()
    gc.freeze()
    uvicorn.run(build(Forgetful()), host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False)  # fmt: skip


if __name__ == "__main__":
    main()
