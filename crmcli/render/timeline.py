"""Screen text of the journal: the lines `crm log` prints, and the timeline table."""
from __future__ import annotations

from datetime import datetime

from crmcli.domain import dates
from crmcli.domain.tasks import Due, show_due
from crmcli.domain.text import first_line
from crmcli.render.tables import render


def event_line(cid: str, when: str, what: str, text: str) -> str:
    """``acme  2026-11-20 10:00  call: Discussed the renewal``."""
    return f"{cid}  {when}  {what}: {text}"


def logged_lines(cid: str, at: datetime, kind: str, summary: str, task: dict | None = None,
                 due: Due | None = None) -> list[str]:
    """What `crm log` prints: the interaction, then its follow-up task when there is one."""
    lines = [event_line(cid, dates.format_local(at), kind, first_line(summary, 60))]
    if task is not None:
        lines.append(f"{cid}/{task['id']}  due {show_due(due)}  {first_line(task['text'], 60)}")
    return lines


_EVENT_COLOURS = {"opp.won": "green", "opp.lost": "red", "task.done": "green", "ticket.close": "green"}


def render_timeline(rows: list[dict], fmt: str, *, feed: bool = False) -> None:
    """Timeline rows (analysis.timeline) as a table (one line each) or in a machine format (every field)."""
    if fmt == "table":
        columns = ["when", "name", "what", "who", "summary"] if feed else ["when", "what", "who", "summary"]
        rows = [dict(r, summary=first_line(r["summary"], 80), _fg_what=_EVENT_COLOURS.get(str(r.get("kind"))))
                for r in rows]
        headers = ["when", "customer", "what", "who", "summary"] if feed else None
        render(rows, fmt, columns=columns, headers=headers, empty="No events match.", drop=["who"])
    else:
        columns = ["at", "customer", "name", "kind", "who", "what", "summary"]
        render(rows, fmt, columns=columns + (["event"] if fmt in ("json", "yaml") else []))
