"""The report's plots as inline SVG, drawn here so the page needs no script or download.

One small plot per cluster (small multiples): the same time axis for all, so they compare
left to right, and each its own count scale, so a small cluster is not a flat line under a
big one. Every plot has labelled axes, day ticks, and a marker at the cluster's first flag;
the title sits above the plot area, so nothing covers the line.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

COLOURS = ("#c0392b", "#2980b9", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d")
FLAG_COLOUR = "#c0392b"
WIDTH, HEIGHT = 520, 190
LEFT, RIGHT, TOP, BOTTOM = 58, 14, 30, 40
MAX_DAY_TICKS = 8


@dataclass(frozen=True)
class HourlySeries:
    """Exchanges per hour from `start` (a whole UTC hour), and the tick of the first flag."""

    name: str
    title: str
    start: datetime
    counts: list[int]
    first_flag: datetime | None

    def served_before_flag(self) -> int:
        """Exchanges in the hours before the flag's tick (ticks fall at the end of an hour)."""
        if self.first_flag is None:
            return sum(self.counts)
        hours = (self.first_flag - self.start) // timedelta(hours=1)
        return sum(self.counts[: max(hours, 0)])


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above value (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(int(m * power) for m in (1, 2, 5, 10) if m * power >= value)


def _day_ticks(start: datetime, hours: int) -> list[tuple[int, str]]:
    """(hour offset, label) at UTC midnights, thinned to at most MAX_DAY_TICKS labels."""
    first = (start + timedelta(hours=23)).replace(hour=0)
    offsets = range((first - start) // timedelta(hours=1), hours, 24)
    step = max(1, math.ceil(len(offsets) / MAX_DAY_TICKS))
    return [(h, (start + timedelta(hours=h)).strftime("%b %d")) for h in offsets[::step]]


def _axes(series: HourlySeries, top: int) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    hours = max(len(series.counts), 2)
    parts = [
        f'<line class="axis x-axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" '
        f'y2="{TOP + plot_h}" stroke="#444"/>',
        f'<line class="axis y-axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" '
        'stroke="#444"/>',
    ]
    for value in (0, top // 2, top) if top >= 2 else (0, top):
        y = TOP + plot_h - value * plot_h / top
        parts.append(
            f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" '
            f'stroke="#ddd"/><text class="tick y-tick" x="{LEFT - 7}" y="{y + 4:.1f}" '
            f'text-anchor="end" font-size="11">{value:,}</text>'
        )
    for hour, label in _day_ticks(series.start, hours):
        x = LEFT + hour * plot_w / (hours - 1)
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP + plot_h}" x2="{x:.1f}" y2="{TOP + plot_h + 4}" '
            f'stroke="#444"/><text class="tick x-tick" x="{x:.1f}" y="{TOP + plot_h + 16}" '
            f'text-anchor="middle" font-size="11">{label}</text>'
        )
    parts += [
        f'<text class="axis-label x-label" x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 4}" '
        'text-anchor="middle" font-size="11">time (UTC), ticks at midnight</text>',
        f'<text class="axis-label y-label" transform="translate(13,{TOP + plot_h / 2:.0f}) '
        'rotate(-90)" text-anchor="middle" font-size="11">exchanges per hour</text>',
    ]
    return parts


def _flag_marker(series: HourlySeries) -> list[str]:
    if series.first_flag is None:
        return []
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    hours = max(len(series.counts), 2)
    offset = (series.first_flag - series.start) / timedelta(hours=1)
    x = LEFT + min(max(offset, 0.0), hours - 1) * plot_w / (hours - 1)
    anchor, dx = ("end", -4) if x > LEFT + plot_w * 0.6 else ("start", 4)
    when = series.first_flag.astimezone(UTC).strftime("%b %d %H:%M")
    return [
        f'<g class="first-flag"><line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}" '
        f'stroke="{FLAG_COLOUR}" stroke-width="1.5" stroke-dasharray="4 3"/>'
        f'<text x="{x + dx:.1f}" y="{TOP + 11}" text-anchor="{anchor}" font-size="11" '
        f'fill="{FLAG_COLOUR}" stroke="#fcfcfc" stroke-width="3" paint-order="stroke">'
        f"first flagged {when}</text></g>"
    ]


def volume_svg(series: HourlySeries, colour: str) -> str:
    """One cluster's exchanges per hour, on its own scale, with the first flag marked."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = nice_ceiling(max(series.counts, default=0))
    hours = max(len(series.counts), 2)
    points = " ".join(
        f"{LEFT + i * plot_w / (hours - 1):.1f},{TOP + plot_h - n * plot_h / top:.1f}"
        for i, n in enumerate(series.counts)
    )
    parts = [
        f'<svg class="volume" data-cluster="{html.escape(series.name)}" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{html.escape(series.title)}">',
        f'<text class="plot-title" x="{LEFT}" y="16" font-size="12" font-weight="600">'
        f"{html.escape(series.title)}</text>",
        *_axes(series, top),
        f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="1.3" '
        f'points="{points}"/>',
        *_flag_marker(series),
        "</svg>",
    ]
    return "".join(parts)


def small_multiples(series: list[HourlySeries]) -> str:
    """One plot per cluster, side by side where the page is wide enough."""
    plots = [
        f'<figure class="multiple">{volume_svg(s, COLOURS[i % len(COLOURS)])}</figure>'
        for i, s in enumerate(series)
    ]
    return f'<div class="multiples">{"".join(plots)}</div>'


def mix_svg(mix: dict[str, int], width: int = 420) -> str:
    """Each capability's share of the cluster's exchanges, as labelled bars."""
    total = sum(mix.values()) or 1
    bars = []
    for i, (name, count) in enumerate(sorted(mix.items(), key=lambda x: -x[1])):
        w = (width - 170) * count / total
        bars.append(
            f'<text x="0" y="{16 + 20 * i}" font-size="12">{html.escape(name)}</text>'
            f'<rect x="110" y="{5 + 20 * i}" width="{w:.1f}" height="14" '
            f'fill="{COLOURS[i % len(COLOURS)]}"/><text x="{115 + w:.1f}" y="{16 + 20 * i}" '
            f'font-size="11">{count / total:.0%} ({count:,})</text>'
        )
    return (
        f'<svg class="mix" width="{width}" height="{10 + 20 * len(mix)}" role="img" '
        f'aria-label="share of exchanges by capability">{"".join(bars)}</svg>'
    )
