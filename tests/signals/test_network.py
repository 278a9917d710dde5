"""One network, one name: the ways real logs write a client's address."""

from __future__ import annotations

import pyarrow as pa
import pytest

from distillguard.signals.network import network_prefix

CASES = [
    ("203.0.113.7", "203.0.113.0/24"),
    ("255.255.255.255", "255.255.255.0/24"),
    ("::ffff:203.0.113.9", "203.0.113.0/24"),  # an IPv4 client of a dual-stack server
    ("203.0.113.7:51234", "203.0.113.0/24"),  # with the client's port
    ("::ffff:203.0.113.9:443", "203.0.113.0/24"),
    ("::FFFF:203.0.113.9:443", "203.0.113.0/24"),
    (" 203.0.113.7 ", "203.0.113.0/24"),
    ("2001:db8:abcd::1", "2001:db8:abcd::/48"),
    ("2001:0db8:abcd:0012:0000:0000:0000:0001", "2001:db8:abcd::/48"),
    ("2001:DB8:ABCD:12::1", "2001:db8:abcd::/48"),
    ("2001:db8::1", "2001:db8::/48"),
    ("2001:db8:0:1::5", "2001:db8::/48"),
    ("[2001:db8:abcd::1]:443", "2001:db8:abcd::/48"),
    ("fe80::1%eth0", "fe80::/48"),
    ("unknown", None),  # text that names no address links nobody
    ("-", None),
    ("", None),
    ("999.1.1.1", None),
    ("1.2.3", None),
    ("203.0.113.7:", None),
    (None, None),
]


@pytest.mark.parametrize(("ip", "prefix"), CASES)
def test_each_spelling_names_its_network(ip: str | None, prefix: str | None) -> None:
    assert network_prefix(pa.array([ip], pa.string())).to_pylist() == [prefix]


def test_a_batch_names_each_row_as_it_would_alone() -> None:
    ips = [ip for ip, _ in CASES] * 2
    assert network_prefix(pa.array(ips, pa.string())).to_pylist() == [p for _, p in CASES] * 2


def test_a_batch_of_dotted_addresses_keeps_its_column_type() -> None:
    out = network_prefix(pa.array(["198.51.100.1", None], pa.string()))
    assert out.type == pa.string() and out.to_pylist() == ["198.51.100.0/24", None]


def test_large_strings_stay_large() -> None:
    out = network_prefix(pa.array(["::ffff:198.51.100.1", "198.51.100.2"], pa.large_string()))
    assert out.type == pa.large_string() and out.to_pylist() == ["198.51.100.0/24"] * 2
