"""Ticket actions: open, comment, assign, move, close, reopen, show and list tickets.

Each change resolves the ticket through the store, folds its events and lets the domain
(``crmcli.domain.tickets``) check and build the next event, appends it in one transaction and
returns the ticket as it is after the change. Nothing here prints.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from crmcli.actions import complaints
from crmcli.actions import kb as kb_actions
from crmcli.analysis.renewals import Journal, records_with
from crmcli.config import Config
from crmcli.domain import dates, tickets
from crmcli.domain.journal import Entry, entity_events
from crmcli.domain.surveys import parse_csat
from crmcli.domain.text import checked_text, first_line
from crmcli.domain.tickets import Sla, Ticket
from crmcli.errors import NotFound
from crmcli.store import refs as entities
from crmcli.store.index import Index, open_index
from crmcli.store.index_reads import FileRow
from crmcli.store.store import Store


def customer_name(store: Store, cid: str) -> str:
    try:
        return store.load_customer(cid, validate=False).name or cid
    except NotFound:
        return cid


def _name(journal: Journal) -> str:
    name = journal.index.name_of(journal.cid) if journal.index is not None else None
    return customer_name(journal.store, journal.cid) if name is None else name or journal.cid


def _ticket_of(store: Store, cid: str, tid: str) -> tuple[Ticket, list[dict]]:
    """The ticket as it is now (read under the lock, so checks see every earlier change)."""
    evts = entity_events(store.load_journal(cid), "tkt").get(tid)
    if not evts:
        raise NotFound(f"no ticket {tid} at {cid}; see crm ticket list --customer {cid}")
    data = [e.data for e in evts]
    return Ticket.from_events(data, cid), data


def _change(store: Store, ref: str, verb: str, action: str, build: Any, suffix: str = "",
            extras: Any = None) -> Ticket:
    """Resolve ``ref``, then under the lock fold it, let ``build`` check and make the event, append it.

    ``extras(cid, ticket)``, when given, returns more events of the same commit (a complaint's survey task).
    """
    cid, tid, _ = entities.resolve_entity(store, ref, "tkt")
    name = customer_name(store, cid)
    with store.transaction(f"{verb} {tid} of {name}{suffix}", action=action, customer=cid) as tx:
        ticket, evts = _ticket_of(store, cid, tid)
        entry = build(ticket)
        more = extras(cid, ticket) if extras else []
        for event in (entry, *more):
            tx.append_entry(cid, event)
    after = Ticket.from_events([*evts, entry], cid)
    after.customer_name = name
    return after


def open_ticket(store: Store, customer_ref: str, title: str, *, priority: str | None = None,
                category: str | None = None, channel: str | None = None, assignee: str | None = None,
                contact: str | None = None, text: str | None = None, product: str | None = None,
                tags: tuple[str, ...] = ()) -> Ticket:
    """Open a ticket; without an assignee, the routing rules of crm.yaml pick one."""
    new = tickets.NewTicket.check(store.config, title, priority=priority, category=category, channel=channel,
                          assignee=assignee, text=text, product=product, tags=tags)
    cid = store.resolve(customer_ref)
    if new.assignee is None:
        routed = complaints.route(store, cid, category=new.category, product=new.product)
        new = replace(new, assignee=routed) if routed else new
    customer = store.load_customer(cid, validate=False)
    given = checked_text(contact, "contact", required=False, one_line=True)
    contact_ = tickets.contact_name(customer.contacts, given)
    tid = entities.new_local_id(entity_events(store.load_journal(cid), "tkt"), "tkt")
    entry = new.event(tid, dates.now(), store.user(), contact_)
    with store.transaction(f"Open ticket {tid} for {customer.name}: {new.title}", action="ticket.open",
                           customer=cid) as tx:
        tx.append_entry(cid, entry)
    ticket = Ticket.from_events([entry], cid)
    ticket.customer_name = customer.name
    return ticket


def comment(store: Store, ref: str, text: str | None, *, internal: bool = False, kb: str | None = None) -> Ticket:
    """Comment on a ticket; with ``kb``, link a knowledge-base article (the text then defaults to its title)."""
    article = kb_actions.article_for_comment(store, kb, internal=internal) if kb else None
    if article is not None and not (text or "").strip():
        text = f"Knowledge base: {article.title}"
    body = str(checked_text(text, "comment"))
    return _change(store, ref, "Comment on", "ticket.comment",
                   lambda t: t.comment(dates.now(), store.user(), body, internal=internal,
                                       kb=article.slug if article else None))


def assign(store: Store, ref: str, user: str) -> Ticket:
    who = str(checked_text(user, "assignee", one_line=True))
    return _change(store, ref, "Assign", "ticket.assign", lambda t: t.assign(dates.now(), store.user(), who),
                   f" to {who}")


def set_status(store: Store, ref: str, status: str) -> Ticket:
    """Move a ticket to open, in-progress, waiting or resolved (``ResolutionNeeded`` for closed)."""
    to = tickets.status_choice(status)
    return _change(store, ref, "Set", "ticket.status", lambda t: t.move(dates.now(), store.user(), to),
                   f" to {to}")


def close(store: Store, ref: str, resolution: str | None, *, csat: Any = None) -> Ticket:
    """Close a ticket with its resolution (``ResolutionNeeded`` without one) and optional CSAT."""
    if not resolution or not str(resolution).strip():
        raise tickets.ResolutionNeeded(by_status=False)
    text = str(checked_text(resolution, "resolution"))
    score = parse_csat(csat)
    now = dates.now()
    return _change(store, ref, "Close", "ticket.close", lambda t: t.close(now, store.user(), text, score),
                   f": {first_line(text, 60, mark='...')}",
                   extras=lambda cid, t: complaints.close_extras(store, cid, t, now))


def reopen(store: Store, ref: str) -> Ticket:
    return _change(store, ref, "Reopen", "ticket.reopen", lambda t: t.reopen(dates.now(), store.user()))


# -- reading -------------------------------------------------------------------------------------

def show_ticket(store: Store, ref: str) -> Ticket:
    cid, tid, journal = entities.resolve_entity(store, ref, "tkt")
    ticket = Ticket.from_events([e.data for e in entity_events(journal, "tkt")[tid]], cid)
    ticket.customer_name = customer_name(store, cid)
    return ticket


@dataclass
class TicketFilter:
    open: bool = False
    status: str | None = None
    assignee: str | None = None
    priority: str | None = None
    category: str | None = None
    breached: bool = False
    customer: str | None = None


def _has_tickets(store: Store, cid: str) -> bool:
    """Cheap test on the bytes, so customers without tickets are never parsed."""
    for path in store.journal_files(cid):
        try:
            if b"tkt-" in path.read_bytes():
                return True
        except OSError:
            continue
    return False


def customer_tickets(store: Store, cid: str, journal: list[Entry] | None = None) -> list[Ticket]:
    journal = store.load_journal(cid) if journal is None else journal
    return tickets.customer_tickets([e.data for e in journal], cid)


def list_tickets(store: Store, filters: TicketFilter | dict | None = None, *,
                 now: datetime | None = None, detail: bool = True) -> list[Ticket]:
    """Tickets of every customer (or one) that pass ``filters``; open ones first, soonest due first (without
    ``detail``, tickets read from the index lack their history and comments)."""
    f = TicketFilter(**filters) if isinstance(filters, dict) else (filters or TicketFilter())
    config = store.config
    status = tickets.choice(f.status, tickets.STATUSES, "status") if f.status else None
    priority = tickets.choice(f.priority, list(tickets.priorities(config)), "priority") if f.priority else None
    category = tickets.choice(f.category, tickets.categories(config), "category") if f.category else None
    now = now or dates.now()
    if f.customer:
        cid = store.resolve(f.customer)
        journal = Journal.of(store, cid)
        groups = [(journal, None, customer_tickets(store, cid, journal.entries))] if _has_tickets(store, cid) else []
        return _matching(groups, f, status, priority, category, config, now)
    # SQL on the folded tickets in the index picks them; the same tests below decide
    wanted = {"open = 1": f.open, "status = ?": status, "priority = ?": priority, "category = ?": category,
              "assignee = ?": f.assignee.strip().casefold() if f.assignee else None}
    with open_index(store) as index:
        found = records_with(index, "tickets", _fold_tickets, " AND ".join(c for c, v in wanted.items() if v),
                             tuple(v for c, v in wanted.items() if v and "?" in c), detail=detail)
        return _matching(found, f, status, priority, category, config, now)


def _fold_tickets(index: Index, cid: str, rows: list[FileRow]) -> list[Ticket]:
    return tickets.customer_tickets([e.data for e in index.entries(cid, rows)], cid)


def _matching(groups: Iterable[tuple[Journal, str | None, list[Ticket]]], f: TicketFilter, status: str | None,
              priority: str | None, category: str | None, config: Config, now: datetime) -> list[Ticket]:
    rows: list[tuple[Ticket, Sla]] = []
    for journal, name, found in groups:
        for t in found:
            sla = t.sla(config, now)
            if ((f.open and not t.is_open) or (status and t.status != status)
                    or (priority and t.priority != priority) or (category and t.category != category)
                    or (f.assignee and (t.assignee or "").casefold() != f.assignee.strip().casefold())
                    or (f.breached and not sla.breached)):
                continue
            name = name or _name(journal)
            t.customer_name = name
            rows.append((t, sla))

    def key(row: tuple[Ticket, Sla]) -> tuple:
        t, sla = row
        opened = t.opened_at.timestamp() if t.opened_at else 0.0
        if t.is_open:
            due = sla.resolution.due.timestamp() if sla.resolution.due else float("inf")
            return (0, due, opened, t.ref)
        return (1, -opened, t.ref)

    return [t for t, _ in sorted(rows, key=key)]
