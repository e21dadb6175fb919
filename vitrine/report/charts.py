"""Small inline SVG charts (no plotting dependency): lines over days, horizontal bars around zero."""

from __future__ import annotations

from datetime import date
from html import escape

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]


def line_chart(series: dict[str, list[tuple[date, float]]], *, title: str, width: int = 720, height: int = 320) -> str:
    """One line per series over the days, a legend on the right; an empty note when there is nothing to draw."""
    points = [(d, v) for values in series.values() for d, v in values if v is not None]
    if not points:
        return f'<p class="note">{escape(title)}: no data.</p>'
    days = sorted({d for d, _ in points})
    top = max(v for _, v in points) or 1.0
    left, right, upper, lower = 50, 170, 30, 40
    plot_w, plot_h = width - left - right, height - upper - lower

    def x(d: date) -> float:
        return left + (plot_w * days.index(d) / (len(days) - 1) if len(days) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return upper + plot_h * (1 - v / top)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<text x="{left}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
             f'<line x1="{left}" y1="{upper + plot_h}" x2="{left + plot_w}" y2="{upper + plot_h}" stroke="#333"/>',
             f'<line x1="{left}" y1="{upper}" x2="{left}" y2="{upper + plot_h}" stroke="#333"/>']
    for i in range(5):
        v = top * i / 4
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">{v:.3f}</text>')
        parts.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + plot_w}" y2="{y(v):.1f}" stroke="#eee"/>')
    for d in days:
        parts.append(f'<text x="{x(d):.1f}" y="{upper + plot_h + 16}" font-size="10" '
                     f'text-anchor="middle">{d:%m-%d}</text>')
    for i, (name, values) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        ordered = sorted((d, v) for d, v in values if v is not None)
        if ordered:
            path = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in ordered)
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
            parts += [f'<circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="2.5" fill="{color}"/>' for d, v in ordered]
        ly = upper + 14 * i
        parts.append(f'<rect x="{left + plot_w + 12}" y="{ly}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{left + plot_w + 26}" y="{ly + 9}" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def bar_chart(items: list[tuple[str, float]], *, title: str, width: int = 720, bar: int = 18) -> str:
    """Horizontal bars around zero (negative to the left), one per item, value printed at the end."""
    if not items:
        return f'<p class="note">{escape(title)}: no data.</p>'
    label_w, upper = 230, 30
    height = upper + bar * len(items) + 20
    span = max(abs(v) for _, v in items) or 1.0
    plot_w = width - label_w - 60
    zero = label_w + plot_w * (min(v for _, v in items) < 0) / 2

    scale = plot_w / (2 * span) if zero > label_w else plot_w / span
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<text x="4" y="18" font-size="14" font-weight="bold">{escape(title)}</text>']
    for i, (label, value) in enumerate(items):
        top = upper + i * bar
        length = abs(value) * scale
        start = zero if value >= 0 else zero - length
        color = "#2ca02c" if value >= 0 else "#d62728"
        parts.append(f'<text x="{label_w - 6}" y="{top + bar * 0.7:.1f}" font-size="11" '
                     f'text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{start:.1f}" y="{top + 2}" width="{max(length, 1):.1f}" height="{bar - 4}" '
                     f'fill="{color}"/>')
        end = start + length + 4 if value >= 0 else start - 4
        anchor = "start" if value >= 0 else "end"
        parts.append(f'<text x="{end:.1f}" y="{top + bar * 0.7:.1f}" font-size="10" '
                     f'text-anchor="{anchor}">{value:+.2f}</text>')
    parts.append(f'<line x1="{zero:.1f}" y1="{upper}" x2="{zero:.1f}" y2="{height - 20}" stroke="#333"/>')
    parts.append("</svg>")
    return "\n".join(parts)
