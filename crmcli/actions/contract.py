"""Orders (what a customer bought) and contracts (what a customer signed), and renewals coming due.

Both are plain journal events without ids: ``order.add`` (date, amount, currency, product, opp) and
``contract.add`` (value, currency, start, end, renew_notice, file). An order, like a won deal, moves
the customer's lifecycle forward (see ``crmcli.actions.opp.lifecycle_change``).

The agenda asks ``renewals_due(store, start, end)`` for contracts whose notice period touches its window.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from crmcli.actions.opp import (
    Outcome,
    check_text,
    commit_events,
    customers_with,
    event,
    format_money,
    parse_amount,
    parse_currency,
    parse_day,
)
from crmcli.domain import dates
from crmcli.domain.customer import PERIOD_RE
from crmcli.domain.journal import Entry
from crmcli.errors import InvalidRecord, NotFound
from crmcli.store.refs import resolve_entity
from crmcli.store.store import Store

DEFAULT_NOTICE = "30d"


# -- orders ------------------------------------------------------------------------------------------------
def add_order(store: Store, customer_ref: str, *, amount: Any, date: str | None = None,
              product: str | None = None, opp: str | None = None, currency: str | None = None) -> Outcome:
    """Record a purchase; ``opp`` links it to one of the customer's deals."""
    code = parse_currency(currency, store.config)
    value = parse_amount(amount, currency=code)
    day = parse_day(date, "--date") if date else dates.now().date().isoformat()
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


def customer_orders(journal: list[Entry]) -> list[dict]:
    """A customer's orders, by date."""
    out = []
    for e in journal:
        if e.kind == "order.add":
            d = e.data
            out.append({"date": str(d.get("date") or d.get("at", ""))[:10], "amount": d.get("amount"),
                        "currency": d.get("currency"), "product": d.get("product"), "opp": d.get("opp"),
                        "at": e.at, "by": d.get("by")})
    return sorted(out, key=lambda o: (o["date"], o["at"]))


def list_orders(store: Store, *, customer: str | None = None, since: str | None = None) -> list[dict]:
    start = parse_day(since, "--since") if since else None
    cids = [store.resolve(customer)] if customer else customers_with(store, b"order.add")
    rows = []
    for cid in cids:
        orders = [o for o in customer_orders(store.load_journal(cid)) if not start or o["date"] >= start]
        if orders:
            name = store.load_customer(cid, validate=False).name
            rows += [{"customer": cid, "name": name, **o} for o in orders]
    return sorted(rows, key=lambda r: (r["date"], r["name"].casefold()))


# -- contracts ---------------------------------------------------------------------------------------------
def notice_days(text: Any) -> int:
    """Days of a renew-notice period (``30d``, ``6w``, ``3m`` = 90 days)."""
    try:
        return dates.parse_period(str(text)).days
    except dates.DateError as exc:
        raise InvalidRecord(f"--renew-notice: {exc}") from None


def stored_file_path(store: Store, file: str) -> str:
    """The signed document's path: relative to the store root when inside it, else as given."""
    path = Path(file).expanduser()
    if not path.is_file():
        raise InvalidRecord(f"--file {file}: no such file; give the path of the signed document")
    try:
        return path.resolve().relative_to(store.root.resolve()).as_posix()
    except ValueError:
        return file


def add_contract(store: Store, customer_ref: str, *, value: Any, start: str, end: str,
                 renew_notice: str | None = None, file: str | None = None, currency: str | None = None) -> Outcome:
    code = parse_currency(currency, store.config)
    amount = parse_amount(value, "value", currency=code)
    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    if last < first:
        raise InvalidRecord(f"--end {last} is before --start {first}; a contract ends after it starts")
    notice = "".join(str(renew_notice or DEFAULT_NOTICE).lower().split())
    notice_days(notice)
    if not PERIOD_RE.match(notice):
        raise InvalidRecord(f"--renew-notice {renew_notice!r}: write a number and a unit (30d, 6w, 3m, 1y)")
    doc = stored_file_path(store, file) if file else None
    cid = store.resolve(customer_ref)
    customer = store.load_customer(cid, validate=False)
    journal = store.load_journal(cid)
    new = event(store, "contract.add", value=amount, currency=code, start=first, end=last,
                renew_notice=notice, file=doc)
    message = f"Add contract for {customer.name} ({first} to {last})"
    return commit_events(store, cid, customer, journal, [new], message, "contract.add")


def customer_contracts(journal: list[Entry]) -> list[dict]:
    """A customer's contracts by start date, each with its ``notice`` date (end minus the notice period)."""
    out = []
    for e in journal:
        if e.kind != "contract.add":
            continue
        d = e.data
        notice = str(d.get("renew_notice") or DEFAULT_NOTICE)
        try:
            end = date.fromisoformat(str(d.get("end")))
            days = dates.parse_period(notice).days
        except (ValueError, dates.DateError):
            continue  # crm check reports it
        out.append({"start": str(d.get("start", "")), "end": end.isoformat(), "value": d.get("value"),
                    "currency": d.get("currency"), "renew_notice": notice,
                    "notice": (end - timedelta(days=days)).isoformat(), "file": d.get("file"),
                    "at": e.at, "by": d.get("by")})
    return sorted(out, key=lambda c: (c["start"], c["end"], c["at"]))


def _day(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return dates.to_local(value).date()
    if isinstance(value, date):
        return value
    return dates.parse_date(value)


def _renewed(contract: dict, others: list[dict]) -> bool:
    """A later contract (starting after this one and ending after it) is taken as its renewal."""
    return any(o is not contract and o["start"] > contract["start"] and o["end"] > contract["end"]
               for o in others)


def renewals_due(store: Store, start_date: date | datetime | str, end_date: date | datetime | str) -> list[dict]:
    """Contracts in their renewal-notice period at some day of [start_date, end_date], soonest first.

    A contract is due when its notice date (end minus renew_notice) is on or before ``end_date`` and
    it has not ended before ``start_date``; one followed by a later contract counts as renewed.
    Rows: customer (id), name, contract (the dict from ``customer_contracts``), end, notice.
    """
    first, last = _day(start_date), _day(end_date)
    rows = []
    for cid in customers_with(store, b"contract.add"):
        contracts = customer_contracts(store.load_journal(cid))
        name = None
        for c in contracts:
            if c["notice"] > last.isoformat() or c["end"] < first.isoformat() or _renewed(c, contracts):
                continue
            if name is None:
                name = store.load_customer(cid, validate=False).name
            rows.append({"customer": cid, "name": name, "contract": c, "end": c["end"], "notice": c["notice"]})
    return sorted(rows, key=lambda r: (r["notice"], r["end"], r["name"].casefold()))


def list_contracts(store: Store, *, customer: str | None = None, active_on: str | None = None) -> list[dict]:
    day = parse_day(active_on, "--active") if active_on else None
    cids = [store.resolve(customer)] if customer else customers_with(store, b"contract.add")
    rows = []
    for cid in cids:
        contracts = [c for c in customer_contracts(store.load_journal(cid))
                     if not day or c["start"] <= day <= c["end"]]
        if contracts:
            name = store.load_customer(cid, validate=False).name
            rows += [{"customer": cid, "name": name, **c} for c in contracts]
    return sorted(rows, key=lambda r: (r["end"], r["name"].casefold()))
