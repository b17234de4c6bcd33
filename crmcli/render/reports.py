"""Render a Report: terminal table, Markdown, CSV, JSON, HTML (inline SVG) or Excel (native charts).

Text output is deterministic for the same records and ``now``: no wall-clock times, no colour off a
terminal, rows in a fixed order.
"""
from __future__ import annotations

import csv
import html
import io
import json
import math
from typing import Any, TextIO

import pandas as pd

from crmcli.analysis.reports import DATE, DAYS, HOURS, INT, MONEY, NUM, PCT, Report, Section
from crmcli.domain.money import format_money
from crmcli.render.fit import screen_width, wrap
from crmcli.render.labels import translate
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
    rows = [[show(v, s.formats.get(c), currency) for c, v in zip(cols, row, strict=True)]
            for row in s.frame.itertuples(index=False, name=None)]
    return cols, rows


def _bars(s: Section) -> list[str] | None:
    if s.chart is None or not len(s.frame) or s.chart.values[0] not in s.frame.columns:
        return None
    vals = pd.to_numeric(s.frame[s.chart.values[0]], errors="coerce").fillna(0)
    labels = s.frame[s.chart.label].astype(str)
    keep = labels != "total"
    top = float(vals[keep].max()) if keep.any() else 0.0
    if top <= 0:
        return ["" for _ in vals]
    return ["█" * max(1 if v > 0 else 0, int(round(BAR_WIDTH * float(v) / top))) if k else ""
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
        bars = _bars(s)
        if bars is not None:
            cols = cols + [""]
            rows = [r + [b] for r, b in zip(rows, bars, strict=True)]
        numeric = [c for c in cols if s.formats.get(c) in (MONEY, INT, PCT, NUM, HOURS, DAYS)]
        drop = [c for c in cols if c.endswith("_p90_h")] + (["customer"] if "name" in cols else [])
        out.append(table([colours(dict(zip(cols, r, strict=True))) for r in rows], cols, width=width, drop=drop,
                         right=numeric, out=stream))
        if s.note:
            out += wrap_note(f"  {s.note}", width)
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
        out.append("| " + " | ".join(cols) + " |")
        out.append("|" + "|".join("---:" if s.formats.get(c) in (MONEY, INT, PCT, NUM, HOURS, DAYS) else "---"
                                  for c in cols) + "|")
        for r in rows:
            out.append("| " + " | ".join(v.replace("|", "\\|").replace("\n", " ") for v in r) + " |")
        if s.note:
            out += ["", f"_{s.note}_"]
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
            "sections": [{"key": s.key, "title": s.title, "columns": [str(c) for c in s.frame.columns],
                          "rows": [{str(c): plain(v) for c, v in zip(s.frame.columns, row, strict=True)}
                                   for row in s.frame.itertuples(index=False, name=None)]}
                         for s in report.sections]}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# -- HTML with inline SVG ---------------------------------------------------------------------------------

_CSS = """body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC",sans-serif;
margin:2rem;color:#1f2937}h1{margin-bottom:.2rem}p.period{color:#6b7280;margin-top:0}
section{margin:2rem 0}table{border-collapse:collapse;font-size:.9rem}th,td{padding:.3rem .7rem;
border-bottom:1px solid #e5e7eb;text-align:left}th{background:#f3f4f6}td.n{text-align:right;
font-variant-numeric:tabular-nums}p.note{color:#6b7280;font-size:.85rem}svg{display:block;margin:.8rem 0}"""


