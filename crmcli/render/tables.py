"""One place that turns rows into output: table, json, csv, yaml, markdown.

Tables align Chinese and other wide characters by display width (tabulate
with wcwidth) and fit the terminal (``crmcli.render.fit``): low-value columns
drop first, then the widest columns are cut with "…" or wrapped in their cell.
Colour follows ``crmcli.render.fit.use_color``. Machine formats are stable:
keys in column order, UTF-8, no colour, never cut.
"""
from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from crmcli import yamlio
from crmcli.render.fit import ANSI as _ANSI_RE
from crmcli.render.fit import column_widths, dwidth, fit_line, screen_width, truncate, use_color, wrap
from crmcli.render.labels import VALUE_COLUMNS, label, language, translate, value

FORMATS = ["table", "json", "csv", "yaml", "md"]
__all__ = ["FORMATS", "key_values", "render", "render_data", "screen_width", "style", "table", "use_color"]


def style(text: str, stream: TextIO, *, fg: str | None = None, bold: bool = False, dim: bool = False) -> str:
    if not use_color(stream):
        return text
    codes = []
    colours = {"red": 31, "green": 32, "yellow": 33, "blue": 34, "magenta": 35, "cyan": 36, "grey": 90}
    if bold:
        codes.append("1")
    if dim:
        codes.append("2")
    if fg:
        codes.append(str(colours[fg]))
    return f"\x1b[{';'.join(codes)}m{text}\x1b[0m" if codes else text


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(_cell(v)) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return value


