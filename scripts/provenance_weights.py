"""Write the natural share of every provenance synonym-group member to weights.tsv.

The watermark picks each member with its natural share, so watermarked text keeps its word
frequencies. Shares come from counts in model-written text (where the watermark will be used:
the second half of the benchmark's teacher paragraphs, in the valid positions the scanner
finds), with wordfreq 3.1.1's general-English frequencies as a prior worth PRIOR_WEIGHT uses.
Needs `pip install wordfreq==3.1.1` (not a project dependency: the table is committed and
only regenerated when groups.txt changes).

    PYTHONPATH=. .venv/bin/python scripts/provenance_weights.py
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.provenance.corpus import teacher_paragraphs
from wordfreq import word_frequency

from distillguard.provenance.groups import SynonymGroup, default_groups
from distillguard.provenance.positions import PositionCounts

OUT = Path(__file__).resolve().parent.parent / "src/distillguard/provenance/weights.tsv"
PRIOR_WEIGHT = 20.0


def shares(group: SynonymGroup, counts: tuple[int, ...]) -> list[float]:
    prior = [word_frequency(m, "en") for m in group.members]
    total_prior = sum(prior)
    n = sum(counts)
    return [
        (c + PRIOR_WEIGHT * p / total_prior) / (n + PRIOR_WEIGHT)
        for c, p in zip(counts, prior, strict=True)
    ]


def main() -> None:
    paragraphs = teacher_paragraphs(seed=0)
    calibration = paragraphs[len(paragraphs) // 2 :]
    totals = PositionCounts.count_many(calibration).group_totals()
    rows = []
    for group in default_groups().groups:
        counts = totals.get(group.name, (0,) * len(group.members))
        for member, share in zip(group.members, shares(group, counts), strict=True):
            rows.append(f"{member}\t{share:.4f}")
    OUT.write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
