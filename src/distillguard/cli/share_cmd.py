"""`distillguard share`: keyed indicators as STIX 2.1, matched locally, carried over TAXII."""

from __future__ import annotations

import argparse
from pathlib import Path

from distillguard.cli.common import Subparsers
from distillguard.sharing import keys
from distillguard.sharing.export import ExportOptions, export
from distillguard.sharing.findings import match_lake
from distillguard.sharing.stix import TLP_LEVELS


def register(subparsers: Subparsers) -> None:
    share = subparsers.add_parser("share", help="share keyed indicators with peers (STIX, TAXII)")
    verbs: Subparsers = share.add_subparsers(dest="share_command", required=True)
    _keygen(verbs)
    _export(verbs)
    _match(verbs)


def _keygen(verbs: Subparsers) -> None:
    p = verbs.add_parser("keygen", help="create a community key for keyed fingerprints")
    p.add_argument("--out", required=True, type=Path, metavar="FILE")
    p.set_defaults(run=run_keygen)


def run_keygen(args: argparse.Namespace) -> int:
    key = keys.generate()
    keys.save(key, args.out)
    print(f"share keygen: key {key.key_id} -> {args.out} (owner-only; share it out of band)")
    return 0


def _export(verbs: Subparsers) -> None:
    p = verbs.add_parser("export", help="a detect run's flagged clusters as a STIX 2.1 bundle")
    p.add_argument("detect_out", type=Path, metavar="DETECT_OUT")
    p.add_argument("--key", required=True, type=Path, metavar="FILE")
    p.add_argument("--out", required=True, type=Path, metavar="FILE")
    p.add_argument("--lake", type=Path, default=None, help="the lake detect read (sign-up facts)")
    p.add_argument("--tlp", choices=TLP_LEVELS, default="amber")
    p.add_argument("--producer", default=ExportOptions.producer, help="the producer's name")
    p.add_argument("--valid-days", type=int, default=ExportOptions.valid_days)
    p.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    options = ExportOptions(producer=args.producer, tlp=args.tlp, valid_days=args.valid_days)
    summary = export(args.detect_out, keys.load(args.key), args.out, options, args.lake)
    print(summary.line())
    return 0


def _match(verbs: Subparsers) -> None:
    p = verbs.add_parser("match", help="local accounts matching a peer's indicators")
    p.add_argument("bundle", type=Path, metavar="BUNDLE", help="a peer's STIX bundle")
    p.add_argument("lake", type=Path, metavar="LAKE")
    p.add_argument("--key", required=True, type=Path, metavar="FILE")
    p.add_argument("--out", required=True, type=Path, metavar="DIR")
    p.add_argument("--producer", default="distillguard peer", help="our name in sightings")
    p.add_argument("--tlp", choices=TLP_LEVELS, default="amber")
    p.set_defaults(run=run_match)


def run_match(args: argparse.Namespace) -> int:
    summary = match_lake(
        args.bundle, args.lake, keys.load(args.key), args.out, name=args.producer, tlp=args.tlp
    )
    print(summary.line())
    return 0
