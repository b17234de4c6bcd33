"""Reading events across customers' journals quickly, and the task list built from them.

Lists across customers (tasks, the feed, the agenda) scan journals, skipping files that cannot contain what they
look for: a text test before any YAML is parsed.
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from crmcli import yamlio
from crmcli.domain import dates
from crmcli.domain.interactions import same_name
from crmcli.domain.tasks import Task, due_day, fold_tasks
from crmcli.errors import CrmError
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


@dataclass
class TaskFilter:
    customer: str | None = None
    owner: str | None = None
    overdue: bool = False
    due: tuple[str, ...] = ()  # "today", "week" (today and the next 6 days)
    status: str = "open"  # open, done, all


def all_tasks(store: Store, cids: Iterable[str] | None = None) -> list[Task]:
    found: list[Task] = []
    for cid in cids if cids is not None else store.customer_ids():
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
    tasks = all_tasks(store, [store.resolve(flt.customer)] if flt.customer else None)

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
