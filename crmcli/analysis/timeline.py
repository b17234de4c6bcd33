"""A customer's timeline, and the team's feed: every dated event as a row, newest first."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crmcli.analysis.journals import indexed_dicts
from crmcli.domain import dates
from crmcli.domain.customer import Customer
from crmcli.domain.interactions import event_time, same_name
from crmcli.domain.kinds import event_parts, type_matches
from crmcli.domain.text import first_line
from crmcli.store.index import open_index
from crmcli.store.store import Store


@dataclass
class TimelineFilter:
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    types: tuple[str, ...] = ()
    by: str | None = None
    limit: int | None = None
    reverse: bool = False


def _rows(cid: str, name: str, entries: list[dict], flt: TimelineFilter) -> list[tuple[datetime, int, dict]]:
    context = {e["id"]: first_line(e.get("text")) for e in entries
               if e.get("kind") == "task.add" and isinstance(e.get("id"), str)}
    rows = []
    for i, e in enumerate(entries):
        moment = event_time(e)
        kind = str(e.get("kind", ""))
        if moment is None or (flt.since and moment < flt.since) or (flt.until and moment >= flt.until):
            continue
        if not type_matches(kind, flt.types) or not same_name(e.get("by"), flt.by):
            continue
        what, text = event_parts(e, context)
        rows.append((moment, i, {"at": dates.iso(moment), "when": dates.format_local(moment), "customer": cid,
                                 "name": name, "kind": kind, "who": e.get("by"), "what": what,
                                 "summary": text, "event": e}))
    return rows


def _created(customer: Customer) -> list[dict]:
    created = customer.get("created")
    return [{"at": created, "kind": "customer.add", "summary": f"added {customer.name}"}] if created else []


def _order(rows: list[tuple[datetime, int, dict]], flt: TimelineFilter) -> list[dict]:
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    out = [r[2] for r in (rows[:flt.limit] if flt.limit else rows)]
    return out[::-1] if flt.reverse else out


def timeline(store: Store, ref: str, flt: TimelineFilter | None = None) -> list[dict]:
    """Every dated event of one customer, newest first (``reverse``: oldest first)."""
    flt = flt or TimelineFilter()
    cid = store.resolve(ref)
    customer = store.load_customer(cid, validate=False)
    entries = _created(customer) + [e.data for e in store.load_journal(cid)]
    return _order(_rows(cid, customer.name, entries, flt), flt)


def team_feed(store: Store, since: datetime | None, until: datetime | None = None, owner: str | None = None,
              flt: TimelineFilter | None = None, problems: list[str] | None = None) -> list[dict]:
    """Events of every customer in a window: the team's activity feed, newest first.
    Each unreadable customer's problem (``path:line: problem``) is appended to ``problems``.

    Only customers the index says may have an event (or their creation) in the window are read.
    """
    flt = flt or TimelineFilter()
    flt.since, flt.until = since, until
    rows: list[tuple[datetime, int, dict]] = []
    with open_index(store) as index:
        wanted = index.with_events(since, until) | index.created_between(since, until)
        customers = index.customers(problems=problems, only=wanted)
        journals = index.journal_rows(c.id for c in customers)
        for customer in customers:
            if not same_name(customer.get("owner"), owner):
                continue
            entries = _created(customer) + indexed_dicts(index, customer.id, journals.get(customer.id, []),
                                                         since=since.date() if since else None)
            rows += _rows(customer.id, customer.name, entries, flt)
    return _order(rows, flt)
