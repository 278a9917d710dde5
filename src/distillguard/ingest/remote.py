"""A lake named by a URI (hdfs://, s3a://, abfss://, gs://, file://): read where it lies.

`ingest` writes a lake on a filesystem; a cluster's copy of it usually lives in HDFS or an
object store, which Spark reads through Hadoop's filesystems and the embedded engine does
not. Only the exchanges are read there, by the executors; the accounts table, small, is
brought to the driver. A `file://` URI is also an ordinary path, so every engine reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from distillguard.errors import UserError
from distillguard.ingest.lake import Lake

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(text: str) -> bool:
    """Whether `text` names a lake by URI (scheme://...) rather than by local path."""
    return bool(_SCHEME.match(text))


@dataclass(frozen=True)
class RemoteLake:
    """A lake's root as a Hadoop-compatible URI, laid out as `ingest` writes it."""

    uri: str

    @property
    def exchanges_uri(self) -> str:
        return f"{self.uri.rstrip('/')}/exchanges"

    @property
    def accounts_uri(self) -> str:
        return f"{self.uri.rstrip('/')}/accounts"

    def local(self) -> Lake | None:
        """The same lake as a local path when the URI is `file://`, else None."""
        parsed = urlparse(self.uri)
        if parsed.scheme != "file" or parsed.netloc not in {"", "localhost"}:
            return None
        return Lake(Path(unquote(parsed.path)))


LakeLike = Lake | RemoteLake


def local_lake(lake: LakeLike, engine: str) -> Lake:
    """`lake` on this machine's filesystem, or a one-line error naming what reads it."""
    if isinstance(lake, Lake):
        return lake
    found = lake.local()
    parsed = urlparse(lake.uri)
    if found is None and parsed.scheme == "file":
        raise UserError(
            f"{lake.uri} names the host {parsed.netloc!r}: a file URI's path follows three "
            "slashes (file:///absolute/path), or give the lake's path itself"
        )
    if found is None:
        raise UserError(
            f"the {engine} engine reads lakes on this machine's filesystem; "
            f"{lake.uri} needs --engine spark"
        )
    return found
