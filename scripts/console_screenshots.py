"""Screenshots of the analyst console for the README: the queue and the top cluster's page.

    python scripts/console_screenshots.py --findings demo-out/detect --out docs

Serves the console on a free loopback port with a throwaway home folder and user, and drives
Debian's chromium with Playwright.
"""

from __future__ import annotations

import argparse
import secrets
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from distillguard.console.app import build_app, open_console
from distillguard.verdicts.store import open_store

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--findings", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp())
    console = open_console(args.findings, home, open_store("memory"), None)
    password = secrets.token_urlsafe(12)
    console.users.add("analyst", "analyst", password)
    port = _port()
    server = uvicorn.Server(uvicorn.Config(build_app(console), port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url + "/login")
        page.fill("input[name=name]", "analyst")
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_selector("table#queue")
        page.screenshot(path=str(args.out / "console-queue.png"))
        page.goto(url + "/?kind=cluster")
        page.click("table#queue tbody tr:first-child a")
        page.wait_for_selector("#case-id")
        page.screenshot(path=str(args.out / "console-case.png"), full_page=True)
        browser.close()
    server.should_exit = True
    console.close()
    print(f"written: {args.out / 'console-queue.png'}, {args.out / 'console-case.png'}")


if __name__ == "__main__":
    main()
