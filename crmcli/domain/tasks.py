"""Follow-up tasks: their due day or moment, their state folded from events, and the task.* event kinds.

A task is ``task.add`` (``id: task-xxxx``, ``owner``, ``due``, ``text``), then ``task.done`` / ``task.reopen``
naming it (``task: task-xxxx``). Pure: values in, entries, tasks and problems out.
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from crmcli.domain import dates
from crmcli.domain.customer import check_date, check_timestamp
from crmcli.domain.interactions import clean_text, dated, event_time, is_date_only, when
from crmcli.domain.journal import EventKind
from crmcli.domain.text import first_line
from crmcli.errors import InvalidRecord

Due = date | datetime
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TASK_ID = re.compile(r"task-[0-9a-z]{4,}")


# -- due days and moments ---------------------------------------------------------
def parse_due(text: str | Due, what: str = "due", *, base: datetime | None = None) -> Due:
    """A due day (``friday``, ``2026-11-25``, ``in 3 days``) or moment (``tomorrow 9am``), as typed."""
    if isinstance(text, (date, datetime)):
        return text
    b = base or dates.now()
    moment = when(text, what, prefer="future", base=b)
    if dated(what, is_date_only, text, b, "future"):
        return moment.date()
    if moment.time() == b.time() and moment.date() != b.date():
        return moment.date()  # "in 3 days", "+1w": a day, not this exact second
    return moment


def due_text(due: Due) -> str:
    """Stored spelling: ISO date, or ISO date-time with offset."""
    return dates.iso(due) if isinstance(due, datetime) else due.isoformat()


def read_due(value: Any) -> Due | None:
    """A stored day or moment; None when absent or unreadable (crm check reports those)."""
    with contextlib.suppress(ValueError, TypeError):  # DateError is a ValueError
        return date.fromisoformat(value) if DATE_ONLY.match(value) else dates.parse_iso(value)
    return None


def show_due(due: Due | None) -> str:
    return "" if due is None else dates.format_local(due)


def due_day(due: Due) -> date:
    return dates.to_local(due).date() if isinstance(due, datetime) else due


# -- a task's state -------------------------------------------------------------------
@dataclass
class Task:
    cid: str
    id: str
    text: str
    due: Due | None
    owner: str | None
    by: str | None
    created: str
    done: bool = False
    done_at: str | None = None
    name: str = ""

    @property
    def ref(self) -> str:
        return f"{self.cid}/{self.id}"

    def sort_key(self) -> tuple:
        if self.due is None:
            return (1, date.max, time.max, self.created)
        local = dates.to_local(self.due) if isinstance(self.due, datetime) else None
        return (0, due_day(self.due), local.time().replace(tzinfo=None) if local else time.max, self.created)

    def is_overdue(self, now: datetime) -> bool:
        if self.done or self.due is None:
            return False
        return self.due < now if isinstance(self.due, datetime) else self.due < now.date()

    def row(self) -> dict:
        return {"ref": self.ref, "id": self.id, "customer": self.cid, "name": self.name,
                "due": due_text(self.due) if self.due else None, "due_local": show_due(self.due),
                "owner": self.owner, "text": self.text, "status": "done" if self.done else "open",
                "created": self.created, "by": self.by, "done_at": self.done_at}


def in_time_order(entries: Iterable[dict]) -> list[dict]:
    indexed = [(event_time(e), i, e) for i, e in enumerate(entries) if isinstance(e, dict)]
    return [e for t, _, e in sorted((x for x in indexed if x[0] is not None), key=lambda x: (x[0], x[1]))]


def fold_tasks(cid: str, entries: Iterable[dict], name: str = "") -> dict[str, Task]:
    """Each task's state: its ``task.add``, then every done/reopen, in time order."""
    ordered = in_time_order(entries)
    tasks = {e["id"]: Task(cid, e["id"], str(e.get("text") or ""), read_due(e.get("due")), e.get("owner"),
                           e.get("by"), str(e.get("at")), name=name)
             for e in ordered if e.get("kind") == "task.add" and isinstance(e.get("id"), str)}
    for e in ordered:  # after every add: a clone with a slow clock may complete a task "before" it exists
        if e.get("kind") in ("task.done", "task.reopen") and e.get("task") in tasks:
            t, finished = tasks[e["task"]], e["kind"] == "task.done"
            t.done, t.done_at = finished, str(e["at"]) if finished else None
    return tasks


# -- new events -------------------------------------------------------------------------
def task_entry(tid: str, text: str, due: Due | None, *, by: str, owner: str | None, now: datetime) -> dict:
    """A ``task.add`` event; the owner is ``by`` unless given."""
    entry: dict[str, Any] = {"at": dates.iso(now), "kind": "task.add", "id": tid, "by": by, "owner": owner or by}
    if due is not None:
        entry["due"] = due_text(due)
    entry["text"] = clean_text(text, "task text")
    return entry


def change_entry(task: Task, kind: str, *, by: str, now: datetime) -> dict:
    """A ``task.done`` or ``task.reopen`` event for ``task``, refused when the task is already so."""
    if kind == "task.done" and task.done:
        since = first_line(task.done_at)[:10]
        raise InvalidRecord(f"task {task.id} of {task.name} is already done (since {since}); "
                         f"reopen it with: crm task reopen {task.ref}")
    if kind == "task.reopen" and not task.done:
        raise InvalidRecord(f"task {task.id} of {task.name} is open; nothing to reopen")
    return {"at": dates.iso(now), "kind": kind, "task": task.id, "by": by}


# -- event kinds: validation and description ----------------------------------------
def _validate_task_add(entry: dict, config: Any) -> list[tuple[tuple[Any, ...], str]]:
    issues: list[tuple[tuple[Any, ...], str]] = []
    if not _TASK_ID.fullmatch(str(entry.get("id", ""))):
        issues.append((("id",), f"task id {entry.get('id')!r} must look like task-9x2m"))
    if not isinstance(entry.get("text"), str) or not entry["text"].strip():
        issues.append((("text",), "task text is empty; say what is to be done"))
    due = entry.get("due")
    if due not in (None, ""):
        message = (check_date(due, "due") if isinstance(due, str) and DATE_ONLY.match(due)
                   else check_timestamp(due, "due"))
        if message:
            issues.append((("due",), message))
    for key in ("owner", "by"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            issues.append(((key,), f"{key} must be a name"))
    return issues


def _validate_task_ref(entry: dict, config: Any) -> list[tuple[tuple[Any, ...], str]]:
    if not _TASK_ID.fullmatch(str(entry.get("task", ""))):
        return [(("task",), f"task {entry.get('task')!r} must name a task (task: task-9x2m)")]
    return []


def _describe_task_add(entry: dict) -> str:
    notes = [f"due {show_due(read_due(entry.get('due')))}"] if entry.get("due") else []
    if entry.get("owner") and entry.get("owner") != entry.get("by"):
        notes.append(f"for {entry['owner']}")
    return f"{first_line(entry.get('text'))}{' (' + ', '.join(notes) + ')' if notes else ''} [{entry.get('id')}]"


def _describe_task_ref(entry: dict) -> str:
    return str(entry.get("task", ""))


EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind("task.add", validate=_validate_task_add, describe=_describe_task_add),
    EventKind("task.done", validate=_validate_task_ref, describe=_describe_task_ref),
    EventKind("task.reopen", validate=_validate_task_ref, describe=_describe_task_ref),
)
