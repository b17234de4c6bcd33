"""Excel workbooks in and out (openpyxl, imported only here and only when called)."""
from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from crmcli.domain import dates
from crmcli.errors import InvalidRecord, UsageError
from crmcli.io.csvio import Table, cell_text, neutralize

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
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
        tables = [_table(wb[n], n) for n in wanted]
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


def _typed(column: str, value: Any) -> Any:
    """Cell value: numbers stay numbers, days become dates, timestamps local date-times."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = cell_text(value)
    if _DAY.match(text):
        try:
            return _dt.date.fromisoformat(text)
        except ValueError:
            return neutralize(text)
    if _STAMP.match(text):

        try:
            return dates.to_local(dates.parse_iso(text)).replace(tzinfo=None)
        except dates.DateError:
            return neutralize(text)
    return neutralize(text)


def write_xlsx(path: Path | IO[bytes], sheets: Mapping[str, tuple[Sequence[str], list[dict]]]) -> None:
    """One sheet per entry, in order: a bold header row (frozen), then typed cells, streamed.

    openpyxl's write-only mode writes each row as it is appended instead of keeping a cell object
    per value until the end: memory stays that of the rows, whatever the size of the workbook.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    bold = Font(bold=True)

    def header(value: str) -> Any:
        cell = WriteOnlyCell(ws, value)
        cell.font = bold
        return cell

    def typed(value: Any) -> Any:
        """A plain value where openpyxl's default is right, else a cell with its format or type."""
        if isinstance(value, _dt.date):
            cell = WriteOnlyCell(ws, value)
            cell.number_format = "yyyy-mm-dd hh:mm:ss" if isinstance(value, _dt.datetime) else "yyyy-mm-dd"
            return cell
        if isinstance(value, str) and (value.startswith("=") or value in ERROR_CODES):
            cell = WriteOnlyCell(ws, value)
            cell.data_type = "s"  # never a formula, nor an error code
            return cell
        return value

    for name, (columns, rows) in sheets.items():
        ws = wb.create_sheet(title=name[:31])
        ws.freeze_panes = "A2"
        ws.append([header(c) for c in columns])
        for row in rows:
            ws.append([typed(_typed(c, row.get(c))) for c in columns])
    wb.save(path)
