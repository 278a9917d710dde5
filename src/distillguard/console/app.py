"""The console's web application: login, the queue, case pages, decisions, evidence packs.

Every route but the login form needs a session; content (prompts, outputs, system prompts)
is rendered only for roles allowed to see it; every POST checks the CSRF token first.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from distillguard.body_deadline import BodyDeadline
from distillguard.body_limit import BodyLimit
from distillguard.console import plots
from distillguard.console.casefacts import CaseFacts
from distillguard.console.casestore import STATUSES, CaseStore, StaleCaseError
from distillguard.console.decisions import (
    Decision,
    cluster_block_of_one,
    decide,
    seen_count,
    ttl_choices,
)
from distillguard.console.evidence import add_matches
from distillguard.console.filters import KINDS, TIERS, read_filter
from distillguard.console.headers import SecurityHeaders
from distillguard.console.security import (
    SESSION_MAX_AGE_S,
    SessionRegistry,
    private_home,
    session_secret,
)
from distillguard.console.state import Console
from distillguard.console.users import User, UserStore
from distillguard.console.web import login, login_form, login_required, logout, render
from distillguard.detect.case_files import read_evidence, read_run
from distillguard.errors import UserError
from distillguard.sharing import stix
from distillguard.sharing.case_bundle import case_bundle
from distillguard.sharing.keys import CommunityKey
from distillguard.verdicts.model import ACTIONS
from distillguard.verdicts.store import Change, VerdictStore

log = logging.getLogger("distillguard.console")
# a login, a decision with its note: a few kilobytes; a page of notes at most
MAX_FORM_BYTES = 256 * 1024
FORM_TOO_LARGE = orjson.dumps(  # the console's error shape, as its other refusals
    {"error": f"the form is over {MAX_FORM_BYTES // 1024} KB: shorten the note, then send it"}
)


@login_required
async def queue(request: Request) -> Response:
    console: Console = request.app.state.console
    read = read_filter(request.query_params, await run_in_threadpool(console.cases.facets))
    return render(
        request,
        "queue.html",
        page=await run_in_threadpool(console.cases.queue, read.filt),
        filt=read.filt,
        problems=read.problems,
        statuses=STATUSES,
        tiers=TIERS,
        kinds=KINDS,
        suppressed=console.suppressed,
    )


@login_required
async def queue_api(request: Request) -> Response:
    console: Console = request.app.state.console
    read = read_filter(request.query_params, await run_in_threadpool(console.cases.facets))
    if read.problems:  # a program gets told, not a queue filtered otherwise than asked
        return JSONResponse({"error": "; ".join(read.problems)}, status_code=400)
    page = await run_in_threadpool(console.cases.queue, read.filt)
    if read.filt.page > page.pages:  # else a script paging on until an empty page never stops
        past = f"page {read.filt.page} is past the last, {page.pages}"
        return JSONResponse({"error": past}, status_code=400)
    rows = [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
        for r in page.rows
    ]
    body = {"rows": rows, "total": page.total, "page": page.page, "pages": page.pages}
    return JSONResponse({**body, "folded": page.folded})


def _redacted(sample: dict[str, Any]) -> dict[str, Any]:
    """A sample without its text, for roles that may not see content: removed here, on the
    server, so no template or endpoint can show it by mistake."""
    sizes = {f"{k}_chars": len(str(sample.get(k) or "")) for k in ("prompt", "output")}
    return {**sample, "system": "", "prompt": "", "output": "", **sizes}


def _case_context(console: Console, user: User, kind: str, case_id: str) -> dict[str, Any] | None:
    """Everything a case page shows; blocking work, so it runs in the thread pool."""
    case = console.cases.case(kind, case_id)
    if case is None:
        return None
    accounts = console.case_evidence(kind, case_id).accounts
    activity = console.facts.activity(accounts)
    links = console.facts.links(accounts)
    cluster = case.get("cluster_id") or (case_id if kind == "cluster" else "")
    keys = {f"account:{a}" for a in accounts} | {f"cluster:{cluster}"}
    verdicts, hidden = _shown_changes(
        [c for c in console.verdicts.audit() if c.key in keys], f"{kind}:{case_id}"
    )
    in_force = [v for v in (console.verdicts.get(k) for k in sorted(keys)) if v is not None]
    samples = console.facts.samples(accounts)
    return {
        "case": case,
        "evidence": console.evidence.get((kind, case_id), {}).get("evidence", []),
        "accounts": accounts,
        "plots": [
            plots.bars("Exchanges per day", activity.by_day, "day (UTC)", "exchanges"),
            plots.bars(
                "Hour of day",
                [(f"{h:02d}", n) for h, n in enumerate(activity.by_hour)],
                "hour of day (UTC)",
                "exchanges",
            ),
            plots.bars("Capability mix", activity.capabilities, "capability", "exchanges"),
            plots.bars("Output length", activity.output_tokens, "output tokens", "exchanges"),
        ],
        "graph": plots.graph("Linked accounts", links.nodes, links.edges),
        "links": links,
        "samples": samples if user.sees_content else [_redacted(x) for x in samples],
        "history": console.cases.history(kind, case_id),
        "seen": len(console.cases.decided(kind, case_id)),
        "verdicts": verdicts,
        "verdicts_hidden": hidden,
        "in_force": in_force[:SHOWN_CHANGES],
        "in_force_hidden": max(0, len(in_force) - SHOWN_CHANGES),
    }


SHOWN_CHANGES = 50  # a flagged cluster's members add a change each at every publish


def _shown_changes(changes: list[Change], own: str) -> tuple[list[Change], int]:
    """Every change of the case's own subject, the last SHOWN_CHANGES of the others (its
    members'), in time order; and how many were left out, which the page says."""
    mine = [c for c in changes if c.key == own]
    others = [c for c in changes if c.key != own]
    kept = others[-SHOWN_CHANGES:] if len(others) > SHOWN_CHANGES else others
    return sorted(mine + kept, key=lambda c: c.at), len(others) - len(kept)


