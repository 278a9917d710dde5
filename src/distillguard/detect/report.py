"""A self-contained HTML report: the run's summary, one volume plot per flagged cluster
(small multiples with axes, day ticks and the first flag marked), and a card per cluster and
per listed account with its evidence, every observed fact in words, and example request ids.
Plots are inline SVG drawn server-side, so the page opens anywhere with no script."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from distillguard.detect.fact_labels import fact_label
from distillguard.detect.report_plots import HourlySeries, mix_svg, small_multiples
from distillguard.detect.results import AccountResult, ClusterResult
from distillguard.scoring.evidence import Evidence
from distillguard.signals.capabilities import CAPABILITIES

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
h1{margin-bottom:0}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;
padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}.muted{color:#666}
.card{border:1px solid #ddd;border-radius:6px;padding:1em;margin:1em 0}.facts{font-family:
monospace;font-size:90%}.facts ul{margin:0;padding-left:1.1em}.fact-label{font-family:
system-ui,sans-serif;color:#555}svg{background:#fcfcfc;border:1px solid #eee}
.multiples{display:flex;flex-wrap:wrap;gap:12px}.multiples figure{margin:0}"""
ELICITATION = (
    "greatest(p_cot_elicitation, p_trace_extraction, p_rubric_grading, p_text_grading, "
    "p_censorship_rewrite)"
)
EXAMPLES_NOTE = "example request ids (its exchanges most likely to elicit reasoning first)"
CLUSTER_EXAMPLES_NOTE = (
    "example request ids (one per member: its exchange most likely to elicit reasoning)"
)
MEMBERS = "account_id IN (SELECT unnest(?::VARCHAR[]))"
SHOWN_CLUSTERS, SHOWN_ACCOUNTS, EXAMPLES = 8, 20, 5


def _hour_bounds(con: duckdb.DuckDBPyConnection, signals: str) -> tuple[int, int]:
    """The log's first and last hour, as hours since the epoch (no time zone involved)."""
    row = con.execute(
        f"SELECT floor(epoch(min(ts)) / 3600)::BIGINT, floor(epoch(max(ts)) / 3600)::BIGINT "
        f"FROM {signals}"
    ).fetchone()
    if row is None or row[0] is None:
        return 0, 0
    return int(row[0]), int(row[1])


def _hourly(
    con: duckdb.DuckDBPyConnection, signals: str, members: list[str], bounds: tuple[int, int]
) -> list[int]:
    counts = [0] * (bounds[1] - bounds[0] + 1)
    rows = con.execute(
        f"SELECT floor(epoch(ts) / 3600)::BIGINT AS h, count(*) FROM {signals} "
        f"WHERE {MEMBERS} GROUP BY h",
        [members],
    ).fetchall()
    for hour, n in rows:
        counts[int(hour) - bounds[0]] = int(n)
    return counts


def _mix(con: duckdb.DuckDBPyConnection, signals: str, members: list[str]) -> dict[str, int]:
    rows = con.execute(
        f"SELECT capability, count(*) FROM {signals} WHERE {MEMBERS} GROUP BY 1", [members]
    ).fetchall()
    return {CAPABILITIES[int(c)]: int(n) for c, n in rows}


def _examples(
    con: duckdb.DuckDBPyConnection, signals: str, members: list[str], per: int = EXAMPLES
) -> dict[str, list[str]]:
    """Per account, its request ids most likely to elicit reasoning, then the earliest."""
    rows = con.execute(
        f"SELECT account_id, list(request_id ORDER BY {ELICITATION} DESC, ts)[1:{per}] "
        f"FROM {signals} WHERE {MEMBERS} GROUP BY account_id",
        [members],
    ).fetchall()
    return {str(a): [str(r) for r in ids] for a, ids in rows}


def _facts(evidence: Evidence, cluster: bool) -> str:
    items = "".join(
        f"<li><span class='fact'>{html.escape(f'{k} = {v}')}</span>: <span class='fact-label'>"
        f"{html.escape(fact_label(evidence.code, k, cluster=cluster))}</span></li>"
        for k, v in evidence.observed.items()
    )
    return f"<ul>{items}</ul>"


def _evidence_table(evidence: tuple[Evidence, ...], *, cluster: bool) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(e.title)}</td><td class='facts'>{_facts(e, cluster)}</td>"
        f"<td>{html.escape(e.inference)}</td><td>{e.confidence:.2f}</td></tr>"
        for e in evidence
    )
    return (
        "<table><tr><th>evidence</th><th>observed (facts)</th><th>inferred</th>"
        f"<th>confidence</th></tr>{rows}</table>"
    )


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "never"


def _ids(ids: list[str]) -> str:
    return f"<span class='facts request-ids'>{html.escape(', '.join(ids))}</span>"


