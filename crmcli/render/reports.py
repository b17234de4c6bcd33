"""Render a Report: terminal table, Markdown, CSV, JSON, HTML (inline SVG) or Excel (native charts).

Text output is deterministic for the same records and ``now``: no wall-clock times, no colour off a
terminal, rows in a fixed order.
"""
from __future__ import annotations

import csv
import io
import json
from typing import Any, TextIO

import pandas as pd

from crmcli.analysis.reports import DATE, DAYS, HOURS, INT, MONEY, NUM, PCT, Report, Section
from crmcli.domain.money import format_money
from crmcli.render.fit import dwidth, screen_width, wrap
from crmcli.render.labels import VALUE_COLUMNS, label, note_text, translate, value
from crmcli.render.tables import style, table

FORMATS = ["table", "md", "csv", "json", "html", "xlsx"]
BAR_WIDTH = 24


def _missing(v: Any) -> bool:
    if v is None or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def plain(v: Any) -> Any:
    """JSON-ready value: numbers stay numbers, times become ISO text, missing becomes None."""
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if _missing(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat() if v.tzinfo is not None or v.time() != v.normalize().time() else v.strftime("%Y-%m-%d")
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    if isinstance(v, float):
        return round(v, 4)
    return v


def show(v: Any, fmt: str | None, currency: str = "") -> str:
    """Human text of one cell."""
    if _missing(v):
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if fmt == MONEY and isinstance(v, (int, float)) or (fmt == MONEY and hasattr(v, "item")):
        return format_money(int(round(float(v))), currency)  # one money style: whole units
    if fmt == PCT:
        return f"{float(v):.1f}%"
    if fmt in (INT, DAYS) and isinstance(v, (int, float)) or (fmt in (INT, DAYS) and hasattr(v, "item")):
        x = float(v)
        return f"{int(x):,}" if x.is_integer() else f"{x:,.1f}"
    if fmt in (HOURS, NUM) and hasattr(v, "__float__"):
        return f"{float(v):,.1f}" if fmt == HOURS else f"{float(v):,.2f}".rstrip("0").rstrip(".")
    if isinstance(v, pd.Timestamp):
        if fmt == DATE or (v.tzinfo is None and v == v.normalize()):
            return v.strftime("%Y-%m-%d")
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, float):
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    if hasattr(v, "item"):
        return str(v.item())
    return str(v)


def _text_rows(s: Section, currency: str) -> tuple[list[str], list[list[str]]]:
    cols = [str(c) for c in s.frame.columns]
    rows = [[value(text) if c in VALUE_COLUMNS else text
             for c, text in ((c, show(v, s.formats.get(c), currency)) for c, v in zip(cols, row, strict=True))]
            for row in s.frame.itertuples(index=False, name=None)]
    return cols, rows


def _bars(s: Section, size: int = BAR_WIDTH) -> list[str] | None:
    if s.chart is None or not len(s.frame) or s.chart.values[0] not in s.frame.columns:
        return None
    vals = pd.to_numeric(s.frame[s.chart.values[0]], errors="coerce").fillna(0)
    labels = s.frame[s.chart.label].astype(str)
    keep = labels != "total"
    top = float(vals[keep].max()) if keep.any() else 0.0
    if top <= 0:
        return ["" for _ in vals]
    return ["█" * max(1 if v > 0 else 0, int(round(size * float(v) / top))) if k else ""
            for v, k in zip(vals, keep, strict=True)]


# -- text formats ---------------------------------------------------------------------------------------

def to_table(report: Report, stream: TextIO | None = None) -> str:
    """The report for a terminal; with ``stream`` a terminal (or COLUMNS set), every line fits its width."""
    width = screen_width(stream)
    out = wrap_note(f"{translate(report.title)}: {report.period}", width, indent="")
    out += [line for n in report.notes for line in wrap_note(f"({n})", width, indent="")]
    for s in report.sections:
        out.append("")
        out.append(style(translate(s.title), stream, bold=True) if stream is not None else translate(s.title))
        cols, rows = _text_rows(s, report.currency)
        if not rows:
            out.append("  (none)")
            continue
        numeric = [c for c in cols if s.formats.get(c) in (MONEY, INT, PCT, NUM, HOURS, DAYS)]
        drop = [c for c in cols if c.endswith("_p90_h")] + (["customer"] if "name" in cols else [])
        drop += [c for c in ("referrer",) if {"name", "referrer_name"} & set(cols)]  # the name says who it is
        room = BAR_WIDTH
        if width is not None:  # bars take the room the data leaves, never the data's: shorter, or none
            data = table([dict(zip(cols, r, strict=True)) for r in rows], cols, right=numeric)
            room = min(BAR_WIDTH, width - max(dwidth(line) for line in data.splitlines()) - 2)
        bars = _bars(s, room) if room >= 4 else None
        if bars is not None:
            cols = cols + [""]
            rows = [r + [b] for r, b in zip(rows, bars, strict=True)]
        out.append(table([colours(dict(zip(cols, r, strict=True))) for r in rows], cols, width=width, drop=drop,
                         right=numeric, out=stream))
        if s.note:
            out += wrap_note(f"  {note_text(s.note, s.frame.columns)}", width)
    return "\n".join(out) + "\n"


