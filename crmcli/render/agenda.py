"""Screen text of `crm agenda`: items grouped under Overdue, Today, Tomorrow and the coming days."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Protocol, TextIO

from crmcli.render.fit import screen_width
from crmcli.render.labels import heading, language
from crmcli.render.tables import style, table


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
    """The agenda's lines: one table (one alignment for every day) under the day headings.

    Headings are coloured when ``stream`` takes colour; the table fits the screen (``screen_width``).
    """
    groups: dict[str, list[Item]] = {}
    for item in items:
        if item.overdue:
            label = heading("Overdue")
        else:
            word = {today: "Today", today + timedelta(days=1): "Tomorrow"}.get(item.day, item.day.strftime("%A"))
            label = f"{heading(word)}{'，' if language() == 'zh' else ', '}{item.day.isoformat()}"
        groups.setdefault(label, []).append(item)
    ordered = [(label, i) for label, group in groups.items() for i in group]
    rows = [{"when": " ".join(filter(None, [i.day.isoformat() if i.overdue else "", i.time or ""])),
             "what": i.kind, "customer": i.name, "text": i.text, "ref": i.ref or "", "owner": i.owner or "",
             "_fg_when": "red" if i.overdue else None} for _, i in ordered]
    width = screen_width(stream)
    text = table(rows, ["when", "what", "customer", "text", "ref", "owner"],
                 ["when", "what", "customer", "what to do", "id", "owner"],
                 width=None if width is None else width - 2, drop=["ref"], out=stream)
    head, body = text.splitlines()[:2], text.splitlines()[2:]
    lines = ["  " + line for line in head]
    last = None
    for (label, _), line in zip(ordered, body, strict=False):
        if label != last:
            lines += ["", style(label, stream, bold=True, fg="red" if label == heading("Overdue") else None)]
            last = label
        lines.append("  " + line)
    lines += ["  " + line for line in body[len(ordered):]]  # a note on columns left out
    return lines
