"""Real HTTP servers on loopback for the TAXII tests: ours on uvicorn, medallion as a command."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def uvicorn_serving(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


MEDALLION_COLLECTION = "365fed99-08fa-fdcd-a1b3-fb247eb41d01"


def medallion_config(root: Path, port: int, max_content_length: int = 10_000_000) -> Path:
    """A medallion memory-backend config with one writable collection."""
    data = {
        "/discovery": {
            "title": "medallion",
            "default": f"http://127.0.0.1:{port}/api1/",
            "api_roots": [f"http://127.0.0.1:{port}/api1/"],
        },
        "api1": {
            "information": {
                "title": "api1",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": max_content_length,
            },
            "status": [],
            "collections": [
                {
                    "id": MEDALLION_COLLECTION,
                    "title": "indicators",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (root / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(root / "data.json"),
        },
        "users": {"peer": "secret"},
        "taxii": {"max_page_size": 50},
    }
    path = root / "medallion.json"
    path.write_text(json.dumps(config))
    return path


@contextmanager
def medallion_serving(root: Path, max_content_length: int = 10_000_000) -> Iterator[str]:
    """medallion (the OASIS TAXII 2.1 reference server), memory backend, on loopback: its
    own command in a child process, as medallion keeps one Flask app per process and a
    second configuration could not be loaded beside the first."""
    port = free_port()
    config = medallion_config(root, port, max_content_length)
    command = [sys.executable, "-m", "medallion.scripts.run", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "ERROR", str(config)]  # fmt: skip
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(port, child)
        yield url
    finally:
        child.terminate()
        child.wait(30)


def _wait_until_listening(port: int, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("medallion did not start") from None
            time.sleep(0.1)
