"""One place that turns rows into output: table, json, csv, yaml, markdown.

Tables align Chinese and other wide characters by display width (tabulate
with wcwidth). Colour is used only on a terminal and never when NO_COLOR is
set. Machine formats are stable: keys in column order, UTF-8, no colour.
"""
from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from crmcli import yamlio

FORMATS = ["table", "json", "csv", "yaml", "md"]


def use_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR") is not None:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def style(text: str, stream: TextIO, *, fg: str | None = None, bold: bool = False, dim: bool = False) -> str:
    if not use_color(stream):
        return text
    codes = []
    colours = {"red": 31, "green": 32, "yellow": 33, "blue": 34, "magenta": 35, "cyan": 36}
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


def table(rows: Sequence[dict], columns: Sequence[str], headers: Sequence[str] | None = None) -> str:
    from tabulate import tabulate

    data = [[_cell(r.get(c)) for c in columns] for r in rows]
    return tabulate(data, headers=list(headers or columns), tablefmt="simple", disable_numparse=True)


def render(rows: Iterable[dict], fmt: str, out: TextIO | None = None, *,
           columns: Sequence[str] | None = None, headers: Sequence[str] | None = None,
           empty: str | None = None) -> None:
    """Write rows (dicts) in ``fmt`` to ``out``."""
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
        out.write(table(rows, columns, headers) + "\n")


def render_data(data: Any, fmt: str, out: TextIO | None = None) -> None:
    """A single document (a mapping) as json or yaml."""
    out = out or sys.stdout
    if fmt == "yaml":

        out.write(yamlio.dumps(_plain(data)))
    else:
        out.write(json.dumps(_plain(data), ensure_ascii=False, indent=2) + "\n")


def key_values(pairs: Sequence[tuple[str, Any]], out: TextIO | None = None) -> None:
    """``field  value`` lines aligned by display width."""
    from wcwidth import wcswidth

    out = out or sys.stdout
    width = max((wcswidth(k) for k, _ in pairs), default=0)
    for key, value in pairs:
        text = str(_cell(value))
        pad = " " * (width - max(wcswidth(key), 0))
        lines = text.splitlines() or [""]
        out.write(f"{style(key, out, dim=True)}{pad}  {lines[0]}\n")
        for more in lines[1:]:
            out.write(" " * (width + 2) + more + "\n")