async def _context(request: Request, kind: str, case_id: str) -> dict[str, Any] | None:
    console: Console = request.app.state.console
    return await run_in_threadpool(_case_context, console, request.state.user, kind, case_id)


@login_required
async def case_page(request: Request) -> Response:
    return await _case_page(request, request.path_params["kind"], request.path_params["case_id"])


async def _case_page(
    request: Request, kind: str, case_id: str, status: int = 200, *, error: str = "", note: str = ""
) -> Response:
    context = await _context(request, kind, case_id)
    if context is None:
        return render(request, "missing.html", 404, what=f"{kind} {case_id}")
    console: Console = request.app.state.console
    stix = console.share_key is not None and bool(context["case"].get("cluster_id"))
    return render(request, "case.html", status, actions=ACTIONS, ttls=ttl_choices(), stix=stix,
                  error=error, note=note, **context)  # fmt: skip


@login_required
async def decide_route(request: Request) -> Response:
    console: Console = request.app.state.console
    user: User = request.state.user
    kind, case_id = request.path_params["kind"], request.path_params["case_id"]
    if not user.decides:
        return JSONResponse({"error": "your role cannot decide"}, status_code=403)
    if console.cases.case(kind, case_id) is None:
        return JSONResponse({"error": "no such case"}, status_code=404)
    form = await request.form()
    note = str(form.get("note") or "")
    try:
        decision = Decision(
            str(form.get("decision") or ""),
            str(form.get("action") or ""),
            note,
            str(form.get("ttl") or ""),
            seen_count(str(form.get("seen") or "")),
        )
    except UserError as exc:  # the case page again, the mistake said above its form
        return await _case_page(request, kind, case_id, 400, error=str(exc), note=note)
    lone = await run_in_threadpool(cluster_block_of_one, console.cases, (kind, case_id), decision)
    if lone:
        return await _case_page(request, kind, case_id, 400, error=lone, note=note)
    try:
        await run_in_threadpool(
            decide,
            (kind, case_id),
            decision,
            user.name,
            console.case_evidence(kind, case_id),
            (console.cases, console.verdicts, console.allowlist),
        )
    except StaleCaseError as exc:  # refused before anything was written
        return await _case_page(request, kind, case_id, 409, error=str(exc), note=note)
    return RedirectResponse(f"/case/{kind}/{quote(case_id, safe='')}", status_code=303)


