"""`distillguard share`: keyed indicators as STIX 2.1, matched locally, carried over TAXII."""

from __future__ import annotations

import argparse
from pathlib import Path

from distillguard.cli.common import Subparsers, add_command, out_path
from distillguard.cli.share_taxii_cmd import register_taxii
from distillguard.sharing import keys, stix
from distillguard.sharing.export import ExportOptions, export
from distillguard.sharing.findings import match_lake


def register(subparsers: Subparsers) -> None:
    share = add_command(
        subparsers,
        "share",
        summary="share keyed indicators with peers (STIX 2.1, TAXII 2.1)",
        description="Share with other providers what a distillation operator reuses across "
        "accounts and providers (prompt templates, system prompts, client user agents, "
        "networks, payment fingerprints) without revealing any customer's traffic. Every "
        "fingerprint is an HMAC-SHA256 under a community key that only the sharing "
        "community holds ('share keygen'), so a peer with the key computes the same value "
        "from its own traffic and nobody else can test a guess. 'share export' turns a "
        "detect run's flagged clusters into a STIX 2.1 bundle; a peer runs 'share match' "
        "on its lake (or 'detect --indicators') to find its own accounts that match, and "
        "sends back counts-only sightings. Bundles travel as files or over TAXII 2.1: "
        "'share serve' runs a server, 'share user' adds its users, and 'share push' and "
        "'share pull' talk to any TAXII 2.1 server.",
        examples=[
            ("once per sharing community", "distillguard share keygen --out community.key"),
            (
                "a detect run's flagged clusters as a bundle for peers",
                "distillguard share export detect-out --key community.key --out bundle.json",
            ),
        ],
    )
    verbs: Subparsers = share.add_subparsers(
        dest="share_command",
        required=True,
        parser_class=type(share),
        metavar="SUBCOMMAND",
        title="subcommands",
    )
    _keygen(verbs)
    _export(verbs)
    _match(verbs)
    register_taxii(verbs)


KEY_HELP = "the community key, from 'share keygen'"


def _keygen(verbs: Subparsers) -> None:
    p = add_command(
        verbs,
        "keygen",
        summary="create a community key for keyed fingerprints",
        description="Write a new community key (32 random bytes) to FILE, readable by its "
        "owner only; an existing file is never overwritten. Every member of a sharing "
        "community uses the same key: create it once and hand it to the peers out of band, "
        "never inside a bundle. Each indicator carries the key's id (not the key), and a "
        "bundle made under another key is refused by 'share match' and 'detect "
        "--indicators'.",
        examples=[("a key for the community", "distillguard share keygen --out community.key")],
    )
    p.add_argument(
        "--out", required=True, type=out_path, metavar="FILE", help="where to write the new key"
    )
    p.set_defaults(run=run_keygen)


def run_keygen(args: argparse.Namespace) -> int:
    key = keys.generate()
    keys.save(key, args.out)
    print(f"share keygen: key {key.key_id} -> {args.out} (owner-only; share it out of band)")
    return 0


