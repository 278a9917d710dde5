"""`distillguard share`: keyed indicators as STIX 2.1, matched locally, carried over TAXII."""

from __future__ import annotations

import argparse
import json
import os
import uuid
from pathlib import Path
from typing import Any

import uvicorn

from distillguard.cli.common import Subparsers
from distillguard.errors import UserError
from distillguard.sharing import keys
from distillguard.sharing.export import ExportOptions, export
from distillguard.sharing.findings import match_lake
from distillguard.sharing.stix import TLP_LEVELS
from distillguard.sharing.taxii.auth import Users, add_user
from distillguard.sharing.taxii.client import TaxiiClient
from distillguard.sharing.taxii.server import API_ROOT, make_app
from distillguard.sharing.taxii.store import TaxiiStore


def register(subparsers: Subparsers) -> None:
    share = subparsers.add_parser("share", help="share keyed indicators with peers (STIX, TAXII)")
    verbs: Subparsers = share.add_subparsers(dest="share_command", required=True)
    _keygen(verbs)
    _export(verbs)
    _match(verbs)
    _taxii(verbs)


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


PASSWORD_ENV = "DISTILLGUARD_TAXII_PASSWORD"


def _taxii(verbs: Subparsers) -> None:
    s = verbs.add_parser("serve", help="a TAXII 2.1 server over a DuckDB store")
    s.add_argument("--store", required=True, type=Path, metavar="FILE", help="DuckDB file")
    s.add_argument("--users", required=True, type=Path, metavar="FILE", help="see 'share user'")
    s.add_argument("--collection", action="append", default=[], metavar="TITLE")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=9500)
    s.set_defaults(run=run_serve)
    u = verbs.add_parser(
        "user", help=f"add a TAXII user; the password is read from ${PASSWORD_ENV}"
    )
    u.add_argument("--users", required=True, type=Path, metavar="FILE")
    u.add_argument("name")
    u.set_defaults(run=run_user)
    for verb, text in (("push", "send a bundle's objects"), ("pull", "fetch a collection")):
        p = verbs.add_parser(verb, help=f"{text} (TAXII 2.1); password in ${PASSWORD_ENV}")
        if verb == "push":
            p.add_argument("bundle", type=Path, metavar="BUNDLE")
        else:
            p.add_argument("--out", required=True, type=Path, metavar="FILE")
            p.add_argument("--added-after", default=None, metavar="TIME")
        p.add_argument("--url", required=True, help="the collection's URL (ends in its id/)")
        p.add_argument("--user", required=True)
        p.set_defaults(run=run_push if verb == "push" else run_pull)


def _password() -> str:
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        raise UserError(f"set ${PASSWORD_ENV} to the password (never on the command line)")
    return password


def run_user(args: argparse.Namespace) -> int:
    add_user(args.users, args.name, _password())
    print(f"share user: {args.name} -> {args.users}")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    store = TaxiiStore(args.store)
    for title in args.collection or ["indicators"]:
        cid = store.add_collection(title)
        print(f"collection {title}: /{API_ROOT}/collections/{cid}/", flush=True)
    app = make_app(store, Users.load(args.users))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def run_push(args: argparse.Namespace) -> int:
    objects = _bundle_objects(args.bundle)
    with TaxiiClient(args.url, args.user, _password()) as client:
        result = client.push(objects)
    print(f"share push: {result.success}/{result.total} objects accepted, {result.failure} failed")
    return 0 if result.failure == 0 else 1


def run_pull(args: argparse.Namespace) -> int:
    with TaxiiClient(args.url, args.user, _password()) as client:
        objects = client.pull(args.added_after)
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    args.out.write_text(json.dumps(bundle, indent=2))
    print(f"share pull: {len(objects)} objects -> {args.out}")
    return 0


def _bundle_objects(path: Path) -> list[dict[str, Any]]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read bundle {path}: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("objects"), list):
        raise UserError(f"{path} is not a STIX bundle (no objects list)")
    return list(doc["objects"])
