"""The pipeline board (``crm pipeline``): one line per open stage with count, total, weighted amount and a bar."""
from __future__ import annotations

from datetime import datetime
from typing import Any, TextIO

from wcwidth import wcswidth

from crmcli.domain import dates
from crmcli.domain.money import format_money
from crmcli.render.labels import heading, label, value
from crmcli.render.tables import style

BAR_WIDTH = 24


def board_text(board: Any, owner: str | None, when: datetime | None, stream: TextIO | None = None) -> str:
    """The board's text; ``board`` is ``crmcli.actions.pipeline.Board`` (rows, ``currency``, ``skipped``).

    In the bars, █ is the weighted part of a stage's total and ░ the rest, scaled to the largest stage;
    with ``stream`` taking colour, the weighted part is green and the title bold.
    """
    cur = board.currency
    rows = [(value(r["stage"]), f"{r['probability']}%", str(r["count"]), format_money(r["total"], cur),
             format_money(r["weighted"], cur), r) for r in board]
    count = sum(r["count"] for r in board)
    total = sum(r["total"] for r in board)
    weighted = sum(r["weighted"] for r in board)
    head = tuple(label(c) for c in ("stage", "prob", "deals", "total", "weighted"))
    foot = (label("total"), "", str(count), format_money(total, cur), format_money(weighted, cur))
    cells = [head, *[r[:5] for r in rows], foot]
    widths = [max(wcswidth(c[i]) for c in cells) for i in range(5)]
    biggest = max((r["total"] for r in board), default=0) or 1

    def line(c: tuple, bar: str = "") -> str:
        first = c[0] + " " * (widths[0] - wcswidth(c[0]))
        rest = "  ".join(" " * (widths[i] - wcswidth(c[i])) + c[i] for i in range(1, 5))
        return f"{first}  {rest}  {bar}".rstrip()

    title = f"{heading('Pipeline: open deals in')} {cur}"
    if owner:
        title += f" of {owner}"
    if when is not None:
        title += f", as of {dates.format_local(when)}"
    out = [style(title, stream, bold=True) if stream is not None else title, "", line(head),
           "  ".join("-" * w for w in widths)]
    for *c, r in rows:
        full = round(r["total"] / biggest * BAR_WIDTH)
        solid = min(full, round(r["weighted"] / biggest * BAR_WIDTH))
        if r["total"] and not full:
            full = 1
        weighted = style("█" * solid, stream, fg="green") if solid and stream is not None else "█" * solid
        out.append(line(tuple(c), weighted + "░" * (full - solid)))
    out.append("  ".join("-" * w for w in widths))
    out.append(line(foot))
    if board.skipped:
        other = ", ".join(f"{n} in {c}" for c, n in sorted(board.skipped.items()))
        out.append(f"(not counted: {other}; see crm pipeline --currency CODE)")
    return "\n".join(out)
