"""`distillguard console`: the analyst console, and `console add-user` to create its users."""

from __future__ import annotations

import argparse
import getpass
import secrets
import ssl
import sys
from pathlib import Path

from distillguard.cli.common import Subparsers, add_command
from distillguard.cli.listen import check_free, listen_address, serve, shown
from distillguard.cli.verdicts_set_cmd import lasting_store
from distillguard.errors import UserError
from distillguard.folders import check_folder
from distillguard.sharing import keys


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "console",
        summary="triage flagged accounts in a browser, and record decisions",
        description="Serve the analyst console over a detect run's findings: a queue of "
        "flagged clusters and accounts and the review tier, a case page per subject with "
        "its evidence, plots, linked accounts and sample exchanges from the lake, and "
        "decisions (confirm, dismiss as a false positive, escalate to a rung of the "
        "response ladder) that write analyst verdicts to STATE, which running gateways "
        "read at once; a dismissal also adds an allowlist entry for 'distillguard detect "
        "--allowlist'. Every page needs a login: create users first with 'console "
        "add-user'. Roles: viewer (reads, prompts redacted), analyst (reads content, "
        "decides), admin. The console's own files (users, case store, allowlist) live in "
        "HOME, by default console/ beside a file STATE; give --home with a Redis STATE. "
        "With --matches, accounts a peer's indicators matched ('distillguard share "
        "match') join the queue too: in the peer tier, or beside detect's evidence.",
        examples=[
            (
                "open a detect run's findings (after 'console add-user')",
                "distillguard console --findings demo-out/detect"
                " --state demo-out/state/verdicts.jsonl",
            ),
            (
                "with the accounts a peer's STIX bundle matched",
                "distillguard console --findings detections --state state/verdicts.jsonl "
                "--matches peer-matches",
            ),
            (
                "over HTTPS, verdicts in Redis",
                "distillguard console --findings detections --state redis://127.0.0.1:6379/0 "
                "--home console/ --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem",
            ),
        ],
    )
    p.add_argument("--findings", type=Path, metavar="DIR", help="a detect output folder")
    _state_args(p, required=False)
    p.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT", help="where to serve")
    p.add_argument(
        "--lake",
        type=Path,
        metavar="LAKE",
        help="the lake for sample exchanges (default: the one detect read)",
    )
    p.add_argument(
        "--matches",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a 'share match' output folder whose accounts join the queue (repeatable)",
    )
    p.add_argument("--tls-cert", type=Path, metavar="FILE", help="serve HTTPS with this cert")
    p.add_argument("--tls-key", type=Path, metavar="FILE", help="and this key")
    p.add_argument(
        "--share-key",
        type=Path,
        metavar="FILE",
        help="the sharing community's key: case pages then export their campaign as a keyed "
        "STIX 2.1 bundle",
    )
    p.set_defaults(run=run_console)
    sub = p.add_subparsers(dest="console_command", required=False, title="subcommands")
    _register_add_user(sub)


def _register_add_user(subparsers: Subparsers) -> None:
    add = add_command(
        subparsers,
        "add-user",
        summary="create or replace a console user",
        description="Create or replace a console user in HOME/users.json (an argon2id hash, "
        "file mode 0600). The password is read from the terminal (twice), or from the "
        "first line of stdin when piped.",
        examples=[
            (
                "an analyst (asks for a password)",
                "distillguard console add-user alice --role analyst --state state/verdicts.jsonl",
            ),
            (
                "a read-only viewer, for a console whose verdicts are in Redis",
                "distillguard console add-user bob --role viewer --state redis://127.0.0.1:6379/0 "
                "--home console/",
            ),
        ],
    )
    add.add_argument("name", metavar="NAME", help="the user's login name")
    add.add_argument(
        "--role",
        required=True,
        choices=("viewer", "analyst", "admin"),
        help="what the user may see and do",
    )
    _state_args(add, required=True)
    add.set_defaults(run=run_add_user)


