"""The console's doors, over real HTTP: sessions, roles, CSRF, login throttling, logs."""

from __future__ import annotations

import logging
import stat
import threading
from pathlib import Path
from urllib.parse import urlencode

import httpx
import markupsafe
import pytest

from distillguard.console import users as users_module
from distillguard.console.app import MAX_FORM_BYTES, open_console
from distillguard.detect.summary import DetectSummary
from distillguard.verdicts.store import open_store
from tests.console.conftest import PASSWORDS, Served, csrf_of

# Every route the console serves, as an anonymous visitor would try it.
ROUTES = [
    ("GET", "/", 303),
    ("GET", "/api/queue", 401),
    ("GET", "/case/account/x", 303),
    ("GET", "/case/cluster/x/pack.html", 303),
    ("GET", "/case/cluster/x/stix.json", 303),
    ("POST", "/case/account/x/decide", 303),
    ("POST", "/logout", 303),
]


@pytest.mark.parametrize(("method", "path", "status"), ROUTES)
def test_every_route_refuses_without_a_session(
    served: Served, method: str, path: str, status: int
) -> None:
    reply = served.client().request(method, path)
    assert reply.status_code == status
    if status == 303:  # to the login, which leads back to a page asked for
        back = "" if method == "POST" or path == "/" else "?" + urlencode({"next": path})
        assert reply.headers["location"] == "/login" + back
    assert "acct_" not in reply.text


def test_every_route_is_in_the_table(served: Served) -> None:
    from distillguard.console.app import build_app

    served_paths = {getattr(r, "path", "") for r in build_app(served.console).routes}
    tried = {
        p.replace("/account/x", "/{kind:str}/{case_id:str}").replace(
            "/cluster/x", "/{kind:str}/{case_id:str}"
        )
        for _, p, _ in ROUTES
    }
    assert served_paths - {"/login"} <= tried


def test_a_viewer_sees_no_content_and_cannot_decide(served: Served) -> None:
    from distillguard.console.casestore import QueueFilter

    account = str(served.console.cases.queue(QueueFilter(kind="account")).rows[0]["id"])
    samples = served.console.facts.samples([account])
    assert samples and samples[0]["prompt"]
    viewer = served.login("victor")
    page = viewer.get(f"/case/account/{account}")
    assert page.status_code == 200
    assert "[redacted:" in page.text
    assert samples[0]["prompt"][:40] not in page.text
    assert 'id="decide"' not in page.text
    token = csrf_of(page.text)
    reply = viewer.post(
        f"/case/account/{account}/decide", data={"csrf": token, "decision": "confirm"}
    )
    assert reply.status_code == 403
    analyst = served.login("alice")
    assert samples[0]["prompt"][:40] in analyst.get(f"/case/account/{account}").text


@pytest.mark.parametrize("token", [None, "forged", ""])
def test_a_form_without_the_right_csrf_token_is_refused(served: Served, token: str | None) -> None:
    from distillguard.console.casestore import QueueFilter

    account = str(served.console.cases.queue(QueueFilter(kind="account")).rows[0]["id"])
    analyst = served.login("alice")
    data = {"decision": "confirm"} | ({"csrf": token} if token is not None else {})
    reply = analyst.post(f"/case/account/{account}/decide", data=data)
    assert reply.status_code == 403
    assert served.console.cases.history("account", account) == []


def test_wrong_passwords_are_rate_limited(served: Served) -> None:
    client = served.client()
    token = csrf_of(client.get("/login").text)
    codes = [
        client.post("/login", data={"csrf": token, "name": "alice", "password": "nope"}).status_code
        for _ in range(6)
    ]
    assert codes[:5] == [401] * 5
    assert codes[5] == 429
    right = {"csrf": token, "name": "alice", "password": PASSWORDS["alice"]}
    assert client.post("/login", data=right).status_code == 429


def test_session_cookie_flags(served: Served) -> None:
    client = served.client()
    token = csrf_of(client.get("/login").text)
    reply = client.post(
        "/login", data={"csrf": token, "name": "alice", "password": PASSWORDS["alice"]}
    )
    cookie = reply.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie  # a link from a ticket opens with the session
    assert "secure" not in cookie  # plain HTTP here; Secure is set when served over TLS


