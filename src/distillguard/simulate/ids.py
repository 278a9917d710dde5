"""Identifiers: random hex of one format for everyone, so an id never tells a population."""

from __future__ import annotations

import numpy as np

SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ra",
    "ten",
    "vo",
    "qu",
    "zen",
    "bri",
    "sol",
    "dar",
    "fin",
    "gal",
    "hex",
    "ion",
    "jun",
    "kor",
    "lum",
    "nex",
    "orb",
    "pax",
    "rho",
    "sky",
    "tor",
    "ux",
)
CONSUMER_DOMAINS = (
    "gmail.com",
    "outlook.com",
    "yahoo.com",
    "icloud.com",
    "hotmail.com",
    "proton.me",
    "qq.com",
    "163.com",
    "gmx.de",
    "naver.com",
)
CONSUMER_WEIGHTS = (0.42, 0.14, 0.07, 0.08, 0.06, 0.05, 0.05, 0.04, 0.05, 0.04)


def hex_ids(prefix: str, rng: np.random.Generator, n: int, digits: int = 16) -> list[str]:
    """n random ids such as acct_3f9a0c1d2e4b5a67."""
    width = (digits + 1) // 2
    raw = rng.bytes(n * width)
    return [prefix + raw[i : i + width].hex()[:digits] for i in range(0, n * width, width)]


def _word(index: int) -> str:
    a, b, c = index % 25, index // 25 % 25, index // 625 % 25
    return SYLLABLES[a] + SYLLABLES[b] + SYLLABLES[c]


def email_domains(tiers: list[str], rng: np.random.Generator) -> list[str]:
    """Sign-up e-mail domains, drawn from one distribution per tier for every population."""
    weights = np.asarray(CONSUMER_WEIGHTS) / sum(CONSUMER_WEIGHTS)
    consumer = rng.choice(len(CONSUMER_DOMAINS), size=len(tiers), p=weights)
    company = rng.integers(0, 6000, size=len(tiers))
    campus = rng.integers(0, 900, size=len(tiers))
    out = []
    for i, tier in enumerate(tiers):
        if tier == "education":
            out.append(f"{_word(int(campus[i]))}.edu")
        elif tier in ("enterprise", "startup", "research"):
            out.append(
                f"{_word(int(company[i]) + 900)}.{('com', 'io', 'ai', 'co')[int(company[i]) % 4]}"
            )
        else:
            out.append(CONSUMER_DOMAINS[consumer[i]])
    return out
