"""Screen text of `crm agenda`: items grouped under Overdue, Today, Tomorrow and the coming days."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Protocol, TextIO

from tabulate import tabulate

from crmcli.render.tables import style


class Item(Protocol):
    """An agenda item (crmcli.actions.agenda.AgendaItem)."""

    day: date
    overdue: bool
    kind: str
    name: str
    text: str
    ref: str | None
    time: str | None
    owner: str | None


def agenda_lines(items: Sequence[Item], today: date, stream: TextIO) -> list[str]:
    """The agenda's lines; headings are coloured when ``stream`` is a terminal."""
    groups: dict[str, list[Item]] = {}
    for item in items:
        if item.overdue:
            label = "Overdue"
        else:
            word = {today: "Today", today + timedelta(days=1): "Tomorrow"}.get(item.day, item.day.strftime("%A"))
            label = f"{word}, {item.day.isoformat()}"
        groups.setdefault(label, []).append(item)
    lines: list[str] = []
    for label, group in groups.items():
        if lines:
            lines.append("")
        lines.append(style(label, stream, bold=True, fg="red" if label == "Overdue" else None))
        rows = [[" ".join(filter(None, [i.day.isoformat() if i.overdue else "", i.time or ""])),
                 i.kind, i.name, i.text, i.ref or "", i.owner or ""] for i in group]
        if not any(r[0] for r in rows):
            rows = [r[1:] for r in rows]
        lines += ["  " + line for line in tabulate(rows, tablefmt="plain", disable_numparse=True).splitlines()]
    return lines
