"""`distillguard gateway`: the live reverse proxy that acts on verdicts."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from distillguard.cli.common import Subparsers
from distillguard.errors import UserError
from distillguard.gateway.identity import Identity
from distillguard.gateway.settings import GatewaySettings
from distillguard.verdicts.policy import load_policy

GUARDRAIL_KEY_ENV = "DISTILLGUARD_GUARDRAIL_KEY"  # a secret: never on the command line


def register(subparsers: Subparsers) -> None:
    p = subparsers.add_parser("gateway", help="serve a proxy in front of an LLM API")
    p.add_argument(
        "--upstream",
        metavar="URL",
        help="the model API's base URL (omit to serve "
        "only LiteLLM's Generic Guardrail API, keyed by $DISTILLGUARD_GUARDRAIL_KEY)",
    )
    p.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT")
    p.add_argument("--state", default="verdicts.jsonl", help="verdict store (see verdicts)")
    p.add_argument("--policy", type=Path, metavar="FILE", help="default: the built-in policy")
    p.add_argument("--mode", choices=("monitor", "enforce"), help="overrides the policy's")
    p.add_argument("--fail", choices=("open", "closed"), help="overrides the policy's")
    p.add_argument("--identity", metavar="header:NAME|keys:FILE", help="default: header")
    p.add_argument("--log-dir", type=Path, metavar="DIR", help="write exchange-log v1 files")
    p.add_argument("--rotate-rows", type=int, default=10_000, help="log rows per file")
    p.add_argument("--rotate-seconds", type=float, default=60.0, help="log file age limit")
    p.add_argument("--max-body-mb", type=float, default=4.0)
    p.add_argument("--upstream-timeout", type=float, default=600.0, metavar="SECONDS")
    p.add_argument(
        "--trust-forwarded",
        action="store_true",
        help="client address from X-Forwarded-For (behind your load balancer)",
    )
    p.add_argument(
        "--replay-clock",
        action="store_true",
        help="stamp exchanges with x-distillguard-replay-ts (replaying logs only)",
    )
    p.set_defaults(run=run_gateway)


def listen_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"bad --listen {text!r}; use HOST:PORT")
    return host, int(port)


def settings_from(args: argparse.Namespace) -> GatewaySettings:
    key = os.environ.get(GUARDRAIL_KEY_ENV) or None
    if args.upstream is None and key is None:
        raise UserError(f"give --upstream URL, or set {GUARDRAIL_KEY_ENV} to serve the guardrail")
    if args.upstream is not None and not args.upstream.startswith(("http://", "https://")):
        raise UserError(f"bad --upstream {args.upstream!r}; use an http:// or https:// URL")
    return GatewaySettings(
        upstream=args.upstream.rstrip("/") if args.upstream else None,
        guardrail_key=key,
        state=args.state,
        policy=load_policy(args.policy).overridden(args.mode, args.fail),
        identity=Identity.parse(args.identity),
        log_dir=args.log_dir,
        log_rotate_rows=args.rotate_rows,
        log_rotate_s=args.rotate_seconds,
        max_body_bytes=int(args.max_body_mb * 1024 * 1024),
        upstream_timeout_s=args.upstream_timeout,
        trust_forwarded=args.trust_forwarded,
        replay_clock=args.replay_clock,
    )


def run_gateway(args: argparse.Namespace) -> int:
    import uvicorn

    from distillguard.gateway.app import build_app
    from distillguard.gateway.service import Gateway

    host, port = listen_address(args.listen)
    settings = settings_from(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    gateway = Gateway(settings)
    served = settings.upstream or "guardrail endpoint only"
    print(f"gateway: {settings.policy.mode} mode, fail {settings.policy.fail}, "
          f"http://{host}:{port} -> {served}", flush=True)  # fmt: skip
    uvicorn.run(build_app(gateway), host=host, port=port, log_level="warning", access_log=False)
    return 0
