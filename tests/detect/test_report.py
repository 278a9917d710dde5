"""The HTML report: plots a person can read, facts in words, request ids that exist, and the
page as a real browser (Debian's headless Chromium) lays it out."""

from __future__ import annotations

import json
import re
import subprocess
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from distillguard.detect import report
from distillguard.detect.fact_labels import fact_label
from distillguard.detect.learned_evidence import learned_evidence
from distillguard.detect.report_plots import (
    HourlySeries,
    nice_ceiling,
    small_multiples,
    volume_svg,
)
from distillguard.detect.run import detect
from distillguard.detect.summary import DetectSummary
from distillguard.detect.tick_facts import FACTS, readable_facts
from distillguard.linking.graph import Links
from distillguard.scoring import account, cluster
from distillguard.scoring.cohort import key_sharers
from distillguard.scoring.evidence import Rule
from tests.conftest import query, write_jsonl
from tests.samples import exchange_row

CHROMIUM = "/usr/bin/chromium"


class _Ones(defaultdict[str, np.ndarray]):
    """Arrays of one row for whatever column a rule's facts read."""

    def __init__(self) -> None:
        super().__init__(lambda: np.ones(1))


@pytest.mark.parametrize(
    ("rules", "is_cluster"),
    [(account.RULES, False), (cluster.RULES, True)],
    ids=["account", "cluster"],
)
def test_every_observed_fact_has_words(rules: tuple[Rule, ...], is_cluster: bool) -> None:
    for rule in rules:
        for name in rule.facts(_Ones(), 0):
            assert len(fact_label(rule.code, name, cluster=is_cluster)) > 10


def test_every_fact_the_combiner_quotes_has_words() -> None:
    quoted = readable_facts({name: 1.0 for name in FACTS})
    for name in [*quoted, "own_estimate", "outside_evidence"]:
        assert len(fact_label("combiner", name, cluster=False)) > 10


@pytest.mark.parametrize(
    ("facts", "readable"),
    [
        ({"card_sharers": 0.0}, {"other_accounts_on_its_card": 0}),  # its card is its own
        ({"signup_ip_sharers": 1.0}, {"other_accounts_from_its_signup_address": 1}),
        ({"signup_burst_sharers": 3.0}, {"other_accounts_in_its_signup_burst": 7}),
        ({"cluster_log_size": 0.0}, {"cluster_accounts": 1}),  # linked to none
        (  # a group's measures where there is no group would read as measurements
            {"cluster_log_size": 0.0, "cluster_sync": 0.0, "cluster_harvest": 0.0},
            {"cluster_accounts": 1},
        ),
        (
            {"cluster_log_size": 2.0, "cluster_sync": 0.5},
            {"cluster_accounts": 4, "cluster_sync": 0.5},
        ),
        ({"pct_volume": 0.71549, "rich_share": 0.4}, {"pct_volume": 0.715, "rich_share": 0.4}),
    ],
)
def test_the_combiners_log_counts_read_as_accounts(
    facts: dict[str, float], readable: dict[str, float]
) -> None:
    assert readable_facts(facts) == readable


@pytest.mark.parametrize("holders", [2, 5, 1_475, 5_000, 20_001])
def test_counts_read_back_whole_from_the_combiners_own_features(holders: int) -> None:
    """From the features as cohort.py computes them, not hand-written logs: rounding the
    logs first read a group of 1,475 as 1,474."""
    accounts = np.array([f"a{i}" for i in range(holders)], dtype=object)
    edges = Links(
        np.array([], dtype=object), np.array([], dtype=object), np.array([]),
        accounts, np.array(["card:c1"] * holders, dtype=object),
    )  # fmt: skip
    logged = key_sharers(accounts, edges)["card_sharers"][0]
    size = np.log2(np.maximum(np.array([float(holders)]), 1.0))[0]  # as cluster_features
    readable = readable_facts({"card_sharers": logged, "cluster_log_size": size})
    assert readable == {"other_accounts_on_its_card": holders - 1, "cluster_accounts": holders}


def test_the_combiners_own_estimate_is_inferred_not_observed() -> None:
    facts = {"pct_volume": 0.9, "own_estimate": 0.98, "outside_evidence": 0.142}
    evidence = learned_evidence(facts, 0.99)
    assert evidence.observed == {"pct_volume": 0.9}
    assert "0.98 from its own traffic" in evidence.inference
    assert "outside evidence of strength 0.142" in evidence.inference
    assert "outside" not in learned_evidence({"pct_volume": 0.9}, 0.5).inference


