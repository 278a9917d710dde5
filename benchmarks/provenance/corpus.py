"""Real text standing in for a teacher model's outputs: the model responses and reference
answers inside the shared judge corpus plus long instruction prompts, split into paragraphs
and deduplicated (the judge template's boilerplate repeats thousands of times). Read from
../shared/data/corpora (or $DISTILLGUARD_CORPORA), never copied into the repository."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import orjson

CORPORA = Path(
    os.environ.get(
        "DISTILLGUARD_CORPORA",
        Path(__file__).resolve().parents[2].parent / "shared" / "data" / "corpora",
    )
)
TEACHER_FILES = ("distill_judge", "distill_instruct", "benign_chat")
UNRELATED_FILES = ("benign_queries", "human_redteam", "task_agentic", "task_math")


def read_corpus(name: str) -> list[str]:
    path = CORPORA / f"{name}.jsonl"
    with path.open("rb") as handle:
        return [str(orjson.loads(line)["text"]) for line in handle if line.strip()]


def teacher_paragraphs(seed: int = 0, min_words: int = 20) -> list[str]:
    """Prose paragraphs (no code), each once, shuffled with `seed`."""
    seen: set[str] = set()
    paragraphs: list[str] = []
    for name in TEACHER_FILES:
        for text in read_corpus(name):
            if "```" in text:
                continue
            for raw in re.split(r"\n\s*\n", text):
                para = raw.strip()
                if (
                    len(para.split()) >= min_words
                    and not para.startswith("###")
                    and para not in seen
                ):
                    seen.add(para)
                    paragraphs.append(para)
    random.Random(seed).shuffle(paragraphs)
    return paragraphs


def unrelated_texts() -> list[str]:
    """Text no student saw and nothing watermarked: queries, red-team prompts, task prompts."""
    return [t for name in UNRELATED_FILES for t in read_corpus(name)]
