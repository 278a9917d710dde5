"""`distillguard gateway`: the live reverse proxy that acts on verdicts."""

from __future__ import annotations

import argparse
import gc
import ipaddress
import logging
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

from distillguard.cli.common import Subparsers, add_command, positive_number, positive_whole
from distillguard.cli.listen import check_free, listen_address, serve, shown
from distillguard.errors import UserError
from distillguard.gateway.identity import Identity
from distillguard.gateway.reasoning_seal import ReasoningSeal
from distillguard.gateway.settings import GatewaySettings
from distillguard.secret_file import read_secret
from distillguard.shown_url import masked
from distillguard.verdicts.policy import load_policy
from distillguard.verdicts.store import check_answers, shown_state

GUARDRAIL_KEY_ENV = "DISTILLGUARD_GUARDRAIL_KEY"  # a secret: never on the command line


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "gateway",
        summary="serve a proxy in front of an LLM API",
        description="Serve a reverse proxy in front of an OpenAI- or Anthropic-style model "
        "API that acts on verdicts. On every request it reads the account's verdict (and its "
        "cluster's) from --state, runs the prompt classifiers and a per-account rate limit, "
        "and climbs the response ladder: monitor (serve and log), throttle (429), "
        "reverify (403 asking for verification), degrade (serve a reply less useful for "
        "training), block_account or block_cluster (403). In monitor mode it only logs what "
        "it would have done ('would degrade for ACCOUNT: ...'); start there. When the "
        "store or the classifiers fail or time out, fail open serves the request and fail "
        "closed answers 503. With --log-dir every request is written as exchange-log v1, "
        "for 'distillguard watch' to turn into new verdicts. Without --upstream it serves "
        "only LiteLLM's Generic Guardrail API, keyed by $DISTILLGUARD_GUARDRAIL_KEY.",
        examples=[
            (
                "in front of a model API, acting on nothing, logging what it serves",
                "distillguard gateway --upstream https://api.example.com --listen 0.0.0.0:8080 "
                "--identity keys:keys.yaml --state verdicts.jsonl --log-dir exchanges/ "
                "--mode monitor",
            ),
            (
                "a guardrail for a LiteLLM proxy (DISTILLGUARD_GUARDRAIL_KEY set)",
                "distillguard gateway --listen 127.0.0.1:8080 --state redis://127.0.0.1:6379/0",
            ),
        ],
    )
    _serving_options(p)
    _verdict_options(p)
    _identity_options(p)
    _log_options(p)
    _degrade_options(p)
    p.set_defaults(run=run_gateway)


def _serving_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("serving")
    g.add_argument(
        "--upstream",
        metavar="URL",
        help="the model API's root URL, without /v1: the request's own path and query are "
        "added (e.g. https://api.openai.com; omit to serve "
        "only LiteLLM's Generic Guardrail API, keyed by $DISTILLGUARD_GUARDRAIL_KEY)",
    )
    g.add_argument(
        "--upstream-key",
        type=Path,
        metavar="FILE",
        help="a file holding this gateway's own key for the model API, sent upstream in "
        "place of each client's (a reseller whose customers hold keys it issued, with "
        "--identity keys:FILE); without it the client's Authorization or x-api-key is "
        "passed on as it came",
    )
    g.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT", help="where to serve")
    g.add_argument(
        "--max-body-mb",
        type=positive_number,
        default=4.0,
        metavar="MB",
        help="refuse larger request bodies with 413",
    )
    g.add_argument(
        "--upstream-timeout",
        type=positive_number,
        default=600.0,
        metavar="SECONDS",
        help="answer 504 when the model API takes longer",
    )
    g.add_argument(
        "--trust-forwarded",
        action="store_true",
        help="client address from X-Forwarded-For (behind your load balancer): its last "
        "entry, the one the balancer appends",
    )


def _verdict_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("verdicts and policy")
    g.add_argument(
        "--state",
        default="verdicts.jsonl",
        metavar="STATE",
        help="the verdict store: memory, a JSON-lines file path, or redis://HOST:PORT/DB",
    )
    g.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="a policy YAML file (default: the built-in policy, which 'distillguard "
        "verdicts policy' prints)",
    )
    g.add_argument(
        "--mode",
        choices=("monitor", "enforce"),
        help="monitor logs what it would do, enforce does it (default: the policy's)",
    )
    g.add_argument(
        "--fail",
        choices=("open", "closed"),
        help="when the store or classifiers fail: open serves, closed answers 503 "
        "(default: the policy's)",
    )