def _plain(value: Any) -> Any:
    """JSON/YAML-safe copy (tuples to lists, unknown objects to str)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def table(rows: Sequence[dict], columns: Sequence[str], headers: Sequence[str] | None = None, *,
          width: int | None = None, drop: Sequence[str] = (), wrap_cols: Sequence[str] = (),
          right: Sequence[str] = (), out: TextIO | None = None) -> str:
    """A table of ``rows``; with ``width``, one that fits it.

    To fit, columns named in ``drop`` go first (in that order), then the widest columns are capped:
    cells of ``wrap_cols`` wrap inside their cell, others are cut with "…". A row's ``_fg`` (whole row) or
    ``_fg_COLUMN`` (one cell) names a colour, used when ``out`` takes colour.
    """
    from tabulate import tabulate

    cols = list(columns)
    heads = [translate(str(h)) for h in headers] if headers else [label(c) for c in cols]
    data = [[str(_cell(r.get(c))) for c in cols] for r in rows]
    if language() == "zh":  # default English words (stages, statuses...) as read in Chinese
        data = [[value(x) if c in VALUE_COLUMNS else x for c, x in zip(cols, row, strict=True)] for row in data]
    notes: list[str] = []
    if width is not None:
        cols, heads, data = _fit(cols, heads, data, width, drop, wrap_cols, notes)
    if out is not None and use_color(out):
        for r, row in zip(rows, data, strict=True):
            for j, c in enumerate(cols):
                fg = r.get(f"_fg_{c}") or r.get("_fg")
                if fg and row[j]:
                    row[j] = "\n".join(style(part, out, fg=fg) for part in row[j].split("\n"))
    align = ["right" if c in right else "left" for c in cols]
    text = tabulate(data, headers=heads, tablefmt="simple", disable_numparse=True, colalign=align)
    return "\n".join([text, *(style(n, out, dim=True) if out is not None else n for n in notes)])


NEVER_CUT = {"id", "ref"}  # an id cut short is no id: people copy it into the next command
_TOKEN = re.compile(r"[\x21-\x7e]{1,16}|\d{4}-\d\d-\d\d \d\d:\d\d|")


def _fit(cols: list[str], heads: list[str], data: list[list[str]], width: int, drop: Sequence[str],
         wrap_cols: Sequence[str], notes: list[str]) -> tuple[list[str], list[str], list[list[str]]]:
    """Drop the ``drop`` columns while the table is too wide, then cap the widest; short codes, dates and
    numbers (one word of at most 16 columns) keep their width, text is cut or wrapped."""
    def natural(j: int) -> int:
        cells = [max((dwidth(x) for x in row[j].split("\n")), default=0) for row in data]
        return max([dwidth(heads[j]) + 2, *cells])

    def floor(j: int) -> int:
        word = max((dwidth(w) for w in heads[j].split()), default=0) + 2  # headers wrap between words
        if cols[j] in NEVER_CUT or all(_TOKEN.fullmatch(_ANSI_RE.sub("", row[j])) for row in data):
            return max(word, *(dwidth(row[j]) for row in data)) if data else word
        return min(natural(j), max(word, 6))

    def remove(j: int) -> None:
        for row in data:
            del row[j]
        del cols[j], heads[j]

    cut: list[str] = []
    droppable = [c for c in drop if c in cols]
    while droppable and sum(natural(j) for j in range(len(cols))) + 2 * (len(cols) - 1) > width:
        remove(cols.index(droppable.pop(0)))
    widths = column_widths([natural(j) for j in range(len(cols))], [floor(j) for j in range(len(cols))], width)
    while widths is None and len(cols) > 1:
        cut.insert(0, heads[-1].replace("\n", " "))
        remove(len(cols) - 1)
        widths = column_widths([natural(j) for j in range(len(cols))], [floor(j) for j in range(len(cols))], width)
    if cut:
        more = f"(left out for the width: {', '.join(h for h in cut if h) or 'the bars'}; --format csv shows all)"
        notes.append(fit_line(more, width))
    if widths is None:
        return cols, heads, data
    for j, w in enumerate(widths):
        if dwidth(heads[j]) + 2 > w:
            heads[j] = "\n".join(truncate(line, max(w - 2, 1)) for line in wrap(heads[j], max(w - 2, 1)))
        for row in data:
            cell = row[j]
            if max((dwidth(x) for x in cell.split("\n")), default=0) <= w:
                continue
            row[j] = "\n".join(wrap(cell, w)) if cols[j] in wrap_cols else truncate(cell.replace("\n", " "), w)
    return cols, heads, data


def render(rows: Iterable[dict], fmt: str, out: TextIO | None = None, *,
           columns: Sequence[str] | None = None, headers: Sequence[str] | None = None,
           empty: str | None = None, drop: Sequence[str] = (), wrap_cols: Sequence[str] = (),
           right: Sequence[str] = ()) -> None:
    """Write rows (dicts) in ``fmt`` to ``out``; a table fits the screen (see ``table``)."""
    out = out or sys.stdout
    rows = list(rows)
    if columns is None:
        columns = list(rows[0].keys()) if rows else []
    if fmt == "json":
        out.write(json.dumps([_plain({c: r.get(c) for c in columns}) for r in rows],
                             ensure_ascii=False, indent=2) + "\n")
    elif fmt == "yaml":

        out.write(yamlio.dumps([_plain({c: r.get(c) for c in columns}) for r in rows]) if rows else "[]\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(list(columns))
        for r in rows:
            writer.writerow([_cell(r.get(c)) for c in columns])
    elif fmt == "md":
        heads = list(headers or columns)
        out.write("| " + " | ".join(heads) + " |\n")
        out.write("|" + "|".join("---" for _ in heads) + "|\n")
        for r in rows:
            out.write("| " + " | ".join(str(_cell(r.get(c))).replace("|", "\\|").replace("\n", " ")
                                        for c in columns) + " |\n")
    else:
        if not rows:
            if empty:
                out.write(empty + "\n")
            return
        out.write(table(rows, columns, headers, width=screen_width(out), drop=drop, wrap_cols=wrap_cols,
                        right=right, out=out) + "\n")


def render_data(data: Any, fmt: str, out: TextIO | None = None) -> None:
    """A single document (a mapping) as json or yaml."""
    out = out or sys.stdout
    if fmt == "yaml":

        out.write(yamlio.dumps(_plain(data)))
    else:
        out.write(json.dumps(_plain(data), ensure_ascii=False, indent=2) + "\n")


def key_values(pairs: Sequence[tuple[str, Any]], out: TextIO | None = None) -> None:
    """``field  value`` lines aligned by display width; on a narrow screen long values wrap under themselves."""
    out = out or sys.stdout
    pairs = [(translate(k), v) for k, v in pairs]
    width = max((dwidth(k) for k, _ in pairs), default=0)
    room = screen_width(out)
    for key, shown in pairs:
        text = str(_cell(shown))
        pad = " " * (width - dwidth(key))
        lines = text.splitlines() or [""]
        if room is not None and room - width - 2 >= 10:
            lines = [part for line in lines for part in wrap(line, room - width - 2)]
        out.write(fit_line(f"{style(key, out, dim=True)}{pad}  {lines[0]}", room) + "\n")
        for more in lines[1:]:
            out.write(fit_line(" " * (width + 2) + more, room) + "\n")
