"""iCalendar agenda: open tasks as VTODO (DUE), contract renewals as VEVENT; CRLF, folding, stable UIDs."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from crmcli.analysis import journals
from crmcli.domain import dates
from crmcli.io.vcard import escape, fold
from crmcli.store.store import Store

PRODID = "-//crmcli//agenda//EN"


def _utc(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _stamp(text: Any) -> str:
    try:
        return _utc(dates.parse_iso(str(text)))
    except dates.DateError:
        return "19700101T000000Z"


def calendar(store: Store, *, renewal_days: int = 365) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{escape(str(store.config.get('name', 'crm')))}"]
    names: dict[str, str] = {}
    for task in journals.list_tasks(store, journals.TaskFilter()):
        names[task.cid] = task.name
        lines += ["BEGIN:VTODO", f"UID:{task.cid}/{task.id}@crmcli", f"DTSTAMP:{_stamp(task.created)}",
                  f"SUMMARY:{escape(task.text)} ({escape(task.name or task.cid)})"]
        if isinstance(task.due, datetime):
            lines.append(f"DUE:{_utc(task.due)}")
        elif isinstance(task.due, date):
            lines.append(f"DUE;VALUE=DATE:{task.due.strftime('%Y%m%d')}")
        if task.owner:
            lines.append(f"X-CRM-OWNER:{escape(task.owner)}")
        lines += [f"DESCRIPTION:{escape(f'crm task done {task.ref}')}", "STATUS:NEEDS-ACTION", "END:VTODO"]
    try:
        from crmcli.analysis import renewals
    except ImportError:  # pragma: no cover - sales module not installed
        renewals = None  # type: ignore[assignment]
    if renewals is not None:
        today = dates.now().date()
        for row in renewals.renewals_due(store, today, today + timedelta(days=renewal_days)):
            c = row["contract"]
            notice = date.fromisoformat(row["notice"])
            summary = f"Renewal due: {row['name']}"
            about = (f"Contract {c['start']} to {c['end']} of {row['name']} ({row['customer']}) ends {row['end']}; "
                     f"renewal notice {c['renew_notice']}")
            lines += ["BEGIN:VEVENT", f"UID:renewal/{row['customer']}/{c['start']}/{c['end']}@crmcli",
                      f"DTSTAMP:{_stamp(c.get('at'))}", f"DTSTART;VALUE=DATE:{notice.strftime('%Y%m%d')}",
                      f"DTEND;VALUE=DATE:{(notice + timedelta(days=1)).strftime('%Y%m%d')}",
                      f"SUMMARY:{escape(summary)}", f"DESCRIPTION:{escape(about)}",
                      "TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines)