def _identity_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("who sent a request")
    g.add_argument(
        "--identity",
        metavar="SPEC",
        help="who sent a request: header:NAME (the account id in that header, which a "
        "client could set itself: only behind an auth layer that sets it and drops the "
        "client's own, see --trusted-header) or keys:FILE (YAML or JSON mapping API keys "
        "to accounts; unknown keys get 401; read again within a second of a change, a broken "
        "edit logged and the keys before kept) (default: header:x-distillguard-account)",
    )
    g.add_argument(
        "--trusted-header",
        action="store_true",
        help="with header identity on an address other than loopback: your auth layer in "
        "front sets the account header and removes any a client sent (without this flag "
        "such a gateway refuses to start, since a blocked client could name another account)",
    )


def _log_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("exchange logs")
    g.add_argument(
        "--log-dir",
        type=Path,
        metavar="DIR",
        help="write every request as exchange-log v1 files here (for 'distillguard watch')",
    )
    g.add_argument(
        "--rotate-rows", type=positive_whole, default=10_000, metavar="N", help="log rows per file"
    )
    g.add_argument(
        "--rotate-seconds",
        type=positive_number,
        default=60.0,
        metavar="SECONDS",
        help="start a new log file after this many seconds",
    )
    g.add_argument(
        "--replay-clock",
        action="store_true",
        help="stamp exchanges with x-distillguard-replay-ts (replaying logs only)",
    )


def _degrade_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("degrade")
    g.add_argument(
        "--watermark-key",
        type=Path,
        metavar="FILE",
        help="watermark the answers degraded accounts are served with this key (from "
        "'distillguard provenance keygen'); adds watermark to the policy's degrade step",
    )
    g.add_argument(
        "--seal-key",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a secret file (at least 32 random bytes: openssl rand -base64 48 > FILE) under "
        "which degrade seals the thinking it withholds, so a client's tool loop can send it "
        "back; give every replica the same one; repeat to rotate (the first seals, all "
        "open). Without it a key is made at start, and blocks served before a restart are "
        "left out when sent back",
    )


