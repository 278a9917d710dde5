"""evaluate finds the labels simulate wrote, in whichever --format it wrote them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from distillguard.detect.run import DetectSummary
from distillguard.errors import UserError
from distillguard.evaluate.metrics import evaluate
from distillguard.simulate import SimSummary


@pytest.mark.parametrize("name", ["labels.jsonl.gz", "labels.jsonl"])
def test_a_folder_of_jsonl_labels_evaluates_as_parquet_does(
    tiny_sim: SimSummary, tiny_detect: DetectSummary, tmp_path: Path, name: str
) -> None:
    parquet = next(p for p in tiny_sim.files if p.name == "labels.parquet")
    rows = pq.read_table(parquet).to_pylist()
    text = "".join(json.dumps(r, default=str) + "\n" for r in rows).encode()
    (tmp_path / name).write_bytes(gzip.compress(text) if name.endswith(".gz") else text)
    from_jsonl = evaluate(tiny_detect.out, tmp_path)
    assert from_jsonl == evaluate(tiny_detect.out, parquet.parent)


def test_a_folder_without_labels_names_what_it_looked_for(
    tiny_detect: DetectSummary, tmp_path: Path
) -> None:
    with pytest.raises(UserError, match=r"looked for labels\.parquet, labels\.jsonl\.gz"):
        evaluate(tiny_detect.out, tmp_path)
