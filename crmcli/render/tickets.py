"""Ticket screens: the ``crm ticket show`` text and the rows of ``crm ticket list``."""
from __future__ import annotations

import sys
from datetime import datetime
from typing import Any, TextIO

from crmcli.config import Config
from crmcli.domain import dates, durations
from crmcli.domain.tickets import SlaClock, Ticket, sla_flag
from crmcli.render.fit import screen_width, wrap
from crmcli.render.tables import key_values

LIST_COLUMNS = ["id", "customer_name", "title", "priority", "category", "status", "assignee", "opened", "due",
                "sla"]
LIST_HEADERS = ["id", "customer", "title", "priority", "category", "status", "assignee", "opened", "due", "sla"]
LIST_DROP = ["category", "opened", "assignee", "priority"]  # on a narrow screen, these go first
DATA_COLUMNS = ["ref", "id", "customer", "customer_name", "title", "priority", "category", "channel", "status",
                "assignee", "contact", "opened_at", "first_response_due", "first_response_at",
                "first_response_breached", "resolution_due", "resolved_at", "resolution_breached", "closed_at",
                "csat"]


def at_text(dt: datetime | None) -> str:
    """A time as the user reads it (local), or nothing."""
    return dates.format_local(dt) if dt is not None else ""


def ticket_data(t: Ticket, config: Config, now: datetime | None = None) -> dict:
    """Plain data (ISO times) for json/yaml output."""
    def iso(value: datetime | None) -> str | None:
        return dates.iso(value) if value is not None else None

    sla = t.sla(config, now)
    clocks = {name: {"due": iso(c.due), "met": iso(c.met_at), "breached": c.breached}
              for name, c in (("first_response", sla.first_response), ("resolution", sla.resolution))}
    return {
        "id": t.id, "customer": t.customer, "customer_name": t.customer_name,
        "title": t.title, "status": t.status, "priority": t.priority, "category": t.category,
        "channel": t.channel, "assignee": t.assignee, "contact": t.contact,
        "opened_at": iso(t.opened_at), "opened_by": t.opened_by,
        "first_response_at": iso(t.first_response_at), "resolved_at": iso(t.resolved_at),
        "closed_at": iso(t.closed_at), "resolution": t.resolution, "csat": t.csat,
        "sla": clocks, "text": t.text,
        "comments": [dict(c, at=iso(c["at"])) for c in t.comments],
        "history": [dict(h, at=iso(h["at"])) for h in t.history],
    }


def list_rows(tickets: list[Ticket], config: Config, now: datetime, fmt: str) -> list[dict]:
    """One row per ticket: short columns for the table, every field for data formats."""
    rows = []
    for t in tickets:
        sla = t.sla(config, now)
        if fmt == "table":
            rows.append({"id": t.id, "customer_name": t.customer_name, "title": t.title, "priority": t.priority,
                         "category": t.category, "status": t.status, "assignee": t.assignee,
                         "opened": at_text(t.opened_at), "due": at_text(sla.resolution.due) if t.is_open else "",
                         "sla": sla_flag(sla), "_fg_sla": "red" if sla.breached else None,
                         "_fg_due": "red" if sla.breached and t.is_open else None})
            continue
        data = ticket_data(t, config, now)
        data.update(ref=t.ref, first_response_due=data["sla"]["first_response"]["due"],
                    first_response_breached=sla.first_response.breached,
                    resolution_due=data["sla"]["resolution"]["due"], resolution_breached=sla.resolution.breached)
        rows.append(data)
    return rows


def clock_text(clock: SlaClock, now: datetime) -> str:
    if clock.due is None:
        return "no target for this priority in crm.yaml"
    due = at_text(clock.due)
    if clock.met_at is not None:
        if clock.breached:
            return (f"BREACHED: met {at_text(clock.met_at)}, "
                    f"{durations.format_duration(clock.met_at - clock.due)} after {due}")
        return f"met {at_text(clock.met_at)} (due {due})"
    if clock.breached:
        return f"BREACHED: due {due}, overdue by {durations.format_duration(now - clock.due)}"
    return f"due {due} (in {durations.format_duration(clock.due - now)})"


def show(t: Ticket, config: Config, now: datetime, out: TextIO | None = None) -> None:
    """A ticket's fields, SLA clocks, comments and history, for people."""
    out = out or sys.stdout
    sla = t.sla(config, now)
    opened = f"{at_text(t.opened_at)} by {t.opened_by}" if t.opened_by else at_text(t.opened_at)
    rows: list[tuple[str, Any]] = [
        ("ticket", t.id), ("customer", f"{t.customer_name} ({t.customer})"), ("title", t.title),
        ("status", t.status), ("priority", t.priority), ("category", t.category), ("channel", t.channel),
        ("assignee", t.assignee), ("contact", t.contact), ("opened", opened),
        ("response SLA", clock_text(sla.first_response, now)),
        ("resolution SLA", clock_text(sla.resolution, now)),
    ]
    if t.closed_at:
        rows.append(("closed", at_text(t.closed_at)))
    rows += [("resolution", t.resolution), ("csat", t.csat), ("description", t.text)]
    key_values([(k, v) for k, v in rows if v not in (None, "")], out)
    lines: list[str] = []
    if t.comments:
        lines += ["", "Comments"]
        for c in t.comments:
            note = "(internal) " if c["internal"] else ""
            text = c["text"].splitlines() or [""]
            link = f" [kb/{c['kb']}.md]" if c.get("kb") else ""
            lines.append(f"  {at_text(c['at'])}  {c['by'] or '?'}: {note}{text[0]}{link}")
            lines += [f"      {more}" for more in text[1:]]
    lines += ["", "History"]
    lines += [f"  {at_text(h['at'])}  {h['by'] or '?'}: {h['what']}" for h in t.history]
    room = screen_width(out)
    if room is not None:  # a long comment goes on under itself, within the terminal
        fitted = []
        for line in lines:
            parts = wrap(line, room) if line else [line]
            fitted += parts[:1] + [f"      {more.lstrip()}" for part in parts[1:]
                                   for more in wrap(part.lstrip(), max(room - 6, 20))]
        lines = fitted
    out.write("".join(line + "\n" for line in lines))
