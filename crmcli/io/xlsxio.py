"""Excel workbooks in and out (openpyxl, imported only here and only when called)."""
from __future__ import annotations

import datetime as _dt
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from crmcli.domain import dates
from crmcli.errors import InvalidRecord, UsageError
from crmcli.io.csvio import Table, cell_text, neutralize

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ZONE_PROPERTY = "crm.timezone"  # custom document property: the zone the workbook's naive date-times are in
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?$")


def _open(path: Path) -> Any:
    import zipfile

    from openpyxl import load_workbook

    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InvalidRecord(f"{path.name}: not a readable .xlsx workbook ({exc}); save it again from Excel "
                            "as .xlsx") from None


def read_xlsx(path: Path, sheet: str | None = None, *, all_sheets: bool = False) -> list[Table]:
    """One table per sheet (``sheet`` only, else the first, else every sheet with ``all_sheets``)."""
    wb = _open(path)
    try:
        names = list(wb.sheetnames)
        if sheet is not None:
            match = [n for n in names if n == sheet] or [n for n in names if n.casefold() == sheet.casefold()]
            if not match:
                raise UsageError(f"--sheet {sheet!r}: {path.name} has no such sheet; its sheets: {', '.join(names)}")
            wanted = match[:1]
        else:
            wanted = names if all_sheets else names[:1]
        zone = _zone_of(wb)
        tables = [_table(wb[n], n) for n in wanted]
        for t in tables:
            t.zone = zone
    finally:
        wb.close()
    _check_formulas(path, tables)
    return tables


def _check_formulas(path: Path, tables: list[Table]) -> None:
    """A formula cell reads as the value Excel saved with it; one with no saved value is an error naming it."""
    empty = {t.name: {n: [i for i, c in enumerate(cells) if c is None] for n, cells in t.rows if None in cells}
             for t in tables}
    if not any(empty.values()):
        return
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        for name, rows in empty.items():
            if not rows:
                continue
            for number, row in enumerate(wb[name].iter_rows(values_only=True), start=1):
                for i in rows.get(number, ()):
                    formula = row[i] if i < len(row) else None
                    if isinstance(formula, str) and formula.startswith("="):
                        raise InvalidRecord(f"{path.name}: cell {name}!{get_column_letter(i + 1)}{number} is a "
                                            f"formula ({formula[:40]}) with no saved value; open and save the "
                                            "workbook in Excel or LibreOffice, or paste the values over it")
    finally:
        wb.close()


def _zone_of(wb: Any) -> str | None:
    """The ``crm.timezone`` property of a workbook crm wrote (None for any other workbook, or a bad zone)."""
    from zoneinfo import ZoneInfo

    for prop in getattr(wb, "custom_doc_props", None) or ():
        if prop.name == ZONE_PROPERTY and isinstance(prop.value, str):
            try:
                ZoneInfo(prop.value)
            except (ValueError, KeyError, OSError):
                return None
            return prop.value
    return None


def export_zone() -> Any:
    """The zone export writes date-times in: the store's (CRM_TZ, crm.yaml ``timezone``), else the machine's
    when it has a name (TZ, /etc/localtime), else UTC, so that the ``crm.timezone`` property can name it."""
    import os
    from zoneinfo import ZoneInfo

    from crmcli.domain import zones

    zone = zones.crm_zone()
    if zone is not None:
        return zone
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        candidates.append(str(Path("/etc/localtime").resolve()).partition("zoneinfo/")[2])
    except OSError:  # pragma: no cover
        pass
    for name in candidates:
        if name:
            try:
                return ZoneInfo(name)
            except (ValueError, KeyError, OSError):
                continue
    return ZoneInfo("UTC")


def sheet_names(path: Path) -> list[str]:
    wb = _open(path)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _table(ws: Any, name: str) -> Table:
    table = Table(name, [])
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        cells = list(row)
        if not any(c not in (None, "") for c in cells):
            continue
        if not table.headers:
            table.headers = [cell_text(c).strip() for c in cells]
            continue
        table.rows.append((number, cells))
    return table


def _quoted(text: str) -> str:
    """Text as written to a cell: a formula (``=``) gets a leading ' as in CSV; ``+86 ...``, ``-1 Main St``
    stay as they are (written as text cells, they are no formula: no apostrophe to see)."""
    return neutralize(text) if text.lstrip("'").startswith("=") or text.startswith("'") else text


def _typed(column: str, value: Any, zone: Any = None) -> Any:
    """Cell value: numbers stay numbers, days become dates, timestamps date-times in ``zone`` (else local)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, _dt.datetime):  # a cell copied from a workbook (--errors-out): a date-time again
        aware = value.tzinfo is not None and value.utcoffset() is not None
        return (value.astimezone(zone) if aware and zone is not None else value).replace(tzinfo=None)
    if isinstance(value, _dt.date):
        return value
    text = cell_text(value)
    if _DAY.match(text):
        try:
            return _dt.date.fromisoformat(text)
        except ValueError:
            return _quoted(text)
    if _STAMP.match(text):

        try:
            moment = dates.to_local(dates.parse_iso(text))
            return (moment.astimezone(zone) if zone is not None else moment).replace(tzinfo=None)
        except dates.DateError:
            return _quoted(text)
    return _quoted(text)


# -- the look every workbook shares (crm export and the reports) -------------------------------------------
HEADER_FONT = "Calibri"  # on every Excel and LibreOffice (Carlito); CJK falls back to the system's CJK font
MAX_WIDTH = 60


def money_format(currency: str | None) -> str:
    """``¥#,##0`` for CNY, ``$#,##0`` for USD, ``#,##0 "CHF"`` for a code without a symbol."""
    from crmcli.domain.money import SYMBOLS

    code = str(currency or "").upper()
    symbol = SYMBOLS.get(code)
    if symbol:
        return f'"{symbol}"#,##0' if any(ch.isalpha() for ch in symbol) else f"{symbol}#,##0"
    return f'#,##0 "{code}"' if code else "#,##0"


