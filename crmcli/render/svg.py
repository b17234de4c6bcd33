"""Inline SVG charts for HTML pages: bars, lines and a funnel, each with axes, values and a legend.

Every chart scales with its container (``viewBox``, ``width="100%"``), so it fits a 390 px phone and a
desktop alike; axis titles carry the unit (a currency code for money). Text is escaped; no script.
"""
from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence

COLOURS = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6"]
Fmt = Callable[[float], str]


def nice_ticks(top: float, count: int = 4, integer: bool = False) -> list[float]:
    """0 and round steps up to at least ``top`` (``top`` <= 0 gives [0, 1]); whole steps for counts."""
    if not math.isfinite(top) or top <= 0:
        return [0.0, 1.0]
    raw = top / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    if integer:
        step = max(1.0, math.ceil(step))
    ticks = [0.0]
    while ticks[-1] < top - 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _e(text: object) -> str:
    return html.escape(str(text))


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _whole(series: Sequence[tuple[str, Sequence[float]]]) -> bool:
    return all(float(v).is_integer() for _, vals in series for v in vals if math.isfinite(v))


def _day_label(text: str) -> str:
    """``2026-11-16 Mon`` -> ``11-16 Mon``: the year says nothing under a week's or a month's days."""
    return text[5:] if len(text) >= 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit() else text


def _open(w: int, h: int, title: str, kind: str) -> str:
    return (f'<div class="scroll"><svg class="chart chart-{kind}" xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="0 0 {w} {h}" width="100%" style="max-width:{w}px" role="img" aria-label="{_e(title)}">'
            f'<title>{_e(title)}</title>')


def _legend(names: Sequence[str], x: float, y: float) -> str:
    parts = ['<g class="legend">']
    gap = max(110, 7 * max((len(n) for n in names), default=0) + 24)
    for k, name in enumerate(names):
        xx = x + k * gap
        parts.append(f'<rect x="{xx:.0f}" y="{y - 9:.0f}" width="10" height="10" fill="{COLOURS[k % 5]}"/>'
                     f'<text x="{xx + 14:.0f}" y="{y:.0f}" font-size="11">{_e(_short(name, 40))}</text>')
    parts.append("</g>")
    return "".join(parts)


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *,
              axis: str, fmt: Fmt) -> str:
    """Horizontal bars, one row per label, one bar per series; an x axis with ticks titled ``axis``."""
    label_w, plot_w, row_h = 120, 300, 18 * max(1, len(series)) + 8
    top = max((v for _, vals in series for v in vals if math.isfinite(v)), default=0.0)
    ticks = nice_ticks(top, integer=_whole(series))
    scale = plot_w / ticks[-1]
    legend_y, plot_y = 16, 30
    h = plot_y + row_h * len(labels) + 48
    w = label_w + plot_w + 80
    out = [_open(w, h, title, "bar"), _legend([n for n, _ in series], label_w, legend_y)]
    base_y = plot_y + row_h * len(labels)
    for t in ticks:
        x = label_w + t * scale
        out.append(f'<line x1="{x:.1f}" y1="{plot_y}" x2="{x:.1f}" y2="{base_y}" stroke="#e5e7eb"/>'
                   f'<text class="tick" x="{x:.1f}" y="{base_y + 14}" font-size="10" text-anchor="middle">'
                   f'{_e(fmt(t))}</text>')
    for i, lab in enumerate(labels):
        y = plot_y + i * row_h
        out.append(f'<text x="{label_w - 6}" y="{y + row_h / 2 + 4:.1f}" font-size="11" text-anchor="end">'
                   f'{_e(_short(lab, 18))}</text>')
        for k, (name, vals) in enumerate(series):
            v = vals[i] if math.isfinite(vals[i]) else 0.0
            bw = max(v, 0) * scale
            by = y + 4 + k * 18
            out.append(f'<rect x="{label_w}" y="{by}" width="{bw:.1f}" height="14" fill="{COLOURS[k % 5]}">'
                       f'<title>{_e(lab)}, {_e(name)}: {_e(fmt(v))}</title></rect>'
                       f'<text class="value" x="{label_w + bw + 4:.1f}" y="{by + 11}" font-size="10">'
                       f'{_e(fmt(v))}</text>')
    out.append(f'<line x1="{label_w}" y1="{plot_y}" x2="{label_w}" y2="{base_y}" stroke="#6b7280"/>'
               f'<line x1="{label_w}" y1="{base_y}" x2="{label_w + plot_w}" y2="{base_y}" stroke="#6b7280"/>'
               f'<text class="axis-label" x="{label_w + plot_w / 2:.0f}" y="{base_y + 34}" font-size="11" '
               f'text-anchor="middle">{_e(axis)}</text></svg></div>')
    return "".join(out)


