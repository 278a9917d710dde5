"""A small detect run, a console over it, and a real uvicorn server on a loopback port."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn

from distillguard.cli.listen import server_config
from distillguard.console.app import build_app, open_console
from distillguard.console.state import Console
from distillguard.detect.summary import DetectSummary
from distillguard.verdicts.store import VerdictStore, open_store
from tests.detect.conftest import tiny_detect, tiny_lake, tiny_sim

__all__ = ["tiny_detect", "tiny_lake", "tiny_sim"]
PASSWORDS = {"alice": "alice-password", "victor": "victor-password", "root": "root-password"}
ROLES = {"alice": "analyst", "victor": "viewer", "root": "admin"}


@dataclass
class Served:
    url: str
    console: Console
    state: Path
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()

    def login(self, name: str) -> httpx.Client:
        client = self.client()
        token = csrf_of(client.get("/login").text)
        reply = client.post(
            "/login", data={"csrf": token, "name": name, "password": PASSWORDS[name]}
        )
        assert reply.status_code == 303, reply.text
        return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(console: Console, tls: bool = False) -> Iterator[str]:
    port = free_port()
    config = server_config(  # as `distillguard console` serves it
        build_app(console, tls=tls), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("console did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def make_console(findings: Path, home: Path, store: VerdictStore) -> Console:
    console = open_console(findings, home, store, None)
    for name, password in PASSWORDS.items():
        console.users.add(name, ROLES[name], password)
    return console


@pytest.fixture
def served(tiny_detect: DetectSummary, tmp_path: Path) -> Iterator[Served]:
    state = tmp_path / "state" / "verdicts.jsonl"
    state.parent.mkdir()
    console = make_console(tiny_detect.out, tmp_path / "home", open_store(str(state)))
    for url in serve(console):
        served = Served(url, console, state)
        yield served
        served.close()
    console.close()
