"""Server-side SVG plots for case pages: bars with labelled axes, and a small link graph.

Inline SVG needs no script and no download, prints into the evidence pack as it is, and
escapes every label, so an account id can never inject markup.
"""

from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT = 520, 200
LEFT, BOTTOM, TOP = 48, 44, 12
_EDGE_COLOURS = {
    "payment card": "#c0392b",
    "sign-up network /24": "#8e44ad",
    "exit network /24": "#2471a3",
}


def bars(title: str, points: list[tuple[str, int]], x_label: str, y_label: str) -> str:
    """A bar chart: one bar per (label, value), y axis from 0 with a labelled top tick."""
    top = max((v for _, v in points), default=0) or 1
    inner_w, inner_h = WIDTH - LEFT - 10, HEIGHT - BOTTOM - TOP
    step = inner_w / max(len(points), 1)
    every = max(1, math.ceil(len(points) / 12))  # at most 12 tick labels
    parts = [_axes(inner_w, inner_h, top, x_label, y_label)]
    for i, (label, value) in enumerate(points):
        h = inner_h * value / top
        x = LEFT + i * step
        parts.append(
            f'<rect x="{x + step * 0.1:.1f}" y="{TOP + inner_h - h:.1f}" '
            f'width="{step * 0.8:.1f}" height="{h:.1f}" fill="#2471a3">'
            f"<title>{escape(label)}: {value:,}</title></rect>"
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{TOP + inner_h + 14}" font-size="10" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return _svg(title, "".join(parts))


def _axes(inner_w: float, inner_h: float, top: int, x_label: str, y_label: str) -> str:
    base = TOP + inner_h
    return (
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#333"/>'
        f'<line x1="{LEFT}" y1="{base}" x2="{LEFT + inner_w}" y2="{base}" stroke="#333"/>'
        f'<text x="{LEFT - 4}" y="{TOP + 8}" font-size="10" text-anchor="end">{top:,}</text>'
        f'<text x="{LEFT - 4}" y="{base}" font-size="10" text-anchor="end">0</text>'
        f'<text x="{LEFT + inner_w / 2}" y="{HEIGHT - 6}" font-size="11" '
        f'text-anchor="middle">{escape(x_label)}</text>'
        f'<text x="12" y="{TOP + inner_h / 2}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 12 {TOP + inner_h / 2})">{escape(y_label)}</text>'
    )


def graph(title: str, nodes: list[str], edges: list[tuple[str, str, str]]) -> str:
    """Accounts on a circle, joined by the kinds of key they share; a legend below."""
    size, radius = 360, 140
    centre = size / 2
    at = {
        n: (
            centre + radius * math.cos(2 * math.pi * i / max(len(nodes), 1)),
            centre + radius * math.sin(2 * math.pi * i / max(len(nodes), 1)),
        )
        for i, n in enumerate(nodes)
    }
    parts = []
    for a, b, kind in edges:
        if a in at and b in at:
            (x1, y1), (x2, y2) = at[a], at[b]
            colour = _EDGE_COLOURS.get(kind, "#777")
            parts.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                f'stroke="{colour}" stroke-opacity="0.6"><title>{escape(kind)}</title></line>'
            )
    for n, (x, y) in at.items():
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="#f39c12" class="node">'
            f"<title>{escape(n)}</title></circle>"
        )
    legend = "".join(
        f'<text x="10" y="{size + 16 + 14 * i}" font-size="11" fill="{c}">— {escape(k)}</text>'
        for i, (k, c) in enumerate(_EDGE_COLOURS.items())
    )
    body = "".join(parts) + legend
    return (
        f'<svg role="img" aria-label="{escape(title)}" width="{size}" height="{size + 60}" '
        f'viewBox="0 0 {size} {size + 60}"><title>{escape(title)}</title>{body}</svg>'
    )


def _svg(title: str, body: str) -> str:
    return (
        f'<svg role="img" aria-label="{escape(title)}" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}"><title>{escape(title)}</title>{body}</svg>'
    )