def _export(verbs: Subparsers) -> None:
    p = add_command(
        verbs,
        "export",
        summary="a detect run's flagged clusters as a STIX 2.1 bundle",
        description="Read a detect output folder and write a STIX 2.1 bundle for peers: per "
        "flagged cluster, a campaign (named by a keyed tag, never the cluster id) and an "
        "indicator for each keyed fingerprint (prompt template, its start and end, "
        "near-duplicate band, system prompt, user agent, exit network, and with the lake "
        "the payment fingerprint and sign-up network) that at least two of its accounts "
        "hold and at least 90% of the local accounts holding it were flagged, the 25 most "
        "used of each kind. Fingerprints that benign customers share, such as a popular "
        "SDK's user agent or a carrier network, stay home. Each indicator carries a "
        "confidence, a validity window (first seen to last seen plus --valid-days) and the "
        "key's id; the bundle carries a TLP 2.0 marking. No account id, address or prompt "
        "text enters the bundle.",
        examples=[
            (
                "a bundle for the community, marked TLP amber",
                "distillguard share export detect-out --key community.key --out bundle.json",
            ),
            (
                "for anyone in the community, with sign-up facts from the lake",
                "distillguard share export detect-out --key community.key --out bundle.json "
                '--lake lake --tlp green --producer "Example AI"',
            ),
        ],
    )
    p.add_argument(
        "detect_out",
        type=Path,
        metavar="DETECT_OUT",
        help="a folder written by 'distillguard detect'",
    )
    p.add_argument("--key", required=True, type=Path, metavar="FILE", help=KEY_HELP)
    p.add_argument(
        "--out",
        required=True,
        type=out_path,
        metavar="FILE",
        help="where to write the bundle (JSON)",
    )
    p.add_argument(
        "--lake",
        type=Path,
        default=None,
        metavar="LAKE",
        help="the lake detect read, for the accounts' sign-up facts (default: the lake the "
        "run recorded in DETECT_OUT/run.json)",
    )
    p.add_argument(
        "--tlp",
        choices=stix.TLP_LEVELS,
        default="amber",
        metavar="LEVEL",
        help=f"the TLP 2.0 marking, how far peers may pass it on: {', '.join(stix.TLP_LEVELS)}",
    )
    p.add_argument(
        "--producer",
        default=ExportOptions.producer,
        metavar="NAME",
        help="the producer's name in the bundle",
    )
    p.add_argument(
        "--valid-days",
        type=int,
        default=ExportOptions.valid_days,
        metavar="DAYS",
        help="how long an indicator stays valid after it was last seen",
    )
    p.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    options = ExportOptions(producer=args.producer, tlp=args.tlp, valid_days=args.valid_days)
    summary = export(args.detect_out, keys.load(args.key), args.out, options, args.lake)
    print(summary.line())
    return 0


def _match(verbs: Subparsers) -> None:
    p = add_command(
        verbs,
        "match",
        summary="local accounts matching a peer's indicators",
        description="Match a lake's traffic against a peer's STIX bundle made under the same "
        "community key (other tools' indicators are skipped and counted). The lake's own "
        "fingerprints are keyed and joined to the peer's indicators within each "
        "indicator's validity; each matching account gets a strength from the kinds it "
        "matched, how many of its exchanges matched and the producer's confidence. Writes "
        "to DIR: matches.csv and matches.parquet, findings.ocsf.jsonl (one OCSF finding "
        "per account, with the evidence), evidence.jsonl (for 'distillguard console "
        "--matches DIR') and sightings.json, a STIX bundle of sightings "
        "with counts only, to send back to the producer. To let the matches raise detect's "
        "scores, run 'distillguard detect --indicators BUNDLE --key FILE' instead.",
        examples=[
            (
                "which of our accounts a peer's bundle names",
                "distillguard share match bundle.json lake --key community.key --out matches",
            ),
        ],
    )
    p.add_argument("bundle", type=Path, metavar="BUNDLE", help="a peer's STIX bundle")
    p.add_argument("lake", type=Path, metavar="LAKE", help="our lake, from 'distillguard ingest'")
    p.add_argument("--key", required=True, type=Path, metavar="FILE", help=KEY_HELP)
    p.add_argument(
        "--out", required=True, type=out_path, metavar="DIR", help="the folder for the results"
    )
    p.add_argument(
        "--producer",
        default=stix.DEFAULT_PEER,
        metavar="NAME",
        help="our name in the sightings; give one before pushing them to a shared server "
        "(the default is every member's, and the sightings' ids derive from it)",
    )
    p.add_argument(
        "--tlp",
        choices=stix.TLP_LEVELS,
        default="amber",
        metavar="LEVEL",
        help=f"the TLP 2.0 marking of the sightings: {', '.join(stix.TLP_LEVELS)}",
    )
    p.set_defaults(run=run_match)


def run_match(args: argparse.Namespace) -> int:
    summary = match_lake(
        args.bundle, args.lake, keys.load(args.key), args.out, name=args.producer, tlp=args.tlp
    )
    print(summary.line())
    if args.producer == stix.DEFAULT_PEER and summary.sightings:
        print(
            f"share match: note: the sightings name the default producer '{stix.DEFAULT_PEER}'"
            ", as every member's do without --producer, so another member's sightings of "
            "these indicators have the same ids: give --producer NAME before pushing them"
        )
    return 0