def test_an_unknown_fact_names_where_to_add_it() -> None:
    with pytest.raises(KeyError, match="add them to CLUSTER_FACTS"):
        fact_label("shared_payment", "made_up", cluster=True)


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 1), (1, 1), (3, 5), (7, 10), (42, 50), (101, 200)]
)
def test_nice_ceiling(value: float, ceiling: int) -> None:
    assert nice_ceiling(value) == ceiling


def test_a_plot_has_axes_day_ticks_and_the_flag_where_it_happened() -> None:
    start = datetime(2026, 2, 2, 0, tzinfo=UTC)
    series = HourlySeries(
        "c-1", "c-1: 5 accounts", start, [0] * 30 + [40] * 42, start.replace(day=3, hour=6)
    )
    svg = volume_svg(series, "#000")
    assert svg.count('class="tick x-tick"') == 3  # Feb 02, 03, 04 at midnight
    assert ">Feb 03<" in svg and ">exchanges per hour<" in svg and ">time (UTC)" in svg
    assert ">50<" in svg  # its own scale: 40 rounds up to 50
    assert "first flagged Feb 03 06:00" in svg
    assert series.served_before_flag() == 0  # flagged at hour 30, before any traffic
    later = HourlySeries("c-1", "t", start, [0] * 30 + [40] * 42, start.replace(day=3, hour=8))
    assert later.served_before_flag() == 80


def _html(tiny_detect: DetectSummary) -> str:
    return (tiny_detect.out / "report.html").read_text()


def test_one_plot_per_shown_cluster_each_with_its_flag(tiny_detect: DetectSummary) -> None:
    page = _html(tiny_detect)
    shown = sorted((c for c in tiny_detect.clusters if c.flagged), key=lambda c: -c.score)
    shown = shown[: report.SHOWN_CLUSTERS]
    assert shown, "the tiny run flags clusters"
    plots = re.findall(r'<svg class="volume" data-cluster="([^"]+)"', page)
    assert plots == [c.cluster_id for c in shown]
    assert page.count('<g class="first-flag">') == len(shown)
    assert page.count('class="axis-label x-label"') == len(shown)


@pytest.mark.parametrize("clusters", [True, False], ids=["flagged clusters", "none"])
def test_the_cluster_plots_heading_only_over_plots(
    tiny_detect: DetectSummary, tmp_path: Path, clusters: bool
) -> None:
    """A run that flagged no cluster showed the heading and caption over nothing."""
    if clusters:
        page = _html(tiny_detect)
    else:
        rows = [exchange_row(i) for i in range(20)]
        quiet = detect([write_jsonl(tmp_path / "in.jsonl", rows)], tmp_path / "out")
        assert not any(c.flagged for c in quiet.clusters)
        page = (quiet.out / "report.html").read_text()
    assert ("Exchanges per hour of each flagged cluster" in page) is clusters
    assert "distillguard detection report" in page


def test_request_ids_on_cards_belong_to_their_accounts(tiny_detect: DetectSummary) -> None:
    page = _html(tiny_detect)
    cards = re.findall(
        r"<div class='card account'><h3>([^:]+): .*?request-ids'>([^<]*)</span>", page
    )
    assert cards, "the tiny run lists accounts for review"
    for account_id, ids in cards:
        listed = ids.split(", ")
        assert 1 <= len(listed) <= report.EXAMPLES
        owners = query(
            f"SELECT DISTINCT account_id FROM read_parquet('{tiny_detect.out}/signals/*.parquet')"
            f" WHERE request_id IN ({', '.join(repr(i) for i in listed)})"
        )
        assert owners == [(account_id,)]


def test_account_cards_show_scores_finely_enough_to_read_against_the_line(
    tiny_detect: DetectSummary,
) -> None:
    """'score 0.99' stood for both sides of the combiner's flag line (0.9939)."""
    scores = re.findall(
        r"<div class='card account'><h3>[^:]+: score (\d\.\d+)</h3>", _html(tiny_detect)
    )
    assert scores and all(len(s) == 6 for s in scores)