def _state_args(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument(
        "--state",
        required=required,
        metavar="STATE",
        # Not required by argparse where the console's subcommands share the parser
        # (add-user has its own); the console itself refuses to start without it.
        help="the verdict store the gateway reads: a file path, or redis://HOST:PORT/DB"
        + ("" if required else " (required to serve)"),
    )
    p.add_argument(
        "--home",
        type=Path,
        metavar="DIR",
        help="the console's own files: users, case store, allowlist "
        "(default: console/ beside a file STATE)",
    )


def console_home(state: str, home: Path | None) -> Path:
    lasting_store(state, "the console")
    if home is not None:
        return home
    if "://" in state:
        raise UserError(f"give --home for the console's files when STATE is {state!r}")
    check_folder(Path(state), "verdict store")  # else users saved where no console looks
    return Path(state).parent / "console"


def _password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise UserError("the passwords differ")
        return first
    line = sys.stdin.readline()
    if not line:
        raise UserError("no password on standard input: pipe one in, or run in a terminal")
    return line.rstrip("\n")


def run_add_user(args: argparse.Namespace) -> int:
    from distillguard.console.users import UserStore

    home = console_home(args.state, args.home)
    user = UserStore(home / "users.json").add(args.name, args.role, _password())
    print(f"console user {user.name} ({user.role}) saved in {home / 'users.json'}")
    return 0


def demo_console_hint(out: Path) -> str:
    """Create a demo analyst with a fresh random password, and say how to open the console."""
    from distillguard.console.users import UserStore

    state = out / "state" / "verdicts.jsonl"
    state.parent.mkdir(parents=True, exist_ok=True)  # the demo's own: a store needs its folder
    home = console_home(str(state), None)
    password = secrets.token_urlsafe(12)
    UserStore(home / "users.json").add("analyst", "analyst", password)
    (home / "allowlist.jsonl").touch()  # the publish below reads it before a console ran
    command = f"distillguard console --findings {out / 'detect'} --state {state}"
    publish = (
        f"distillguard verdicts publish {out / 'detect'} --state {state} "
        f"--allowlist {home / 'allowlist.jsonl'}"
    )
    return (
        f"created console user 'analyst' (role analyst) with password {password}\n"
        f"run:  {command}\nthen open http://127.0.0.1:8080/ and log in\n"
        f"for a gateway to act on the run (distillguard gateway --state {state} ...), "
        f"publish its verdicts, the console's dismissals held back:\n      {publish}"
    )


def run_console(args: argparse.Namespace) -> int:
    from distillguard.console.app import build_app, open_console
    from distillguard.console.users import UserStore
    from distillguard.verdicts.store import open_store, shown_state

    if args.state is None:
        raise UserError("--state is required: a file path, or redis://HOST:PORT/DB")
    lasting_store(args.state, "the console")  # before the findings: the first mistake
    check_findings(args.findings, args.lake, args.matches)
    host, port = listen_address(args.listen)
    home = console_home(args.state, args.home)
    if bool(args.tls_cert) != bool(args.tls_key):
        raise UserError("--tls-cert and --tls-key go together: give both, or neither")
    if args.tls_cert:
        check_tls(args.tls_cert, args.tls_key)
    share_key = keys.load(args.share_key) if args.share_key else None
    users = UserStore(home / "users.json")
    users.check()
    if not users.names():  # before anything is created: a typo
        raise UserError(
            f"no console users yet: run 'distillguard console add-user NAME "
            f"--role analyst --state {shown_state(args.state)}"
            f"{f' --home {args.home}' if args.home else ''}' first"
        )
    console = open_console(
        args.findings,
        home,
        open_store(args.state),
        args.lake,
        share_key,
        matches=tuple(args.matches),
    )
    tls = bool(args.tls_cert and args.tls_key)
    check_free(host, port)
    print(
        f"console: http{'s' if tls else ''}://{shown(host, port)}/ over {args.findings}", flush=True
    )
    try:
        serve(
            build_app(console, tls=tls),
            host=host,
            port=port,
            log_level="warning",
            ssl_certfile=args.tls_cert,
            ssl_keyfile=args.tls_key,
        )
    finally:
        console.close()
    return 0


def check_findings(findings: Path | None, lake: Path | None, matches: list[Path]) -> None:
    """A whole detect output folder (its tables and its signals), a lake if named, and
    `share match` folders: all before the console creates anything."""
    from distillguard.console.evidence import check_matches
    from distillguard.ingest.lake import Lake

    for folder in matches:
        check_matches(folder)

    if findings is None or not (findings / "accounts.parquet").exists():
        raise UserError("--findings must name a detect output folder (with accounts.parquet)")
    if not any((findings / "signals").glob("*.parquet")):
        raise UserError(
            f"--findings {findings} has no signals/ (the case pages read them): give the "
            "whole folder detect wrote"
        )
    if lake is not None and not Lake(lake).is_one():
        raise UserError(f"--lake: no lake at {lake}")


def check_tls(cert: Path, key: Path) -> None:
    """Load the pair before serving: uvicorn's own failure names neither file (a bare
    'no such file or directory', or OpenSSL's '[SSL] PEM lib')."""
    for option, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not path.is_file():
            raise UserError(f"{option} {path}: no such file")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise UserError(
            f"--tls-cert {cert} and --tls-key {key} are not a PEM certificate and its "
            f"private key ({exc.reason or exc})"
        ) from None
