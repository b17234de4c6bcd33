"""Orders: ``crm order add`` and ``crm order list``.

An order is an ``order.add`` journal event (``crmcli.domain.orders``); like a won deal it moves the
customer's lifecycle forward, in the same commit.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crmcli.actions.opp import Outcome, commit_events, event
from crmcli.analysis.renewals import Journal, journals_with
from crmcli.domain import dates
from crmcli.domain.deals import parse_day
from crmcli.domain.money import format_money, parse_amount, parse_currency
from crmcli.domain.orders import customer_orders
from crmcli.domain.text import check_text
from crmcli.errors import InvalidRecord, NotFound
from crmcli.store.refs import resolve_entity
from crmcli.store.store import Store


def add_order(store: Store, customer_ref: str, *, amount: Any, date: str | None = None,
              product: str | None = None, opp: str | None = None, currency: str | None = None) -> Outcome:
    """Record a purchase; ``opp`` links it to one of the customer's deals."""
    code = parse_currency(currency, store.config)
    value = parse_amount(amount, currency=code)
    day = parse_day(date, "date") if date else dates.now().date().isoformat()
    product = check_text(product, "product") if product else None
    cid = store.resolve(customer_ref)
    oid = None
    if opp:
        try:
            opp_cid, oid, _ = resolve_entity(store, opp if "/" in opp else f"{cid}/{opp}", "opp")
        except NotFound:
            if "/" in opp:
                raise
            opp_cid, oid, _ = resolve_entity(store, opp, "opp")  # to say whose deal it is
        if opp_cid != cid:
            raise InvalidRecord(f"{opp} belongs to {opp_cid}, not {cid}; an order links a deal of its own customer")
    customer = store.load_customer(cid, validate=False)
    journal = store.load_journal(cid)
    new = event(store, "order.add", date=day, amount=value, currency=code, product=product, opp=oid)
    message = f"Add order of {format_money(value, code)} for {customer.name}"
    return commit_events(store, cid, customer, journal, [new], message, "order.add")


def list_orders(store: Store, *, customer: str | None = None, since: str | None = None) -> list[dict]:
    start = parse_day(since, "since") if since else None
    journals: Iterable[Journal] = [Journal.of(store, store.resolve(customer))] if customer \
        else journals_with(store, b"order.add")
    rows = []
    for journal in journals:
        orders = [o for o in customer_orders(journal.entries) if not start or o["date"] >= start]
        if orders:
            name = journal.name
            rows += [{"customer": journal.cid, "name": name, **o} for o in orders]
    return sorted(rows, key=lambda r: (r["date"], r["name"].casefold()))
