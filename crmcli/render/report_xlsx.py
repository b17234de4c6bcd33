"""A Report as an Excel workbook: a sheet per section with real types, formats, filters, print setup, charts.

Dates are dates (``2026-11-16 Mon`` too, shown with its weekday), percentages are fractions shown ``0.0%``,
money carries the store's currency format (``¥#,##0``), widths come from the content's display width
(CJK counts double). Every table has a frozen header and an autofilter and prints landscape, one page wide,
with its chart placed under it (never beside it, where it would add pages), on a page of its own when the
table leaves no room for it.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pandas as pd

from crmcli.analysis.reports import DATE, DAYS, HOURS, INT, MONEY, NUM, PCT, TIME, Report
from crmcli.io.xlsxio import column_width, finish_sheet, header_style, money_format
from crmcli.render.labels import VALUE_COLUMNS, label, translate, value

FORMATS = {INT: "#,##0", PCT: "0.0%", NUM: "0.00", HOURS: "0.0", DAYS: "0", DATE: "yyyy-mm-dd",
           TIME: "yyyy-mm-dd hh:mm"}
_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})( [A-Z][a-z]{2})?$")
_DANGLING = {"and", "or", "of", "by", "the", "to", "in", "a", "per", "with", "their", "its"}
CHART_ROWS = 16  # rows a chart of height 7.5 cm covers
PAGE_ROWS = 34  # rows of the default height on a landscape A4 page


def sheet_name(title: str, used: set[str]) -> str:
    """Excel's rules (≤ 31 characters, none of []:*?/\\, unique); cut between words, not inside one."""
    clean = " ".join("".join(" " if ch in "[]:*?/\\" else ch for ch in title).split()) or "Sheet"
    base = clean
    if len(base) > 31:
        words = base[:32].split(" ")[:-1] if " " in base[:31] else [base[:31]]
        while len(words) > 1 and words[-1].lower().strip(",;") in _DANGLING:
            words.pop()
        base = " ".join(words).rstrip(" ,;-(")
        if base.count("(") > base.count(")"):  # "Needs by segment (customer": the aside goes whole
            base = base[:base.rindex("(")].rstrip(" ,;-") or base
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)].rstrip() + suffix, n + 1
    used.add(name.lower())
    return name


def _missing(v: Any) -> bool:
    if v is None or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def cell_value(v: Any, fmt: str | None) -> tuple[Any, str | None]:
    """(value, number format) of one report cell in Excel."""
    if _missing(v):
        return None, None
    if isinstance(v, pd.Timestamp):
        v = (v.tz_localize(None) if v.tzinfo is not None else v).to_pydatetime()
        day = fmt == DATE or (v.time() == dt.time(0) and fmt != TIME)
        return v, "yyyy-mm-dd" if day else "yyyy-mm-dd hh:mm"
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v)), None
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, str):
        m = _DAY.match(v)
        if m:
            try:
                day_value = dt.datetime.fromisoformat(m.group(1))
            except ValueError:
                return v, None
            return day_value, "yyyy-mm-dd ddd" if m.group(2) else "yyyy-mm-dd"
        return v, None
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None), "yyyy-mm-dd hh:mm"
    if isinstance(v, dt.date):
        return v, "yyyy-mm-dd"
    if fmt == PCT and isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v) / 100, FORMATS[PCT]
    return v, FORMATS.get(fmt or "")


def to_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.pagebreak import Break

    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    font, fill, align = header_style()
    money = money_format(report.currency)
    empty = [s for s in report.sections if not len(s.frame)]
    sections = [s for s in report.sections if len(s.frame)] or report.sections[:1]
    for k, s in enumerate(sections):
        ws = wb.create_sheet(sheet_name(translate(s.title), used))
        cols = [str(c) for c in s.frame.columns]
        heads = [label(c) or c for c in cols]  # what people read; --format csv|json keep the code names
        ws.append(heads)
        for cell in ws[1]:
            cell.font, cell.fill, cell.alignment = font, fill, align
        shown: list[list[Any]] = [[] for _ in cols]
        for i, row in enumerate(s.frame.itertuples(index=False, name=None), start=2):
            for j, (c, v) in enumerate(zip(cols, row, strict=True), start=1):
                fmt = s.formats.get(c)
                item, number_format = cell_value(v, fmt)
                item = value(item) if c in VALUE_COLUMNS and isinstance(item, str) else item
                cell = ws.cell(row=i, column=j, value=item)
                if fmt == MONEY and isinstance(item, (int, float)):
                    number_format = money
                if number_format:
                    cell.number_format = number_format
                shown[j - 1].append(item)
        for j, head in enumerate(heads, start=1):
            ws.column_dimensions[get_column_letter(j)].width = column_width(head, shown[j - 1])
        n = len(s.frame)
        finish_sheet(ws, len(cols), n)
        if len(cols) > 1:
            ws.freeze_panes = "B2"
        below = n + 3
        notes = [s.note] if s.note else []
        if k == 0 and empty and sections[0] not in empty:  # a sheet with only a header would print a page
            notes.append(f"{translate('Nothing to show')}: " + ", ".join(translate(e.title) for e in empty))
        for note in notes:
            ws.cell(row=below, column=1, value=note).font = Font(italic=True, color="666666")
            below += 2
        if s.chart is not None and n and s.chart.label in cols:
            data_rows = n - int((s.frame[s.chart.label].astype(str) == "total").sum())
            label_col = cols.index(s.chart.label) + 1
            chart: Any = LineChart() if s.chart.kind == "line" else BarChart()
            if s.chart.kind != "line":
                chart.type = "bar" if s.chart.kind == "funnel" else "col"
                if s.chart.kind == "funnel":
                    chart.x_axis.scaling.orientation = "maxMin"
            chart.title = s.chart.title or s.title
            chart.height, chart.width = 7.5, 16
            for v in s.chart.values:
                if v in cols:
                    j = cols.index(v) + 1
                    chart.add_data(Reference(ws, min_col=j, min_row=1, max_row=data_rows + 1), titles_from_data=True)
            chart.set_categories(Reference(ws, min_col=label_col, min_row=2, max_row=data_rows + 1))
            for series in chart.series if s.chart.kind == "line" else []:
                series.smooth = False  # a smoothed line shows values between the days that never were
            if below > PAGE_ROWS - CHART_ROWS:  # no room under the table on its page: the chart starts a new one
                ws.row_breaks.append(Break(id=below - 1))
            ws.add_chart(chart, f"A{below}")
            ws.print_area = f"A1:{get_column_letter(max(len(cols), 8))}{below + CHART_ROWS}"
    if not wb.sheetnames:
        wb.create_sheet("Report")
    try:
        stamp = dt.datetime.fromisoformat(report.generated).replace(tzinfo=None)
    except ValueError:
        stamp = dt.datetime(2000, 1, 1)
    wb.properties.created = wb.properties.modified = stamp
    wb.properties.title = f"{report.title}: {report.period}"
    wb.properties.creator = "crmcli"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
