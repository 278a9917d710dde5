"""Real HTTP servers on loopback for the TAXII tests: ours on uvicorn, medallion on werkzeug."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from werkzeug.serving import make_server


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


def medallion_config(root: Path, port: int) -> Path:
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
                "max_content_length": 10_000_000,
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
def medallion_serving(root: Path) -> Iterator[str]:
    """medallion (the OASIS TAXII 2.1 reference server), memory backend, on loopback."""
    from medallion import load_app

    port = free_port()
    app = load_app(str(medallion_config(root, port)))
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
