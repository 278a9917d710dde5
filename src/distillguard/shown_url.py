"""URLs as they may be printed or logged: with any password they carry masked."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlparse


def masked(url: str) -> str:
    """A URL as it may be printed or logged: a password, in the address (`:PW@`) or in the
    query (`?password=PW`, which redis-py reads too), as ***. Written for any text, a
    mistyped URL included: a message about a bad URL must not carry its password."""
    parsed = urlparse(url)
    if parsed.query:
        query = [
            (k, "***" if k.lower() == "password" else v)
            for k, v in parse_qsl(parsed.query, keep_blank_values=True)
        ]
        url = parsed._replace(query=urlencode(query, safe="*")).geturl()
    return _ADDRESS_PASSWORD.sub("***", url)


# from the first ':' not of '://' to the last '@': "user:PW@", ":PW@", "u:p:w@d@"
_ADDRESS_PASSWORD = re.compile(r"(?<=:)(?!//).*(?=@[^@]*$)")