@pytest.mark.parametrize("path", ["/login", "/", "/api/queue", "/case/account/x"])
def test_pages_are_not_framed_cached_or_referred(served: Served, path: str) -> None:
    for client in (served.client(), served.login("alice")):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "no-referrer"


def test_a_form_trickled_in_is_cut_off(served: Served) -> None:
    """The console's forms are timed as the gateway's bodies are (tests/test_body_deadline
    shows the middleware at work over both protocols)."""
    from distillguard.body_deadline import BodyDeadline
    from distillguard.console.app import build_app

    classes: list[object] = [m.cls for m in build_app(served.console).user_middleware]
    assert BodyDeadline in classes


def test_pages_name_their_icon_so_no_browser_asks_for_a_missing_one(served: Served) -> None:
    """Browsers asked for /favicon.ico on every page: a 404 in the console's log each time.
    The pages name an empty icon inline, which the policy's `img-src data:` allows."""
    for page in (served.client().get("/login"), served.login("alice").get("/")):
        assert '<link rel="icon" href="data:,">' in page.text
        assert "img-src data:" in page.headers["content-security-policy"]


def test_no_prompt_text_in_server_logs(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    from distillguard.console.casestore import QueueFilter

    caplog.set_level(logging.DEBUG)
    account = str(served.console.cases.queue(QueueFilter(kind="account")).rows[0]["id"])
    prompt = served.console.facts.samples([account])[0]["prompt"]
    analyst = served.login("alice")
    analyst.get(f"/case/account/{account}")
    analyst.get(f"/case/account/{account}/pack.html")
    assert prompt[:30] not in caplog.text


def test_the_session_cookie_is_secure_under_tls(served: Served) -> None:
    from tests.console.conftest import serve

    for url in serve(served.console, tls=True):
        client = Served(url, served.console, served.state)
        plain = client.client()
        token = csrf_of(plain.get("/login").text)
        reply = plain.post(
            "/login", data={"csrf": token, "name": "alice", "password": PASSWORDS["alice"]}
        )
        assert "secure" in reply.headers["set-cookie"].lower()
        client.close()


def test_logging_out_revokes_the_session_cookie(served: Served) -> None:
    analyst = served.login("alice")
    stolen = served.client()
    stolen.cookies.update(analyst.cookies)
    assert stolen.get("/").status_code == 200
    token = csrf_of(analyst.get("/").text)
    assert analyst.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert analyst.post("/logout", data={"csrf": token}).status_code == 303
    assert stolen.get("/").status_code == 303  # the copied cookie no longer opens anything


def test_a_new_password_ends_the_sessions_opened_with_the_old(served: Served) -> None:
    """A session stayed its user's for up to 12 hours after the password was changed
    (say, because it leaked), or the user removed and added again."""
    stolen, kept = served.login("alice"), served.login("victor")
    served.console.users.add("alice", "analyst", "a-new-password-42")
    assert stolen.get("/api/queue").status_code == 401
    assert kept.get("/api/queue").status_code == 200  # victor's password did not change
    fresh = served.client()
    token = csrf_of(fresh.get("/login").text)
    form = {"csrf": token, "name": "alice", "password": "a-new-password-42"}
    assert fresh.post("/login", data=form).status_code == 303
    assert fresh.get("/api/queue").status_code == 200


def test_a_password_changed_during_a_login_check_opens_no_session(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The login checked the old hash, then read the file again for the session's
    credential: a password changed between the two gave the old password's holder a
    session that the new password's holder's sessions share."""
    real = users_module._HASHER

    class ChangedWhileChecking:
        hash = real.hash

        def verify(self, hashed: str, password: str) -> bool:
            ok = real.verify(hashed, password)
            monkeypatch.setattr(users_module, "_HASHER", real)
            served.console.users.add("alice", "analyst", "a-new-password-42")
            return ok

    monkeypatch.setattr(users_module, "_HASHER", ChangedWhileChecking())
    late = served.login("alice")  # the old password, right when it was checked
    assert late.get("/api/queue").status_code == 401


def test_logins_sent_together_are_counted_before_their_check(served: Served) -> None:
    """The throttle counted a failure after argon2's check: 60 wrong passwords sent
    together all got that check, and none a 429."""
    clients = [served.client() for _ in range(12)]
    tokens = [csrf_of(c.get("/login").text) for c in clients]
    codes: list[int] = []

    def guess(client: httpx.Client, token: str) -> None:
        form = {"csrf": token, "name": "alice", "password": "guess"}
        codes.append(client.post("/login", data=form).status_code)

    pairs = zip(clients, tokens, strict=True)
    threads = [threading.Thread(target=guess, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [401] * 5 + [429] * 7


def test_a_login_form_past_the_cap_is_refused_unread(served: Served) -> None:
    """A login of 990 fields of 1,000 KB was parsed whole (a gigabyte) before its 403."""
    client = served.client()
    token = csrf_of(client.get("/login").text)
    huge = {"csrf": token, "name": "alice", "password": "x", "pad": "a" * (MAX_FORM_BYTES + 1)}
    refused = client.post("/login", data=huge)
    assert refused.status_code == 413  # in the console's error shape, saying what to do
    assert refused.json() == {"error": "the form is over 256 KB: shorten the note, then send it"}
    fine = {"csrf": token, "name": "alice", "password": PASSWORDS["alice"]}
    assert client.post("/login", data=fine).status_code == 303


def test_password_spraying_across_names_is_limited(served: Served) -> None:
    client = served.client()
    token = csrf_of(client.get("/login").text)
    codes = [
        client.post(
            "/login", data={"csrf": token, "name": f"user{i}", "password": "guess"}
        ).status_code
        for i in range(21)
    ]
    assert codes[:20] == [401] * 20
    assert codes[20] == 429


# (query, what the queue says of it); each was ignored without a word, and an unknown
# status matched nothing: an empty queue that looked like a quiet day
BAD_FILTERS = [
    ("since=not-a-date", "since 'not-a-date' is not a date (YYYY-MM-DD)"),
    ("until=2026-13-45", "until '2026-13-45' is not a date"),
    ("page=%C2%B2", "page '²' is not a page number"),
    ("page=-3", "page '-3' is not a page number"),
    ("sort=evil", "sort 'evil' is not one of score, recent"),
    ("status=open", "status 'open' is not one of new, confirmed, dismissed, escalated"),
    ("kind=user", "kind 'user' is not one of account, cluster"),
    ("tier=" + "x" * 60, "tier '" + "x" * 40 + "...' is not one of flagged, review, peer"),
    ("capability=telepathy", "capability 'telepathy' is in no case of this run"),
    ("campaign=c-doesnotexist", "campaign 'c-doesnotexist' is in no case of this run"),
    ("access_path=nope", "access_path 'nope' is in no case of this run"),
    ("from=2026-02-01", "no filter 'from': valid campaign, capability, access_path, tier"),
    ("per_page=100000&x=1", "no filter 'per_page', 'x': valid"),
    ("since=2026-02-03&until=2026-02-01", "since 2026-02-03 is after until 2026-02-01"),
]


@pytest.mark.parametrize(("query", "said"), BAD_FILTERS, ids=[b[0][:20] for b in BAD_FILTERS])
def test_a_bad_queue_filter_is_left_out_and_said(served: Served, query: str, said: str) -> None:
    analyst = served.login("alice")
    page, api = analyst.get(f"/?{query}"), analyst.get(f"/api/queue?{query}")
    whole = analyst.get("/api/queue").json()["total"]
    assert page.status_code == 200 and str(markupsafe.escape(said)) in page.text
    assert f"<p>{whole} case(s)" in page.text  # the queue, unfiltered by what was left out
    assert api.status_code == 400 and said in api.json()["error"]


def test_a_page_past_the_last_is_a_400_for_a_script(served: Served) -> None:
    """It answered the last page again, so a script paging until an empty page never
    stopped; the page a browser asks for is still the last."""
    analyst = served.login("alice")
    pages = analyst.get("/api/queue").json()["pages"]
    past = analyst.get(f"/api/queue?page={pages + 1}")
    assert past.status_code == 400
    assert past.json()["error"] == f"page {pages + 1} is past the last, {pages}"
    assert analyst.get(f"/?page={pages + 1}").status_code == 200


def test_a_link_opened_logged_out_leads_there_after_the_login(served: Served) -> None:
    """It led to the queue: every case link in a ticket meant finding the case again."""
    client = served.client()
    asked = client.get("/case/cluster/c-42?x=1")
    assert asked.status_code == 303
    login = client.get(asked.headers["location"])
    assert 'name="next" value="/case/cluster/c-42?x=1"' in login.text
    form = {"csrf": csrf_of(login.text), "name": "alice", "password": PASSWORDS["alice"]}
    reply = client.post("/login", data={**form, "next": "/case/cluster/c-42?x=1"})
    assert reply.headers["location"] == "/case/cluster/c-42?x=1"


@pytest.mark.parametrize(
    "elsewhere", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "case/x", ""]
)
def test_after_the_login_only_this_consoles_pages(served: Served, elsewhere: str) -> None:
    client = served.client()
    token = csrf_of(client.get("/login").text)
    form = {"csrf": token, "name": "alice", "password": PASSWORDS["alice"], "next": elsewhere}
    assert client.post("/login", data=form).headers["location"] == "/"


def test_empty_filter_fields_are_no_filter(served: Served) -> None:
    """What the queue's own form sends when nothing is chosen."""
    analyst = served.login("alice")
    empty = "campaign=&capability=&tier=&kind=&access_path=&status=&since=&until=&members=&page="
    assert analyst.get(f"/api/queue?{empty}&sort=score").json() == analyst.get("/api/queue").json()
    assert "filter-problems" not in analyst.get(f"/?{empty}").text


def test_a_bad_expiry_is_a_400(served: Served) -> None:
    from distillguard.console.casestore import QueueFilter

    account = str(served.console.cases.queue(QueueFilter(kind="account")).rows[0]["id"])
    analyst = served.login("alice")
    token = csrf_of(analyst.get(f"/case/account/{account}").text)
    reply = analyst.post(
        f"/case/account/{account}/decide",
        data={"csrf": token, "decision": "confirm", "ttl": "forever"},
    )
    assert reply.status_code == 400
    assert served.console.cases.history("account", account) == []
    # the case page again, the mistake said above the form: not a page of raw JSON
    assert "text/html" in reply.headers["content-type"]
    assert 'id="decision-error">Not recorded: bad duration' in reply.text


@pytest.mark.parametrize("existing", [None, 0o755, 0o700])
def test_the_console_home_is_owner_only(
    tiny_detect: DetectSummary, tmp_path: Path, existing: int | None
) -> None:
    """Cases hold customers' prompts, and DuckDB creates its file with the umask: the
    home that holds them is narrowed to its owner, whether the console made it or not."""
    home = tmp_path / "home"
    if existing is not None:
        home.mkdir(mode=existing)
        home.chmod(existing)
    console = open_console(tiny_detect.out, home, open_store(str(tmp_path / "state.json")), None)
    console.close()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert (home / "cases.duckdb").exists()


def test_a_linked_home_is_left_as_it_is(tiny_detect: DetectSummary, tmp_path: Path) -> None:
    """A link may point at a directory shared on purpose: narrowing it would follow the
    link and change what others rely on."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o770)
    shared.chmod(0o770)
    (tmp_path / "home").symlink_to(shared)
    store = open_store(str(tmp_path / "state.json"))
    open_console(tiny_detect.out, tmp_path / "home", store, None).close()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o770


def test_an_evidence_pack_holds_none_of_the_consoles_own_parts(served: Served) -> None:
    """A pack is a file handed on: it carried the header's log-out form, with the
    session's CSRF token, and links that lead nowhere outside the console."""
    from distillguard.console.casestore import QueueFilter

    case = str(served.console.cases.queue(QueueFilter(kind="cluster")).rows[0]["id"])
    analyst = served.login("alice")
    page = analyst.get(f"/case/cluster/{case}").text
    pack = analyst.get(f"/case/cluster/{case}/pack.html").text
    assert csrf_of(page) and 'name="csrf"' not in pack and csrf_of(page) not in pack
    assert "/logout" not in pack and 'href="/case/' not in pack and 'href="/case/' in page
    assert "Evidence pack: cluster" in pack and "Accounts in this case" in pack
