"""Contracts: ``crm contract add`` and ``crm contract list``.

A contract is a ``contract.add`` journal event (``crmcli.domain.contracts``); the contracts coming up
for renewal across the store are in ``crmcli.analysis.renewals``.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from crmcli.actions.opp import Outcome, commit_events, event
from crmcli.analysis.renewals import Journal, journals_with
from crmcli.domain.contracts import customer_contracts, parse_notice
from crmcli.domain.deals import parse_day
from crmcli.domain.money import parse_amount, parse_currency
from crmcli.errors import FieldError
from crmcli.store.store import Store


def stored_file_path(store: Store, file: str) -> str:
    """The signed document's path: relative to the store root when inside it, else as given."""
    path = Path(file).expanduser()
    if not path.is_file():
        raise FieldError("{file} {path}: no such file; give the path of the signed document", path=file)
    try:
        return path.resolve().relative_to(store.root.resolve()).as_posix()
    except ValueError:
        return file


def add_contract(store: Store, customer_ref: str, *, value: Any, start: str, end: str,
                 renew_notice: str | None = None, file: str | None = None, currency: str | None = None) -> Outcome:
    code = parse_currency(currency, store.config)
    amount = parse_amount(value, "value", currency=code)
    first, last = parse_day(start, "start"), parse_day(end, "end")
    if last < first:
        raise FieldError("{end} {last} is before {start} {first}; a contract ends after it starts",
                         last=last, first=first)
    notice = parse_notice(renew_notice)
    doc = stored_file_path(store, file) if file else None
    cid = store.resolve(customer_ref)
    customer = store.load_customer(cid, validate=False)
    journal = store.load_journal(cid)
    new = event(store, "contract.add", value=amount, currency=code, start=first, end=last,
                renew_notice=notice, file=doc)
    message = f"Add contract for {customer.name} ({first} to {last})"
    return commit_events(store, cid, customer, journal, [new], message, "contract.add")


def list_contracts(store: Store, *, customer: str | None = None, active_on: str | None = None) -> list[dict]:
    day = parse_day(active_on, "active") if active_on else None
    journals: Iterable[Journal] = [Journal.of(store, store.resolve(customer))] if customer \
        else journals_with(store, b"contract.add")
    rows = []
    for journal in journals:
        contracts = [c for c in customer_contracts(journal.entries)
                     if not day or c["start"] <= day <= c["end"]]
        if contracts:
            name = journal.name
            rows += [{"customer": journal.cid, "name": name, **c} for c in contracts]
    return sorted(rows, key=lambda r: (r["end"], r["name"].casefold()))
