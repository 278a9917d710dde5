"""Robustness: re-test the students' saved answers after an attacker or a paraphraser has
worked on them, and find where the test stops working.

    nice .venv/bin/python -m benchmarks.provenance.robustness --answers DIR/e2e-ngram [--out F]

Reads DIR/e2e-<kind>-1.jsonl and -0.1.jsonl written by end_to_end. Transformations:
- reorder: swap adjacent words with probability r (a crude paraphraser that moves contexts);
- rewrite: each watermark candidate replaced by a random member of its group with probability
  r (an attacker who knows the public group list but not the key);
- canonicalise top N: the N most frequent candidate groups in the answers always written with
  their first member (the attacker filters the most frequent candidates; done on the answers,
  which for these students equals normalising the training data for those groups).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from benchmarks.provenance.corpus import teacher_paragraphs
from benchmarks.provenance.experiment import TRAINING_KEY_SEED, probed_count
from distillguard.provenance.groups import default_groups
from distillguard.provenance.key import WatermarkKey
from distillguard.provenance.positions import Answer, PositionCounts
from distillguard.provenance.verify import NullModel

Transform = Callable[[str, random.Random], str]
_WORD = re.compile(r"[A-Za-z]+")


def reorder(rate: float) -> Transform:
    def apply(text: str, rng: random.Random) -> str:
        words = text.split()
        i = 0
        while i < len(words) - 1:
            if rng.random() < rate:
                words[i], words[i + 1] = words[i + 1], words[i]
                i += 1
            i += 1
        return " ".join(words)

    return apply


def rewrite(rate: float) -> Transform:
    index = default_groups()

    def swap(match: re.Match[str], rng: random.Random) -> str:
        found = index.lookup(match.group(0).lower())
        if found is None or rng.random() >= rate:
            return match.group(0)
        return rng.choice(found[0].members)

    return lambda text, rng: _WORD.sub(lambda m: swap(m, rng), text)


def canonicalise(groups: set[str]) -> Transform:
    index = default_groups()

    def fix(match: re.Match[str]) -> str:
        found = index.lookup(match.group(0).lower())
        if found is None or found[0].name not in groups:
            return match.group(0)
        return found[0].members[0]

    return lambda text, rng: _WORD.sub(fix, text)


def top_groups(answers: list[Answer], n: int) -> set[str]:
    counts: Counter[str] = Counter()
    for (name, _), row in PositionCounts.count_many(answers).counts.items():
        counts[name] += sum(row)
    return {name for name, _ in counts.most_common(n)}


def load(path: Path) -> list[Answer]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [Answer(r["prefix"], r["text"]) for r in rows]


def p_values(
    answers: list[Answer], reference: PositionCounts, key: WatermarkKey
) -> dict[str, float]:
    counts = PositionCounts.count_many(answers)
    return {
        "p_reference": NullModel(counts, reference).evaluate(key).p_value,
        "p_self": NullModel(counts).evaluate(key).p_value,
        "positions": float(counts.positions),
    }


def transforms(answers: list[Answer]) -> dict[str, Transform]:
    out: dict[str, Transform] = {"none": lambda text, rng: text}
    for r in (0.1, 0.3, 0.5):
        out[f"reorder {r:g}"] = reorder(r)
    for r in (0.25, 0.5, 0.75, 0.9, 1.0):
        out[f"rewrite {r:g}"] = rewrite(r)
    for n in (5, 10, 20, 40, 80):
        out[f"canonicalise top {n}"] = canonicalise(top_groups(answers, n))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=Path, required=True, help="DIR/e2e-<kind> prefix")
    parser.add_argument("--paragraphs", type=int, default=0, help="corpus size the run used")
    parser.add_argument("--out", type=Path, default=Path("provenance-robustness.json"))
    args = parser.parse_args()
    key = WatermarkKey.generate(seed=TRAINING_KEY_SEED)
    originals = teacher_paragraphs(seed=0)
    if args.paragraphs:
        originals = originals[: args.paragraphs]
    report: dict[str, dict[str, dict[str, float]]] = {}
    for fraction in (1.0, 0.1):
        probed = originals[: probed_count(len(originals), fraction)]
        reference = PositionCounts.count_many(probed)
        answers = load(Path(f"{args.answers}-{fraction:g}.jsonl"))
        rows: dict[str, dict[str, float]] = {}
        for name, transform in transforms(answers).items():
            rng = random.Random(0)
            changed = [Answer(a.prefix, transform(a.text, rng)) for a in answers]
            rows[name] = p_values(changed, reference, key)
            print(f"{fraction:g} {name}: {json.dumps(rows[name])}", flush=True)
        report[f"{fraction:g}"] = rows
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
