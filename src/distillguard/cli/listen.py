"""Where a server listens: the address checked, and the port tried, before it starts.

uvicorn reports a port in use or an unknown host only after the server has printed that
it is starting, as a log line and exit code 3; checked here first, each is the usual one
line and exit code 2."""

from __future__ import annotations

import socket
from typing import Any

from distillguard.cli.failures import describe_os_error
from distillguard.errors import UserError


def listen_address(text: str, option: str = "--listen") -> tuple[str, int]:
    """(host, port) of HOST:PORT; an IPv6 host may come in brackets ([::1]:8080)."""
    host, _, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not host or not port.isdigit():
        raise UserError(f"bad {option} {text!r}; use HOST:PORT")
    return host, checked_port(int(port), option)


def shown(host: str, port: int) -> str:
    """HOST:PORT as a URL writes it: an IPv6 host in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def checked_port(port: int, option: str = "--port") -> int:
    if not 0 < port < 65536:
        raise UserError(f"bad {option}: port {port} is not between 1 and 65535")
    return port


def check_free(host: str, port: int) -> None:
    """Bind each address the host resolves to once, as the server will (address reuse
    on and IPv6 sockets IPv6-only, as uvicorn sets them), so that a host that does not
    resolve or a port another process holds is one line."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:  # UnicodeError: a name like a..b
        raise UserError(f"cannot listen on {host}: {getattr(exc, 'strerror', exc)}") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                where = shown(host, port)
                raise UserError(f"cannot listen on {where}: {describe_os_error(exc)}") from None


def serve(app: Any, **options: Any) -> None:
    """Serve an ASGI app with uvicorn until it is stopped. Not `uvicorn.run`: it swallows
    the KeyboardInterrupt that uvicorn raises again after a graceful shutdown on Ctrl-C,
    so a server stopped by Ctrl-C exited 0 where every other command exits 130."""
    import uvicorn

    uvicorn.Server(server_config(app, **options)).run()


def server_config(
    app: Any, *, small_requests: bool = True, head_seconds: float | None = None, **options: Any
) -> Any:
    """uvicorn's Config for one of distillguard's servers. X-Forwarded-For is never taken
    as the client's address by uvicorn: it trusts it from any loopback peer, so a proxy on
    the host that passes the header on let anyone pick an address per login attempt and
    walk past the login throttle. `small_requests` servers (the console, TAXII) use h11,
    which caps a request's head at HEAD_BYTES: with httptools, 500 headers of a megabyte
    each were read and held. Every server closes a connection whose request head takes
    over `head_seconds` (HEAD_SECONDS unless given; see head_deadline: a slow sender held a
    connection for ever). uvicorn's protocols are imported here, not by every command."""
    import uvicorn

    from distillguard.head_deadline import (
        HEAD_SECONDS,
        H11WithHeadDeadline,
        HttpToolsWithHeadDeadline,
        with_deadline,
    )

    seconds = HEAD_SECONDS if head_seconds is None else head_seconds
    options.setdefault("proxy_headers", False)
    if small_requests:
        options.setdefault("http", with_deadline(H11WithHeadDeadline, seconds))
        options.setdefault("h11_max_incomplete_event_size", HEAD_BYTES)
    else:
        options.setdefault("http", with_deadline(HttpToolsWithHeadDeadline, seconds))
    return uvicorn.Config(app, **options)


HEAD_BYTES = 64 * 1024  # a request line and headers: browsers send a few kilobytes
