"""Interactions, follow-up tasks, the customer timeline and the agenda.

Everything here is an event in the customer's journal (docs/architecture.md):

* an interaction is ``kind: <type>`` (call, email... from ``interaction_types``
  in crm.yaml) with ``at, kind, by, contact, direction, duration, outcome,
  tags, summary``;
* a task is ``task.add`` (``id: task-xxxx``, ``owner``, ``due``, ``text``),
  then ``task.done`` / ``task.reopen`` naming it (``task: task-xxxx``).

Logging touches only the customer's own folder, so its cost does not depend on
the size of the store. Lists across customers (tasks, the feed, the agenda)
scan journals, skipping files that cannot contain what they look for.
"""
from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from crmcli import yamlio
from crmcli.domain import dates
from crmcli.domain import kinds as events
from crmcli.domain.customer import Customer, check_date, check_timestamp, normalize_name
from crmcli.errors import CrmError, NotFound, UsageError
from crmcli.store import refs as entities
from crmcli.store.store import Store

MAX_DURATION = timedelta(hours=24)
MAX_AHEAD = timedelta(days=1)
DIRECTIONS = ("in", "out")
TEXT_KEYS = ("summary", "text", "comment", "title", "reason", "resolution")
_LOCAL_ID = re.compile(rb"\b(?:task|opp|tkt)-[0-9a-z]+")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_AT_DAY = re.compile(rb"\bat: '?(\d{4}-\d{2}-\d{2})")

Due = date | datetime


