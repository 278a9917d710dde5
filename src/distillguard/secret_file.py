"""Secrets in files: read from a file the user names (one line on a mistake, never its
contents), and written readable by their owner only."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from distillguard.errors import UserError
from distillguard.store.atomic import written_aside


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
    new or replaced: written to an owner-only file beside it and renamed over it, as every
    whole-file write here is (store/atomic.py). Open's mode applies only to a file it
    creates, and narrowing the old file in place could fail (another user's) after
    emptying it."""
    with written_aside(path) as temp:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)


def warn_if_shared(path: Path, what: str) -> None:
    """One line on stderr when a key file others on the machine may read (as ssh does for
    a private key, but a warning: a key copied with cp or unpacked from an archive keeps
    its old mode, and refusing would stop a run for it). Our keygens write 0600."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # the reader's own error says it
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(
            f"distillguard: warning: {what} {path} can be read by other users "
            f"(mode {stat.S_IMODE(mode):04o}): chmod 600 {path}",
            file=sys.stderr,
        )
