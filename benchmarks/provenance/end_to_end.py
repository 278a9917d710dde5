"""End to end: students trained from scratch on watermarked, unwatermarked and mixed teacher
outputs; the provenance test on their generations; false positives over many keys.

    nice .venv/bin/python -m benchmarks.provenance.end_to_end [--students ngram,mlp] [--keys N]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from benchmarks.provenance.corpus import teacher_paragraphs, unrelated_texts
from benchmarks.provenance.experiment import (
    TRAINING_KEY_SEED,
    Corpus,
    Generate,
    answers,
    false_positive_rate,
    probe_prefixes,
    score_outputs,
    served_corpus,
)
from benchmarks.provenance.students import MLPStudent, NGramStudent
from distillguard.provenance.key import WatermarkKey

FRACTIONS = {
    "unwatermarked": 0.0,
    "all watermarked": 1.0,
    "10% watermarked": 0.1,
    "5% watermarked": 0.05,
}


def train(kind: str, texts: list[str], seed: int, epochs: int = 2) -> Generate:
    if kind == "ngram":
        ngram = NGramStudent().fit(texts)

        def gen_ngram(prefixes: Sequence[str], s: int) -> list[str]:
            rng = random.Random(s)
            return [ngram.generate(p, 12, rng) for p in prefixes]

        return gen_ngram
    mlp = MLPStudent(seed=seed)
    losses = mlp.fit(texts, epochs=epochs)
    print(f"  mlp losses per epoch {[round(x, 3) for x in losses]}", flush=True)
    return lambda prefixes, s: mlp.generate_many(prefixes, 4, s)


def run_kind(kind: str, originals: list[str], args: argparse.Namespace) -> dict[str, object]:
    key = WatermarkKey.generate(seed=TRAINING_KEY_SEED)
    rows: dict[str, object] = {}
    wanted = {float(f) for f in args.fractions.split(",")}
    for label, fraction in FRACTIONS.items():
        if fraction not in wanted:
            continue
        start = time.perf_counter()
        corpus: Corpus = served_corpus(originals, fraction, key, args.probe_share)
        generate = train(kind, corpus.served, seed=1, epochs=args.mlp_epochs)
        prefixes = probe_prefixes(corpus, args.repeats * (4 if kind == "mlp" else 1))
        continuations = generate(prefixes, 7)
        outputs = answers(prefixes, continuations)
        save_answers(
            args.out.parent / f"{args.out.stem}-{kind}-{fraction:g}.jsonl", prefixes, continuations
        )
        outcome = score_outputs(outputs, corpus, key)
        row: dict[str, object] = {**asdict(outcome), "seconds": round(time.perf_counter() - start)}
        if fraction in (0.0, 1.0):  # no key, or the wrong key: p-values should be uniform
            fp = false_positive_rate(outputs, corpus.marked_originals, args.keys, 10**6)
            row["false_positives_over_keys"] = asdict(fp)
        rows[label] = row
        print(f"{kind} {label}: {json.dumps(row)}", flush=True)
    return rows


def save_answers(path: Path, prefixes: list[str], continuations: list[str]) -> None:
    """The student's answers as `provenance test --suspect` reads them (for robustness runs)."""
    rows = (
        json.dumps({"prefix": p, "text": c}) for p, c in zip(prefixes, continuations, strict=True)
    )
    path.write_text("".join(row + "\n" for row in rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", default="ngram,mlp")
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=10, help="times each probe is sent")
    parser.add_argument("--mlp-paragraphs", type=int, default=3000)
    parser.add_argument("--mlp-epochs", type=int, default=2)
    parser.add_argument(
        "--probe-share", type=float, default=0.1, help="most of the corpus probes come from"
    )
    parser.add_argument("--fractions", default="0,1,0.1,0.05", help="watermarked shares to run")
    parser.add_argument("--skip-unrelated", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("provenance-end-to-end.json"))
    args = parser.parse_args()
    originals = teacher_paragraphs(seed=0)
    print(f"teacher corpus: {len(originals)} paragraphs", flush=True)
    results: dict[str, object] = {}
    for kind in args.students.split(","):
        texts = originals if kind == "ngram" else originals[: args.mlp_paragraphs]
        results[kind] = run_kind(kind, texts, args)
    if args.skip_unrelated:
        args.out.write_text(json.dumps(results, indent=2))
        return
    unrelated = unrelated_texts()
    fp = false_positive_rate(unrelated, None, args.keys, 2 * 10**6)
    results["unrelated text"] = asdict(fp)
    print(f"unrelated text ({len(unrelated)} texts): {json.dumps(asdict(fp))}", flush=True)
    args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
