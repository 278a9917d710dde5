"""Write the natural frequency of every provenance synonym-group member to weights.tsv.

The watermark picks each group member with its natural share, so watermarked text keeps the
overall word frequencies. Needs `pip install wordfreq==3.1.1` (not a project dependency: the
table is committed and only regenerated when groups.txt changes).
"""

from __future__ import annotations

from pathlib import Path

from wordfreq import word_frequency

HERE = Path(__file__).resolve().parent.parent / "src" / "distillguard" / "provenance"


def main() -> None:
    words: list[str] = []
    for line in (HERE / "groups.txt").read_text().splitlines():
        body = line.split("#", 1)[0].split("|", 1)[0]
        words.extend(w for w in body.split() if w not in words)
    rows = [f"{w}\t{word_frequency(w, 'en'):.3e}" for w in words]
    (HERE / "weights.tsv").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
