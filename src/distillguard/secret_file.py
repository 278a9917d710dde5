"""Reading a secret from a file the user names: one line on a mistake, never its contents."""

from __future__ import annotations

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
