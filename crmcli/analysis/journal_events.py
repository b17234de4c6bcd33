"""The events of the customers whose journal holds a text, read through the index (``crmcli.store.index``).

For the report sections that need a few customers' whole journals (knowledge-base links, complaints): the index's
stored journals (JSON) are searched in SQL instead of reading every journal file, and each match's events come back
as ``Store.load_journal`` gives them. A customer the index cannot stand in for is read from its files.
"""
from __future__ import annotations

from collections.abc import Iterator

from crmcli.errors import CrmError
from crmcli.store.index import open_index
from crmcli.store.store import Store


def events_with(store: Store, text: str) -> Iterator[tuple[str, list[dict]]]:
    """(customer, its events in time order) of every customer whose journal's parsed data holds ``text`` (a
    superset: the caller tests the events), in id order; customers whose journal cannot be read are left out."""
    with open_index(store) as index:
        found = [c for (c,) in index.db.execute(
            "SELECT DISTINCT customer FROM journals WHERE odd OR instr(data, ?) > 0 ORDER BY customer", (text,))]
        rows = index.journal_rows(found)
        for cid in found:
            try:
                entries = index.entries(cid, rows.get(cid, []))
            except (CrmError, OSError):
                continue
            yield cid, [e.data for e in entries]
