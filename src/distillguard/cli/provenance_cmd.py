"""`distillguard provenance`: keygen, watermark, test, probes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import orjson

from distillguard.cli.common import Subparsers
from distillguard.errors import UserError
from distillguard.provenance.key import WatermarkKey
from distillguard.provenance.probes import make_probes
from distillguard.provenance.textrows import RowCounts, parse_rows, read_answers, read_texts
from distillguard.provenance.verify import verify_provenance
from distillguard.provenance.watermark import watermark_text


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "provenance", help="watermark outputs; test whether a suspect model learned from them"
    )
    sub = p.add_subparsers(dest="provenance_command", required=True)
    keygen = sub.add_parser("keygen", help="write a new secret watermark key")
    keygen.add_argument("--out", required=True, type=Path, metavar="FILE")
    keygen.add_argument("--force", action="store_true", help="overwrite an existing file")
    keygen.set_defaults(run=run_keygen)
    mark = sub.add_parser("watermark", help="JSON lines with 'text' on stdin, watermarked out")
    mark.add_argument("--key", required=True, type=Path, metavar="FILE")
    mark.set_defaults(run=run_watermark)
    test = sub.add_parser("test", help="did a suspect model learn our watermark?")
    test.add_argument("--key", required=True, type=Path, metavar="FILE")
    test.add_argument(
        "--suspect",
        required=True,
        type=Path,
        metavar="OUTPUTS.jsonl",
        help="the suspect's answers: 'text', and the probe's 'prefix' when answering a probe",
    )
    test.add_argument(
        "--reference",
        type=Path,
        metavar="ORIGINALS.jsonl",
        help="unwatermarked text in the same style (e.g. the originals of what was served)",
    )
    test.add_argument("--json", action="store_true", help="print one JSON object")
    test.set_defaults(run=run_test)
    probes = sub.add_parser("probes", help="prompts that make the watermark's contexts likely")
    probes.add_argument("--from", dest="source", required=True, type=Path, metavar="TEXT.jsonl")
    probes.add_argument("--limit", type=int, default=1000)
    probes.add_argument("--seed", type=int, default=0)
    probes.set_defaults(run=run_probes)


def run_keygen(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.force:
        raise UserError(f"{args.out} exists; pass --force to replace it")
    key = WatermarkKey.generate()
    try:
        key.save(args.out)
    except OSError as exc:
        raise UserError(f"cannot write {args.out}: {exc.strerror}") from None
    print(f"provenance key {key.key_id} written to {args.out} (keep it secret)")
    return 0


def run_watermark(args: argparse.Namespace) -> int:
    key = WatermarkKey.load(args.key)
    counts = RowCounts()
    changed = words = 0
    for row in parse_rows(sys.stdin.buffer, counts):
        result = watermark_text(str(row["text"]), key)
        changed, words = changed + result.changed, words + result.words
        sys.stdout.buffer.write(orjson.dumps({**row, "text": result.text}) + b"\n")
    print(counts.line("watermark") + f"; changed {changed} of {words} words", file=sys.stderr)
    return 0


def run_test(args: argparse.Namespace) -> int:
    key = WatermarkKey.load(args.key)
    counts = RowCounts()
    suspect = read_answers(args.suspect, counts)
    reference = read_texts(args.reference, RowCounts()) if args.reference else None
    result = verify_provenance(key, suspect, reference)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(f"p-value {result.p_value:.3g} over {result.positions:,} scored positions")
        print(result.explanation)
    if counts.bad:
        print(counts.line("suspect outputs"), file=sys.stderr)
    return 0


def run_probes(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UserError("--limit must be at least 1")
    texts = read_texts(args.source, RowCounts())
    for probe in make_probes(texts, args.limit, args.seed):
        sys.stdout.write(json.dumps(probe.to_dict()) + "\n")
    return 0