def colours(row: dict) -> dict:
    """What a report row's colours say: health bands, breaches, won and lost, overdue."""
    def number(text: Any) -> float | None:
        try:
            return float(str(text).replace(",", "").rstrip("%"))
        except ValueError:
            return None

    health = number(row.get("health", ""))
    if health is not None:
        row["_fg_health"] = "red" if health < 50 else "yellow" if health < 70 else "green"
    if (number(row.get("breached", "")) or 0) > 0:
        row["_fg_breached"] = "red"
    word = str(row.get("event") or row.get("state") or row.get("movement") or "")
    fg = {"won": "green", "lost": "red", "overdue": "red", "breached": "red"}.get(word)
    if fg:
        row["_fg"] = fg
    return row


def wrap_note(text: str, width: int | None, indent: str = "  ") -> list[str]:
    """``text`` as it was (no width), or wrapped to the width under ``indent``."""
    if width is None:
        return [text]
    return [indent + line for line in wrap(text.strip(), width - len(indent))]


def to_markdown(report: Report) -> str:
    out = [f"# {report.title}", "", f"{report.period}", ""]
    out += [f"- {n}" for n in report.notes]
    for s in report.sections:
        out += ["", f"## {s.title}", ""]
        cols, rows = _text_rows(s, report.currency)
        if not rows:
            out.append("(none)")
            continue
        out.append("| " + " | ".join(label(c) or c for c in cols) + " |")  # for people: labels, as on screen
        out.append("|" + "|".join("---:" if s.formats.get(c) in (MONEY, INT, PCT, NUM, HOURS, DAYS) else "---"
                                  for c in cols) + "|")
        for r in rows:
            out.append("| " + " | ".join(v.replace("|", "\\|").replace("\n", " ") for v in r) + " |")
        if s.note:
            out += ["", f"_{note_text(s.note, s.frame.columns)}_"]
    return "\n".join(out) + "\n"


def to_csv(report: Report) -> str:
    """One section: a plain CSV; several: each as ``# title`` then its header and rows, a blank line between."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for i, s in enumerate(report.sections):
        if len(report.sections) > 1:
            if i:
                buf.write("\n")
            w.writerow([f"# {s.title}"])
        w.writerow(list(s.frame.columns))
        for row in s.frame.itertuples(index=False, name=None):
            w.writerow(["" if (x := plain(v)) is None else x for v in row])
    return buf.getvalue()


def to_json(report: Report) -> str:
    data = {"report": report.name, "title": report.title, "period": report.period, "generated": report.generated,
            "currency": report.currency, "notes": report.notes,
            "headline": [{k: plain(v) for k, v in h.items()} for h in report.headline],
            "sections": [{"key": s.key, "title": s.title, "columns": [str(c) for c in s.frame.columns],
                          "rows": [{str(c): plain(v) for c, v in zip(s.frame.columns, row, strict=True)}
                                   for row in s.frame.itertuples(index=False, name=None)]}
                         for s in report.sections]}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# -- HTML (crmcli.render.html_report) ---------------------------------------------------------------------

def to_html(report: Report, tr: Any = None, lang: str = "en") -> str:
    """One self-contained page: headline numbers, charts with axes and legends, tables, print CSS."""
    from crmcli.render import html_report

    return html_report.document(report, _text_rows, tr or (lambda text: text), lang)


def html_body(report: Report, tr: Any = None, max_rows: int | None = None) -> str:
    """The same report as the body of another page (the web site); tables cut at ``max_rows``."""
    from crmcli.render import html_report

    def rows_of(s: Section, currency: str) -> tuple[list[str], list[list[str]]]:
        return _text_rows(s if max_rows is None or len(s.frame) <= max_rows else
                          Section(s.key, s.title, s.frame.head(max_rows), s.chart, s.formats, s.note), currency)

    return html_report.body(report, rows_of, tr or (lambda text: text), max_rows)


# -- Excel: crmcli.render.report_xlsx ---------------------------------------------------------------------

def to_xlsx(report: Report) -> bytes:
    from crmcli.render.report_xlsx import to_xlsx as write

    return write(report)


def render(report: Report, fmt: str) -> str | bytes:
    if fmt == "xlsx":
        return to_xlsx(report)
    return {"table": to_table, "md": to_markdown, "csv": to_csv, "json": to_json, "html": to_html}[fmt](report)
