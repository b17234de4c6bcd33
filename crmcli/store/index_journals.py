"""What a customer's journal becomes in the index (``crmcli.store.index``): its files, events and folded records.

One row per journal file keeps what the two ways of reading a journal would get from it: the parsed
list (JSON, when JSON holds it exactly), whether ``Store.load_journal`` would refuse it, the markers
the cheap text scans test (``task.``, ``opp-``, ``tkt-``, ``contract.add``, ``order.add``) and the last
day an ``at:`` line names. One row per event holds the columns commands filter on (customer, time in
UTC, kind, entity id, author); one row per deal, ticket and task its folded state
(``crmcli.store.index_records``). A customer whose files the index cannot stand in for exactly (a
symlink, a folder, bytes that are not UTF-8, values JSON cannot hold) is marked ``odd``: readers take
that customer's files from the disk, as before the index.
"""
from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmcli import yamlio
from crmcli.domain import dates
from crmcli.domain.journal import Entry, instant_key
from crmcli.errors import CrmError

if TYPE_CHECKING:
    import sqlite3

# The byte markers the store-wide scans look for before parsing (bit values of ``journals.markers``).
MARKERS = {b"task.": 1, b"opp-": 2, b"tkt-": 4, b"contract.add": 8, b"order.add": 16}
AT_DAY = re.compile(rb"\bat: '?(\d{4}-\d{2}-\d{2})")

SCHEMA = """
CREATE TABLE journals (customer TEXT NOT NULL, name TEXT NOT NULL, st_mtime INTEGER, st_size INTEGER,
    odd INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0, markers INTEGER NOT NULL DEFAULT 0,
    at_max TEXT, data TEXT, PRIMARY KEY (customer, name));
CREATE TABLE events (customer TEXT NOT NULL, file TEXT, pos INTEGER, at TEXT, kind TEXT, entity TEXT, by TEXT);
CREATE INDEX events_at ON events (at);
CREATE INDEX events_customer ON events (customer);
CREATE INDEX events_entity ON events (entity);
CREATE TABLE opps (customer TEXT NOT NULL, id TEXT, stage TEXT, owner TEXT, open INTEGER, close TEXT,
    currency TEXT, amount REAL, pos INTEGER, state TEXT, detail TEXT);
CREATE INDEX opps_customer ON opps (customer);
CREATE INDEX opps_open ON opps (open, stage);
CREATE TABLE tickets (customer TEXT NOT NULL, id TEXT, status TEXT, priority TEXT, category TEXT,
    assignee TEXT, open INTEGER, pos INTEGER, state TEXT, detail TEXT);
CREATE INDEX tickets_customer ON tickets (customer);
CREATE INDEX tickets_open ON tickets (open, status);
CREATE TABLE tasks (customer TEXT NOT NULL, id TEXT, done INTEGER, owner TEXT, due TEXT, pos INTEGER, state TEXT);
CREATE INDEX tasks_customer ON tasks (customer);
CREATE INDEX tasks_done ON tasks (done, due);
"""
JOURNAL_TABLES = ("journals", "events", "opps", "tickets", "tasks")


def _exact_json(value: Any) -> str | None:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return None
    return text if json.loads(text) == value else None


