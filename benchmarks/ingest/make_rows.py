"""Exchange-log rows for the ingest benchmark: realistic sizes, varied content, fast to make."""

from __future__ import annotations

import gzip
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

WORDS = [
    "explain",
    "the",
    "difference",
    "between",
    "a",
    "process",
    "and",
    "a",
    "thread",
    "in",
    "operating",
    "systems",
    "and",
    "give",
    "examples",
    "write",
    "python",
    "function",
    "that",
    "parses",
    "log",
    "lines",
    "into",
    "records",
    "summarise",
    "this",
    "article",
    "about",
    "climate",
    "policy",
    "compare",
    "two",
    "sorting",
    "algorithms",
    "step",
    "by",
    "step",
    "reasoning",
    "translate",
    "paragraph",
    "into",
    "french",
    "debug",
    "failing",
    "unit",
    "test",
    "database",
    "index",
    "query",
    "plan",
]
MODELS = ("model-a-2026-01", "model-b-2026-02", "model-small-2025-10")
AGENTS = ("anthropic-python/0.72.0", "openai-python/2.3.0", "claude-code/2.1.4", "curl/8.5.0")


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def _pool(rng: random.Random, low: int, high: int) -> list[str]:
    return [_text(rng, low, high) for _ in range(2000)]


def make_row(
    rng: random.Random, index: int, start: datetime, prompts: list[str], outputs: list[str]
) -> dict[str, object]:
    account = rng.randrange(20_000)
    return {
        "request_id": f"req_{index:012d}",
        "ts": (start + timedelta(seconds=index * 0.5)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "account_id": f"acct_{account:06d}",
        "api_key_id": f"key_{account:06d}_{rng.randrange(3)}",
        "access_path": rng.choice(("api", "api", "cloud:aws", "reseller:example")),
        "ip": ".".join(str(rng.randrange(1, 223)) for _ in range(4)),
        "asn": rng.randrange(1000, 65000),
        "country": rng.choice(("US", "DE", "IN", "BR", "JP")),
        "user_agent": rng.choice(AGENTS),
        "model": rng.choice(MODELS),
        "max_tokens": rng.choice((1024, 4096, 8192)),
        "temperature": rng.choice((0.0, 0.7, 1.0)),
        "thinking_budget": rng.choice((None, 0, 2048)),
        "tools": rng.choice((None, ["bash", "read_file"], ["search"])),
        "system": rng.choice((None, "You are a helpful assistant.")),
        "messages": [{"role": "user", "content": rng.choice(prompts)}],
        "status": 200,
        "stop_reason": "end_turn",
        "input_tokens": rng.randrange(20, 3000),
        "output_tokens": rng.randrange(20, 3000),
        "reasoning_tokens": None,
        "latency_ms": rng.randrange(200, 30000),
        "output_text": rng.choice(outputs),
    }


def write_rows(path: Path, count: int, seed: int = 0) -> int:
    """Write `count` rows as JSONL (gzip if the name ends in .gz); returns bytes written."""
    rng = random.Random(seed)
    start = datetime(2026, 2, 1, tzinfo=UTC)
    prompts, outputs = _pool(rng, 10, 120), _pool(rng, 20, 200)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wb") as handle:
        for index in range(count):
            handle.write(orjson.dumps(make_row(rng, index, start, prompts, outputs)) + b"\n")
    return path.stat().st_size
