"""`share pull` and `share push` against servers that do not answer as TAXII does (a
proxy's login page, a broken envelope): one line, or a warning, never a traceback or a
bundle of junk. The servers here are tiny Starlette apps on loopback, standing in for
what sits between a client and a real TAXII server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from distillguard.cli.main import main
from tests.fake_upstream import serve_in_thread
from tests.sharing.notes import note

LOGIN_PAGE = HTMLResponse("<html>Sign in</html>")


def _server(answer: Response) -> Starlette:
    async def objects(request: Request) -> Response:
        return answer

    return Starlette(routes=[Route("/c/objects/", objects, methods=["GET", "POST"])])


# (case, what the server answers a pull with, what the one line says)
PULLS = [
    ("a login page", LOGIN_PAGE, "did not answer with TAXII JSON"),
    ("objects a string", JSONResponse({"objects": "nope", "more": False}), "not STIX objects"),
    ("objects of numbers", JSONResponse({"objects": [1, 2]}), "not STIX objects"),
    ("a JSON list", JSONResponse([1]), "did not answer with TAXII JSON"),
]


@pytest.mark.parametrize("pull", PULLS, ids=[p[0] for p in PULLS])
def test_a_pull_from_a_server_that_is_not_taxii_is_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pull: tuple[str, Response, str],
) -> None:
    case, answer, message = pull
    monkeypatch.setenv("DISTILLGUARD_TAXII_PASSWORD", "a long password")
    out = tmp_path / "pulled.json"
    with serve_in_thread(_server(answer)) as url:
        code = main(["share", "pull", "--url", f"{url}/c/", "--user", "bob", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1, case
    assert not out.exists()


def test_a_push_answered_by_a_login_page_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DISTILLGUARD_TAXII_PASSWORD", "a long password")
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--1", "objects": [note(1)]}))
    with serve_in_thread(_server(HTMLResponse("<html>Sign in</html>", 202))) as url:
        code = main(["share", "push", str(bundle), "--url", f"{url}/c/", "--user", "bob"])
    err = capsys.readouterr().err
    assert code == 2 and "did not answer with TAXII JSON" in err and err.count("\n") == 1


def test_a_pull_the_server_cannot_continue_is_said_to_be_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """'more' with neither a next token nor X-TAXII-Date-Added-Last: the page is kept and
    the pull says it stopped short, where it stopped silently."""
    monkeypatch.setenv("DISTILLGUARD_TAXII_PASSWORD", "a long password")
    page: dict[str, Any] = {"objects": [{"type": "indicator", "id": "indicator--1"}], "more": True}
    out = tmp_path / "pulled.json"
    with serve_in_thread(_server(JSONResponse(page))) as url:
        code = main(["share", "pull", "--url", f"{url}/c/", "--user", "bob", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0 and "1 objects" in captured.out and "incomplete" in captured.err
