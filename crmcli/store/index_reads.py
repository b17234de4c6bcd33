"""The index's journal side (``crmcli.store.index``): keeping journal rows fresh, and the store-wide reads.

The reads narrow the customers with SQL (a superset of the ones that can match), then give the exact
events of each one as the file readers would: ``entries`` as ``Store.load_journal`` does, ``dicts`` as
the journal scan of ``crmcli.analysis.journals`` does. The callers fold and filter them with the same
domain code as before, so answers are the same with or without the index. A customer the index
cannot stand in for (``odd``) is read from its files.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from crmcli.domain.journal import Entry
from crmcli.store import index_facts, index_journals
from crmcli.store.index_journals import MARKERS, dicts_of, entries_of

if TYPE_CHECKING:
    import sqlite3

    from crmcli.store.store import Store

# An event time stored in UTC may be a day off the local day a reader means: windows get this slack.
_SLACK = timedelta(days=2)


class FileRow(NamedTuple):
    name: str
    odd: int
    refused: int
    markers: int
    at_max: str | None
    data: str | None  # JSON of the parsed file; NULL when the YAML could not be read


class JournalReads:
    """Mixed into ``Index``: needs ``db``, ``store`` and ``_journal_folder``."""

    db: sqlite3.Connection
    store: Store

    def _journal_folder(self, cid: str) -> str:  # pragma: no cover - Index defines it
        raise NotImplementedError

    # -- catching up -------------------------------------------------------------------------------
    def _journal(self, cid: str, stored: tuple | None, forced: bool, racy_after: int) -> bool:
        """Re-read a customer's journal files when their listing or stat data changed; True when it did."""
        folder = self._journal_folder(cid)
        found = index_journals.listing(folder)
        now = None if found is None else tuple((n, st.st_mtime_ns, st.st_size) for n, st in found)
        if now is not None and not forced and (stored or ()) == now:
            return False
        if stored is not None:
            index_journals.delete(self.db, [cid])
        if found is None:  # the journal is not a folder: the readers report it
            files = [index_journals.FileRow("", (-1, -1))]
            files[0].odd = True
        else:
            files = [index_journals.read_file(Path(folder, n), n, st, racy_after) for n, st in found]
        index_journals.put(self.db, cid, folder, files)
        index_facts.put_journal(self.db, cid, folder, files)
        return True

    def _journal_stamps(self) -> dict[str, tuple]:
        known: dict[str, list] = {}
        for cid, name, m, s in self.db.execute("SELECT customer, name, st_mtime, st_size FROM journals "
                                               "ORDER BY customer, name"):
            known.setdefault(cid, []).append((name, m, s))
        return {cid: tuple(rows) for cid, rows in known.items()}

    # -- which customers -----------------------------------------------------------------------------
    def _wanted(self, cids: Iterable[str]) -> str:
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_j (id TEXT PRIMARY KEY)")
        self.db.execute("DELETE FROM temp.wanted_j")
        self.db.executemany("INSERT OR IGNORE INTO temp.wanted_j VALUES (?)", ((c,) for c in cids))
        return "SELECT id FROM temp.wanted_j"

    def marked(self, marker: bytes, among: str | None = None, args: tuple = ()) -> list[str]:
        """Customers whose journal text has ``marker`` (as a scan of the files finds them), in id order.

        ``among``: SQL selecting the customers that can match (the others are left out); customers
        whose journal ``Store.load_journal`` refuses stay in (their error is the answer).
        """
        bit = MARKERS[marker]
        rows = self.db.execute("SELECT customer, max(odd), max(refused) FROM journals GROUP BY customer "
                               "HAVING max(markers & ?) > 0 OR max(odd) > 0 ORDER BY customer", (bit,)).fetchall()
        keep = {c for (c,) in self.db.execute(among, args)} if among is not None else None
        out = []
        for cid, odd, refused in rows:
            if odd:
                if self._marked_on_disk(cid, marker):
                    out.append(cid)
            elif refused or keep is None or cid in keep:
                out.append(cid)
        return out

    def _marked_on_disk(self, cid: str, marker: bytes) -> bool:
        for path in self.store.journal_files(cid):
            try:
                if marker in path.read_bytes():
                    return True
            except OSError:
                continue
        return False

    def with_events(self, since: datetime | None, until: datetime | None) -> set[str]:
        """Customers that may have an event in [since, until): a superset (a day's slack each side)."""
        sql, args = "SELECT customer FROM events WHERE at IS NULL", []
        window = []
        if since is not None:
            window.append("at >= ?")
            args.append(_utc_text(since - _SLACK))
        if until is not None:
            window.append("at < ?")
            args.append(_utc_text(until + _SLACK))
        sql += " OR (" + " AND ".join(window) + ")" if window else " OR 1"
        found = {c for (c,) in self.db.execute(sql, args)}
        return found | {c for (c,) in self.db.execute("SELECT DISTINCT customer FROM journals WHERE odd")}

    def created_between(self, since: datetime | None, until: datetime | None) -> set[str]:
        """Customers whose ``created`` may fall in [since, until) (a superset, as ``with_events``)."""
        sql = ("SELECT id FROM customers WHERE problem IS NULL AND created IS NOT NULL AND created != '' AND ("
               "created NOT GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' OR (substr(created, 1, 10) >= ? "
               "AND substr(created, 1, 10) <= ?))")
        low = (since - _SLACK).date().isoformat() if since is not None else "0000"
        high = (until + _SLACK).date().isoformat() if until is not None else "9999"
        return {c for (c,) in self.db.execute(sql, (low, high))}

    def tasks_due_before(self, day: date) -> set[str]:
        """Customers that may have an open task due before ``day`` (local), and every odd customer."""
        rows = self.db.execute("SELECT customer FROM tasks WHERE done = 0 AND due IS NOT NULL AND due < ? "
                               "UNION SELECT customer FROM journals WHERE odd", ((day + _SLACK).isoformat(),))
        return {c for (c,) in rows}

    def profiles_with(self, *keys: str) -> set[str]:
        """Customers whose profile may have one of these top-level or contact fields."""
        tests = " OR ".join("instr(profile, ?) > 0" for _ in keys)
        rows = self.db.execute(f"SELECT id FROM customers WHERE problem IS NULL AND (profile IS NULL OR {tests})",
                               tuple(f'"{k}"' for k in keys))
        return {c for (c,) in rows}

    def entity_ids(self, prefix: str) -> tuple[list[tuple[str, str]], list[str]]:
        """(customer, id) pairs of the events naming an id that starts with ``prefix`` (letters, digits and
        dashes only), and the odd customers, whose files only can say."""
        rows = self.db.execute("SELECT DISTINCT customer, entity FROM events WHERE entity GLOB ?", (prefix + "*",))
        odd = self.db.execute("SELECT DISTINCT customer FROM journals WHERE odd ORDER BY customer")
        return sorted(rows), [c for (c,) in odd]

    def name_of(self, cid: str) -> str | None:
        """``Store.load_customer(cid).name`` from the index; None when only the file can say (or raise)."""
        row = self.db.execute("SELECT name, problem FROM customers WHERE id = ?", (cid,)).fetchone()
        return row[0] if row is not None and row[1] is None and row[0] is not None else None

    # -- the events of one customer ------------------------------------------------------------------
    def journal_rows(self, cids: Iterable[str]) -> dict[str, list[FileRow]]:
        out: dict[str, list[FileRow]] = {}
        sql = (f"SELECT customer, name, odd, refused, markers, at_max, data FROM journals "
               f"WHERE customer IN ({self._wanted(cids)}) ORDER BY customer, name")
        for cid, *rest in self.db.execute(sql):
            out.setdefault(cid, []).append(FileRow(*rest))
        return out

    def entries(self, cid: str, rows: list[FileRow]) -> list[Entry]:
        """What ``Store.load_journal(cid)`` returns (or raises)."""
        if not rows:
            return self.store.load_journal(cid) if os.path.lexists(self._journal_folder(cid)) else []
        if any(r.odd or r.refused for r in rows):
            return self.store.load_journal(cid)
        folder = self._journal_folder(cid)
        return entries_of({r.name: f"{folder}/{r.name}" for r in rows}, _parsed(rows))

    def dicts(self, rows: list[FileRow], needles: tuple[bytes, ...] = (),
              since: date | None = None) -> list[dict] | None:
        """What ``journal_dicts`` of ``crmcli.analysis.journals`` returns; None: read the files."""
        if any(r.odd for r in rows):
            return None
        floor = (since - timedelta(days=1)).isoformat() if since else ""
        kept = []
        for r in rows:
            stem = r.name[:-5]
            if since and stem.isdigit() and int(stem) < since.year - 1:
                continue
            if needles and not any(r.markers & MARKERS[n] for n in needles):
                continue
            if floor and (r.at_max is None or r.at_max < floor):
                continue
            if r.data is not None:
                kept.append(r)
        return dicts_of(_parsed(kept))


def _parsed(rows: list[FileRow]) -> list[tuple[str, Any]]:
    return [(r.name, json.loads(r.data)) for r in rows if r.data is not None]


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
