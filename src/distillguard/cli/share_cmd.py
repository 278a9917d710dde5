"""`distillguard share`: keyed indicators as STIX 2.1, matched locally, carried over TAXII."""

from __future__ import annotations

import argparse
import json
import os
import uuid
from pathlib import Path
from typing import Any

import uvicorn

from distillguard.cli.common import Subparsers, add_command, out_path
from distillguard.cli.listen import check_free, checked_port, shown
from distillguard.errors import UserError
from distillguard.sharing import keys, stix
from distillguard.sharing.export import ExportOptions, export
from distillguard.sharing.findings import match_lake
from distillguard.sharing.stix import TLP_LEVELS
from distillguard.sharing.taxii.auth import Users, add_user
from distillguard.sharing.taxii.client import TaxiiClient
from distillguard.sharing.taxii.server import API_ROOT, make_app
from distillguard.sharing.taxii.store import SERVER, TaxiiStore, parse_time


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
    _taxii(verbs)


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
        help="the lake detect read, for the accounts' sign-up facts (default: DETECT_OUT/lake "
        "when there is one)",
    )
    p.add_argument(
        "--tlp",
        choices=TLP_LEVELS,
        default="amber",
        metavar="LEVEL",
        help=f"the TLP 2.0 marking, how far peers may pass it on: {', '.join(TLP_LEVELS)}",
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
        default="distillguard peer",
        metavar="NAME",
        help="our name in the sightings",
    )
    p.add_argument(
        "--tlp",
        choices=TLP_LEVELS,
        default="amber",
        metavar="LEVEL",
        help=f"the TLP 2.0 marking of the sightings: {', '.join(TLP_LEVELS)}",
    )
    p.set_defaults(run=run_match)


def run_match(args: argparse.Namespace) -> int:
    summary = match_lake(
        args.bundle, args.lake, keys.load(args.key), args.out, name=args.producer, tlp=args.tlp
    )
    print(summary.line())
    return 0


PASSWORD_ENV = "DISTILLGUARD_TAXII_PASSWORD"
URL_HELP = "the collection's URL, ending in its id/ (as 'share serve' prints it)"
USER_HELP = f"the TAXII user name; the password is read from ${PASSWORD_ENV}"


def _taxii(verbs: Subparsers) -> None:
    _serve(verbs)
    _user(verbs)
    _push(verbs)
    _pull(verbs)


def _serve(verbs: Subparsers) -> None:
    s = add_command(
        verbs,
        "serve",
        summary="a TAXII 2.1 server over a DuckDB store",
        description="Serve TAXII 2.1 (discovery at /taxii2/, the API root at /api1/) over a "
        "DuckDB store, until Ctrl-C. Each --collection is created when the store lacks one "
        "of that title, and its path is printed: the URL that 'share push' and 'share pull' "
        "take is http://HOST:PORT followed by it. Every request needs HTTP Basic "
        "credentials of a user in the users file (add them with 'share user'; the file is "
        "read at start). It speaks plain HTTP: beyond loopback, put it behind a proxy that "
        "terminates TLS.",
        examples=[
            (
                "a local server with the default collection",
                "distillguard share serve --store taxii.duckdb --users users.json",
            ),
            (
                "two collections, on every interface",
                "distillguard share serve --store taxii.duckdb --users users.json "
                "--collection indicators --collection sightings --host 0.0.0.0 --port 9500",
            ),
        ],
    )
    s.add_argument(
        "--store",
        required=True,
        type=Path,
        metavar="FILE",
        help="the DuckDB file that holds the objects (created when missing)",
    )
    s.add_argument(
        "--users",
        required=True,
        type=Path,
        metavar="FILE",
        help="the users file, from 'share user'",
    )
    s.add_argument(
        "--collection",
        action="append",
        default=[],
        metavar="TITLE",
        help="a collection to serve, by title; repeat for more (default: indicators)",
    )
    s.add_argument("--host", default="127.0.0.1", metavar="HOST", help="the address to listen on")
    s.add_argument("--port", type=int, default=9500, metavar="PORT", help="the port to listen on")
    s.set_defaults(run=run_serve)


def _user(verbs: Subparsers) -> None:
    u = add_command(
        verbs,
        "user",
        summary=f"add a TAXII user; the password is read from ${PASSWORD_ENV}",
        description="Add a user to the users file of 'share serve', or replace the password "
        f"of an existing one. The password is read from ${PASSWORD_ENV}, never the command "
        "line, and stored as a PBKDF2-SHA256 hash; the file is created readable by its "
        "owner only. Restart the server for it to see the change.",
        examples=[
            (
                f"add alice (after export {PASSWORD_ENV}=...)",
                "distillguard share user --users users.json alice",
            ),
            (
                "bind bob to the identity his bundles carry",
                "distillguard share user --users users.json --identity "
                "identity--6ba7b810-9dad-41d1-80b4-00c04fd430c8 bob",
            ),
        ],
    )
    u.add_argument(
        "--users", required=True, type=Path, metavar="FILE", help="the users file to add to"
    )
    u.add_argument(
        "--identity",
        metavar="ID",
        help="bind the user to the STIX identity it publishes as (identity--UUID, the "
        "created_by_ref of its bundles): then no other user may push objects created by "
        "it, or the identity itself (default: unbound; a bound user stays bound)",
    )
    u.add_argument("name", metavar="NAME", help="the user's name")
    u.set_defaults(run=run_user)


