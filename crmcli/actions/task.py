"""`crm task add/done/reopen`: resolve the customer or task, build the event in crmcli.domain.tasks, one commit."""
from __future__ import annotations

import contextlib
import re
from datetime import datetime

from crmcli.domain import dates
from crmcli.domain.interactions import clean_text
from crmcli.domain.tasks import Due, Task, change_entry, fold_tasks, parse_due, task_entry
from crmcli.domain.text import first_line
from crmcli.errors import NotFound
from crmcli.store import refs
from crmcli.store.store import Store

_LOCAL_ID = re.compile(rb"\b(?:task|opp|tkt)-[0-9a-z]+")


def existing_ids(store: Store, cid: str) -> set[str]:
    """Local ids already used in a customer's journal (text scan, no YAML)."""
    found: set[str] = set()
    for path in store.journal_files(cid):
        with contextlib.suppress(OSError):
            found.update(m.decode() for m in _LOCAL_ID.findall(path.read_bytes()))
    return found


def new_task(store: Store, cid: str, text: str, due: Due | None, owner: str | None, now: datetime) -> dict:
    """A ``task.add`` event with a fresh id for the customer ``cid``, by the store's user."""
    tid = refs.new_local_id(existing_ids(store, cid), "task")
    return task_entry(tid, text, due, by=store.user(), owner=owner, now=now)


def add_task(store: Store, ref: str, text: str, *, due: str | Due | None = None,
             owner: str | None = None) -> Task:
    now = dates.now()
    when = parse_due(due, base=now) if due else None
    text = clean_text(text, "task text")
    cid = store.resolve(ref)
    customer = store.load_customer(cid, validate=False)
    entry = new_task(store, cid, text, when, owner, now)
    with store.transaction(f"Add task {entry['id']} for {customer.name}: {first_line(text, 60)}",
                           action="task.add", customer=cid) as tx:
        tx.append_entry(cid, entry)
    return fold_tasks(cid, [entry], customer.name)[entry["id"]]


def _change_task(store: Store, ref: str, kind: str) -> Task:
    cid, tid, journal = refs.resolve_entity(store, ref, "task")
    customer = store.load_customer(cid, validate=False)
    task = fold_tasks(cid, [e.data for e in journal], customer.name).get(tid)
    if task is None:
        raise NotFound(f"no task.add event for {cid}/{tid}; see crm timeline {cid} --type task")
    entry = change_entry(task, kind, by=store.user(), now=dates.now())
    verb = "Complete" if kind == "task.done" else "Reopen"
    with store.transaction(f"{verb} task {tid} of {customer.name}", action=kind, customer=cid) as tx:
        tx.append_entry(cid, entry)
    task.done, task.done_at = kind == "task.done", entry["at"] if kind == "task.done" else None
    return task


def complete_task(store: Store, ref: str) -> Task:
    return _change_task(store, ref, "task.done")


def reopen_task(store: Store, ref: str) -> Task:
    return _change_task(store, ref, "task.reopen")
