"""End to end in a real browser: Playwright driving Debian's chromium against the console.

An analyst logs in, opens the top cluster, reads its evidence, dismisses one account and
escalates another to `throttle`; the gateway's verdict store and the next detect run
reflect both.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from distillguard.detect.allowlist import load_allowlist
from distillguard.detect.run import detect
from distillguard.detect.summary import DetectSummary
from distillguard.verdicts.store import open_store
from tests.console.conftest import PASSWORDS, Served

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run 'make system' (it installs it)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _log_in(page: Page, url: str, name: str) -> None:
    page.goto(url + "/")
    assert page.url.endswith("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("button[type=submit]")
    page.wait_for_selector("table#queue")


def _decide(
    page: Page, decision: str, action: str = "", note: str = "", *, wait: bool = True
) -> None:
    page.select_option("#decision", decision)
    if action:
        page.select_option("#action", action)
    if note:
        page.fill("input[name=note]", note)
    page.click("#decide button[type=submit]")
    if wait:
        page.wait_for_selector("#status")


def test_triage_in_a_browser(
    served: Served, browser: Browser, tiny_detect: DetectSummary, tiny_lake: Path, tmp_path: Path
) -> None:
    page = browser.new_page()
    refused: list[str] = []  # answers of 400 and above to what the pages asked for
    page.on("response", lambda r: refused.extend([f"{r.status} {r.url}"] * (r.status >= 400)))
    _log_in(page, served.url, "alice")
    page.goto(served.url + "/?kind=cluster&sort=score")
    page.click("table#queue tbody tr:first-child a")
    page.wait_for_selector("#case-id")
    assert page.locator("table#evidence tbody tr").count() >= 1
    assert page.locator(".observed").first.inner_text().strip()
    assert page.locator(".inferred").first.inner_text().strip()
    assert page.locator("svg").count() >= 5  # four activity plots and the link graph
    members = page.locator("details ul li a").all_text_contents()
    dismissed, escalated = members[0], members[1]

    page.goto(f"{served.url}/case/account/{dismissed}")
    _decide(page, "dismiss", note="startup team sharing a card")
    assert page.inner_text("#status") == "dismissed"
    page.goto(f"{served.url}/case/account/{escalated}")
    _decide(page, "escalate", action="throttle")
    assert page.inner_text("#status") == "escalated"
    assert "throttle" in page.inner_text("table#verdicts")
    page.close()
    assert refused == []  # no page, style or redirect on the way failed

    store = open_store(str(served.state))
    assert store.get(f"account:{dismissed}") is None  # dismissed: no verdict for the gateway
    assert store.get(f"account:{escalated}").action == "throttle"  # type: ignore[union-attr]

    allowlist = load_allowlist(served.console.allowlist)
    rerun = detect([tiny_lake], tmp_path / "rerun", allowlist=allowlist)
    by_id = {a.account_id: a for a in rerun.accounts}
    assert not by_id[dismissed].flagged
    assert by_id[escalated].flagged
    assert [s.account_id for s in rerun.suppressed] == [dismissed]
    assert {a.account_id for a in tiny_detect.accounts if a.flagged} - {dismissed} == {
        a.account_id for a in rerun.accounts if a.flagged
    }


def test_a_link_from_another_site_opens_the_case_with_the_session(
    served: Served, browser: Browser
) -> None:
    """With SameSite=Strict a case link followed from a ticket or a chat (another site)
    came without the session cookie: the console sent the login page, whose new cookie
    replaced the session, and the analyst was logged out."""
    page = browser.new_page()
    _log_in(page, served.url, "alice")
    case = page.locator("table#queue tbody tr:first-child a").first.get_attribute("href")
    elsewhere = f'data:text/html,<a id="go" href="{served.url}{case}">the case</a>'
    page.goto(elsewhere)
    page.click("#go")
    page.wait_for_selector("#case-id")
    page.goto(served.url + "/")
    assert not page.url.endswith("/login")


def test_no_other_page_can_frame_the_console(served: Served, browser: Browser) -> None:
    page = browser.new_page()
    _log_in(page, served.url, "alice")
    page.set_content(f'<iframe id="console" src="{served.url}/"></iframe>')
    frame = page.frame_locator("#console")
    with pytest.raises(Exception, match="Timeout"):
        frame.locator("table#queue").wait_for(timeout=2000)


def test_a_form_left_open_across_a_new_login_says_so(served: Served, browser: Browser) -> None:
    """A tab's form sent after a logout and a login in another tab answered raw JSON."""
    context = browser.new_context()
    first, second = context.new_page(), context.new_page()
    _log_in(first, served.url, "alice")
    first.click("table#queue tbody tr:first-child a")
    first.wait_for_selector("#case-id")
    case = first.url
    second.goto(served.url + "/")
    second.click("form[action='/logout'] button")
    _log_in(second, served.url, "alice")
    _decide(first, "note", note="asked the customer", wait=False)
    first.wait_for_selector("#form-expired")
    first.click("text=Open the page again")
    first.wait_for_selector("#case-id")
    assert first.url == case
    context.close()
