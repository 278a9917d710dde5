"""`distillguard console`: the analyst console, and `console add-user` to create its users."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from pathlib import Path

from distillguard.cli.common import Subparsers
from distillguard.errors import UserError

EPILOG = """examples:
  distillguard console add-user alice --role analyst --state state/verdicts.jsonl
  distillguard console --findings demo-out/detect --state state/verdicts.jsonl

Users live in the console's home folder (by default `console/` beside a file STATE; give
--home with a Redis STATE). Roles: viewer (reads, prompts redacted), analyst (reads content,
decides), admin."""


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser(
        "console",
        help="triage flagged accounts in a browser, and record decisions",
        description="Serve the analyst console over a detect run's findings.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--findings", type=Path, metavar="DIR", help="a detect output folder")
    _state_args(p, required=False)
    p.add_argument(
        "--listen",
        default="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="where to serve (default: %(default)s)",
    )
    p.add_argument(
        "--lake",
        type=Path,
        metavar="LAKE",
        help="the lake for sample exchanges (default: the one detect read)",
    )
    p.add_argument("--tls-cert", type=Path, metavar="FILE", help="serve HTTPS with this cert")
    p.add_argument("--tls-key", type=Path, metavar="FILE", help="and this key")
    p.set_defaults(run=run_console)
    sub = p.add_subparsers(dest="console_command", required=False)
    add = sub.add_parser(
        "add-user",
        help="create or replace a console user",
        description="Create or replace a console user; the password is read "
        "from the terminal, or from the first line of stdin when piped.",
    )
    add.add_argument("name", help="the user's login name")
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
        help="the verdict store: memory, a file path, or redis://HOST:PORT/DB",
    )
    p.add_argument(
        "--home",
        type=Path,
        metavar="DIR",
        help="the console's own files: users, case store, allowlist "
        "(default: console/ beside a file STATE)",
    )


def console_home(state: str, home: Path | None) -> Path:
    if home is not None:
        return home
    if state == "memory" or "://" in state:
        raise UserError(f"give --home for the console's files when STATE is {state!r}")
    return Path(state).parent / "console"


def _password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise UserError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


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
    password = secrets.token_urlsafe(12)
    UserStore(console_home(str(state), None) / "users.json").add("analyst", "analyst", password)
    command = f"distillguard console --findings {out / 'detect'} --state {state}"
    return (
        f"created console user 'analyst' (role analyst) with password {password}\n"
        f"run:  {command}\nthen open http://127.0.0.1:8080/ and log in"
    )


def run_console(args: argparse.Namespace) -> int:
    import uvicorn

    from distillguard.console.app import build_app, open_console
    from distillguard.verdicts.store import open_store

    if args.state is None:
        raise UserError("--state is required: memory, a file path, or redis://HOST:PORT/DB")
    if args.findings is None or not (args.findings / "accounts.parquet").exists():
        raise UserError("--findings must name a detect output folder (with accounts.parquet)")
    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--listen wants HOST:PORT, got {args.listen!r}")
    home = console_home(args.state, args.home)
    console = open_console(args.findings, home, open_store(args.state), args.lake)
    if not console.users.names():
        raise UserError(
            f"no console users yet: run 'distillguard console add-user NAME "
            f"--role analyst --state {args.state}' first"
        )
    tls = bool(args.tls_cert and args.tls_key)
    print(f"console: http{'s' if tls else ''}://{host}:{port}/ over {args.findings}", flush=True)
    try:
        uvicorn.run(
            build_app(console, tls=tls),
            host=host,
            port=int(port),
            log_level="warning",
            ssl_certfile=args.tls_cert,
            ssl_keyfile=args.tls_key,
        )
    finally:
        console.close()
    return 0