def _account_cards(
    title: str, accounts: list[AccountResult], stamp: str, examples: dict[str, list[str]]
) -> list[str]:
    if not accounts:
        return []
    cards = [f"<h2>{html.escape(title)}</h2>"]
    for a in accounts[:SHOWN_ACCOUNTS]:
        when = a.first_flagged_at if a.flagged else a.first_review_at
        cards.append(
            f"<div class='card account'><h3>{html.escape(a.account_id)}: score {a.score:.4f}"
            f"</h3><p>{stamp} {_when(when)}</p><p>{EXAMPLES_NOTE}: "
            f"{_ids(examples.get(a.account_id, []))}</p>"
            f"{_evidence_table(a.evidence, cluster=False)}</div>"
        )
    return cards


def _cluster_card(c: ClusterResult, series: HourlySeries, mix: dict[str, int], ids: str) -> str:
    total = sum(series.counts)
    before = series.served_before_flag()
    more = f" and {len(c.accounts) - 20} more" if len(c.accounts) > 20 else ""
    return (
        f"<div class='card cluster' id='{c.cluster_id}'><h3>{c.cluster_id}: "
        f"{len(c.accounts)} accounts, score {c.score:.2f}</h3><p>first flagged at "
        f"{_when(c.first_flagged_at)}; {total:,} exchanges, {before:,} "
        f"({before / max(total, 1):.0%}) served before the first flag. "
        f"{CLUSTER_EXAMPLES_NOTE}: {ids}</p>"
        f"{_evidence_table(c.evidence, cluster=True)}"
        "<h4>Capability mix: share of the cluster's exchanges</h4>"
        f"{mix_svg(mix)}<p class='muted facts'>accounts: "
        f"{html.escape(', '.join(c.accounts[:20]))}{more}</p></div>"
    )


def _summary(exchanges: int, accounts: list[AccountResult], shown: int, window: int) -> str:
    flagged = [a for a in accounts if a.flagged]
    own = sum(a.flagged_by == "account" for a in flagged)
    return (
        f"<p class='muted'>{exchanges:,} exchanges from {len(accounts):,} accounts. "
        f"{len(flagged):,} accounts flagged ({own:,} on their own evidence, "
        f"{len(flagged) - own:,} as members of a flagged cluster), "
        f"{sum(a.review for a in accounts):,} listed for review; {shown} flagged clusters "
        f"shown.</p><p class='muted'>Observed facts are counted over the {window}-hour "
        "detection window that ended at a tick (hour): an account's rule facts at the hour "
        "its rule score peaked, the learned combiner's inputs at the hour its estimate "
        "peaked (so one share can read differently in two rows), a cluster's facts over "
        "the linked community at the tick it scored highest. A card's heading counts the "
        "whole run.</p>"
    )


def write_report(
    path: Path,
    con: duckdb.DuckDBPyConnection,
    signals: str,
    *,
    exchanges: int,
    accounts: list[AccountResult],
    clusters: list[ClusterResult],
    window_hours: int = 168,
) -> None:
    top = sorted((c for c in clusters if c.flagged), key=lambda c: -c.score)[:SHOWN_CLUSTERS]
    bounds = _hour_bounds(con, signals)
    start = datetime.fromtimestamp(0, tz=UTC) + timedelta(hours=bounds[0])
    series = [
        HourlySeries(
            c.cluster_id,
            f"{c.cluster_id}: {len(c.accounts)} accounts",
            start,
            _hourly(con, signals, list(c.accounts), bounds),
            c.first_flagged_at,
        )
        for c in top
    ]
    solo = sorted(
        (a for a in accounts if a.flagged and a.cluster_id is None), key=lambda a: -a.score
    )
    review = sorted((a for a in accounts if a.review), key=lambda a: -a.score)
    listed = [a.account_id for a in solo[:SHOWN_ACCOUNTS] + review[:SHOWN_ACCOUNTS]]
    examples = _examples(con, signals, listed)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>distillguard report</title>"
        f"<style>{STYLE}</style></head><body><h1>distillguard detection report</h1>",
        _summary(exchanges, accounts, len(top), window_hours),
    ]
    if series:  # a heading over no plot says nothing
        parts += [
            "<h2>Exchanges per hour of each flagged cluster</h2><p class='muted'>Each plot has "
            "its own vertical scale; the dashed line is the tick the cluster was first flagged "
            "at.</p>",
            small_multiples(series),
        ]
    for c, s in zip(top, series, strict=True):
        ids = _examples(con, signals, list(c.accounts), 1)
        sample = [i for member in c.accounts for i in ids.get(member, [])][:EXAMPLES]
        parts.append(_cluster_card(c, s, _mix(con, signals, list(c.accounts)), _ids(sample)))
    parts += _account_cards(
        "Flagged accounts outside any cluster", solo, "first flagged at", examples
    )
    parts += _account_cards(
        f"Accounts for review: {len(review):,}, not flagged (top 20 by score)",
        review,
        "reached the review threshold at",
        examples,
    )
    parts.append("</body></html>")
    path.write_text("\n".join(parts))
