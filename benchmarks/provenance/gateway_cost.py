"""What the degrade step's watermark costs the gateway: CPU time per response, whole and streamed.

    nice .venv/bin/python -m benchmarks.provenance.gateway_cost [--responses 2000] [--delta 4]

The responses are whole model-written answers from `../shared/data/corpora` (code included,
as served). Whole: `mark_response` on an OpenAI Chat Completions body, as the gateway does for
a non-streamed answer. Streamed: the answer cut into `--delta`-character deltas (about a
token each) and passed, chunk by chunk, through `WatermarkStream`, as the gateway does for an
SSE stream. Both run on the gateway's event loop, so this is the latency each adds to one
response and the time it holds the loop. Times are the thread's CPU time (time.thread_time),
so that other processes on a shared machine do not inflate them.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Any

import numpy as np

from benchmarks.provenance.corpus import TEACHER_FILES, read_corpus
from distillguard.gateway.actions.watermark import WatermarkStream, mark_response
from distillguard.provenance import WatermarkKey


def answers(limit: int, seed: int = 0) -> list[str]:
    texts = [t for name in TEACHER_FILES for t in read_corpus(name) if t.strip()]
    random.Random(seed).shuffle(texts)
    return texts[:limit]


def whole_ms(text: str, key: WatermarkKey) -> float:
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
    started = time.thread_time()
    mark_response("openai", body, key)
    return (time.thread_time() - started) * 1000


def chunks(text: str, size: int) -> list[dict[str, Any]]:
    deltas = [text[i : i + size] for i in range(0, len(text), size)]
    events = [{"choices": [{"index": 0, "delta": {"content": d}}]} for d in deltas]
    return [*events, {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]


def streamed_ms(text: str, key: WatermarkKey, size: int) -> tuple[float, float]:
    """(ms for the whole stream, the slowest single event in ms)."""
    stream, events, slowest = WatermarkStream("openai", key), chunks(text, size), 0.0
    started = time.thread_time()
    for event in events:
        one = time.thread_time()
        stream.on_event(event)
        slowest = max(slowest, time.thread_time() - one)
    return (time.thread_time() - started) * 1000, slowest * 1000


def percentiles(values: list[float]) -> dict[str, float]:
    return {f"p{q}": round(float(np.percentile(values, q)), 3) for q in (50, 90, 99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--responses", type=int, default=2000)
    parser.add_argument("--delta", type=int, default=4, help="characters per streamed delta")
    args = parser.parse_args()
    key, texts = WatermarkKey.generate(seed=0), answers(args.responses)
    for text in texts[:50]:  # warm-up: the group index and code paths
        whole_ms(text, key)
    words = sum(len(t.split()) for t in texts)
    whole = [whole_ms(t, key) for t in texts]
    streamed = [streamed_ms(t, key, args.delta) for t in texts]
    report = {
        "responses": len(texts),
        "words_per_response_mean": round(words / len(texts)),
        "whole_ms": percentiles(whole),
        "whole_words_per_s": round(words / (sum(whole) / 1000)),
        "whole_ms_per_1000_words": round(sum(whole) / words * 1000, 3),
        "streamed_ms": percentiles([s[0] for s in streamed]),
        "streamed_words_per_s": round(words / (sum(s[0] for s in streamed) / 1000)),
        "slowest_event_ms": percentiles([s[1] for s in streamed]),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
