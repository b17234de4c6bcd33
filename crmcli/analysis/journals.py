"""Reading events across customers' journals quickly, and the task list built from them.

Lists across customers (tasks, the feed, the agenda) read the journals through the derived index
(``crmcli.store.index``): SQL picks the customers that can match, the index gives their events as the
files would, and the same folds decide. One customer's journal is read from its files, skipping files
that cannot contain what they look for: a text test before any YAML is parsed.
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from crmcli import yamlio
from crmcli.analysis.renewals import records_with
from crmcli.domain import dates
from crmcli.domain.interactions import same_name
from crmcli.domain.tasks import Task, due_day, fold_tasks
from crmcli.errors import CrmError
from crmcli.store.index import Index, open_index
from crmcli.store.index_reads import FileRow
from crmcli.store.store import Store

_AT_DAY = re.compile(rb"\bat: '?(\d{4}-\d{2}-\d{2})")


def journal_dicts(store: Store, cid: str, needles: tuple[bytes, ...] = (), since: date | None = None) -> list[dict]:
    """Events of one customer; files holding none of ``needles``, or no day from ``since`` on, stay unparsed."""
    out: list[dict] = []
    floor = (since - timedelta(days=1)).isoformat().encode() if since else b""  # a day of slack for offsets
    for path in store.journal_files(cid):
        if since and path.stem.isdigit() and int(path.stem) < since.year - 1:
            continue
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        if needles and not any(n in raw for n in needles):
            continue
        if floor and all(day < floor for day in _AT_DAY.findall(raw)):
            continue
        with contextlib.suppress(CrmError):
            data = yamlio.loads(raw.decode("utf-8", "replace"), store.rel(path))
            out += [e for e in data or [] if isinstance(e, dict)] if isinstance(data, list) else []
    return out


def indexed_dicts(index: Index, cid: str, rows: list[FileRow], needles: tuple[bytes, ...] = (),
                  since: date | None = None) -> list[dict]:
    """``journal_dicts`` through the index (from the files when the index cannot stand in for them)."""
    found = index.dicts(rows, needles, since)
    return journal_dicts(index.store, cid, needles, since) if found is None else found


def customer_name(index: Index, cid: str) -> str:
    """The customer's name, "" when its profile cannot be read."""
    name = index.name_of(cid)
    if name is None:
        name = ""
        with contextlib.suppress(CrmError):
            name = index.store.load_customer(cid, validate=False).name
    return name


_TASKS_WHERE = {"open": "done = 0", "done": "done = 1"}


def fold_indexed_tasks(index: Index, cid: str, rows: list[FileRow]) -> list[Task]:
    """A customer's tasks folded from its journal rows (or files), for ``records_with``."""
    entries = indexed_dicts(index, cid, rows, (b"task.",))
    return list(fold_tasks(cid, entries).values()) if entries else []


@dataclass
class TaskFilter:
    customer: str | None = None
    owner: str | None = None
    overdue: bool = False
    due: tuple[str, ...] = ()  # "today", "week" (today and the next 6 days)
    status: str = "open"  # open, done, all


def all_tasks(store: Store, cids: Iterable[str] | None = None, status: str = "all") -> list[Task]:
    """Tasks of the customers ``cids`` (every customer: through the index; ``status`` narrows which)."""
    found: list[Task] = []
    if cids is None:  # the folded tasks in the index (SQL picks open or done ones), a journal it cannot hold from files
        with open_index(store) as index:
            for journal, name, tasks in records_with(index, "tasks", fold_indexed_tasks, _TASKS_WHERE.get(status, "")):
                if name is None:
                    name = customer_name(index, journal.cid)
                    for t in tasks:
                        t.name = name
                found += tasks
        return found
    for cid in cids:
        entries = journal_dicts(store, cid, (b"task.",))
        if entries:
            name = ""
            with contextlib.suppress(CrmError):
                name = store.load_customer(cid, validate=False).name
            found += fold_tasks(cid, entries, name).values()
    return found


def list_tasks(store: Store, flt: TaskFilter, *, now: datetime | None = None) -> list[Task]:
    now = now or dates.now()
    today = now.date()
    tasks = all_tasks(store, [store.resolve(flt.customer)] if flt.customer else None, flt.status)

    def wanted(t: Task) -> bool:
        if flt.status != "all" and t.done != (flt.status == "done"):
            return False
        if not same_name(t.owner, flt.owner):
            return False
        if not (flt.overdue or flt.due):
            return True
        day = due_day(t.due) if t.due is not None else None
        return ((flt.overdue and t.is_overdue(now))
                or ("today" in flt.due and day == today)
                or ("week" in flt.due and day is not None and today <= day < today + timedelta(days=7)))

    return sorted(filter(wanted, tasks), key=Task.sort_key)
