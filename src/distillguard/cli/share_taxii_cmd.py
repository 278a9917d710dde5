"""`distillguard share serve|user|push|pull`: indicators carried over TAXII 2.1."""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path

from distillguard.cli.common import Subparsers, add_command, out_path
from distillguard.cli.listen import check_free, checked_port, serve, shown
from distillguard.errors import UserError
from distillguard.sharing import stix
from distillguard.sharing.peer import bundle_objects
from distillguard.sharing.taxii.auth import Users, add_user
from distillguard.sharing.taxii.client import TaxiiClient
from distillguard.sharing.taxii.server import API_ROOT, make_app
from distillguard.sharing.taxii.store import SERVER, TaxiiStore, parse_time

PASSWORD_ENV = "DISTILLGUARD_TAXII_PASSWORD"
URL_HELP = "the collection's URL, ending in its id/ (as 'share serve' prints it)"
USER_HELP = f"the TAXII user name; the password is read from ${PASSWORD_ENV}"


def register_taxii(verbs: Subparsers) -> None:
    """The TAXII verbs of `share`: a server, its users, and a client's push and pull."""
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
        "of that title, and its URL is printed: the one 'share push' and 'share pull' "
        "take as --url (not the discovery URL). Every request needs HTTP Basic "
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
        f"with the password from ${PASSWORD_ENV}. A bundle bigger than the API root's "
        "max_content_length, or of more than 500 objects, goes in several envelopes, each "
        "within both. Prints how many "
        "objects the server accepted, and each object it refused with the server's reason; "
        "exits 2 when it refused any.",
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
        # the whole URL: share push and pull want it, and the discovery URL is a 404 there
        root = f"http://{shown(args.host, args.port)}/{API_ROOT}"
        print(f"collection {title}: {root}/collections/{cid}/ (for --url)", flush=True)
    print(f"share serve: http://{shown(args.host, args.port)}/taxii2/ (discovery)", flush=True)
    serve(make_app(store, users), host=args.host, port=args.port, log_level="warning")
    return 0


def run_push(args: argparse.Namespace) -> int:
    objects = bundle_objects(args.bundle)  # the reader 'share match' uses: one set of checks
    if not objects:
        raise UserError(f"{args.bundle} holds no objects: nothing to push")
    with TaxiiClient(args.url, args.user, _password()) as client:
        result = client.push(objects)
    sent = len(result.status_ids)
    split = f" (in {sent} envelopes, the server's size limit)" if sent > 1 else ""
    print(
        f"share push: {result.success}/{result.total} objects accepted, {result.failure} failed"
        + split
    )
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
        incomplete = client.incomplete
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}
    args.out.write_text(json.dumps(bundle, indent=2))
    print(f"share pull: {len(objects)} objects -> {args.out}")
    if incomplete:
        print(
            "share pull: warning: the server said more objects follow but gave neither a "
            "next token nor X-TAXII-Date-Added-Last to ask for them: the pull is incomplete",
            file=sys.stderr,
        )
    return 0


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)