def _svg(s: Section) -> str:
    if s.chart is None or not len(s.frame):
        return ""
    ch = s.chart
    df = s.frame[s.frame[ch.label].astype(str) != "total"]
    labels = [str(x) for x in df[ch.label]]
    series = [pd.to_numeric(df[v], errors="coerce").fillna(0).astype(float).tolist() for v in ch.values
              if v in df.columns]
    if not labels or not series:
        return ""
    top = max(max(v) for v in series) or 1.0
    colors = ["#2563eb", "#93c5fd", "#f59e0b"]
    title = html.escape(ch.title or s.title)
    if ch.kind == "line":
        w, h, pad = 640, 220, 40
        step = (w - 2 * pad) / max(1, len(labels) - 1)
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
                 f'aria-label="{title}"><title>{title}</title>',
                 f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#9ca3af"/>']
        for k, vals in enumerate(series):
            pts = " ".join(f"{pad + i * step:.1f},{h - pad - (h - 2 * pad) * v / top:.1f}" for i, v in enumerate(vals))
            parts.append(f'<polyline fill="none" stroke="{colors[k % 3]}" stroke-width="2" points="{pts}"/>')
            for i, v in enumerate(vals):
                parts.append(f'<circle cx="{pad + i * step:.1f}" cy="{h - pad - (h - 2 * pad) * v / top:.1f}" '
                             f'r="3" fill="{colors[k % 3]}"><title>{html.escape(labels[i])}: {v:g}</title></circle>')
        for i, lab in enumerate(labels):
            parts.append(f'<text x="{pad + i * step:.1f}" y="{h - pad + 16}" font-size="10" '
                         f'text-anchor="middle">{html.escape(lab[:10])}</text>')
        parts.append("</svg>")
        return "".join(parts)
    row_h, label_w, bar_w = 22, 160, 380
    h = row_h * len(labels) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 120}" height="{h}" role="img" '
             f'aria-label="{title}"><title>{title}</title>']
    for i, lab in enumerate(labels):
        y = 5 + i * row_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" font-size="12" text-anchor="end">'
                     f'{html.escape(lab[:24])}</text>')
        for k, vals in enumerate(series[:2]):
            v = vals[i]
            width = 0.0 if not math.isfinite(v) else bar_w * max(v, 0) / top
            x = label_w + (bar_w - width) / 2 if ch.kind == "funnel" else label_w
            parts.append(f'<rect x="{x:.1f}" y="{y + 2 + k * 4}" width="{width:.1f}" height="{16 - k * 8}" '
                         f'fill="{colors[k]}"><title>{html.escape(lab)}: {v:g}</title></rect>')
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 14}" font-size="11">{series[0][i]:,.0f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def to_html(report: Report) -> str:
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{e(report.title)}: {e(report.period)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           f"<h1>{e(report.title)}</h1>", f'<p class="period">{e(report.period)}</p>']
    out += [f'<p class="note">{e(n)}</p>' for n in report.notes]
    for s in report.sections:
        out.append(f'<section id="{e(s.key)}">')
        out.append(f"<h2>{e(s.title)}</h2>")
        out.append(_svg(s))
        cols, rows = _text_rows(s, report.currency)
        if not rows:
            out.append("<p>(none)</p>")
        else:
            num = [s.formats.get(c) in (MONEY, INT, PCT, NUM, HOURS, DAYS) for c in cols]
            out.append("<table>")
            out.append("<thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in cols) + "</tr></thead>")
            out.append("<tbody>")
            for r in rows:
                out.append("<tr>" + "".join(f'<td class="n">{e(v)}</td>' if n else f"<td>{e(v)}</td>"
                                            for v, n in zip(r, num, strict=True)) + "</tr>")
            out.append("</tbody>")
            out.append("</table>")
        if s.note:
            out.append(f'<p class="note">{e(s.note)}</p>')
        out.append("</section>")
    out += [f'<footer><p class="note">crmcli {e(report.name)} report, as of {e(report.generated)}</p></footer>',
            "</body>", "</html>"]
    return "\n".join(x for x in out if x) + "\n"


# -- Excel: crmcli.render.report_xlsx ---------------------------------------------------------------------

def to_xlsx(report: Report) -> bytes:
    from crmcli.render.report_xlsx import to_xlsx as write

    return write(report)


def render(report: Report, fmt: str) -> str | bytes:
    if fmt == "xlsx":
        return to_xlsx(report)
    return {"table": to_table, "md": to_markdown, "csv": to_csv, "json": to_json, "html": to_html}[fmt](report)
