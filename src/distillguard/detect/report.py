"""A self-contained HTML report: summary, top clusters with their evidence, and plots
(hourly volume per cluster, capability mix) drawn as inline SVG, so it opens anywhere."""

from __future__ import annotations

import html
from pathlib import Path

import duckdb

from distillguard.detect.results import AccountResult, ClusterResult
from distillguard.scoring.evidence import Evidence
from distillguard.signals.capability import CAPABILITIES

COLOURS = ("#c0392b", "#2980b9", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d")
STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
h1{margin-bottom:0}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;
padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}.muted{color:#777}
.card{border:1px solid #ddd;border-radius:6px;padding:1em;margin:1em 0}.facts{font-family:
monospace;font-size:90%}svg{background:#fafafa;border:1px solid #eee}"""


def _volume_svg(series: list[tuple[str, list[int]]], width: int = 900, height: int = 180) -> str:
    peak = max((max(v) for _, v in series if v), default=1) or 1
    hours = max((len(v) for _, v in series), default=1)
    lines = []
    for i, (name, values) in enumerate(series):
        points = " ".join(
            f"{j * width / max(hours - 1, 1):.1f},{height - 5 - v * (height - 15) / peak:.1f}"
            for j, v in enumerate(values)
        )
        colour = COLOURS[i % len(COLOURS)]
        lines.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>'
            f'<text x="5" y="{14 + 13 * i}" fill="{colour}" font-size="11">'
            f"{html.escape(name)}</text>"
        )
    return f'<svg width="{width}" height="{height}" role="img">{"".join(lines)}</svg>'


def _mix_svg(mix: dict[str, int], width: int = 420) -> str:
    total = sum(mix.values()) or 1
    bars = []
    for i, (name, count) in enumerate(sorted(mix.items(), key=lambda x: -x[1])):
        w = (width - 130) * count / total
        bars.append(
            f'<text x="0" y="{16 + 20 * i}" font-size="12">{html.escape(name)}</text>'
            f'<rect x="110" y="{5 + 20 * i}" width="{w:.1f}" height="14" fill="{COLOURS[i % 7]}"/>'
            f'<text x="{115 + w:.1f}" y="{16 + 20 * i}" font-size="11">{count / total:.0%}</text>'
        )
    return f'<svg width="{width}" height="{10 + 20 * len(mix)}">{"".join(bars)}</svg>'


def _evidence_table(evidence: tuple[Evidence, ...]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(e.title)}</td><td class='facts'>"
        f"{html.escape(', '.join(f'{k} = {v}' for k, v in e.observed.items()))}</td>"
        f"<td>{html.escape(e.inference)}</td><td>{e.confidence:.2f}</td></tr>"
        for e in evidence
    )
    return (
        "<table><tr><th>evidence</th><th>observed (facts)</th><th>inferred</th>"
        f"<th>confidence</th></tr>{rows}</table>"
    )


def _cluster_data(
    con: duckdb.DuckDBPyConnection, signals: str, cluster: ClusterResult
) -> tuple[list[int], dict[str, int], list[str]]:
    members = ", ".join(f"'{a}'" for a in cluster.accounts)
    hourly = con.execute(f"""
        WITH bounds AS (SELECT date_trunc('hour', min(ts)) AS lo,
                               date_trunc('hour', max(ts)) AS hi FROM {signals}),
        hours AS (SELECT unnest(range(lo, hi + INTERVAL 1 HOUR, INTERVAL 1 HOUR)) AS h FROM bounds),
        counts AS (SELECT date_trunc('hour', ts) AS h, count(*) AS n FROM {signals}
                   WHERE account_id IN ({members}) GROUP BY 1)
        SELECT coalesce(n, 0) FROM hours LEFT JOIN counts USING (h) ORDER BY h""").fetchall()
    mix = con.execute(f"""SELECT capability, count(*) FROM {signals}
                          WHERE account_id IN ({members}) GROUP BY 1""").fetchall()
    samples = con.execute(f"""SELECT request_id FROM {signals} WHERE account_id IN ({members})
                              ORDER BY ts LIMIT 5""").fetchall()
    return (
        [int(n) for (n,) in hourly],
        {CAPABILITIES[int(c)]: int(n) for c, n in mix},
        [str(r) for (r,) in samples],
    )


def _account_cards(title: str, accounts: list[AccountResult], stamp: str) -> list[str]:
    if not accounts:
        return []
    cards = [f"<h2>{html.escape(title)}</h2>"]
    for a in accounts[:20]:
        when = a.first_flagged_at if a.flagged else a.first_review_at
        cards.append(
            f"<div class='card'><h3>{html.escape(a.account_id)}: score {a.score:.2f}</h3>"
            f"<p>{stamp} {when}</p>{_evidence_table(a.evidence)}</div>"
        )
    return cards


def write_report(
    path: Path,
    con: duckdb.DuckDBPyConnection,
    signals: str,
    *,
    exchanges: int,
    accounts: list[AccountResult],
    clusters: list[ClusterResult],
) -> None:
    flagged = [a for a in accounts if a.flagged]
    top = sorted((c for c in clusters if c.flagged), key=lambda c: -c.score)[:8]
    data = {c.cluster_id: _cluster_data(con, signals, c) for c in top}
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>distillguard report</title>"
        f"<style>{STYLE}</style></head><body><h1>distillguard detection report</h1>",
        f"<p class='muted'>{exchanges:,} exchanges from {len(accounts):,} accounts. "
        f"{len(flagged):,} accounts flagged "
        f"({sum(a.flagged_by == 'account' for a in flagged):,} on "
        f"their own evidence, {sum(a.flagged_by == 'cluster' for a in flagged):,} as members of "
        f"a flagged cluster), {sum(a.review for a in accounts):,} listed for review; "
        f"{len(top)} flagged clusters shown.</p>",
        "<h2>Hourly volume of the flagged clusters</h2>",
        _volume_svg([(c.cluster_id, data[c.cluster_id][0]) for c in top]),
    ]
    for c in top:
        hourly, mix, samples = data[c.cluster_id]
        parts.append(
            f"<div class='card'><h3>{c.cluster_id}: {len(c.accounts)} accounts, "
            f"score {c.score:.2f}</h3><p>first flagged at {c.first_flagged_at}; "
            f"{sum(hourly):,} exchanges. Example request ids: "
            f"<span class='facts'>{html.escape(', '.join(samples))}</span></p>"
            f"{_evidence_table(c.evidence)}<h4>Capability mix</h4>{_mix_svg(mix)}"
            f"<p class='muted facts'>accounts: {html.escape(', '.join(c.accounts[:20]))}"
            f"{' ...' if len(c.accounts) > 20 else ''}</p></div>"
        )
    solo = sorted((a for a in flagged if a.cluster_id is None), key=lambda a: -a.score)
    parts += _account_cards("Flagged accounts outside any cluster", solo, "first flagged at")
    review = sorted((a for a in accounts if a.review), key=lambda a: -a.score)
    parts += _account_cards(
        f"Accounts for review: {len(review):,}, not flagged (top 20 by score)",
        review,
        "reached the review threshold at",
    )
    parts.append("</body></html>")
    path.write_text("\n".join(parts))
