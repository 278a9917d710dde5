"""Two analysts, or two tabs, on one case: a decision made on a page the case has moved
past is refused and said, never recorded over the other's."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from datetime import UTC, datetime

import httpx

from distillguard.console.casestore import QueueFilter
from distillguard.verdicts.model import Verdict
from tests.console.conftest import Served, csrf_of


def _first_account(served: Served) -> str:
    page = served.login("alice").get("/?kind=account").text
    found = re.search(r'href="/case/account/([^"]+)"', page)
    assert found, "no account case in the queue"
    return found.group(1)


def _form(client: httpx.Client, path: str, **fields: str) -> dict[str, str]:
    page = client.get(path).text
    seen = re.search(r'name="seen" value="(\d+)"', page)
    assert seen, "the decision form carries no count of the decisions it showed"
    return {"csrf": csrf_of(page), "seen": seen.group(1), **fields}


def test_a_decision_on_a_page_the_case_moved_past_is_refused(served: Served) -> None:
    path = f"/case/account/{_first_account(served)}"
    alice, root = served.login("alice"), served.login("root")
    alices = _form(alice, path, decision="escalate", action="block_account")
    roots = _form(root, path, decision="dismiss", note="looks like a startup team")
    assert alice.post(path + "/decide", data=alices).status_code == 303
    refused = root.post(path + "/decide", data=roots)
    assert refused.status_code == 409
    assert "decided since this page was opened (alice: escalated (block_account))" in (refused.text)
    assert 'value="looks like a startup team"' in refused.text  # the typed note kept
    assert '<strong id="status">escalated</strong>' in refused.text
    verdict = served.console.verdicts.get(f"account:{path.rsplit('/', 1)[1]}")
    assert verdict is not None and (verdict.source, verdict.action) == ("analyst", "block_account")
    again = _form(root, path, decision="dismiss", note="read it; still a startup team")
    assert root.post(path + "/decide", data=again).status_code == 303


def test_one_form_sent_twice_at_once_is_recorded_once(served: Served) -> None:
    path = f"/case/account/{_first_account(served)}"
    alice = served.login("alice")
    form = _form(alice, path, decision="escalate", action="throttle")
    codes: list[int] = []

    def send() -> None:
        codes.append(alice.post(path + "/decide", data=form).status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [303, 409]
    case_id = path.rsplit("/", 1)[1]
    assert len(served.console.cases.history("account", case_id)) == 1


def test_a_script_without_the_count_is_not_checked(served: Served) -> None:
    path = f"/case/account/{_first_account(served)}"
    alice = served.login("alice")
    for note in ("first", "second"):
        form = {"csrf": csrf_of(alice.get(path).text), "decision": "note", "note": note}
        assert alice.post(path + "/decide", data=form).status_code == 303
    bad = _form(alice, path, decision="note", note="x") | {"seen": "two"}
    assert alice.post(path + "/decide", data=bad).status_code == 400


def test_a_case_page_says_what_is_in_force_after_a_dismissal(served: Served) -> None:
    """A verdict set outside the console outlives a dismissal (on purpose); the page said
    only "dismissed", and the account stayed blocked unseen."""
    account = _first_account(served)
    path = f"/case/account/{account}"
    at = datetime.now(UTC)
    served.console.verdicts.set(
        Verdict(account, "block_account", "case 118", "analyst", at, evidence="manual")
    )
    alice = served.login("alice")
    form = _form(alice, path, decision="dismiss", note="a startup team")
    page = alice.post(path + "/decide", data=form, follow_redirects=True).text
    assert '<strong id="status">dismissed</strong>' in page
    in_force = page[page.index('id="in-force"') :]
    assert f"account:{account}</td><td>block_account</td><td>analyst</td><td>manual" in in_force
    served.console.verdicts.clear(f"account:{account}")
    assert 'id="none-in-force"' in alice.get(path).text


def test_a_clusters_decision_is_its_members_status(served: Served) -> None:
    """Escalating a cluster wrote its members' verdicts, but their cases stayed "new", and
    the status filter listed the cluster alone."""
    cases = served.console.cases
    cluster = next(r for r in cases.queue(QueueFilter(kind="cluster")).rows)
    members = served.console.case_evidence("cluster", str(cluster["id"])).accounts
    member = next(m for m in members if cases.case("account", m) is not None)
    alice = served.login("alice")
    path = f"/case/cluster/{cluster['id']}"
    form = _form(alice, path, decision="escalate", action="throttle")
    assert alice.post(path + "/decide", data=form).status_code == 303
    assert cases.case("account", member)["status"] == "escalated"  # type: ignore[index]
    escalated = QueueFilter(status="escalated", members="listed", campaign=str(cluster["id"]))
    pages = cases.queue(escalated).pages
    listed = {
        r["id"] for n in range(pages) for r in cases.queue(replace(escalated, page=n + 1)).rows
    }
    assert member in listed
    own = _form(alice, f"/case/account/{member}", decision="dismiss", note="not this one")
    assert alice.post(f"/case/account/{member}/decide", data=own).status_code == 303
    assert cases.case("account", member)["status"] == "dismissed"  # type: ignore[index]


def _member_of_a_cluster(served: Served) -> tuple[str, str]:
    cases = served.console.cases
    for row in cases.queue(QueueFilter(kind="cluster")).rows:
        for member in served.console.case_evidence("cluster", str(row["id"])).accounts:
            if cases.case("account", member) is not None:
                return str(row["id"]), member
    raise AssertionError("no cluster with an account case")


def test_a_page_older_than_its_clusters_escalation_is_refused(served: Served) -> None:
    """The review: the member's page counted its own decisions only, so a dismissal sent
    from it after the cluster was escalated lifted the block the escalation set."""
    cluster, member = _member_of_a_cluster(served)
    alice, root = served.login("alice"), served.login("root")
    stale = _form(root, f"/case/account/{member}", decision="dismiss", note="a team")
    form = _form(alice, f"/case/cluster/{cluster}", decision="escalate", action="block_account")
    assert alice.post(f"/case/cluster/{cluster}/decide", data=form).status_code == 303
    assert root.post(f"/case/account/{member}/decide", data=stale).status_code == 409
    verdict = served.console.verdicts.get(f"account:{member}")
    assert verdict is not None and verdict.action == "block_account"


def test_a_broken_allowlist_line_does_not_half_record_an_escalation(served: Served) -> None:
    """The review: the escalation was recorded, then reading the allowlist failed, and the
    page said 'Not recorded' with no verdict set."""
    with served.console.allowlist.open("ab") as handle:
        handle.write(b'{"account_id": "x", "truncated\n')
    account = _first_account(served)
    alice = served.login("alice")
    path = f"/case/account/{account}"
    form = _form(alice, path, decision="escalate", action="throttle")
    assert alice.post(path + "/decide", data=form).status_code == 303
    verdict = served.console.verdicts.get(f"account:{account}")
    assert verdict is not None and verdict.action == "throttle"


def test_a_seen_count_python_calls_a_digit_is_a_400(served: Served) -> None:
    path = f"/case/account/{_first_account(served)}"
    alice = served.login("alice")
    form = _form(alice, path, decision="note", note="x") | {"seen": "\u00b2"}
    assert alice.post(path + "/decide", data=form).status_code == 400


def test_an_expiry_reads_to_the_minute_in_utc(served: Served) -> None:
    """It was shown raw: 2026-12-02 04:08:23.899470+00:00."""
    path = f"/case/account/{_first_account(served)}"
    alice = served.login("alice")
    form = _form(alice, path, decision="escalate", action="throttle", ttl="24h")
    page = alice.post(path + "/decide", data=form, follow_redirects=True).text
    history = page[page.index('id="history"') :]
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d UTC</td></tr>", history)
    assert "+00:00" not in history


def test_block_cluster_on_an_account_case_says_what_it_would_block(served: Served) -> None:
    """It wrote block_cluster on that one account, silently; the CLI says so."""
    cases, alice = served.console.cases, served.login("alice")
    cluster, member = _member_of_a_cluster(served)
    accounts = [str(r["id"]) for r in cases.queue(QueueFilter(kind="account")).rows]
    lone = [a for a in accounts if not cases.cluster_of(a)]
    for account, said in [
        (
            member,
            f"block_cluster blocks this account only: escalate its cluster&#39;s case, {cluster}",
        ),
        *[(a, "this account is in no linked cluster; choose block_account") for a in lone[:1]],
    ]:
        path = f"/case/account/{account}"
        form = _form(alice, path, decision="escalate", action="block_cluster")
        refused = alice.post(path + "/decide", data=form)
        assert refused.status_code == 400 and said in refused.text
        assert served.console.verdicts.get(f"account:{account}") is None
