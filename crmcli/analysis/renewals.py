"""Contracts coming up for renewal across the store (the agenda, ``crm contract list --renewing``, the
iCalendar export), and ``journals_with``: the journals of the customers whose journal mentions a kind of
event, found and read through the derived index (``crmcli.store.index``), never by parsing every file.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from crmcli.domain import dates
from crmcli.domain.contracts import customer_contracts, due_for_renewal
from crmcli.domain.journal import Entry
from crmcli.store.index import Index, open_index
from crmcli.store.index_reads import FileRow
from crmcli.store.index_state import record
from crmcli.store.store import Store


@dataclass
class Journal:
    """One customer's events (as ``Store.load_journal`` gives them), read through the index."""

    cid: str
    entries: list[Entry]
    store: Store
    index: Index | None = None

    @classmethod
    def of(cls, store: Store, cid: str) -> Journal:
        """One customer's journal, from its files."""
        return cls(cid, store.load_journal(cid), store)

    @property
    def name(self) -> str:
        """``Store.load_customer(cid).name``, raising as it does."""
        name = self.index.name_of(self.cid) if self.index is not None else None
        return self.store.load_customer(self.cid, validate=False).name if name is None else name


def journals_with(store: Store, marker: bytes, among: str | None = None, args: tuple = (), *,
                  index: Index | None = None, only: Collection[str] | None = None) -> Iterator[Journal]:
    """The journals of the customers whose journal text mentions ``marker``, in id order; ``among``: SQL
    selecting the customers that can matter (see ``Index.marked``); ``only``: of these customers alone."""
    if index is None:
        with open_index(store) as index:
            yield from journals_with(store, marker, among, args, index=index, only=only)
        return
    cids = [c for c in index.marked(marker, among, args) if only is None or c in only]
    rows = index.journal_rows(cids)
    for cid in cids:
        yield Journal(cid, index.entries(cid, rows.get(cid, [])), store, index)


def records_with(index: Index, table: str, fold: Callable[[Index, str, list[FileRow]], list], where: str = "",
                 args: tuple = (), *, detail: bool = True) -> Iterator[tuple[Journal, str | None, list]]:
    """Per customer, in id order: (its journal, its name from the index or None, its deals, tickets or tasks).

    The records of ``table`` whose columns match ``where`` (SQL), rebuilt from their folded state in the
    index; for a customer only its files can answer (``Index.by_files``), every record ``fold`` gives
    from them (``fold(index, customer, its journal rows)``), to be filtered by the caller. Without ``detail``,
    the records from the index lack their history and comments (a table on the screen shows neither).
    """
    special = index.by_files(table)
    files = index.journal_rows(special)
    grouped: dict[str, tuple[str | None, list[tuple[str, str | None]]]] = {}
    for cid, name, light, more in index.records(table, where, args, detail=detail):
        grouped.setdefault(cid, (name, []))[1].append((light, more))
    for cid in sorted(set(grouped) | set(special)):
        if cid in grouped:
            name, texts = grouped[cid]
            yield Journal(cid, [], index.store, index), name, [record(table, *t, name or "") for t in texts]
        else:
            yield Journal(cid, [], index.store, index), None, fold(index, cid, files.get(cid, []))


def _day(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return dates.to_local(value).date()
    if isinstance(value, date):
        return value
    return dates.parse_date(value)


def renewals_due(store: Store, start_date: date | datetime | str, end_date: date | datetime | str, *,
                 index: Index | None = None, only: Collection[str] | None = None) -> list[dict]:
    """Contracts in their renewal-notice period at some day of [start_date, end_date], soonest first.

    A contract is due when its notice date (end minus renew_notice) is on or before ``end_date`` and
    it has not ended before ``start_date``; one followed by a later contract counts as renewed.
    Rows: customer (id), name, contract (the dict from ``customer_contracts``), end, notice. ``only``: the
    contracts of these customers alone.
    """
    first, last = _day(start_date), _day(end_date)
    rows = []
    for journal in journals_with(store, b"contract.add", index=index, only=only):
        due = due_for_renewal(customer_contracts(journal.entries), first, last)
        if not due:
            continue
        name, cid = journal.name, journal.cid
        rows += [{"customer": cid, "name": name, "contract": c, "end": c["end"], "notice": c["notice"]} for c in due]
    return sorted(rows, key=lambda r: (r["notice"], r["end"], r["name"].casefold()))
