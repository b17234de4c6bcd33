"""Needs and feedback: ``crm need add/status/list`` and ``crm feedback add/status/list``.

A problem reported as feedback can open a ticket in the same commit (``crm feedback add ... --ticket``).
"""
from __future__ import annotations

from dataclasses import replace

from crmcli.actions import complaints
from crmcli.actions.ticket import customer_name
from crmcli.domain import dates, needs, tickets
from crmcli.domain.journal import entity_events
from crmcli.domain.needs import Item
from crmcli.domain.text import first_line
from crmcli.domain.tickets import Ticket
from crmcli.errors import CrmError, InvalidRecord, NotFound
from crmcli.store import refs as entities
from crmcli.store.store import Store


def _items(store: Store, cid: str) -> dict[str, Item]:
    return needs.fold(cid, [e.data for e in store.load_journal(cid)])


def _new_id(store: Store, cid: str, family: str) -> str:
    prefix = needs.PREFIX[family]
    return entities.new_local_id(set(_items(store, cid)), prefix)


def add_need(store: Store, customer_ref: str, text: str, *, product: str | None = None,
             priority: str | None = None, tags: tuple[str, ...] = (), owner: str | None = None) -> Item:
    cid = store.resolve(customer_ref)
    name = customer_name(store, cid)
    entry = needs.need_entry(_new_id(store, cid, "need"), text, at=dates.now(), by=store.user(), owner=owner,
                             product=product, priority=priority, tags=tags)
    with store.transaction(f"Add need {entry['id']} of {name}: {first_line(entry['text'], 60, mark='...')}",
                           action="need.add", customer=cid) as tx:
        tx.append_entry(cid, entry)
    item = needs.fold(cid, [entry])[entry["id"]]
    item.customer_name = name
    return item


def add_feedback(store: Store, customer_ref: str, kind: str, text: str, *, channel: str | None = None,
                 product: str | None = None, owner: str | None = None, ticket: bool = False,
                 category: str | None = None, priority: str | None = None) -> tuple[Item, Ticket | None]:
    """Record feedback; with ``ticket`` (problems only) open a ticket from it in the same commit."""
    cid = store.resolve(customer_ref)
    name = customer_name(store, cid)
    now, by = dates.now(), store.user()
    if ticket and needs.choice(kind, needs.FEEDBACK_TYPES, "feedback type") != "problem":
        raise InvalidRecord("only a problem becomes a ticket; use --type problem, or leave out --ticket")
    events: list[dict] = []
    tid = None
    if ticket:
        cats = tickets.categories(store.config)
        new = tickets.NewTicket.check(store.config, first_line(text, 120, mark="..."), priority=priority,
                                      category=category or ("bug" if "bug" in cats else cats[0]),
                                      channel=channel if channel in tickets.channels(store.config) else None,
                                      text=text, product=product, assignee=owner)
        if new.assignee is None:
            routed = complaints.route(store, cid, category=new.category, product=new.product)
            new = replace(new, assignee=routed) if routed else new
        tid = entities.new_local_id(entity_events(store.load_journal(cid), "tkt"), "tkt")
        events.append(new.event(tid, now, by, None))
    entry = needs.feedback_entry(_new_id(store, cid, "feedback"), kind, text, at=now, by=by, owner=owner,
                                 channel=channel, product=product, ticket=tid)
    events.insert(0, entry)
    what = f"Add {entry['type']} feedback {entry['id']} of {name}" + (f" and open ticket {tid}" if tid else "")
    with store.transaction(what, action="feedback.add", customer=cid) as tx:
        for event in events:
            tx.append_entry(cid, event)
    item = needs.fold(cid, [entry])[entry["id"]]
    item.customer_name = name
    opened = Ticket.from_events(events[1:], cid) if tid else None
    if opened is not None:
        opened.customer_name = name
    return item, opened


def _resolve(store: Store, ref: str, family: str) -> tuple[str, Item]:
    """``ID``, a unique prefix of one, or ``CUSTOMER/ID``."""
    prefix = needs.PREFIX[family]
    text = str(ref).strip()
    cid_part, _, local = text.rpartition("/")
    wanted = local if local.startswith(prefix + "-") else f"{prefix}-{local}"
    cids = [store.resolve(cid_part)] if cid_part else list(store.customer_ids())
    found: list[tuple[str, Item]] = []
    for cid in cids:
        try:
            if not any(wanted.encode() in p.read_bytes() for p in store.journal_files(cid)):
                continue
            items = _items(store, cid)
        except (CrmError, OSError):
            continue
        exact = [(cid, i) for k, i in items.items() if k == wanted and i.family == family]
        found += exact or [(cid, i) for k, i in items.items() if k.startswith(wanted) and i.family == family]
    if not found:
        raise NotFound(f"no {family} {ref!r}; see crm {family} list")
    if len(found) > 1:
        raise NotFound(f"{family} {ref!r} is ambiguous: {', '.join(i.ref for _, i in found[:5])}; "
                       "give CUSTOMER/ID")
    return found[0]


def set_status(store: Store, family: str, ref: str, status: str, *, owner: str | None = None) -> Item:
    to = needs.status_choice(status)
    cid, item = _resolve(store, ref, family)
    name = customer_name(store, cid)
    with store.transaction(f"Set {family} {item.id} of {name} to {to}", action=f"{family}.status",
                           customer=cid) as tx:
        current = _items(store, cid)[item.id]  # under the lock
        entry = needs.status_entry(current, to, at=dates.now(), by=store.user(), owner=owner)
        tx.append_entry(cid, entry)
    after = needs.fold(cid, [e.data for e in store.load_journal(cid)])[item.id]
    after.customer_name = name
    return after


def list_items(store: Store, family: str, *, status: str | None = None, kind: str | None = None,
               product: str | None = None, owner: str | None = None, customer: str | None = None) -> list[Item]:
    """Needs (or feedback) of every customer (or one), newest first."""
    wanted = needs.status_choice(status) if status else None
    kind_ = needs.choice(kind, needs.FEEDBACK_TYPES, "feedback type") if kind else None
    marker = f"kind: {family}.add".encode()
    cids = [store.resolve(customer)] if customer else list(store.customer_ids())
    out: list[Item] = []
    for cid in cids:
        try:
            if not any(marker in p.read_bytes() for p in store.journal_files(cid)):
                continue
            items = _items(store, cid)
        except (CrmError, OSError):
            continue
        name = None
        for item in items.values():
            if (item.family != family or (wanted and item.status != wanted) or (kind_ and item.type != kind_)
                    or (product and (item.product or "").casefold() != product.casefold())
                    or (owner and (item.owner or "").casefold() != owner.casefold())):
                continue
            name = name or customer_name(store, cid)
            item.customer_name = name
            out.append(item)
    return sorted(out, key=lambda i: (i.created.timestamp() if i.created else 0.0, i.id), reverse=True)