def test_every_fact_on_the_page_is_explained(tiny_detect: DetectSummary) -> None:
    page = _html(tiny_detect)
    facts = re.findall(
        r"<span class='fact'>([^<]+)</span>: <span class='fact-label'>([^<]+)<", page
    )
    assert len(facts) >= 10
    assert page.count("<span class='fact'>") == len(facts)
    linked = [label for fact, label in facts if fact.startswith("accounts_linked_in_window")]
    assert all("can differ from the cluster&#x27;s size either way" in label for label in linked)


# A check run by the browser on the laid-out page: every plot fits the window, no text spills
# out of its plot, and each plot's title ends above the plot area (so it covers no line).
LAYOUT_CHECK = """<script>
const problems = [];
const width = document.documentElement.clientWidth;
for (const svg of document.querySelectorAll('svg.volume')) {
  const box = svg.getBoundingClientRect();
  if (box.width === 0 || box.right > width) problems.push('plot outside the page');
  const top = svg.querySelector('line.y-axis').getBBox().y;
  for (const text of svg.querySelectorAll('text')) {
    const t = text.getBoundingClientRect();
    if (t.left < box.left || t.right > box.right || t.top < box.top || t.bottom > box.bottom)
      problems.push('text outside its plot: ' + text.textContent);
  }
  if (svg.querySelector('.plot-title').getBBox().y + svg.querySelector('.plot-title')
      .getBBox().height > top) problems.push('title covers the plot');
}
const out = document.createElement('pre');
out.id = 'layout-check';
out.textContent = JSON.stringify({plots: document.querySelectorAll('svg.volume').length,
                                  problems});
document.body.appendChild(out);
</script>"""


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert Path(CHROMIUM).exists(), "Chromium is missing: run 'make system' (system-packages.txt)"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1200,2400",
    ]
    return subprocess.run(
        [CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120, check=True
    )


def test_the_report_in_a_real_browser(tiny_detect: DetectSummary, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(_html(tiny_detect).replace("</body>", LAYOUT_CHECK + "</body>"))
    dom = _chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile").stdout
    check = json.loads(re.search(r'<pre id="layout-check">([^<]+)</pre>', dom).group(1))  # type: ignore[union-attr]
    shown = min(sum(c.flagged for c in tiny_detect.clusters), report.SHOWN_CLUSTERS)
    assert check == {"plots": shown, "problems": []}
    for must in ("exchanges per hour", "time (UTC), ticks at midnight", "first flagged"):
        assert must in dom
    shot = tmp_path / "report.png"
    _chromium(f"--screenshot={shot}", page.as_uri(), profile=tmp_path / "profile")
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(png[16:20]), int.from_bytes(png[20:24])) == (1200, 2400)


def test_plots_at_the_edges_in_a_real_browser(tmp_path: Path) -> None:
    """Long and short logs, flags at either end, no flag, no traffic: labels stay inside."""
    start = datetime(2026, 2, 2, 0, tzinfo=UTC)
    hours_56_days = [(i * 7919) % 300 for i in range(56 * 24)]
    series = [
        HourlySeries(
            "long",
            "56 days, flagged in the last hour",
            start,
            hours_56_days,
            start + timedelta(hours=56 * 24 - 1),
        ),
        HourlySeries(
            "short",
            "one day, flagged in the first hour",
            start,
            [3] * 24,
            start + timedelta(hours=1),
        ),
        HourlySeries("unflagged", "never flagged", start, [1, 0, 2] * 30, None),
        HourlySeries("silent", "no traffic", start, [0] * 48, start + timedelta(hours=5)),
    ]
    page = tmp_path / "plots.html"
    page.write_text(
        f"<!doctype html><html><head><style>{report.STYLE}</style></head><body>"
        f"{small_multiples(series)}{LAYOUT_CHECK}</body></html>"
    )
    dom = _chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile").stdout
    check = json.loads(re.search(r'<pre id="layout-check">([^<]+)</pre>', dom).group(1))  # type: ignore[union-attr]
    assert check == {"plots": 4, "problems": []}
    ticks = [svg.count('class="tick x-tick"') for svg in dom.split('<svg class="volume"')[1:]]
    assert ticks == [8, 1, 4, 2]  # 56 midnights thinned to 8 labels