def text_width(value: Any) -> int:
    """Columns a value takes in a cell: wide (CJK) characters count two; dates as they are shown."""
    from wcwidth import wcswidth

    if value is None:
        return 0
    if isinstance(value, _dt.datetime):
        return 16
    if isinstance(value, _dt.date):
        return 10
    if isinstance(value, float):
        return len(f"{value:,.2f}")
    if isinstance(value, int) and not isinstance(value, bool):
        return len(f"{value:,}") + 1
    text = str(value).split("\n")[0]
    width = wcswidth(text)
    return width if width >= 0 else len(text)


def column_width(header: str, values: Any) -> float:
    """A column's width from its header and content (display width), between 8 and MAX_WIDTH."""
    widest = max([text_width(header) + 2, *(text_width(v) for v in values)])
    return float(min(MAX_WIDTH, max(8, widest + 2)))


def header_style() -> tuple[Any, Any, Any]:
    """(font, fill, alignment) of a header row."""
    from openpyxl.styles import Alignment, Font, PatternFill

    return (Font(name=HEADER_FONT, bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E79"),
            Alignment(vertical="center"))


def finish_sheet(ws: Any, columns: int, rows: int) -> None:
    """Frozen header, an autofilter over the table, and printing: landscape, fit to one page wide,
    the header row repeated on every page. Works in write-only mode (call before the first row)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    ws.freeze_panes = "A2"
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(columns)}{max(rows, 0) + 1}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "1:1"


class SizedRows(Protocol):
    """Rows whose number is known before they are read (a list, or a stream that knows its length)."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[dict]: ...


def write_xlsx(path: Path | IO[bytes], sheets: Mapping[str, tuple[Sequence[str], SizedRows]],
               zone: str | None = None) -> None:
    """One sheet per entry, in order: a styled header row (frozen, with an autofilter), then typed cells, streamed.

    A sheet's rows may be any sized iterable (``len`` is read before the first row, then they are read once).

    openpyxl's write-only mode writes each row as it is appended instead of keeping a cell object
    per value until the end: memory stays that of the rows, whatever the size of the workbook. Column
    widths come from the first rows' display width; money columns (``amount``, ``value``) carry their
    row's currency format; text stays text (a phone ``+86 ...`` is no formula and shows no apostrophe).
    Date-times are naive (Excel has no zone) in ``export_zone()``, which the ``crm.timezone`` custom document
    property names, so that import reads them back as the same moments; ``zone`` names another one (the
    zone of the naive date-time cells of rows copied from a workbook, as ``--errors-out`` does).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES
    from openpyxl.packaging.custom import StringProperty
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone) if zone else export_zone()
    wb.custom_doc_props.append(StringProperty(name=ZONE_PROPERTY, value=str(tz.key)))
    font, fill, align = header_style()

    def header(value: str) -> Any:
        cell = WriteOnlyCell(ws, value)
        cell.font, cell.fill, cell.alignment = font, fill, align
        return cell

    def typed(value: Any, money: str | None) -> Any:
        """A plain value where openpyxl's default is right, else a cell with its format or type."""
        if isinstance(value, _dt.date):
            cell = WriteOnlyCell(ws, value)
            cell.number_format = "yyyy-mm-dd hh:mm" if isinstance(value, _dt.datetime) else "yyyy-mm-dd"
            return cell
        if money is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            cell = WriteOnlyCell(ws, value)
            cell.number_format = money_format(money)
            return cell
        if isinstance(value, str) and (value.startswith("=") or value in ERROR_CODES or value[:1] in "+-@"):
            cell = WriteOnlyCell(ws, value)
            cell.data_type = "s"  # never a formula, nor an error code
            return cell
        return value

    for name, (columns, rows) in sheets.items():
        ws = wb.create_sheet(title=name[:31])
        count = len(rows)
        stream = iter(rows)
        sample = list(itertools.islice(stream, 500))
        for j, c in enumerate(columns, 1):
            widths = (_typed(c, r.get(c), tz) for r in sample)
            ws.column_dimensions[get_column_letter(j)].width = column_width(c, widths)
        finish_sheet(ws, len(columns), count)
        ws.append([header(c) for c in columns])
        money = {c for c in columns if c in ("amount", "value")} if "currency" in columns else set()
        for row in itertools.chain(sample, stream):
            ws.append([typed(_typed(c, row.get(c), tz), row.get("currency") if c in money else None) for c in columns])
    wb.save(path)
