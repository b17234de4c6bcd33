"""A Report as HTML: headline numbers with their change, charts with axes and legends, scrolling tables.

Used by ``crm report --format html`` (a standalone page) and by the web site (the same body in the
site's page). Cell text comes from the caller (``crmcli.render.reports``) so both show the same values.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from crmcli.analysis.reports import DAYS, HOURS, INT, MONEY, NUM, PCT, Report, Section
from crmcli.domain import dates
from crmcli.domain.money import format_money
from crmcli.render import svg
from crmcli.render.html_page import cards, esc, page, table
from crmcli.render.labels import label, note_text

Rows = Callable[[Section, str], tuple[list[str], list[list[str]]]]
Tr = Callable[[str], str]
NUMERIC = (MONEY, INT, PCT, NUM, HOURS, DAYS)
PREVIOUS = {"weekly": "previous week"}


def _same(text: str) -> str:
    return text


def _number(v: Any, fmt: str, currency: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    x = float(v)
    if fmt == MONEY:
        return format_money(int(x) if x.is_integer() else round(x, 2), currency)
    if fmt == PCT:
        return f"{x:.1f}%"
    return f"{int(x):,}" if x.is_integer() else f"{x:,.2f}".rstrip("0").rstrip(".")


def _change(item: dict, currency: str, tr: Tr, period: str) -> str:
    now, before = item["value"], item["previous"]
    if before is None or now is None:
        return ""
    diff = float(now) - float(before)
    if diff == 0:
        text, cls = tr("no change"), "muted"
    else:
        sign = "+" if diff > 0 else "−"
        rel = f" ({sign}{abs(diff) / float(before) * 100:.0f}%)" if before else ""
        text = f"{'▲' if diff > 0 else '▼'} {sign}{_number(abs(diff), item['format'], currency)}{rel}"
        cls = "up" if diff > 0 else "down"
        if item["key"] == "tickets_breached":
            cls = "down" if diff > 0 else "up"
    return (f'<div class="{cls}">{esc(text)}</div><div class="k">{esc(tr("vs"))} {esc(tr(period))}: '
            f'{esc(_number(before, item["format"], currency))}</div>')


def headline(report: Report, tr: Tr = _same) -> str:
    if not report.headline:
        return ""
    period = PREVIOUS.get(report.name, "previous period")
    return cards([(tr(h["label"]), _number(h["value"], h["format"], report.currency),
                   _change(h, report.currency, tr, period), h["key"], "" if h["value"] is None else h["value"])
                  for h in report.headline])


def _unit(fmt: str | None, column: str, currency: str, tr: Tr) -> str:
    if fmt == MONEY:
        return f"{tr(column)} ({currency})" if currency else tr(column)
    if fmt == PCT:
        return f"{tr(column)} (%)"
    return tr(column)


def chart(s: Section, currency: str, tr: Tr = _same) -> str:
    """The section's chart, or a short note when there is nothing to draw."""
    if s.chart is None:
        return ""
    ch = s.chart
    df = s.frame[s.frame[ch.label].astype(str) != "total"] if ch.label in s.frame.columns else s.frame.iloc[0:0]
    values = [v for v in ch.values if v in df.columns]
    series = [(tr(v), [float(x) for x in pd.to_numeric(df[v], errors="coerce").fillna(0)]) for v in values]
    if not len(df) or not series or not any(x for _, vals in series for x in vals):
        return f'<p class="empty">{esc(tr("Nothing to chart yet: no records in this period."))}</p>'
    fmt = s.formats.get(values[0])

    def fmt_value(x: float) -> str:
        return _number(x, fmt or NUM, currency) if fmt == MONEY else _number(x, NUM, currency)

    labels = [str(x) for x in df[ch.label]]
    title = tr(ch.title or s.title)
    axis = _unit(fmt, values[0] if len(values) == 1 else "amount", currency, tr)
    if ch.kind == "line":
        return svg.line_chart(title, labels, series, axis=axis, x_axis=tr(ch.label), fmt=fmt_value)
    if ch.kind == "funnel":
        return svg.funnel_chart(title, labels, series, axis=axis, fmt=fmt_value)
    return svg.bar_chart(title, labels, series, axis=axis, fmt=fmt_value)


def _charted(s: Section) -> list[float]:
    if s.chart is None or s.chart.label not in s.frame.columns:
        return []
    df = s.frame[s.frame[s.chart.label].astype(str) != "total"]
    return [float(x) for v in s.chart.values if v in df.columns
            for x in pd.to_numeric(df[v], errors="coerce").fillna(0)]


def is_empty(report: Report) -> bool:
    """Nothing to show: every headline number and every charted value is zero or missing (an empty store)."""
    heads = [h["value"] for h in report.headline]
    if any(v not in (None, 0) and not (isinstance(v, float) and not math.isfinite(v)) for v in heads):
        return False
    charted = [x for s in report.sections for x in _charted(s)]
    if any(charted):
        return False
    return bool(heads) or all(not len(s.frame) for s in report.sections)


def body(report: Report, rows_of: Rows, tr: Tr = _same, max_rows: int | None = None) -> str:
    """Everything between the page's title and its footer (``rows_of`` gives at most ``max_rows`` rows)."""
    out = [f"<h1>{esc(tr(report.title))}</h1>", f'<p class="period">{esc(report.period)}</p>']
    out += [f'<p class="note">{esc(n)}</p>' for n in report.notes]
    if is_empty(report):
        out.append(f'<p class="empty">{esc(tr("No records for this report yet."))} '
                   f'{esc(tr("Add customers, deals and tickets with crm, then build again."))}</p>')
    out.append(headline(report, tr))
    for s in report.sections:
        out.append(f'<section id="{esc(s.key)}">')
        out.append(f"<h2>{esc(tr(s.title))}</h2>")
        out.append(chart(s, report.currency, tr))
        cols, rows = rows_of(s, report.currency)
        if not rows:
            out.append(f'<p class="muted">{esc(tr("(none)"))}</p>')
        else:
            out.append(table([tr(label(c) or c) for c in cols], rows, [s.formats.get(c) in NUMERIC for c in cols]))
            if max_rows is not None and len(s.frame) > max_rows:
                out.append(f'<p class="note">{esc(tr("The first"))} {max_rows:,} {esc(tr("of"))} {len(s.frame):,} '
                           f'{esc(tr("rows; all of them:"))} <code class="cmd">crm report {esc(report.name)} '
                           f'--section {esc(s.key)} --format csv</code></p>')
        if s.note:
            out.append(f'<p class="note">{esc(note_text(s.note, s.frame.columns))}</p>')
        out.append("</section>")
    return "\n".join(x for x in out if x)


def generated(report: Report) -> str:
    """The report's time as people read it: ``2026-11-23 10:00 (UTC+08:00)``."""
    try:
        moment = dates.to_local(dates.parse_iso(report.generated))
    except (ValueError, dates.DateError):
        return report.generated
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})" if offset else f"{moment:%Y-%m-%d %H:%M}"


def document(report: Report, rows_of: Rows, tr: Tr = _same, lang: str = "en") -> str:
    """A standalone page (``crm report --format html``)."""
    footer = (f'<p class="note">crmcli · {esc(tr(report.title))} · {esc(tr("made"))} {esc(generated(report))} · '
              f'<code class="cmd">crm report {esc(report.name)}</code></p>')
    return page(f"{tr(report.title)}: {report.period}", body(report, rows_of, tr), lang=lang, footer=footer)