# -- reading values ---------------------------------------------------------------
def _dated(what: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
    """A crmcli.domain.dates parser whose error names the option: ``--at: cannot read date 'x'; use one of: ...``."""
    try:
        return parse(*args, **kwargs)
    except dates.DateError as exc:
        raise UsageError(f"{what}: {exc}") from None


def _when(text: str | datetime, what: str, *, prefer: str = "past", base: datetime | None = None) -> datetime:
    if isinstance(text, datetime):
        return text if text.tzinfo else dates.to_local(text)
    return _dated(what, dates.parse_when, text, base=base, prefer=prefer)


def _is_date_only(text: str, base: datetime, prefer: str) -> bool:
    a = dates.parse_when(text, base=base, prefer=prefer, date_only_time=time(0))
    b = dates.parse_when(text, base=base, prefer=prefer, date_only_time=time(0, 0, 1))
    return a != b


def parse_due(text: str | Due, what: str = "--due", *, base: datetime | None = None) -> Due:
    """A due day (``friday``, ``2026-11-25``, ``in 3 days``) or moment (``tomorrow 9am``), as typed."""
    if isinstance(text, (date, datetime)):
        return text
    b = base or dates.now()
    moment = _when(text, what, prefer="future", base=b)
    if _dated(what, _is_date_only, text, b, "future"):
        return moment.date()
    if moment.time() == b.time() and moment.date() != b.date():
        return moment.date()  # "in 3 days", "+1w": a day, not this exact second
    return moment


def parse_until(text: str, *, base: datetime | None = None) -> datetime:
    """End of a window (exclusive); a bare day includes that whole day."""
    b = base or dates.now()
    moment = _when(text, "--until", base=b)
    if _is_date_only(text, b, "past"):
        return dates.parse_when((moment.date() + timedelta(days=1)).isoformat())
    return moment


def parse_since(text: str) -> datetime:
    return _dated("--since", dates.parse_since, text)


def due_text(due: Due) -> str:
    """Stored spelling: ISO date, or ISO date-time with offset."""
    return dates.iso(due) if isinstance(due, datetime) else due.isoformat()


def read_due(value: Any) -> Due | None:
    """A stored day or moment; None when absent or unreadable (crm check reports those)."""
    with contextlib.suppress(ValueError, TypeError):  # DateError is a ValueError
        return date.fromisoformat(value) if _DATE_ONLY.match(value) else dates.parse_iso(value)
    return None


def show_due(due: Due | None) -> str:
    return "" if due is None else dates.format_local(due)


def _due_day(due: Due) -> date:
    return dates.to_local(due).date() if isinstance(due, datetime) else due


def event_time(entry: dict) -> datetime | None:
    try:
        return dates.parse_iso(str(entry.get("at", "")))
    except dates.DateError:
        return None


def parse_duration(text: str | timedelta) -> timedelta:
    """An interaction's length: more than nothing, at most a day."""
    td = text if isinstance(text, timedelta) else _dated("--duration", dates.parse_duration, text)
    if td <= timedelta(0):
        raise UsageError(f"--duration {text!s}: must be more than zero; leave it out when unknown")
    if td > MAX_DURATION:
        raise UsageError(f"--duration {text!s} is longer than 24 hours; log one interaction per conversation")
    return td


def interaction_type(store: Store, text: str) -> str:
    """The configured type for ``text``: exact, case-insensitive, or a unique prefix."""
    types = store.config.interaction_types
    wanted = text.strip().lower()
    hits = [t for t in types if t == text] or [t for t in types if t.lower() == wanted]
    if not hits and wanted:
        hits = [t for t in types if t.lower().startswith(wanted)]
    if len(hits) == 1:
        return hits[0]
    raise UsageError(f"unknown interaction type {text!r}; use one of: {', '.join(types)} "
                     "(interaction_types in crm.yaml)")


def match_contact(customer: Customer, text: str) -> str:
    """The stored name of one of the customer's contacts, by name, email or name prefix."""
    people = [c for c in customer.contacts if isinstance(c, dict) and c.get("name")]
    wanted = normalize_name(text)
    hits = [str(c["name"]) for c in people if normalize_name(str(c["name"])) == wanted
            or str(c.get("email", "")).lower() == text.strip().lower()]
    if not hits and wanted:
        hits = [str(c["name"]) for c in people if normalize_name(str(c["name"])).startswith(wanted)]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise NotFound(f"contact {text!r} is ambiguous at {customer.name}: {', '.join(hits[:5])}")
    if not people:
        raise NotFound(f"{customer.name} has no contacts; add one with: crm contact add {customer.id} NAME")
    names = ", ".join(str(c["name"]) for c in people[:10])
    raise NotFound(f"no contact {text!r} at {customer.name}; one of: {names} (or crm contact add)")


def clean_text(text: str | None, what: str = "summary") -> str:
    lines = [line.rstrip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    cleaned = "\n".join(lines).strip()
    if not cleaned:
        raise UsageError(f"empty {what}; say what happened, e.g. crm log acme call 'Discussed pricing'"
                         if what == "summary" else f"empty {what}; give some text")
    return cleaned


def first_line(text: Any, width: int | None = None) -> str:
    s = str(text or "").strip()
    line = s.splitlines()[0] if s else ""
    if width and len(line) > width:
        return line[:width - 1] + "…"
    return line


# -- event kinds: validation and description ----------------------------------------
def _validate_task_add(entry: dict, config: Any) -> list[tuple[tuple[Any, ...], str]]:
    issues: list[tuple[tuple[Any, ...], str]] = []
    if not re.fullmatch(r"task-[0-9a-z]{4,}", str(entry.get("id", ""))):
        issues.append((("id",), f"task id {entry.get('id')!r} must look like task-9x2m"))
    if not isinstance(entry.get("text"), str) or not entry["text"].strip():
        issues.append((("text",), "task text is empty; say what is to be done"))
    due = entry.get("due")
    if due not in (None, ""):
        message = (check_date(due, "due") if isinstance(due, str) and _DATE_ONLY.match(due)
                   else check_timestamp(due, "due"))
        if message:
            issues.append((("due",), message))
    for key in ("owner", "by"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            issues.append(((key,), f"{key} must be a name"))
    return issues


def _validate_task_ref(entry: dict, config: Any) -> list[tuple[tuple[Any, ...], str]]:
    if not re.fullmatch(r"task-[0-9a-z]{4,}", str(entry.get("task", ""))):
        return [(("task",), f"task {entry.get('task')!r} must name a task (task: task-9x2m)")]
    return []


def _describe_task_add(entry: dict) -> str:
    notes = [f"due {show_due(read_due(entry.get('due')))}"] if entry.get("due") else []
    if entry.get("owner") and entry.get("owner") != entry.get("by"):
        notes.append(f"for {entry['owner']}")
    return f"{first_line(entry.get('text'))}{' (' + ', '.join(notes) + ')' if notes else ''} [{entry.get('id')}]"


def _describe_task_ref(entry: dict) -> str:
    return str(entry.get("task", ""))


events.register("task.add", validate=_validate_task_add, describe=_describe_task_add)
events.register("task.done", validate=_validate_task_ref, describe=_describe_task_ref)
events.register("task.reopen", validate=_validate_task_ref, describe=_describe_task_ref)


@functools.cache
def _kinds() -> dict[str, events.EventKind]:
    return events.load_all()  # the registry itself: later registrations still show


def event_parts(entry: dict, context: dict[str, str] | None = None) -> tuple[str, str]:
    """(what, text) of an event for a timeline line: ``call (out, 15m, with Li Na)``, its summary."""
    kind = str(entry.get("kind", "event"))
    if "." not in kind:
        details = [str(entry[k]) for k in ("direction", "duration") if entry.get(k)]
        if entry.get("contact"):
            details.append(f"with {entry['contact']}")
        what = f"{kind} ({', '.join(details)})" if details else kind
        text = first_line(entry.get("summary"))
        if entry.get("outcome"):
            text = f"{text} [outcome: {first_line(entry['outcome'])}]".strip()
        return what, text
    if kind in ("task.done", "task.reopen") and context and entry.get("task") in context:
        return kind, f"{context[entry['task']]} [{entry['task']}]"
    registered = _kinds().get(kind)
    if registered is not None:
        with contextlib.suppress(Exception):
            return kind, first_line(registered.describe(entry))
    return kind, next((first_line(entry[k]) for k in TEXT_KEYS if entry.get(k)), "")


def describe_event(entry: dict) -> str:
    """One line for any journal event: registered kinds describe themselves."""
    what, text = event_parts(entry)
    return f"{what}: {text}" if text else what


# -- logging ---------------------------------------------------------------------------
@dataclass
class Logged:
    customer: Customer
    entry: dict
    task: dict | None = None
    commit: str | None = None

    @property
    def cid(self) -> str:
        return self.customer.id


def _existing_ids(store: Store, cid: str) -> set[str]:
    """Local ids already used in a customer's journal (text scan, no YAML)."""
    found: set[str] = set()
    for path in store.journal_files(cid):
        with contextlib.suppress(OSError):
            found.update(m.decode() for m in _LOCAL_ID.findall(path.read_bytes()))
    return found


def _task_entry(store: Store, cid: str, text: str, due: Due | None, owner: str | None,
                now: datetime) -> dict:
    entry: dict[str, Any] = {"at": dates.iso(now), "kind": "task.add",
                             "id": entities.new_local_id(_existing_ids(store, cid), "task"),
                             "by": store.user(), "owner": owner or store.user()}
    if due is not None:
        entry["due"] = due_text(due)
    entry["text"] = clean_text(text, "task text")
    return entry


def prepare_interaction(store: Store, ref: str, kind: str, *, at: str | datetime | None = None,
                        duration: str | timedelta | None = None, direction: str | None = None,
                        contact: str | None = None, outcome: str | None = None, tags: Iterable[str] = (),
                        follow_up: str | Due | None = None, task_text: str | None = None,
                        owner: str | None = None) -> Logged:
    """Check everything but the summary (so an editor opens only for a valid command); write nothing."""
    kind = interaction_type(store, kind)
    now = dates.now()
    moment = _when(at, "--at", base=now) if at else now
    if moment - now > MAX_AHEAD:
        raise UsageError(f"--at {dates.format_local(moment)} is in the future; log what happened, "
                         "and plan what comes next with --follow-up WHEN")
    length = parse_duration(duration) if duration else None
    if direction is not None and direction not in DIRECTIONS:
        raise UsageError(f"--direction {direction!r}: use in or out")
    due = parse_due(follow_up, "--follow-up", base=now) if follow_up else None
    if task_text and due is None:
        raise UsageError("--task needs --follow-up WHEN (when the follow-up is due)")
    cid = store.resolve(ref)
    customer = store.load_customer(cid, validate=False)
    person = match_contact(customer, contact) if contact else None
    entry: dict[str, Any] = {"at": dates.iso(moment), "kind": kind, "by": store.user(), "contact": person,
                             "direction": direction,
                             "duration": dates.format_duration(length) if length else None,
                             "outcome": clean_text(outcome, "outcome") if outcome else None,
                             "tags": [t.strip() for t in tags if t.strip()] or None}
    logged = Logged(customer, {k: v for k, v in entry.items() if v is not None})
    if due is not None:
        logged.task = {"due": due, "text": task_text, "owner": owner, "now": now}
    return logged


def commit_interaction(store: Store, draft: Logged, summary: str | None) -> Logged:
    draft.entry["summary"] = clean_text(summary)
    cid, name, kind = draft.cid, draft.customer.name, draft.entry["kind"]
    message = f"Log {kind} with {name} ({cid})"
    if draft.task is not None:
        plan = draft.task
        text = plan["text"] or f"Follow up on the {kind}: {first_line(draft.entry['summary'], 60)}"
        draft.task = _task_entry(store, cid, text, plan["due"], plan["owner"], plan["now"])
        message += f"\n\nFollow-up {draft.task['id']} due {draft.task['due']}: {first_line(draft.task['text'])}"
    with store.transaction(message, action="interaction.add", customer=cid) as tx:
        tx.append_entry(cid, draft.entry)
        if draft.task is not None:
            tx.append_entry(cid, draft.task)
    if draft.task is not None:
        entities.remember(store, cid, draft.task["id"])
    draft.commit = store.last_commit
    return draft


def log_interaction(store: Store, ref: str, kind: str, summary: str | None, **options: Any) -> Logged:
    """Append one interaction (and its follow-up task) to the customer's journal: one commit."""
    return commit_interaction(store, prepare_interaction(store, ref, kind, **options), summary)


# -- tasks -----------------------------------------------------------------------------
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
        return (0, _due_day(self.due), local.time().replace(tzinfo=None) if local else time.max, self.created)

    def is_overdue(self, now: datetime) -> bool:
        if self.done or self.due is None:
            return False
        return self.due < now if isinstance(self.due, datetime) else self.due < now.date()

    def row(self) -> dict:
        return {"ref": self.ref, "id": self.id, "customer": self.cid, "name": self.name,
                "due": due_text(self.due) if self.due else None, "due_local": show_due(self.due),
                "owner": self.owner, "text": self.text, "status": "done" if self.done else "open",
                "created": self.created, "by": self.by, "done_at": self.done_at}


def _in_time_order(entries: Iterable[dict]) -> list[dict]:
    indexed = [(event_time(e), i, e) for i, e in enumerate(entries) if isinstance(e, dict)]
    return [e for t, _, e in sorted((x for x in indexed if x[0] is not None), key=lambda x: (x[0], x[1]))]


def fold_tasks(cid: str, entries: Iterable[dict], name: str = "") -> dict[str, Task]:
    """Each task's state: its ``task.add``, then every done/reopen, in time order."""
    ordered = _in_time_order(entries)
    tasks = {e["id"]: Task(cid, e["id"], str(e.get("text") or ""), read_due(e.get("due")), e.get("owner"),
                           e.get("by"), str(e.get("at")), name=name)
             for e in ordered if e.get("kind") == "task.add" and isinstance(e.get("id"), str)}
    for e in ordered:  # after every add: a clone with a slow clock may complete a task "before" it exists
        if e.get("kind") in ("task.done", "task.reopen") and e.get("task") in tasks:
            t, finished = tasks[e["task"]], e["kind"] == "task.done"
            t.done, t.done_at = finished, str(e["at"]) if finished else None
    return tasks


def add_task(store: Store, ref: str, text: str, *, due: str | Due | None = None,
             owner: str | None = None) -> Task:
    now = dates.now()
    when = parse_due(due, base=now) if due else None
    text = clean_text(text, "task text")
    cid = store.resolve(ref)
    customer = store.load_customer(cid, validate=False)
    entry = _task_entry(store, cid, text, when, owner, now)
    with store.transaction(f"Add task {entry['id']} for {customer.name}: {first_line(text, 60)}",
                           action="task.add", customer=cid) as tx:
        tx.append_entry(cid, entry)
    entities.remember(store, cid, entry["id"])
    return fold_tasks(cid, [entry], customer.name)[entry["id"]]


def _change_task(store: Store, ref: str, kind: str) -> Task:
    cid, tid, journal = entities.resolve_entity(store, ref, "task")
    customer = store.load_customer(cid, validate=False)
    task = fold_tasks(cid, [e.data for e in journal], customer.name).get(tid)
    if task is None:
        raise NotFound(f"no task.add event for {cid}/{tid}; see crm timeline {cid} --type task")
    if kind == "task.done" and task.done:
        since = first_line(task.done_at)[:10]
        raise UsageError(f"task {tid} of {customer.name} is already done (since {since}); "
                         f"reopen it with: crm task reopen {task.ref}")
    if kind == "task.reopen" and not task.done:
        raise UsageError(f"task {tid} of {customer.name} is open; nothing to reopen")
    now = dates.iso(dates.now())
    verb = "Complete" if kind == "task.done" else "Reopen"
    with store.transaction(f"{verb} task {tid} of {customer.name}", action=kind, customer=cid) as tx:
        tx.append_entry(cid, {"at": now, "kind": kind, "task": tid, "by": store.user()})
    task.done, task.done_at = kind == "task.done", now if kind == "task.done" else None
    return task


def complete_task(store: Store, ref: str) -> Task:
    return _change_task(store, ref, "task.done")


def reopen_task(store: Store, ref: str) -> Task:
    return _change_task(store, ref, "task.reopen")


@dataclass
class TaskFilter:
    customer: str | None = None
    owner: str | None = None
    overdue: bool = False
    due: tuple[str, ...] = ()  # "today", "week" (today and the next 6 days)
    status: str = "open"  # open, done, all


def _same(a: Any, b: str | None) -> bool:
    return b is None or normalize_name(str(a or "")) == normalize_name(b)


def _journal_dicts(store: Store, cid: str, needles: tuple[bytes, ...] = (), since: date | None = None) -> list[dict]:
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


def all_tasks(store: Store, cids: Iterable[str] | None = None) -> list[Task]:
    found: list[Task] = []
    for cid in cids if cids is not None else store.customer_ids():
        entries = _journal_dicts(store, cid, (b"task.",))
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
        if not _same(t.owner, flt.owner):
            return False
        if not (flt.overdue or flt.due):
            return True
        day = _due_day(t.due) if t.due is not None else None
        return ((flt.overdue and t.is_overdue(now))
                or ("today" in flt.due and day == today)
                or ("week" in flt.due and day is not None and today <= day < today + timedelta(days=7)))

    return sorted(filter(wanted, tasks), key=Task.sort_key)


# -- timeline --------------------------------------------------------------------------
@dataclass
class TimelineFilter:
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    types: tuple[str, ...] = ()
    by: str | None = None
    limit: int | None = None
    reverse: bool = False


def check_types(store: Store, types: Iterable[str]) -> tuple[str, ...]:
    known = set(store.config.interaction_types) | set(events.load_all()) | {"customer.add", "interaction"}
    families = {k.split(".")[0] for k in known if "." in k}
    for t in types:
        if t not in known and t not in families and "." not in t:  # any dotted kind: a newer tool's events
            raise UsageError(f"--type {t!r}: use an interaction type, 'interaction', a family "
                             f"({', '.join(sorted(families))}) or an event kind (like task.done)")
    return tuple(types)


def _type_matches(kind: str, types: tuple[str, ...]) -> bool:
    return not types or any(kind == t or kind.startswith(t + ".") or (t == "interaction" and "." not in kind)
                            for t in types)


def _rows(cid: str, name: str, entries: list[dict], flt: TimelineFilter) -> list[tuple[datetime, int, dict]]:
    context = {e["id"]: first_line(e.get("text")) for e in entries
               if e.get("kind") == "task.add" and isinstance(e.get("id"), str)}
    rows = []
    for i, e in enumerate(entries):
        moment = event_time(e)
        kind = str(e.get("kind", ""))
        if moment is None or (flt.since and moment < flt.since) or (flt.until and moment >= flt.until):
            continue
        if not _type_matches(kind, flt.types) or not _same(e.get("by"), flt.by):
            continue
        what, text = event_parts(e, context)
        rows.append((moment, i, {"at": dates.iso(moment), "when": dates.format_local(moment), "customer": cid,
                                 "name": name, "kind": kind, "who": e.get("by"), "what": what,
                                 "summary": text, "event": e}))
    return rows


def _created(customer: Customer) -> list[dict]:
    created = customer.get("created")
    return [{"at": created, "kind": "customer.add", "summary": f"added {customer.name}"}] if created else []


def _order(rows: list[tuple[datetime, int, dict]], flt: TimelineFilter) -> list[dict]:
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    out = [r[2] for r in (rows[:flt.limit] if flt.limit else rows)]
    return out[::-1] if flt.reverse else out


def timeline(store: Store, ref: str, flt: TimelineFilter | None = None) -> list[dict]:
    """Every dated event of one customer, newest first (``reverse``: oldest first)."""
    flt = flt or TimelineFilter()
    cid = store.resolve(ref)
    customer = store.load_customer(cid, validate=False)
    entries = _created(customer) + [e.data for e in store.load_journal(cid)]
    return _order(_rows(cid, customer.name, entries, flt), flt)


def team_feed(store: Store, since: datetime | None, until: datetime | None = None, owner: str | None = None,
              flt: TimelineFilter | None = None) -> list[dict]:
    """Events of every customer in a window: the team's activity feed, newest first."""
    from crmcli.store.index import customer_index

    flt = flt or TimelineFilter()
    flt.since, flt.until = since, until
    rows: list[tuple[datetime, int, dict]] = []
    for customer in customer_index(store):
        if not _same(customer.get("owner"), owner):
            continue
        entries = _created(customer) + _journal_dicts(store, customer.id, since=since.date() if since else None)
        rows += _rows(customer.id, customer.name, entries, flt)
    return _order(rows, flt)


# -- agenda ----------------------------------------------------------------------------
@dataclass
class AgendaItem:
    day: date
    overdue: bool
    kind: str  # task, touch, birthday, renewal
    customer: str
    name: str
    text: str
    ref: str | None = None
    time: str | None = None
    owner: str | None = None

    def row(self) -> dict:
        return {"date": self.day.isoformat(), "overdue": self.overdue, "time": self.time, "kind": self.kind,
                "customer": self.customer, "name": self.name, "text": self.text, "ref": self.ref,
                "owner": self.owner}


_KIND_ORDER = {"task": 0, "touch": 1, "renewal": 2, "birthday": 3}


def _anniversary(born: date, start: date, end: date) -> date | None:
    for year in (start.year, start.year + 1):
        try:
            day = born.replace(year=year)
        except ValueError:  # 29 February in a common year
            day = date(year, 2, 28)
        if start <= day < end:
            return day
    return None


def _birthdays(c: Customer, start: date, end: date) -> list[AgendaItem]:
    people = [(c.name, c.get("birthday"))]
    people += [(str(p.get("name")), p.get("birthday")) for p in c.contacts if isinstance(p, dict)]
    items = []
    for person, raw in people:
        born = read_due(raw)
        if not isinstance(born, date) or isinstance(born, datetime):
            continue
        day = _anniversary(born, start, end)
        if day is not None:
            age = f" (turns {day.year - born.year})" if 1900 < born.year < day.year else ""
            who = person if person == c.name else f"{person} of {c.name}"
            items.append(AgendaItem(day, False, "birthday", c.id, c.name, f"birthday: {who}{age}",
                                    owner=c.get("owner")))
    return items


def _touch(c: Customer, entries: list[dict], types: set[str], now: datetime, end: date) -> AgendaItem | None:
    try:
        every = dates.parse_period(str(c.get("touch_every")))
    except dates.DateError:
        return None
    contacts = [t for e in entries if e.get("kind") in types and (t := event_time(e)) is not None]
    last = max(contacts, default=None)
    created = read_due(c.get("created"))
    since = last or (created if isinstance(created, datetime) else None)
    due = dates.to_local(since + every).date() if since is not None else now.date()
    if due >= end:
        return None
    if last is None:
        text = f"keep in touch: never contacted (every {c.get('touch_every')})"
    else:
        ago = (now.date() - dates.to_local(last).date()).days
        text = (f"keep in touch: last contact {dates.format_local(last, with_time=False)} "
                f"({ago} days ago; every {c.get('touch_every')})")
    return AgendaItem(due, due < now.date(), "touch", c.id, c.name, text, owner=c.get("owner"))


def _renewals(store: Store, start: date, end: date, owners: dict[str, Any], owner: str | None) -> list[AgendaItem]:
    """Contracts in their renewal-notice period (crmcli.analysis.renewals, when the sales module is there)."""
    try:
        from crmcli.analysis.renewals import renewals_due
    except ModuleNotFoundError as exc:
        if exc.name not in ("crmcli.analysis.renewals", "crmcli.domain.contracts"):
            raise
        return []
    items = []
    for r in renewals_due(store, start, end - timedelta(days=1)):
        if not _same(owners.get(r["customer"]), owner):
            continue
        notice, c = date.fromisoformat(r["notice"]), r["contract"]
        value = " ".join(str(v) for v in (c.get("value"), c.get("currency")) if v not in (None, ""))
        items.append(AgendaItem(notice, notice < start, "renewal", r["customer"], r["name"],
                                f"renewal: contract ends {r['end']}" + (f" ({value})" if value else ""),
                                owner=owners.get(r["customer"])))
    return items


def agenda(store: Store, owner: str | None = None, days: int = 7, today: date | None = None) -> list[AgendaItem]:
    """Overdue tasks, then each day's tasks, lapsing contact cadences, renewals and birthdays."""
    from crmcli.store.index import customer_index

    now = dates.now()
    if today is not None and today != now.date():
        now = dates.parse_when(today.isoformat())
    start, end = now.date(), now.date() + timedelta(days=max(days, 1))
    types = set(store.config.interaction_types)
    profiles = customer_index(store)
    items = _renewals(store, start, end, {c.id: c.get("owner") for c in profiles}, owner)
    for c in profiles:
        mine = _same(c.get("owner"), owner)
        entries = _journal_dicts(store, c.id, () if mine and c.get("touch_every") else (b"task.",))
        for t in fold_tasks(c.id, entries, c.name).values():
            if t.done or t.due is None or not _same(t.owner, owner):
                continue
            day = _due_day(t.due)
            if day < end:
                clock = dates.to_local(t.due).strftime("%H:%M") if isinstance(t.due, datetime) else None
                items.append(AgendaItem(day, day < start, "task", c.id, c.name, t.text,
                                        ref=t.ref, time=clock, owner=t.owner))
        if not mine:
            continue
        if c.get("touch_every"):
            item = _touch(c, entries, types, now, end)
            if item is not None:
                items.append(item)
        items += _birthdays(c, start, end)
    items.sort(key=lambda i: (not i.overdue, i.day, i.time or "99", _KIND_ORDER.get(i.kind, 9), i.name))
    return items
