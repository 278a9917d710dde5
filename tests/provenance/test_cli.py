from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import pytest

from distillguard.cli.main import main
from distillguard.provenance.key import WatermarkKey
from tests.provenance.test_verify import synthetic_texts


def run(
    args: list[str], capsys: pytest.CaptureFixture[str], stdin: str = ""
) -> tuple[int, str, str]:
    old = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()))
    try:
        code = main(args)
    finally:
        sys.stdin = old
    out = capsys.readouterr()
    return code, out.out, out.err


def write_rows(path: Path, rows: list[str]) -> Path:
    path.write_text("".join(row + "\n" for row in rows))
    return path


def test_keygen_watermark_test_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "key.json"
    code, out, _ = run(["provenance", "keygen", "--out", str(key)], capsys)
    assert code == 0
    assert WatermarkKey.load(key).key_id in out
    texts = synthetic_texts(40, 9)
    stdin = "".join(json.dumps({"text": t, "id": i}) + "\n" for i, t in enumerate(texts))
    stdin += "not json\n\n" + json.dumps({"text": 5}) + "\n"
    code, out, err = run(["provenance", "watermark", "--key", str(key)], capsys, stdin)
    assert code == 0
    lines = out.splitlines()
    assert lines[-3:] == ["not json", "", json.dumps({"text": 5})]  # passed on, in place
    rows = [json.loads(line) for line in lines[:-3]]
    assert [r["id"] for r in rows] == list(range(len(texts)))  # other fields kept
    assert "read 42, passed on unwatermarked 2" in err
    suspect = write_rows(tmp_path / "suspect.jsonl", [json.dumps(r) for r in rows])
    code, out, _ = run(
        ["provenance", "test", "--key", str(key), "--suspect", str(suspect), "--json"], capsys
    )
    result = json.loads(out)
    assert result["p_value"] < 1e-10
    assert result["positions"] > 100
    originals = write_rows(tmp_path / "orig.jsonl", [json.dumps({"text": t}) for t in texts])
    code, out, _ = run(
        [
            "provenance",
            "test",
            "--key",
            str(key),
            "--suspect",
            str(suspect),
            "--reference",
            str(originals),
            "--json",
        ],
        capsys,
    )
    assert json.loads(out)["p_value"] < 1e-10
    assert "reference" in json.loads(out)["baseline"]
    clean = write_rows(tmp_path / "clean.jsonl", [json.dumps({"text": t}) for t in texts])
    code, out, _ = run(["provenance", "test", "--key", str(key), "--suspect", str(clean)], capsys)
    assert code == 0
    assert "p-value" in out
    assert "scored positions" in out
    assert "no evidence" in out or "weak evidence" in out


def test_answers_to_probes_are_scored_in_the_probe_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = WatermarkKey.generate(seed=2)
    key.save(tmp_path / "key.json")
    rows = [{"prefix": f"we {w} often", "text": "big things happen."} for w in ("sa", "sb", "sc")]
    suspect = write_rows(tmp_path / "s.jsonl", [json.dumps(r) for r in rows])
    _code, out, _ = run(
        [
            "provenance",
            "test",
            "--key",
            str(tmp_path / "key.json"),
            "--suspect",
            str(suspect),
            "--json",
        ],
        capsys,
    )
    result = json.loads(out)
    # Only the answers' "big" is scored (the prefixes' "often" never is), each in its own
    # context "<word> often/frequently" taken from the prefix.
    assert (result["positions"], result["contexts"]) == (3, 3)


