"""The client's network: the /24 of an IPv4 address, the /48 of an IPv6 one.

Accounts that share an exit network are linked (linking/keys.py), exit networks are
shared as indicators (sharing/fingerprints.py), and an account's count of them is its
churn, so one network must have one name however a log writes the address. Real logs
write it many ways: a dual-stack server that listens on IPv6 logs an IPv4 client as
`::ffff:203.0.113.7`, IPv6 is compressed or not (`2001:db8::1`, `2001:0db8:0:0::1`), a
proxy appends a port (`203.0.113.7:51234`, `[2001:db8::1]:443`) or a zone (`fe80::1%eth0`).
A plain dotted IPv4 address, most of any log, is cut in Arrow; the rest are parsed once per
distinct value with `ipaddress`. What is not an address has no network (null): text such
as "unknown" or "-" would otherwise link every account that logs it.
"""

from __future__ import annotations

import ipaddress
import re

import pyarrow as pa
import pyarrow.compute as pc

from distillguard.signals.base import BatchContext, Columns, Signal

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_DOTTED = rf"^({_OCTET}\.{_OCTET}\.{_OCTET})\.{_OCTET}$"
# a dotted address with a port, plain or IPv4-mapped ("::ffff:203.0.113.7:443" is no IPv6
# address: its last group would be the port)
_V4_PORT = re.compile(r"^((?:::ffff:)?\d{1,3}(?:\.\d{1,3}){3}):\d+$", re.IGNORECASE)
_BRACKETED = re.compile(r"^\[([^\]]+)\](?::\d+)?$")


def network_prefix(ip: pa.Array) -> pa.Array:
    """Each address's network as text ("203.0.113.0/24", "2001:db8:abcd::/48"), or null."""
    dotted = pc.match_substring_regex(ip, _DOTTED)
    fast = pc.replace_substring_regex(ip, _DOTTED, r"\1.0/24")
    odd = pc.and_(pc.invert(dotted), pc.is_valid(ip))
    if not pc.any(odd).as_py():
        return fast
    values = pc.unique(pc.filter(ip, odd))
    named = pa.array([_prefix(v) for v in values.to_pylist()], ip.type)
    slow = pc.take(named, pc.index_in(ip, values))
    return pc.if_else(pc.fill_null(dotted, False), fast, slow)


def _prefix(text: str) -> str | None:
    address = _address(text.strip())
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in `text`, without a port, brackets or zone; None when there is none."""
    for pattern in (_V4_PORT, _BRACKETED):
        found = pattern.match(text)
        if found:
            text = found.group(1)
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


class Network(Signal):
    name = "network"
    columns = ("ip_prefix",)
    description = "the client address's /24 (IPv4) or /48 (IPv6)"

    def compute(self, ctx: BatchContext) -> Columns:
        return {"ip_prefix": network_prefix(ctx.column("ip"))}
