"""Secrets in files: read from a file the user names (one line on a mistake, never its
contents), and written readable by their owner only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from distillguard.errors import UserError


def read_secret(path: Path, what: str, least: int, hint: str = "") -> bytes:
    """The file's bytes, surrounding whitespace dropped; a UserError naming `what` and the
    file (not its contents) when it cannot be read or holds fewer than `least` bytes."""
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise UserError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if len(secret) < least:
        raise UserError(f"{what} {path} holds {len(secret)} bytes, shorter than {least}{hint}")
    return secret


def write_private(path: Path, data: bytes) -> None:
    """Put `data` at `path`, readable and writable by its owner only, whether the file is
    new or replaced. Written to an owner-only file beside it, then renamed over it: open's
    mode applies only to a file it creates, and narrowing the old file in place could fail
    (another user's) after emptying it."""
    aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(aside, path)
    except BaseException:
        aside.unlink(missing_ok=True)
        raise