def test_probes_are_written_from_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_rows(
        tmp_path / "t.jsonl",
        [json.dumps({"text": "In the end we often choose a large model for this task."})] * 3,
    )
    code, out, _ = run(["provenance", "probes", "--from", str(source), "--limit", "5"], capsys)
    assert code == 0
    probes = [json.loads(line) for line in out.splitlines()]
    assert probes
    assert all(p["prompt"].endswith(p["prefix"]) for p in probes)
    assert {p["prefix"] for p in probes} >= {"In the end we", "In the end we often choose a"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["provenance", "test", "--key", "{tmp}/missing.json", "--suspect", "{tmp}/s.jsonl"],
            "key file not found",
        ),
        (
            ["provenance", "test", "--key", "{tmp}/key.json", "--suspect", "{tmp}/none.jsonl"],
            "file not found",
        ),
        (
            ["provenance", "test", "--key", "{tmp}/key.json", "--suspect", "{tmp}/bad.jsonl"],
            "no usable rows (JSON lines with a string 'text' field): line 1: not JSON",
        ),
        (  # a probes file given as the suspect's answers
            ["provenance", "test", "--key", "{tmp}/key.json", "--suspect", "{tmp}/probes.jsonl"],
            "line 1: a probe (its prompt), not an answer: send it to the suspect",
        ),
        (
            ["provenance", "test", "--key", "{tmp}/key.json", "--suspect", "{tmp}/latin1.jsonl"],
            "line 1: not UTF-8 text",
        ),
        (
            ["provenance", "test", "--key", "{tmp}/key.json", "--suspect", "{tmp}/s.jsonl.gz"],
            "it looks compressed: give it uncompressed",
        ),
        (["provenance", "keygen", "--out", "{tmp}/key.json"], "exists"),
        (["provenance", "keygen", "--out", "{tmp}", "--force"], "is a folder"),
        (["provenance", "probes", "--from", "{tmp}/s.jsonl", "--limit", "0"], "at least 1"),
        (["provenance"], "required"),
    ],
)
def test_mistakes_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    WatermarkKey.generate(seed=1).save(tmp_path / "key.json")
    write_rows(tmp_path / "s.jsonl", [json.dumps({"text": "a big one"})])
    write_rows(tmp_path / "bad.jsonl", ["{", json.dumps({"txt": "x"})])
    write_rows(tmp_path / "probes.jsonl", [json.dumps({"prompt": "Go on: a", "prefix": "a"})])
    (tmp_path / "latin1.jsonl").write_bytes('{"text": "caf\u00e9"}\n'.encode("latin-1"))
    (tmp_path / "s.jsonl.gz").write_bytes(gzip.compress(b'{"text": "a big one"}\n'))
    code, _, err = run([a.format(tmp=tmp_path) for a in args], capsys)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_watermark_passes_other_fields_exactly_and_skips_a_bom(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """orjson read integers past 64 bits as floats, and a BOM set the first row aside."""
    key = tmp_path / "key.json"
    WatermarkKey.generate(seed=1).save(key)
    row = '{"text":"x","trace":123456789012345678901234567890,"low":-9223372036854775809}'
    code, out, _ = run(["provenance", "watermark", "--key", str(key)], capsys, "\ufeff" + row)
    assert code == 0 and out == row + "\n"


def test_watermark_with_no_usable_row_is_a_mistake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "key.json"
    WatermarkKey.generate(seed=1).save(key)
    stdin = '{"output_text": "a big one"}\nnot json\n'
    code, out, err = run(["provenance", "watermark", "--key", str(key)], capsys, stdin)
    assert (code, out) == (2, "")
    assert "no usable rows" in err and "set aside 2" in err and err.count("\n") == 1


def test_probes_say_what_was_set_aside_and_when_none_can_be_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = json.dumps({"text": "In the end we often choose a large model."})
    mixed = write_rows(tmp_path / "mixed.jsonl", [good, "not json"])
    code, out, err = run(["provenance", "probes", "--from", str(mixed)], capsys)
    assert code == 0 and out and "probe sources: read 2, set aside 1" in err
    plain = write_rows(tmp_path / "plain.jsonl", [json.dumps({"text": "nothing to swap"})])
    code, out, err = run(["provenance", "probes", "--from", str(plain)], capsys)
    assert (code, out) == (2, "") and "no probe could be built" in err


def test_a_reference_with_bad_rows_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "key.json"
    WatermarkKey.generate(seed=1).save(key)
    suspect = write_rows(tmp_path / "s.jsonl", [json.dumps({"text": "a big one, often"})])
    reference = write_rows(tmp_path / "r.jsonl", [json.dumps({"text": "a large one"}), "{"])
    args = ["provenance", "test", "--key", str(key), "--suspect", str(suspect)]
    code, _, err = run([*args, "--reference", str(reference)], capsys)
    assert code == 0 and "reference: read 2, set aside 1" in err