def _push(verbs: Subparsers) -> None:
    p = add_command(
        verbs,
        "push",
        summary=f"send a bundle's objects (TAXII 2.1); password in ${PASSWORD_ENV}",
        description="Send the objects of a STIX bundle (from 'share export', or the "
        "sightings of 'share match') to a collection of any TAXII 2.1 server, as --user, "
        f"with the password from ${PASSWORD_ENV}. Prints how many objects the server "
        "accepted, and each object it refused with the server's reason; exits 2 when it "
        "refused any.",
        examples=[
            (
                "share a bundle through the community's server",
                "distillguard share push bundle.json --user alice "
                "--url http://127.0.0.1:9500/api1/collections/COLLECTION_ID/",
            ),
        ],
    )
    p.add_argument("bundle", type=Path, metavar="BUNDLE", help="the STIX bundle to send")
    p.add_argument("--url", required=True, metavar="URL", help=URL_HELP)
    p.add_argument("--user", required=True, metavar="NAME", help=USER_HELP)
    p.set_defaults(run=run_push)


def _pull(verbs: Subparsers) -> None:
    p = add_command(
        verbs,
        "pull",
        summary=f"fetch a collection (TAXII 2.1); password in ${PASSWORD_ENV}",
        description="Fetch the objects of a collection on any TAXII 2.1 server, page by "
        "page, as --user with the password from $DISTILLGUARD_TAXII_PASSWORD, and write "
        "them to FILE as one STIX bundle, ready for 'share match' or 'detect "
        "--indicators'. With --added-after, only objects added since then (to fetch only "
        "what is new since the last pull).",
        examples=[
            (
                "everything in a collection",
                "distillguard share pull --out bundle.json --user alice "
                "--url http://127.0.0.1:9500/api1/collections/COLLECTION_ID/",
            ),
            (
                "only what was added since 1 November",
                "distillguard share pull --out new.json --user alice "
                "--url http://127.0.0.1:9500/api1/collections/COLLECTION_ID/ "
                "--added-after 2026-11-01T00:00:00Z",
            ),
        ],
    )
    p.add_argument(
        "--out", required=True, type=out_path, metavar="FILE", help="where to write the bundle"
    )
    p.add_argument(
        "--added-after",
        default=None,
        metavar="TIME",
        help="only objects the server added after this time, e.g. 2026-11-01T00:00:00Z "
        "(default: all)",
    )
    p.add_argument("--url", required=True, metavar="URL", help=URL_HELP)
    p.add_argument("--user", required=True, metavar="NAME", help=USER_HELP)
    p.set_defaults(run=run_pull)


def _password() -> str:
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        raise UserError(f"set ${PASSWORD_ENV} to the password (never on the command line)")
    return password


def run_user(args: argparse.Namespace) -> int:
    identity = args.identity.lower() if args.identity else None
    before = Users.load(args.users) if args.users.exists() else Users({})
    add_user(args.users, args.name, _password(), identity)
    bound = f" (publishes as {identity})" if identity else ""
    print(f"share user: {args.name} -> {args.users}{bound}")
    was = before.identity_of(args.name)
    if identity and was and was != identity:
        print(f"share user: {args.name} was bound to {was}; no longer")
    others = sorted(before.bound().get(identity or "", frozenset()) - {args.name})
    if others:
        print(f"share user: {', '.join(others)} may publish as {identity} too")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    users = Users.load(args.users)  # before the store: a wrong path changes nothing
    check_free(args.host, checked_port(args.port))
    store = TaxiiStore(args.store)
    for title in args.collection or ["indicators"]:
        cid = store.add_collection(title)
        store.add(cid, stix.common_objects(), SERVER)  # a duplicate after the first start
        print(f"collection {title}: /{API_ROOT}/collections/{cid}/", flush=True)
    print(f"share serve: http://{shown(args.host, args.port)}/taxii2/", flush=True)
    uvicorn.run(make_app(store, users), host=args.host, port=args.port, log_level="warning")
    return 0


def run_push(args: argparse.Namespace) -> int:
    objects = _bundle_objects(args.bundle)
    with TaxiiClient(args.url, args.user, _password()) as client:
        result = client.push(objects)
    print(f"share push: {result.success}/{result.total} objects accepted, {result.failure} failed")
    for object_id, why in result.failures:  # the server's words: no terminal controls
        print(f"  refused {_printable(object_id) or '(no id)'}: {_printable(why)}")
    if result.failure:
        raise UserError(f"the server refused {result.failure} object(s) (listed above)")
    return 0


def run_pull(args: argparse.Namespace) -> int:
    if args.added_after:
        try:
            parse_time(args.added_after)
        except ValueError:
            raise UserError(
                f"bad --added-after {args.added_after!r}: give a time such as 2026-11-01T00:00:00Z"
            ) from None
    with TaxiiClient(args.url, args.user, _password()) as client:
        objects = client.pull(args.added_after)
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    args.out.write_text(json.dumps(bundle, indent=2))
    print(f"share pull: {len(objects)} objects -> {args.out}")
    return 0


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def _bundle_objects(path: Path) -> list[dict[str, Any]]:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read bundle {path}: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("objects"), list):
        raise UserError(f"{path} is not a STIX bundle (no objects list)")
    return list(doc["objects"])
