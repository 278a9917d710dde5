"""Where servers listen: bad addresses and taken ports are one line before they start."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from distillguard.cli.listen import check_free, listen_address, shown
from distillguard.cli.main import main
from distillguard.errors import UserError

# --listen text -> (host, port), or the start of the one-line error.
ADDRESSES: list[tuple[str, tuple[str, int] | str]] = [
    ("127.0.0.1:8080", ("127.0.0.1", 8080)),
    ("[::1]:9630", ("::1", 9630)),
    ("localhost:1", ("localhost", 1)),
    ("nowhere", "bad --listen 'nowhere'"),
    (":8080", "bad --listen ':8080'"),
    ("127.0.0.1:http", "bad --listen '127.0.0.1:http'"),
    ("127.0.0.1:0", "bad --listen: port 0"),
    ("127.0.0.1:80000", "bad --listen: port 80000"),
]


@pytest.mark.parametrize(("text", "expected"), ADDRESSES)
def test_listen_addresses(text: str, expected: tuple[str, int] | str) -> None:
    if isinstance(expected, tuple):
        assert listen_address(text) == expected
    else:
        with pytest.raises(UserError, match=f"^{expected}"):
            listen_address(text)


def test_an_ipv6_host_is_shown_in_brackets() -> None:
    assert (shown("::1", 8080), shown("127.0.0.1", 8080)) == ("[::1]:8080", "127.0.0.1:8080")


@pytest.fixture
def taken() -> Iterator[int]:
    """A loopback port another process's server holds (listening)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_a_taken_port_is_one_line(taken: int) -> None:
    with pytest.raises(UserError, match=f"cannot listen on 127.0.0.1:{taken}: address"):
        check_free("127.0.0.1", taken)


def test_a_host_that_does_not_resolve_is_one_line() -> None:
    with pytest.raises(UserError, match=r"cannot listen on no-such-host\.invalid"):
        check_free("no-such-host.invalid", 8080)


@pytest.mark.parametrize(
    "argv",
    [
        ["gateway", "--upstream", "http://x", "--state", "memory", "--listen", "127.0.0.1:{port}"],
        ["share", "serve", "--store", ":memory:", "--users", "{users}", "--port", "{port}"],
    ],
)
def test_servers_refuse_a_taken_port_before_starting(
    argv: list[str], taken: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = f"{tmp_path}/users.json"
    with open(users, "w") as handle:
        handle.write("{}")
    args = [a.format(port=taken, users=users) for a in argv]
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert f"cannot listen on 127.0.0.1:{taken}" in err and err.count("\n") == 1
    assert "collection" not in out  # nothing started or created first


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.parametrize(
    "argv",
    [
        ["gateway", "--upstream", "http://x", "--state", "memory", "--listen", "127.0.0.1:{port}"],
        ["share", "serve", "--store", ":memory:", "--users", "{users}", "--port", "{port}"],
    ],
)
def test_a_server_stopped_by_ctrl_c_exits_130(argv: list[str], tmp_path: Path) -> None:
    """uvicorn.run swallowed the KeyboardInterrupt of Ctrl-C: the servers exited 0, where
    every other command exits 130 (and a supervisor reads 0 as a clean finish)."""
    users = tmp_path / "users.json"
    users.write_text("{}")
    port = _free_port()
    args = [a.format(port=port, users=users) for a in argv]
    child = subprocess.Popen(
        [sys.executable, "-m", "distillguard.cli.main", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _listening(port):
            assert child.poll() is None and time.monotonic() < deadline, "it did not start"
            time.sleep(0.1)
        child.send_signal(signal.SIGINT)
        assert child.wait(30) == 130
    finally:
        child.kill()
        child.wait()
        assert child.stderr is not None
        err = child.stderr.read()
        child.stderr.close()
    assert "interrupted" in err and "Traceback" not in err


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False
