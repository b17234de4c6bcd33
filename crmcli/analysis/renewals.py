"""Contracts coming up for renewal across the store (the agenda, ``crm contract list --renewing``, the
iCalendar export), and ``customers_with``: the cheap scan that finds the customers whose journal mentions
a kind of event before any YAML is parsed.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from crmcli.domain import dates
from crmcli.domain.contracts import customer_contracts, due_for_renewal
from crmcli.store.store import Store


def customers_with(store: Store, marker: bytes) -> Iterator[str]:
    """Customers whose journal text mentions ``marker`` (a cheap pre-filter before parsing YAML)."""
    for cid in store.customer_ids():
        for path in store.journal_files(cid):
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if marker in data:
                yield cid
                break


def _day(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return dates.to_local(value).date()
    if isinstance(value, date):
        return value
    return dates.parse_date(value)


def renewals_due(store: Store, start_date: date | datetime | str, end_date: date | datetime | str) -> list[dict]:
    """Contracts in their renewal-notice period at some day of [start_date, end_date], soonest first.

    A contract is due when its notice date (end minus renew_notice) is on or before ``end_date`` and
    it has not ended before ``start_date``; one followed by a later contract counts as renewed.
    Rows: customer (id), name, contract (the dict from ``customer_contracts``), end, notice.
    """
    first, last = _day(start_date), _day(end_date)
    rows = []
    for cid in customers_with(store, b"contract.add"):
        due = due_for_renewal(customer_contracts(store.load_journal(cid)), first, last)
        if not due:
            continue
        name = store.load_customer(cid, validate=False).name
        rows += [{"customer": cid, "name": name, "contract": c, "end": c["end"], "notice": c["notice"]} for c in due]
    return sorted(rows, key=lambda r: (r["notice"], r["end"], r["name"].casefold()))