@login_required
async def evidence_pack(request: Request) -> Response:
    kind, case_id = request.path_params["kind"], request.path_params["case_id"]
    context = await _context(request, kind, case_id)
    if context is None:
        return render(request, "missing.html", 404, what=f"{kind} {case_id}")
    response = render(request, "pack.html", **context)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{kind}-{case_id}")  # ids come from the logs
    response.headers["content-disposition"] = f'attachment; filename="{name}.html"'
    return response


def _stix_bundle(console: Console, kind: str, case_id: str) -> str | None:
    """The case's campaign as a STIX bundle (keyed: no customer text), or None."""
    case = console.cases.case(kind, case_id)
    cluster = case.get("cluster_id") if case else None
    if console.share_key is None or not cluster:
        return None
    lake_dir = console.facts.lake
    bundle = case_bundle(console.findings, console.share_key, str(cluster), lake=lake_dir)
    return None if bundle is None else stix.dumps(bundle)


@login_required
async def stix_export(request: Request) -> Response:
    console: Console = request.app.state.console
    kind, case_id = request.path_params["kind"], request.path_params["case_id"]
    if console.share_key is None:
        return JSONResponse({"error": "start the console with --share-key to export STIX"}, 404)
    text = await run_in_threadpool(_stix_bundle, console, kind, case_id)
    if text is None:
        return JSONResponse({"error": "no shared campaign for this case"}, status_code=404)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{kind}-{case_id}")
    headers = {"content-disposition": f'attachment; filename="{name}.stix.json"'}
    return Response(text, media_type="application/stix+json;version=2.1", headers=headers)


def build_app(console: Console, tls: bool = False) -> Starlette:
    routes = [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", queue, methods=["GET"]),
        Route("/api/queue", queue_api, methods=["GET"]),
        Route("/case/{kind:str}/{case_id:str}", case_page, methods=["GET"]),
        Route("/case/{kind:str}/{case_id:str}/decide", decide_route, methods=["POST"]),
        Route("/case/{kind:str}/{case_id:str}/pack.html", evidence_pack, methods=["GET"]),
        Route("/case/{kind:str}/{case_id:str}/stix.json", stix_export, methods=["GET"]),
    ]
    secret = session_secret(console.home)
    middleware = [
        Middleware(SecurityHeaders),  # outermost: a 413 carries them too
        Middleware(BodyDeadline),  # a form trickled a byte at a time holds nothing
        Middleware(BodyLimit, limit=MAX_FORM_BYTES, answer=FORM_TOO_LARGE),  # before any form
        Middleware(
            SessionMiddleware,
            secret_key=secret,
            max_age=SESSION_MAX_AGE_S,
            # lax: a case link followed from a ticket or chat opens with the session; with
            # strict the cookie stayed behind, and the login page's new one replaced it
            # (logged out). Forms from other sites still carry no cookie, and no token.
            same_site="lax",
            https_only=tls,
            session_cookie="distillguard_session",
        ),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.console = console
    return app


def open_console(
    findings: Path,
    home: Path,
    verdicts: VerdictStore,
    lake: Path | None,
    share_key: CommunityKey | None = None,
    *,
    matches: tuple[Path, ...] = (),
) -> Console:
    run = read_run(findings)
    lake = lake or (Path(run["lake"]) if run.get("lake") else None)
    cases = CaseStore(private_home(home) / "cases.duckdb")
    (home / "allowlist.jsonl").touch()  # there from the start: detect --allowlist reads it
    cases.load(findings)
    evidence = read_evidence(findings)
    for folder in matches:
        add_matches(cases, evidence, folder)
    return Console(
        findings,
        home,
        cases,
        verdicts,
        UserStore(home / "users.json"),
        CaseFacts(findings, lake),
        evidence,
        share_key=share_key,
        sessions=SessionRegistry(home / "sessions.json"),
        suppressed=len(run.get("suppressed", [])),
    )
