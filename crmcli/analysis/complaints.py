"""Complaints on the read side: one row per complaint ticket, for the service report's complaint sections."""
from __future__ import annotations

from datetime import datetime

from crmcli.analysis.journal_events import events_with
from crmcli.domain import dates
from crmcli.domain.journal import entity_events
from crmcli.domain.surveys import CSAT_RANGE, valid_score
from crmcli.domain.tickets import Ticket
from crmcli.store.store import Store


def _at(value: object) -> datetime | None:
    try:
        return dates.parse_iso(str(value))
    except dates.DateError:
        return None


def complaint_rows(store: Store) -> list[dict]:
    """Each complaint: customer, id, title, product, tags, assignee, status, opened_at, resolved_at, escalations,
    reopened (times), satisfaction (the last CSAT given at or after it was resolved: the close's or a survey's).

    Only the journals holding ``complaint`` are read (found in the index); unreadable customers are left out.
    """
    rows: list[dict] = []
    for cid, events in events_with(store, "complaint"):
        for tid, evts in entity_events(events, "tkt").items():
            t = Ticket.from_events(evts, cid)
            if t.category != "complaint" or t.opened_at is None:
                continue
            after: list[tuple[datetime, int]] = []
            if t.resolved_at is not None:
                for e in evts:
                    score = valid_score(e.get("csat"), CSAT_RANGE)
                    at = _at(e.get("at"))
                    if e.get("kind") in ("ticket.close", "survey.answer") and score is not None and at is not None \
                            and at >= t.resolved_at:
                        after.append((at, score))
            rows.append({
                "customer": cid, "id": tid, "title": t.title, "product": t.product, "tags": list(t.tags),
                "assignee": t.assignee, "status": t.status, "opened_at": t.opened_at, "resolved_at": t.resolved_at,
                "escalations": sum(1 for e in evts if e.get("kind") == "ticket.escalate"),
                "reopened": sum(1 for e in evts if e.get("kind") == "ticket.reopen"),
                "satisfaction": max(after)[1] if after else None,
            })
    return rows
