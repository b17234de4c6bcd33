"""The folded deals, tickets and tasks in the index (``crmcli.store.index``), and the list reads answered from them.

When a customer's journal is (re-)indexed, each deal, ticket and task is folded once by the domain code and
stored as a row: the columns the list commands filter and sort on, and its fields as JSON
(``crmcli.store.index_state``).

The list commands then ask SQL for the matching rows and rebuild objects only from those rows' ``state``,
never parsing or folding a journal. Customers the index cannot stand in for (``odd``) or whose journal
``Store.load_journal`` refuses are named separately (``RecordReads.by_files``): the caller folds their files
as before, so an answer is the same with or without the index.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from crmcli.store.index_journals import MARKERS
from crmcli.store.index_state import TABLES

if TYPE_CHECKING:
    import sqlite3


class RecordReads:
    """Mixed into ``Index``: needs ``db`` and ``_marked_on_disk``."""

    db: sqlite3.Connection

    def _marked_on_disk(self, cid: str, marker: bytes) -> bool:  # pragma: no cover - JournalReads defines it
        raise NotImplementedError

    def records(self, table: str, where: str = "", args: tuple = (), *,
                detail: bool = True) -> list[tuple[str, str | None, str, str | None]]:
        """(customer, customer's name or None when only the profile file can say, state, detail or None) of the
        rows matching ``where`` (SQL on the table's columns), for the customers the index stands in for;
        customer, then fold order."""
        bit = MARKERS[TABLES[table][1]]
        clean = ("SELECT customer FROM journals GROUP BY customer HAVING max(markers & ?) > 0 AND max(odd) = 0"
                 + (" AND max(refused) = 0" if table != "tasks" else ""))
        rows = (f"SELECT * FROM {table} WHERE customer IN ({clean})" + (f" AND ({where})" if where else ""))
        sql = (f"SELECT r.customer, CASE WHEN c.problem IS NULL THEN c.name END, r.state, "
               f"{'r.detail' if detail and table != 'tasks' else 'NULL'} FROM ({rows}) r "
               "LEFT JOIN customers c ON c.id = r.customer ORDER BY r.customer, r.pos")
        return self.db.execute(sql, (bit, *args)).fetchall()

    def by_files(self, table: str) -> list[str]:
        """Customers whose ``table`` records only their files can give, in id order: journals the index cannot
        stand in for (``odd``) whose files have the table's marker, and, for deals and tickets, journals
        ``Store.load_journal`` refuses (reading them gives the error) with that marker."""
        marker = TABLES[table][1]
        rows = self.db.execute("SELECT customer, max(odd) FROM journals GROUP BY customer "
                               "HAVING max(odd) > 0 OR (max(refused) > 0 AND max(markers & ?) > 0 AND ?) "
                               "ORDER BY customer", (MARKERS[marker], table != "tasks")).fetchall()
        return [cid for cid, odd in rows if not odd or self._marked_on_disk(cid, marker)]