def line_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *,
               axis: str, x_axis: str, fmt: Fmt) -> str:
    """Lines over the labels (x), a y axis with ticks titled ``axis``, each point's value written above it."""
    left, right, plot_y, plot_h = 64, 20, 30, 170
    plot_w = max(280, min(440, 56 * len(labels)))
    top = max((v for _, vals in series for v in vals if math.isfinite(v)), default=0.0)
    ticks = nice_ticks(top, integer=_whole(series))
    w, h = left + plot_w + right, plot_y + plot_h + 56
    base = plot_y + plot_h
    step = plot_w / max(1, len(labels) - 1) if len(labels) > 1 else 0.0
    out = [_open(w, h, title, "line"), _legend([n for n, _ in series], left, 16)]

    def y_of(v: float) -> float:
        return base - plot_h * (v if math.isfinite(v) else 0.0) / ticks[-1]

    for t in ticks:
        out.append(f'<line x1="{left}" y1="{y_of(t):.1f}" x2="{left + plot_w}" y2="{y_of(t):.1f}" stroke="#e5e7eb"/>'
                   f'<text class="tick" x="{left - 6}" y="{y_of(t) + 4:.1f}" font-size="10" text-anchor="end">'
                   f'{_e(fmt(t))}</text>')
    out.append(f'<line x1="{left}" y1="{plot_y}" x2="{left}" y2="{base}" stroke="#6b7280"/>'
               f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="#6b7280"/>')
    every = max(1, math.ceil(len(labels) / 10))
    for i, lab in enumerate(labels):
        x = left + (i * step if len(labels) > 1 else plot_w / 2)
        if i % every == 0:
            out.append(f'<text class="tick" x="{x:.1f}" y="{base + 14}" font-size="10" text-anchor="middle">'
                       f'{_e(_short(_day_label(lab), 10))}</text>')
    for k, (name, vals) in enumerate(series):
        pts = [(left + (i * step if len(labels) > 1 else plot_w / 2), y_of(v)) for i, v in enumerate(vals)]
        colour = COLOURS[k % 5]
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                   f'points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in pts)}"/>')
        for (x, y), v, lab in zip(pts, vals, labels, strict=True):
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{_e(lab)}, {_e(name)}: '
                       f'{_e(fmt(v))}</title></circle><text class="value" x="{x:.1f}" y="{y - 6:.1f}" '
                       f'font-size="9" text-anchor="middle">{_e(fmt(v))}</text>')
    out.append(f'<text class="axis-label" x="{left + plot_w / 2:.0f}" y="{base + 34}" font-size="11" '
               f'text-anchor="middle">{_e(x_axis)}</text>'
               f'<text class="axis-label" x="14" y="{plot_y + plot_h / 2:.0f}" font-size="11" text-anchor="middle" '
               f'transform="rotate(-90 14 {plot_y + plot_h / 2:.0f})">{_e(axis)}</text></svg></div>')
    return "".join(out)


def funnel_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *,
                 axis: str, fmt: Fmt) -> str:
    """A funnel: each stage's bar is what sits at that stage or further on, so it is widest at the top.

    Bars are centred; the first series is the outer (wide, light) bar, the second drawn inside it.
    """
    label_w, plot_w, row_h = 100, 280, 30
    cumulative = []
    for name, vals in series[:2]:
        running, acc = 0.0, []
        for v in reversed([x if math.isfinite(x) else 0.0 for x in vals]):
            running += max(v, 0.0)
            acc.append(running)
        cumulative.append((name, list(reversed(acc))))
    top = max((v for _, vals in cumulative for v in vals), default=0.0) or 1.0
    plot_y = 30
    h = plot_y + row_h * len(labels) + 40
    w = label_w + plot_w + 130
    out = [_open(w, h, title, "funnel"),
           _legend([f"{n}, stage and later" for n, _ in cumulative], 10, 16)]
    centre = label_w + plot_w / 2
    for i, lab in enumerate(labels):
        y = plot_y + i * row_h
        out.append(f'<text x="{label_w - 6}" y="{y + 19}" font-size="11" text-anchor="end">'
                   f'{_e(_short(lab, 18))}</text>')
        for k, (name, vals) in enumerate(cumulative):
            bw = plot_w * vals[i] / top
            height = 24 - k * 10
            out.append(f'<rect x="{centre - bw / 2:.1f}" y="{y + 2 + k * 5}" width="{bw:.1f}" height="{height}" '
                       f'fill="{COLOURS[k % 5]}" fill-opacity="{0.35 if k == 0 else 0.9}">'
                       f'<title>{_e(lab)}, {_e(name)} at this stage or later: {_e(fmt(vals[i]))}</title></rect>')
        texts = " / ".join(fmt(vals[i]) for _, vals in cumulative)
        out.append(f'<text class="value" x="{label_w + plot_w + 6}" y="{y + 19}" font-size="10">{_e(texts)}</text>')
    base = plot_y + row_h * len(labels)
    out.append(f'<line x1="{label_w}" y1="{base}" x2="{label_w + plot_w}" y2="{base}" stroke="#6b7280"/>'
               f'<text class="tick" x="{label_w}" y="{base + 14}" font-size="10">{_e(fmt(top))}</text>'
               f'<text class="tick" x="{centre:.0f}" y="{base + 14}" font-size="10" text-anchor="middle">0</text>'
               f'<text class="tick" x="{label_w + plot_w}" y="{base + 14}" font-size="10" text-anchor="end">'
               f'{_e(fmt(top))}</text>'
               f'<text class="axis-label" x="{centre:.0f}" y="{base + 30}" font-size="11" text-anchor="middle">'
               f'{_e(axis)}</text></svg></div>')
    return "".join(out)