def _utc(at: Any) -> str | None:
    """An event's time as sortable UTC text, or None when it has none."""
    try:
        return dates.parse_iso(str(at)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") \
            if at is not None else None
    except (dates.DateError, OverflowError, ValueError):
        return None


def key(value: Any) -> str:
    """How owners and assignees are compared: ``(value or "").casefold()``, as the list commands do."""
    return str(value or "").casefold()


class FileRow:
    """One journal file as read from disk."""

    def __init__(self, name: str, stamp: tuple[int, int]):
        self.name, self.stamp = name, stamp
        self.odd = self.refused = False
        self.markers = 0
        self.at_max: str | None = None
        self.data: Any = None  # what yamlio.loads returned
        self.loaded = False  # yamlio.loads succeeded


def read_file(path: Path, name: str, st: os.stat_result, racy_after: int, parsed: list | None = None) -> FileRow:
    """Parse one journal file the way both readers would (``journal_dicts`` and ``Store.load_journal``);
    ``parsed``: what ``yamlio.loads`` gives for it, known to the command that just wrote it."""
    row = FileRow(name, (st.st_mtime_ns if st.st_mtime_ns < racy_after else -1, st.st_size))
    if not stat.S_ISREG(st.st_mode):
        row.odd, row.stamp = True, (-1, -1)
        return row
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        row.odd = True
        return row
    row.markers = sum(bit for marker, bit in MARKERS.items() if marker in raw)
    days = AT_DAY.findall(raw)
    row.at_max = max(days).decode() if days else None
    try:
        row.data = yamlio.loads(text, str(path)) if parsed is None else parsed
        row.loaded = True
    except CrmError:
        row.refused = True
        return row
    if (yamlio.CONFLICT_RE.search(text) if "=======" in text else None) or \
            (row.data is not None and not isinstance(row.data, list)):
        row.refused = True
    return row


# The form crm writes ``at`` in; in these years its instant is what ``dates.parse_iso`` gives, read in C.
_PLAIN_AT = re.compile(r"(19[0-9][0-9]|2[0-9]{3})-\d\d-\d\dT\d\d:\d\d:\d\d(?:[+-](?:[01]\d|2[0-3]):[0-5]\d|Z)",
                       re.ASCII)


def _instant_key(entry: Entry) -> tuple[float, str]:
    """``instant_key``, without the strict reader for the plain form crm writes."""
    at = entry.data.get("at")
    if type(at) is str and _PLAIN_AT.fullmatch(at):
        try:
            return datetime.fromisoformat(at).timestamp(), ""
        except ValueError:
            pass
    return instant_key(entry)


def entries_of(paths: dict[str, str], rows: Iterable[tuple[str, Any]]) -> list[Entry]:
    """``Store.load_journal`` from stored rows (name, parsed data): by instant, then file order."""
    out = []
    for name, data in rows:
        for i, item in enumerate(data or []):
            if isinstance(item, dict):
                out.append(Entry(item, paths[name], i))
    out.sort(key=_instant_key)
    return out


def dicts_of(rows: Iterable[tuple[str, Any]]) -> list[dict]:
    """``journal_dicts`` without its skips, from stored rows (name, parsed data): file order."""
    out: list[dict] = []
    for _, data in rows:
        out += [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
    return out


def _entity(e: dict) -> str | None:
    for k in ("id", "opp", "ticket", "task"):
        value = e.get(k)
        if isinstance(value, str):
            return value
    return None


def put(db: sqlite3.Connection, cid: str, folder: str, files: list[FileRow]) -> None:
    """Insert the rows of one customer's journal (its old rows already deleted)."""
    from crmcli.domain.deals import customer_opportunities  # only when a journal changed: crm log stays light
    from crmcli.domain.tasks import fold_tasks
    from crmcli.domain.tickets import customer_tickets
    from crmcli.store.index_state import state

    odd = any(f.odd for f in files)
    texts = {}
    for f in files:
        if not f.odd and f.loaded:
            texts[f.name] = _exact_json(f.data)
            odd = odd or texts[f.name] is None
    db.executemany("INSERT INTO journals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [(cid, f.name, f.stamp[0], f.stamp[1], int(odd), int(f.refused), f.markers, f.at_max,
                     None if odd else texts.get(f.name)) for f in files])
    if odd:
        return
    loaded = [(f.name, f.data) for f in files if f.loaded]
    db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [(cid, name, i, _utc(e.get("at")), str(e.get("kind", "")), _entity(e), str(e.get("by") or ""))
                    for name, data in loaded if isinstance(data, list)
                    for i, e in enumerate(data) if isinstance(e, dict)])
    try:
        if not any(f.refused for f in files):
            entries = entries_of({f.name: f"{folder}/{f.name}" for f in files}, loaded)
            db.executemany("INSERT INTO opps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [(cid, o.id, o.stage, key(o.owner), int(o.is_open), o.close, o.currency,
                             float(o.amount), i, *state("opps", o))
                            for i, o in enumerate(customer_opportunities(entries, cid))])
            db.executemany("INSERT INTO tickets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [(cid, t.id, t.status, t.priority, t.category, key(t.assignee), int(t.is_open), i,
                             *state("tickets", t))
                            for i, t in enumerate(customer_tickets([e.data for e in entries], cid))])
        db.executemany("INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(cid, t.id, int(t.done), key(t.owner), str(t.due)[:10] if t.due is not None else None, i,
                         state("tasks", t)[0]) for i, t in enumerate(fold_tasks(cid, dicts_of(loaded)).values())])
    except Exception:  # noqa: BLE001 - a fold the domain cannot make: the readers take the files
        for table in ("events", "opps", "tickets", "tasks"):
            db.execute(f"DELETE FROM {table} WHERE customer = ?", (cid,))
        db.execute("UPDATE journals SET odd = 1, data = NULL WHERE customer = ?", (cid,))


def delete(db: sqlite3.Connection, cids: Iterable[str]) -> None:
    for cid in cids:
        for table in JOURNAL_TABLES:
            db.execute(f"DELETE FROM {table} WHERE customer = ?", (cid,))


def listing(folder: str) -> list[tuple[str, os.stat_result]] | None:
    """The ``*.yaml`` files of a journal folder with their stat data (None when the folder is not a folder)."""
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return []
    if not stat.S_ISDIR(st.st_mode):
        return None
    out = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if entry.name.endswith(".yaml"):
                    out.append((entry.name, entry.stat(follow_symlinks=False)))
    except OSError:
        return None
    out.sort()
    return out