def check_identity(identity: Identity, host: str, trusted_header: bool) -> str | None:
    """A client that reaches the gateway directly must not name its own account. On
    loopback only this host's processes reach it, but a reverse proxy here may forward
    what clients send: a note says so (None when nothing needs saying)."""
    if identity.keys is not None or trusted_header:
        return None
    if _is_loopback(host):
        return (
            f"accounts are named by the {identity.header} header: make sure the proxy on "
            "this host sets it and drops any a client sent (then pass --trusted-header)"
        )
    raise UserError(
        f"--listen {host} takes requests from clients, who could set the {identity.header} "
        "header themselves and escape a block: use --identity keys:FILE, or put the "
        "gateway behind an auth layer that sets that header and pass --trusted-header"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


def settings_from(args: argparse.Namespace) -> GatewaySettings:
    key = os.environ.get(GUARDRAIL_KEY_ENV) or None
    if args.upstream is None and key is None:
        raise UserError(f"give --upstream URL, or set {GUARDRAIL_KEY_ENV} to serve the guardrail")
    upstream = urlparse(args.upstream or "")
    if args.upstream is not None and not (
        upstream.scheme in ("http", "https") and upstream.hostname
    ):
        raise UserError(f"bad --upstream {args.upstream!r}; use an http:// or https:// URL")
    if upstream.path.rstrip("/").endswith("/v1"):  # the SDKs' base URL, not the API's root
        root = args.upstream.rstrip("/").removesuffix("/v1")
        raise UserError(
            f"--upstream {args.upstream} ends in /v1, which the gateway adds itself (it would "
            f"call .../v1/v1/chat/completions): give the API's root, {root}"
        )
    policy = load_policy(args.policy).overridden(args.mode, args.fail)
    if args.watermark_key is not None:
        from distillguard.gateway.actions import watermark  # here: it loads numpy
        from distillguard.gateway.actions.degrade import DEFAULT_DEGRADATIONS

        policy = watermark.with_key(policy, args.watermark_key, DEFAULT_DEGRADATIONS)
    return GatewaySettings(
        upstream=args.upstream.rstrip("/") if args.upstream else None,
        guardrail_key=key,
        upstream_key=_upstream_key(args.upstream_key),
        state=args.state,
        policy=policy,
        identity=Identity.parse(args.identity),
        log_dir=args.log_dir,
        log_rotate_rows=args.rotate_rows,
        log_rotate_s=args.rotate_seconds,
        max_body_bytes=int(args.max_body_mb * 1024 * 1024),
        upstream_timeout_s=args.upstream_timeout,
        trust_forwarded=args.trust_forwarded,
        replay_clock=args.replay_clock,
        seal=ReasoningSeal.load(args.seal_key) if args.seal_key else ReasoningSeal.generate(),
    )


def _upstream_key(path: Path | None) -> str | None:
    if path is None:
        return None
    raw = read_secret(path, "upstream key file", 8).removeprefix(b"\xef\xbb\xbf")
    if any(b in b" \t\r\n" for b in raw):
        raise UserError(f"upstream key file {path} holds more than one key (spaces or lines)")
    if not all(0x21 <= b <= 0x7E for b in raw):  # a header carries visible ASCII only
        raise UserError(f"upstream key file {path} is not a key: it holds bytes past ASCII")
    return raw.decode("ascii")


def run_gateway(args: argparse.Namespace) -> int:
    from distillguard.gateway.app import build_app
    from distillguard.gateway.service import Gateway

    host, port = listen_address(args.listen)
    settings = settings_from(args)
    note = None
    if settings.upstream is not None:  # the guardrail endpoint is keyed: LiteLLM is in front
        note = check_identity(settings.identity, host, args.trusted_header)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    gateway = Gateway(settings)  # the policy's action settings are checked here
    outage = check_answers(gateway.enforcer.store, args.state)
    if outage is not None:
        print(f"gateway: warning: {outage.rstrip('.')}; starting, the fail mode applies",
              file=sys.stderr)  # fmt: skip
    check_free(host, port)  # after: a mistake in the command says so, whatever the port
    if note is not None:  # once it is sure to start: after the policy's settings are read
        print(f"gateway: note: {note}", file=sys.stderr, flush=True)
    served = masked(settings.upstream) if settings.upstream else "guardrail endpoint only"
    print(f"gateway: {settings.policy.mode} mode, fail {settings.policy.fail}, "
          f"http://{shown(host, port)} -> {served}; verdicts from {shown_state(args.state)}; "
          f"withheld thinking sealed under {settings.seal.source}{_marking(settings)}; "
          f"{_credential(settings, args.upstream_key)}", flush=True)  # fmt: skip
    # What is loaded by now (libraries, policy, store) lives as long as the process: kept
    # out of the cyclic collector, a full collection no longer walks it, which otherwise
    # stalls the event loop for 40-100 ms now and then (benchmarks/gateway, gc callbacks).
    gc.collect()
    gc.freeze()
    try:
        # proxy_headers off: uvicorn would take X-Forwarded-For from any loopback peer;
        # --trust-forwarded alone decides whether the gateway reads it
        serve(
            build_app(gateway),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            small_requests=False,  # httptools, as its speed was measured (benchmarks/gateway)
        )
    finally:
        # Frozen objects are never collected, even at exit, where DuckDB's bindings then
        # listed every one of their objects still alive as a leak (about 50 lines).
        gc.unfreeze()
    return 0


def _credential(settings: GatewaySettings, key_file: Path | None) -> str:
    """What the start line says the upstream is sent: a reseller that issues its own keys
    (keys:FILE) and forgets --upstream-key hands each customer's key to the provider."""
    if key_file is not None:
        return f"the upstream gets the key in {key_file}, never a client's"
    if settings.identity.keys is not None:
        return (
            "clients' keys are passed to the upstream as they came (if they are keys this "
            "gateway issued, give --upstream-key FILE)"
        )
    return "clients' keys are passed to the upstream as they came"


def _marking(settings: GatewaySettings) -> str:
    """What the start line says of the watermark: on only when degrade names it."""
    degrade = settings.policy.settings("degrade")
    if "watermark" not in degrade.get("degradations", ()):
        return ""
    return f"; degraded answers watermarked with {degrade.get('watermark_key')}"
