"""The console's pages and sessions: rendering, login and logout, and the guard every
route but the login form sits behind (a session, and a CSRF token on every POST)."""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from distillguard.console.casestore import QueueFilter
from distillguard.console.security import CSRF_FIELD, csrf_ok, csrf_token
from distillguard.console.state import Console
from distillguard.console.users import User
from distillguard.detect.fact_labels import fact_words

log = logging.getLogger("distillguard.console")
ENV = Environment(loader=PackageLoader("distillguard.console"), autoescape=select_autoescape())


def page_query(filt: QueueFilter, page: int) -> str:
    """The queue's query string for another page of the same filter."""
    params = {k: v for k, v in vars(filt).items() if v and k != "page"}
    return urlencode({**params, "page": page})


ENV.globals["request_query"] = page_query
ENV.globals["fact_words"] = fact_words
ENV.globals["utc"] = UTC  # times are shown in UTC, to the minute, whatever they were read in


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("user", request.state.user if hasattr(request.state, "user") else None)
    html = ENV.get_template(name).render(csrf=csrf_token(request), csrf_field=CSRF_FIELD, **context)
    return HTMLResponse(html, status_code=status)


def current_user(request: Request) -> User | None:
    console: Console = request.app.state.console
    held = console.sessions.held(request.session.get("sid"))
    return console.users.holding(*held) if held else None


def _form_expired(request: Request) -> Response:
    """403 for a form without its session's token: a page that says so and leads back to
    the form's page for a browser (a tab left open across a logout), JSON for a script."""
    if "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"error": "bad or missing CSRF token"}, status_code=403)
    page = quote(request.url.path.removesuffix("/decide"))
    return render(request, "expired_form.html", 403, back=page if page != "/logout" else "/")


def login_required(handler: Any) -> Any:
    """Refuse without a session: the login form for pages, 401 for the JSON API."""

    async def guarded(request: Request) -> Response:
        user = current_user(request)
        if user is None:
            if request.url.path.startswith("/api/"):
                return JSONResponse({"error": "login required"}, status_code=401)
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            back = {"next": wanted} if request.method == "GET" and wanted != "/" else {}
            return RedirectResponse(f"/login?{urlencode(back)}" if back else "/login", 303)
        request.state.user = user
        if request.method == "POST":
            form = await request.form()
            if not csrf_ok(request, str(form.get(CSRF_FIELD) or "")):
                return _form_expired(request)
        return await handler(request)  # type: ignore[no-any-return]

    return guarded


async def login_form(request: Request) -> Response:
    return render(request, "login.html", error="", next=_local(request.query_params.get("next")))


def _local(path: str | None) -> str:
    """Where to go after logging in: a page of this console only (never "//host" or a
    scheme, which would send a fresh session elsewhere), else the queue."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path if all(c.isprintable() for c in path) else "/"


async def login(request: Request) -> Response:
    console: Console = request.app.state.console
    form = await request.form()
    after = _local(str(form.get("next") or ""))
    if not csrf_ok(request, str(form.get(CSRF_FIELD) or "")):
        return render(request, "login.html", 403, error="The form expired; try again.", next=after)
    name, password = str(form.get("name") or ""), str(form.get("password") or "")
    client = request.client.host if request.client else "?"
    wait = console.throttle.attempt(client, name)
    if wait:
        return render(
            request, "login.html", 429, error=f"Too many attempts; wait {wait:.0f} s.", next=after
        )
    user = await run_in_threadpool(console.users.verify, name, password)  # argon2 is slow
    if user is None:
        # The name is not logged: people type passwords into the name field.
        log.warning("console: failed login from %s", client)
        return render(request, "login.html", 401, error="Wrong name or password.", next=after)
    console.throttle.succeeded(client, name)
    request.session.clear()  # a fresh session: nothing from before the login survives
    # The credential of the hash just checked: a password changed since is not this one's.
    request.session["sid"] = console.sessions.open(user.name, user.credential)
    return RedirectResponse(after, status_code=303)


@login_required
async def logout(request: Request) -> Response:
    console: Console = request.app.state.console
    console.sessions.close(request.session.get("sid"))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
