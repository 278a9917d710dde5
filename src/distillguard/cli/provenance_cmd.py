"""`distillguard provenance`: keygen, watermark, test, probes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from distillguard.cli.common import Subparsers, add_command, add_json_flag, out_path
from distillguard.errors import UserError
from distillguard.provenance.key import WatermarkKey
from distillguard.provenance.probes import make_probes
from distillguard.provenance.textrows import (
    RowCounts,
    each_row,
    read_answers,
    read_texts,
    write_row,
)
from distillguard.provenance.verify import verify_provenance
from distillguard.provenance.watermark import watermark_text

KEY_HELP = "the secret key, from 'provenance keygen'"


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "provenance",
        summary="watermark outputs; test whether a suspect model learned from them",
        description="Prove afterwards that a released model learned from what we served. A "
        "secret key ('provenance keygen') picks, in each two-word context, one word of a "
        "synonym group (big/large, often/frequently, for example/for instance, ...), drawn "
        "with the words' natural shares, so watermarked text means the same and keeps its "
        "word frequencies; code, quoted text, JSON, numbers, URLs and capitalised words "
        "that do not open a sentence (names) are never touched, though a set phrase can "
        "read oddly "
        "('big data' as 'large data'). "
        "'provenance watermark' marks responses before they are served (the gateway's "
        "degrade step does the same), 'provenance probes' builds prompts that make a "
        "suspect model choose between such words, and 'provenance test' scores the "
        "suspect's answers against the key: a small p-value is evidence that the suspect "
        "learned from our watermarked outputs.",
        examples=[
            ("a secret key, once", "distillguard provenance keygen --out prov.key"),
            (
                "did the suspect learn from us? (its answers to our probes)",
                "distillguard provenance test --key prov.key --suspect answers.jsonl "
                "--reference originals.jsonl",
            ),
        ],
    )
    sub = p.add_subparsers(
        dest="provenance_command",
        required=True,
        parser_class=type(p),
        metavar="SUBCOMMAND",
        title="subcommands",
    )
    _register_keygen(sub)
    _register_watermark(sub)
    _register_test(sub)
    _register_probes(sub)


def _register_keygen(subparsers: Subparsers) -> None:
    keygen = add_command(
        subparsers,
        "keygen",
        summary="write a new secret watermark key",
        description="Write a new secret watermark key (32 random bytes) to FILE, readable by "
        "its owner only, and print its id. The same key watermarks the outputs and tests "
        "the suspect later, so keep it, and keep it secret. An existing file is kept "
        "unless --force.",
        examples=[("a new key", "distillguard provenance keygen --out prov.key")],
    )
    keygen.add_argument(
        "--out", required=True, type=out_path, metavar="FILE", help="where to write the key"
    )
    keygen.add_argument("--force", action="store_true", help="overwrite an existing file")
    keygen.set_defaults(run=run_keygen)


def _register_watermark(subparsers: Subparsers) -> None:
    mark = add_command(
        subparsers,
        "watermark",
        summary="JSON lines with 'text' on stdin, watermarked out",
        description="Read JSON lines with a 'text' field on stdin and write each to stdout "
        "with its text watermarked under the key, every other field unchanged. Few words "
        "change (about 1 in 100 can carry the mark, and only some of those are swapped); "
        "code, inline code, JSON and bracketed spans, quoted text, tags, tables and any "
        "word with a digit, slash or dot are left as they are. Rows that are not JSON or "
        "have no string 'text' (a tool call's null text) are passed on unchanged, so the "
        "output keeps every line in order; a count of rows, rows passed on and changed "
        "words goes to stderr.",
        examples=[
            (
                "watermark served.jsonl into marked.jsonl",
                "distillguard provenance watermark --key prov.key > marked.jsonl < served.jsonl",
            ),
        ],
    )
    mark.add_argument("--key", required=True, type=Path, metavar="FILE", help=KEY_HELP)
    mark.set_defaults(run=run_watermark)


def _register_test(subparsers: Subparsers) -> None:
    test = add_command(
        subparsers,
        "test",
        summary="did a suspect model learn our watermark?",
        description="Test whether a suspect model learned from our watermarked outputs. "
        "Wherever the suspect's answers choose between words of a synonym group, score how "
        "far the suspect used the word our key picks for that context above a baseline: "
        "the same context's rate in --reference (unwatermarked text in the same style), or "
        "without it the suspect's own overall share of each word. The p-value is exact "
        "under the hypothesis that the suspect's text does not depend on our key (the same "
        "text scored under every key), so text written without our key gives a p-value "
        "below 0.001 at most 0.1% of the time. Prints the p-value, the number of scored "
        "positions and an explanation in plain words. Needs enough text: answers to the "
        "prompts of 'provenance probes', each with its probe's 'prefix', give the most "
        "positions.",
        examples=[
            (
                "answers to our probes, the originals as baseline",
                "distillguard provenance test --key prov.key --suspect answers.jsonl "
                "--reference originals.jsonl",
            ),
            (
                "as JSON, for a report",
                "distillguard provenance test --key prov.key --suspect answers.jsonl --json",
            ),
        ],
    )
    test.add_argument("--key", required=True, type=Path, metavar="FILE", help=KEY_HELP)
    test.add_argument(
        "--suspect",
        required=True,
        type=Path,
        metavar="FILE",
        help="the suspect's answers as JSON lines: 'text', and the probe's 'prefix' when "
        "answering a probe",
    )
    test.add_argument(
        "--reference",
        type=Path,
        metavar="FILE",
        help="JSON lines with 'text': unwatermarked text in the same style (e.g. the "
        "originals of what was served) (default: the suspect's own word shares)",
    )
    add_json_flag(test, "the result (p_value, positions, contexts, matches, ...)")
    test.set_defaults(run=run_test)


def _register_probes(subparsers: Subparsers) -> None:
    probes = add_command(
        subparsers,
        "probes",
        summary="prompts that make the watermark's contexts likely",
        description="Build prompts that make a suspect model choose between the watermark's "
        "words: each asks it to continue a line of text we served, cut just before a word "
        "that can carry the watermark. Build them from the "
        "unwatermarked originals, so that a model that only echoes the prompt cannot look "
        "marked. Writes JSON lines with 'prompt' and 'prefix' to stdout, spread over as "
        "many (word group, context) pairs as possible. Send each prompt to the suspect and "
        "keep one line per answer, with the probe's 'prefix' and the answer as 'text', "
        "for 'provenance test --suspect'.",
        examples=[
            (
                "2,000 probes from the originals of what was served",
                "distillguard provenance probes --from originals.jsonl --limit 2000 > probes.jsonl",
            ),
        ],
    )
    probes.add_argument(
        "--from",
        dest="source",
        required=True,
        type=Path,
        metavar="FILE",
        help="JSON lines with 'text': the unwatermarked originals of what was served",
    )
    probes.add_argument(
        "--limit", type=int, default=1000, metavar="N", help="the most probes to write"
    )
    probes.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="which probes are chosen (the same seed, the same probes)",
    )
    probes.set_defaults(run=run_probes)


def run_keygen(args: argparse.Namespace) -> int:
    if args.out.is_dir():
        raise UserError(f"{args.out} is a folder: name the key's file")
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
    # Rows without a string 'text' are passed on as they came, so the output keeps every
    # line in order; those before the first usable row wait, so that input with none (the
    # wrong field named) writes nothing and is an error.
    held: list[bytes] | None = []
    for line, row in each_row(sys.stdin.buffer, counts):
        if row is None:
            whole = line if line.endswith(b"\n") else line + b"\n"
            if held is None:
                sys.stdout.buffer.write(whole)
            else:
                held.append(whole)
            continue
        result = watermark_text(str(row["text"]), key)
        changed, words = changed + result.changed, words + result.words
        sys.stdout.buffer.write(b"".join(held or []) + write_row({**row, "text": result.text}))
        held = None
    if counts.bad == counts.read > 0:
        what = "JSON lines with a string 'text' field"
        raise UserError(f"stdin has no usable rows ({what}): {counts.line('watermark')}")
    said = counts.line("watermark", aside="passed on unwatermarked")
    print(f"{said}; changed {changed} of {words} words", file=sys.stderr)
    return 0


def run_test(args: argparse.Namespace) -> int:
    key = WatermarkKey.load(args.key)
    counts = RowCounts()
    suspect = read_answers(args.suspect, counts)
    references = RowCounts()
    reference = read_texts(args.reference, references) if args.reference else None
    result = verify_provenance(key, suspect, reference)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(f"p-value {result.p_value_text.removeprefix('= ')} over {result.positions:,} "
              "scored positions")  # fmt: skip
        print(result.explanation)
    for what, rows in (("suspect outputs", counts), ("reference", references)):
        if rows.bad:
            print(rows.line(what), file=sys.stderr)
    return 0


def run_probes(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UserError("--limit must be at least 1")
    counts = RowCounts()
    probes = make_probes(read_texts(args.source, counts), args.limit, args.seed)
    if counts.bad:
        print(counts.line("probe sources"), file=sys.stderr)
    if not probes:
        raise UserError(
            f"no probe could be built from {args.source}: its texts hold no word the "
            "watermark can carry after three words on a line"
        )
    for probe in probes:
        sys.stdout.write(json.dumps(probe.to_dict()) + "\n")
    return 0
