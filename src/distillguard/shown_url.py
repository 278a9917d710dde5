"""URLs as they may be printed or logged: with any credential they carry masked."""

from __future__ import annotations

import re


def masked(url: str) -> str:
    """A URL as it may be printed or logged: a password in its address (`user:PW@host`),
    and the value of a query parameter that names a credential (`?password=`, which
    redis-py reads, `?key=`, `?token=`, ...), as ***. Written for any text, a mistyped URL
    included: a message about a bad URL must not carry its password."""
    address = _ADDRESS_PASSWORD.sub(r"\1***\2", url)
    address = _NO_SLASHES.sub(r"\1***\2", address)
    return _QUERY_SECRET.sub(r"\1***", address)


# scheme://[user]:PASSWORD@ (or scheme:/:PASSWORD@, mistyped): the password runs to the
# last '@' before the path, which is the host's (a '?' or ':' may sit in a password)
_ADDRESS_PASSWORD = re.compile(r"^([A-Za-z][\w+.-]*:/{0,2}[^:/@]*:)[^/]*?(@(?![^/]*@))")
# scheme:SOMETHING@host, mistyped without slashes: user or password, it is masked
_NO_SLASHES = re.compile(r"^([A-Za-z][\w+.-]*:)(?![/*])[^@/]+(@)")
# words in a name that say it holds a credential: the gateway refuses such a query
# parameter beside a checked key, and a URL shown anywhere masks its value
CREDENTIAL_WORDS = "key|token|auth|secret|password|signature"
_QUERY_SECRET = re.compile(rf"([?&;][^=&#;]*(?:{CREDENTIAL_WORDS})[^=&#;]*=)[^&#;]*", re.IGNORECASE)
