"""Where traffic comes from: address pools by kind of network, with ASN and country.

Benign and attack accounts draw from the same pools. Many users share an address behind
carrier-grade NAT, VPN exits and reseller egress; cloud ranges are shared by CI runners,
app backends and agentic scrapers alike.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

COUNTRIES = ("US", "IN", "DE", "GB", "BR", "JP", "FR", "CA", "KR", "SG", "NL", "ID", "MX", "PL")
COUNTRY_WEIGHTS = (
    0.30,
    0.12,
    0.07,
    0.07,
    0.07,
    0.05,
    0.05,
    0.05,
    0.04,
    0.04,
    0.04,
    0.04,
    0.03,
    0.03,
)
UTC_OFFSET_HOURS = {
    "US": -6,
    "IN": 5,
    "DE": 1,
    "GB": 0,
    "BR": -3,
    "JP": 9,
    "FR": 1,
    "CA": -5,
    "KR": 9,
    "SG": 8,
    "NL": 1,
    "ID": 7,
    "MX": -6,
    "PL": 1,
}


@dataclass(frozen=True)
class NetworkKind:
    """A kind of network: how many ASNs it spans and how many addresses each holds."""

    name: str
    asn_base: int
    asns: int
    hosts_per_asn: int
    global_reach: bool  # cloud and VPN exits appear in many countries


NETWORKS: dict[str, NetworkKind] = {
    "residential": NetworkKind("residential", 7000, 400, 1 << 20, False),
    "mobile": NetworkKind("mobile", 20000, 60, 2000, False),  # CGNAT: few addresses, many users
    "cloud": NetworkKind("cloud", 14000, 12, 1 << 18, True),
    "vpn": NetworkKind("vpn", 60000, 25, 400, True),
    "office": NetworkKind("office", 30000, 900, 64, False),
    # a reseller's or gateway's egress pool: a few addresses in front of many customers
    "reseller": NetworkKind("reseller", 45000, 6, 32, True),
    # residential proxy networks exit through real households' connections
    "proxy": NetworkKind("proxy", 7000, 400, 1 << 20, True),
}


@dataclass(frozen=True)
class Addresses:
    ip: list[str]
    asn: np.ndarray
    country: list[str]


def _dotted(values: np.ndarray) -> list[str]:
    return [f"{v >> 24 & 255}.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}" for v in values.tolist()]


def draw_addresses(
    kind: str, rng: np.random.Generator, n: int, home_country: list[str] | None = None
) -> Addresses:
    """n addresses on networks of one kind; local networks stay in the home country."""
    net = NETWORKS[kind]
    asn_index = rng.choice(net.asns, size=n, p=_asn_weights(net.asns))
    host = rng.integers(net.hosts_per_asn, size=n)
    # Each ASN owns a block; blocks of one kind are contiguous, so /24s repeat within a kind.
    base = (11 << 24) + (net.asn_base % 200) * (1 << 22) + asn_index * 4099 * 256
    values = (base + host) % (223 << 24) + (1 << 24)
    if home_country is not None and not net.global_reach:
        countries = home_country
    else:
        picks = rng.choice(len(COUNTRIES), size=n, p=_weights())
        countries = [COUNTRIES[i] for i in picks]
    return Addresses(_dotted(values.astype(np.int64)), net.asn_base + asn_index, countries)


@functools.cache
def _asn_weights(count: int) -> np.ndarray:
    """A few large networks carry most users (Zipf-like), as on the real Internet."""
    weights = 1.0 / np.arange(1, count + 1) ** 1.1
    return np.asarray(weights / weights.sum(), dtype=float)


def _weights() -> np.ndarray:
    w = np.asarray(COUNTRY_WEIGHTS)
    return np.asarray(w / w.sum(), dtype=float)


def draw_countries(rng: np.random.Generator, n: int) -> list[str]:
    return [COUNTRIES[i] for i in rng.choice(len(COUNTRIES), size=n, p=_weights())]
