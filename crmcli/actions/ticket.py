"""Service: tickets with SLA targets, complaints and satisfaction surveys.

A ticket lives in its customer's journal as events (see docs/architecture.md)::

    ticket.open     id, by, title, priority, category, channel, assignee, contact, text
    ticket.comment  ticket, by, internal (only when true), text
    ticket.status   ticket, by, from, to
    ticket.assign   ticket, by, from, to
    ticket.close    ticket, by, csat, resolution
    ticket.reopen   ticket, by
    survey.answer   by, ticket, csat, nps, comment

Its state is the fold of those events in time order (``Ticket.from_events``):

* ``first_response_at``: the first event after opening that the customer sees
  as an answer: a comment that is not ``internal``, a status change, or the
  close. Assigning and internal notes do not count.
* ``resolved_at``: the first move to ``resolved``, else the close. Reopening
  (or a status change back to open, in-progress or waiting) clears it, so the
  ticket must be resolved again within its original deadline.
* ``csat``: from the close, replaced by a later survey answer for the ticket.

SLA targets are elapsed hours per priority (``ticket_priorities`` in
crm.yaml): due = opened + hours; a target is breached when (the time it was
met, or now while it is not) is later than due. Met exactly on the deadline
is met, not breached.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from crmcli.config import DEFAULTS
from crmcli.domain import dates
from crmcli.domain import kinds as events
from crmcli.domain.customer import normalize_name
from crmcli.domain.journal import Entry
from crmcli.errors import InvalidRecord, NotFound, UsageError
from crmcli.store import refs as entities
from crmcli.store.store import Store

STATUSES = ["open", "in-progress", "waiting", "resolved", "closed"]
ACTIVE = ("open", "in-progress", "waiting")
KINDS = ("ticket.open", "ticket.comment", "ticket.status", "ticket.assign", "ticket.close",
         "ticket.reopen", "survey.answer")
CSAT_RANGE = (1, 5)
NPS_RANGE = (0, 10)
TICKET_ID_RE = re.compile(r"^tkt-[0-9a-z]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


# -- vocabularies and input checks ------------------------------------------------

def _setting(config: Any, key: str) -> Any:
    try:
        value = config[key]
    except (KeyError, TypeError):
        value = None
    return value if value and isinstance(value, type(DEFAULTS[key])) else DEFAULTS[key]


def priorities(config: Any) -> dict[str, dict]:
    """Priority -> {first_response_hours, resolution_hours} (crm.yaml ticket_priorities)."""
    return _setting(config, "ticket_priorities")


def categories(config: Any) -> list[str]:
    return [str(v) for v in _setting(config, "ticket_categories")]


def channels(config: Any) -> list[str]:
    return [str(v) for v in _setting(config, "ticket_channels")]


def _choice(value: str, allowed: list[str], what: str, where: str = "") -> str:
    wanted = str(value).strip().casefold()
    for option in allowed:
        if option.casefold() == wanted:
            return option
    hint = f" ({where})" if where else ""
    raise InvalidRecord(f"unknown {what} {value!r}; use one of: {', '.join(allowed)}{hint}")


def _score(value: Any, bounds: tuple[int, int], what: str) -> int | None:
    if value is None or value == "":
        return None
    low, high = bounds
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise InvalidRecord(f"{what} {value!r} is out of range; give a whole number from {low} to {high}")
    return number


def parse_csat(value: Any) -> int | None:
    return _score(value, CSAT_RANGE, "CSAT")


def parse_nps(value: Any) -> int | None:
    return _score(value, NPS_RANGE, "NPS")


def _text(value: Any, what: str, *, required: bool = True, one_line: bool = False) -> str | None:
    """Checked text (titles and names are one line of at most 200 characters); None when empty."""
    text = str(value).replace("\r\n", "\n").strip() if value is not None else ""
    if not text:
        if required:
            raise InvalidRecord(f"{what} is empty; {'give one' if one_line else 'write some text'}")
        return None
    if (_LINE_CONTROL if one_line else _CONTROL).search(text):
        raise InvalidRecord(f"{what} {text[:40]!r} must be {'one line ' if one_line else ''}without control "
                            "characters")
    if one_line and len(text) > 200:
        raise InvalidRecord(f"{what} is {len(text)} characters long; the limit is 200")
    return text


def _first_line(text: Any, limit: int = 60) -> str:
    lines = str(text or "").strip().splitlines()
    first = lines[0].strip() if lines else ""
    return first if len(first) <= limit else first[: limit - 3] + "..."


def _when(value: Any) -> datetime | None:
    try:
        return dates.parse_iso(str(value))
    except dates.DateError:
        return None


def _entry(kind: str, **fields: Any) -> dict:
    """A journal event: at, kind, then the fields in the order given, empty ones left out."""
    data: dict[str, Any] = {"at": dates.iso(dates.now()), "kind": kind}
    data.update((k, v) for k, v in fields.items() if v is not None and v != "")
    return data


# -- the ticket ---------------------------------------------------------------------

@dataclass(frozen=True)
class SlaClock:
    """One target: when it is due, when it was met, and whether it is breached."""

    due: datetime | None
    met_at: datetime | None
    breached: bool

    @property
    def state(self) -> str:
        if self.due is None:
            return "none"
        if self.breached:
            return "breached"
        return "met" if self.met_at is not None else "pending"


@dataclass(frozen=True)
class Sla:
    first_response: SlaClock
    resolution: SlaClock

    @property
    def breached(self) -> bool:
        return self.first_response.breached or self.resolution.breached

    def breaches(self) -> list[str]:
        return [name for name, clock in (("first response", self.first_response),
                                          ("resolution", self.resolution)) if clock.breached]


def _clock(opened: datetime | None, hours: Any, met: datetime | None, now: datetime) -> SlaClock:
    if opened is None or isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours <= 0:
        return SlaClock(None, met, False)
    due = opened + timedelta(hours=hours)
    return SlaClock(due, met, (met or now) > due)


@dataclass
class Ticket:
    id: str
    customer: str = ""
    title: str = ""
    priority: str = ""
    category: str = ""
    channel: str | None = None
    assignee: str | None = None
    contact: str | None = None
    text: str | None = None
    status: str = "open"
    opened_by: str | None = None
    opened_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    resolution: str | None = None
    csat: int | None = None
    history: list[dict] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)
    customer_name: str = ""

    @property
    def ref(self) -> str:
        return f"{self.customer}/{self.id}" if self.customer else self.id

    @property
    def is_open(self) -> bool:
        return self.status in ACTIVE

    @classmethod
    def from_events(cls, evts: Iterable[Entry | dict], customer: str = "") -> Ticket:
        """Fold a ticket's events (any order; sorted here by time, ties keep their order)."""
        timed = []
        for e in evts:
            data = e.data if isinstance(e, Entry) else e
            if not customer and isinstance(e, Entry):
                customer = Path(e.path).parent.parent.name
            at = _when(data.get("at")) if isinstance(data, dict) else None
            if at is not None:
                timed.append((at, data))
        timed.sort(key=lambda pair: pair[0])
        ticket = cls(id="", customer=customer)
        for at, data in timed:
            ticket._apply(at, data)
        return ticket

    def _respond(self, at: datetime) -> None:
        if self.first_response_at is None and self.opened_at is not None:
            self.first_response_at = max(at, self.opened_at)

    def _apply(self, at: datetime, d: dict) -> None:
        kind = d.get("kind")
        if kind not in KINDS:
            return
        self.id = self.id or str(d.get("id") or d.get("ticket") or "")
        by = str(d["by"]) if d.get("by") is not None else None
        if kind == "ticket.open":
            if self.opened_at is not None:
                return  # a second open of the same id cannot be made by crm; keep the first
            self.opened_at, self.opened_by = at, by
            self.title = str(d.get("title") or "")
            self.priority = str(d.get("priority") or "")
            self.category = str(d.get("category") or "")
            for key in ("channel", "assignee", "contact", "text"):
                if d.get(key) is not None:
                    setattr(self, key, str(d[key]))
        elif kind == "ticket.comment":
            internal = d.get("internal") is True
            self.comments.append({"at": at, "by": by, "internal": internal, "text": str(d.get("text") or "")})
            if not internal:
                self._respond(at)
        elif kind == "ticket.status":
            to = d.get("to")
            if to not in STATUSES:
                return
            self.status = str(to)
            self._respond(at)
            if to == "resolved":
                self.resolved_at = self.resolved_at or at
            elif to == "closed":
                self.closed_at, self.resolved_at = at, self.resolved_at or at
            else:
                self.resolved_at = self.closed_at = None
        elif kind == "ticket.assign":
            self.assignee = str(d["to"]) if d.get("to") else None
        elif kind == "ticket.close":
            self.status = "closed"
            self._respond(at)
            self.closed_at, self.resolved_at = at, self.resolved_at or at
            self.resolution = str(d.get("resolution") or "") or None
            csat = _valid_score(d.get("csat"), CSAT_RANGE)
            if csat is not None:
                self.csat = csat
        elif kind == "ticket.reopen":
            self.status = "open"
            self.resolved_at = self.closed_at = self.resolution = None
        elif kind == "survey.answer":
            csat = _valid_score(d.get("csat"), CSAT_RANGE)
            if csat is not None:
                self.csat = csat
        self.history.append({"at": at, "by": by, "kind": kind, "what": _what(d)})

    def sla(self, config: Any, now: datetime | None = None) -> Sla:
        now = now or dates.now()
        target = priorities(config).get(self.priority)
        target = target if isinstance(target, dict) else {}
        return Sla(_clock(self.opened_at, target.get("first_response_hours"), self.first_response_at, now),
                   _clock(self.opened_at, target.get("resolution_hours"), self.resolved_at, now))

    def to_dict(self, config: Any, now: datetime | None = None) -> dict:
        """Plain data (ISO times) for json/yaml output."""
        def t(value: datetime | None) -> str | None:
            return dates.iso(value) if value is not None else None

        sla = self.sla(config, now)
        clocks = {name: {"due": t(c.due), "met": t(c.met_at), "breached": c.breached}
                  for name, c in (("first_response", sla.first_response), ("resolution", sla.resolution))}
        return {
            "id": self.id, "customer": self.customer, "customer_name": self.customer_name,
            "title": self.title, "status": self.status, "priority": self.priority, "category": self.category,
            "channel": self.channel, "assignee": self.assignee, "contact": self.contact,
            "opened_at": t(self.opened_at), "opened_by": self.opened_by,
            "first_response_at": t(self.first_response_at), "resolved_at": t(self.resolved_at),
            "closed_at": t(self.closed_at), "resolution": self.resolution, "csat": self.csat,
            "sla": clocks, "text": self.text,
            "comments": [dict(c, at=t(c["at"])) for c in self.comments],
            "history": [dict(h, at=t(h["at"])) for h in self.history],
        }


def _valid_score(value: Any, bounds: tuple[int, int]) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]:
        return value
    return None


# -- one line per event (timeline, history, show) ----------------------------------------

def _what(d: dict) -> str:
    """What an event did to its ticket, without the ticket's id."""
    kind = d.get("kind")
    if kind == "ticket.open":
        return f"opened ({d.get('priority', '?')}, {d.get('category', '?')}): {_first_line(d.get('title'), 80)}"
    if kind == "ticket.comment":
        label = "internal note" if d.get("internal") is True else "comment"
        return f"{label}: {_first_line(d.get('text'), 80)}"
    if kind == "ticket.status":
        return f"{d['from']} -> {d.get('to', '?')}" if d.get("from") else f"status {d.get('to', '?')}"
    if kind == "ticket.assign":
        was = f" (was {d['from']})" if d.get("from") else ""
        return f"assigned to {d.get('to') or 'nobody'}{was}"
    if kind == "ticket.close":
        score = f" (CSAT {d['csat']})" if d.get("csat") is not None else ""
        return f"closed{score}: {_first_line(d.get('resolution'), 80)}"
    if kind == "ticket.reopen":
        return "reopened"
    if kind == "survey.answer":
        return _describe_survey(d)
    return str(kind)


def _describe_ticket(d: dict) -> str:
    return f"ticket {d.get('id') or d.get('ticket') or '?'} {_what(d)}"


def _describe_survey(d: dict) -> str:
    scores = [f"{name} {d[key]}" for name, key in (("CSAT", "csat"), ("NPS", "nps")) if d.get(key) is not None]
    about = f" ({d['ticket']})" if d.get("ticket") else ""
    comment = f": {_first_line(d.get('comment'), 80)}" if d.get("comment") else ""
    return f"survey {', '.join(scores) or 'answer'}{about}{comment}"


# -- validation for `crm check` -----------------------------------------------------------

# kind -> {field: required}; vocabularies and scores are checked by name, the rest must be text
_RULES: dict[str, dict[str, bool]] = {
    "ticket.open": {"title": True, "priority": True, "category": True, "channel": False, "assignee": False,
                    "contact": False, "text": False},
    "ticket.comment": {"text": True},
    "ticket.status": {"to": True, "from": False},
    "ticket.assign": {"to": True, "from": False},
    "ticket.close": {"resolution": True, "csat": False},
    "survey.answer": {"csat": False, "nps": False, "comment": False},
}


def validate_event(entry: dict, config: Any) -> list[tuple[tuple[Any, ...], str]]:
    """Problems with one service event, for ``crm check``."""
    issues: list[tuple[tuple[Any, ...], str]] = []
    kind = entry.get("kind")
    choices = {"priority": (list(priorities(config)), "ticket_priorities in crm.yaml"),
               "category": (categories(config), "ticket_categories in crm.yaml"),
               "channel": (channels(config), "ticket_channels in crm.yaml")}
    if kind == "ticket.status":
        choices["to"] = choices["from"] = (STATUSES, "ticket statuses")
    scores = {"csat": CSAT_RANGE, "nps": NPS_RANGE}
    ref = "id" if kind == "ticket.open" else "ticket"
    value = entry.get(ref)
    if (value is not None or kind != "survey.answer") and not (isinstance(value, str) and TICKET_ID_RE.match(value)):
        issues.append(((ref,), f"{ref} {value!r} is not a ticket id (like tkt-3f9a)"))
    if "by" in entry and not isinstance(entry["by"], str):
        issues.append((("by",), "by must be the name of who acted"))
    for key, required in _RULES.get(str(kind), {}).items():
        value = entry.get(key)
        if value is None or value == "":
            if required:
                issues.append(((key,), f"{kind} needs {key}"))
        elif key in choices:
            allowed, where = choices[key]
            if value not in allowed:
                issues.append(((key,), f"{key} {value!r} is not one of: {', '.join(allowed)} ({where})"))
        elif key in scores:
            if _valid_score(value, scores[key]) is None:
                low, high = scores[key]
                issues.append(((key,), f"{key} {value!r} must be a whole number from {low} to {high}"))
        elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
            issues.append(((key,), f"{key} must be text"))
    if kind == "ticket.comment" and entry.get("internal") not in (None, True, False):
        issues.append((("internal",), "internal must be true or false"))
    if kind == "survey.answer" and entry.get("csat") is None and entry.get("nps") is None:
        issues.append((("kind",), "survey.answer needs csat or nps"))
    return issues


for _kind in KINDS:
    events.register(_kind, validate=validate_event,
                    describe=_describe_survey if _kind == "survey.answer" else _describe_ticket)


# -- changing tickets -------------------------------------------------------------------------

def _customer_name(store: Store, cid: str) -> str:
    try:
        return store.load_customer(cid, validate=False).name or cid
    except NotFound:
        return cid


def _ticket_of(store: Store, cid: str, tid: str) -> tuple[Ticket, list[Entry]]:
    """The ticket as it is now (read under the lock, so checks see every earlier change)."""
    evts = entities.entity_events(store.load_journal(cid), "tkt").get(tid)
    if not evts:
        raise NotFound(f"no ticket {tid} at {cid}; see crm ticket list --customer {cid}")
    return Ticket.from_events(evts, cid), evts


def _change(store: Store, ref: str, verb: str, action: str, build: Any, suffix: str = "") -> Ticket:
    """Resolve ``ref``, then under the lock fold it, let ``build`` check and make the event, append it."""
    cid, tid, _ = entities.resolve_entity(store, ref, "tkt")
    name = _customer_name(store, cid)
    with store.transaction(f"{verb} {tid} of {name}{suffix}", action=action, customer=cid) as tx:
        ticket, evts = _ticket_of(store, cid, tid)
        entry = build(ticket)
        tx.append_entry(cid, entry)
    after = Ticket.from_events([*evts, entry], cid)
    after.customer_name = name
    return after


def open_ticket(store: Store, customer_ref: str, title: str, *, priority: str | None = None,
                category: str | None = None, channel: str | None = None, assignee: str | None = None,
                contact: str | None = None, text: str | None = None) -> Ticket:
    config = store.config
    prios = list(priorities(config))
    title_ = _text(title, "ticket title", one_line=True)
    priority_ = _choice(priority, prios, "priority", "ticket_priorities in crm.yaml") if priority else (
        "normal" if "normal" in prios else prios[0])
    category_ = (_choice(category, categories(config), "category", "ticket_categories in crm.yaml")
                 if category else categories(config)[0])
    channel_ = _choice(channel, channels(config), "channel", "ticket_channels in crm.yaml") if channel else None
    assignee_ = _text(assignee, "assignee", required=False, one_line=True)
    text_ = _text(text, "ticket text", required=False)
    cid = store.resolve(customer_ref)
    customer = store.load_customer(cid, validate=False)
    contact_ = _contact_name(customer.contacts, _text(contact, "contact", required=False, one_line=True))
    tid = entities.new_local_id(entities.entity_events(store.load_journal(cid), "tkt"), "tkt")
    entry = _entry("ticket.open", id=tid, by=store.user(), title=title_, priority=priority_,
                   category=category_, channel=channel_, assignee=assignee_, contact=contact_, text=text_)
    with store.transaction(f"Open ticket {tid} for {customer.name}: {title_}", action="ticket.open",
                           customer=cid) as tx:
        tx.append_entry(cid, entry)
    entities.remember(store, cid, tid)
    ticket = Ticket.from_events([entry], cid)
    ticket.customer_name = customer.name
    return ticket


def _contact_name(contacts: list[dict], given: str | None) -> str | None:
    """A known contact's name when ``given`` is its name or email; otherwise as given."""
    if not given:
        return None
    wanted = normalize_name(given)
    for c in contacts:
        if isinstance(c, dict) and wanted in (normalize_name(str(c.get("name", ""))),
                                              normalize_name(str(c.get("email") or ""))):
            return str(c.get("name"))
    return given


def comment(store: Store, ref: str, text: str, *, internal: bool = False) -> Ticket:
    body = _text(text, "comment")

    def build(t: Ticket) -> dict:
        return _entry("ticket.comment", ticket=t.id, by=store.user(), internal=True if internal else None,
                      text=body)

    return _change(store, ref, "Comment on", "ticket.comment", build)


def assign(store: Store, ref: str, user: str) -> Ticket:
    who = _text(user, "assignee", one_line=True)

    def build(t: Ticket) -> dict:
        if t.assignee == who:
            raise InvalidRecord(f"{t.id} is already assigned to {who}; nothing to change")
        return _entry("ticket.assign", ticket=t.id, by=store.user(), **{"from": t.assignee, "to": who})

    return _change(store, ref, "Assign", "ticket.assign", build, f" to {who}")


def set_status(store: Store, ref: str, status: str) -> Ticket:
    to = _choice(status, STATUSES, "status")
    if to == "closed":
        raise UsageError(f"close a ticket with: crm ticket close {ref} --resolution TEXT")

    def build(t: Ticket) -> dict:
        if t.status == "closed":
            raise InvalidRecord(f"{t.id} is closed; reopen it first (crm ticket reopen {t.id})")
        if t.status == to:
            raise InvalidRecord(f"{t.id} is already {to}; nothing to change")
        return _entry("ticket.status", ticket=t.id, by=store.user(), **{"from": t.status, "to": to})

    return _change(store, ref, "Set", "ticket.status", build, f" to {to}")


def close(store: Store, ref: str, resolution: str | None, *, csat: Any = None) -> Ticket:
    if not resolution or not str(resolution).strip():
        raise UsageError(f"say how it was resolved: crm ticket close {ref} --resolution TEXT")
    text = _text(resolution, "resolution")
    score = parse_csat(csat)

    def build(t: Ticket) -> dict:
        if t.status == "closed":
            raise InvalidRecord(f"{t.id} is already closed; reopen it first (crm ticket reopen {t.id})")
        return _entry("ticket.close", ticket=t.id, by=store.user(), csat=score, resolution=text)

    return _change(store, ref, "Close", "ticket.close", build, f": {_first_line(text)}")


def reopen(store: Store, ref: str) -> Ticket:
    def build(t: Ticket) -> dict:
        if t.status not in ("resolved", "closed"):
            raise InvalidRecord(f"{t.id} is {t.status}, not resolved or closed; nothing to reopen")
        return _entry("ticket.reopen", ticket=t.id, by=store.user())

    return _change(store, ref, "Reopen", "ticket.reopen", build)


# -- reading -------------------------------------------------------------------------------------

def show_ticket(store: Store, ref: str) -> Ticket:
    cid, tid, journal = entities.resolve_entity(store, ref, "tkt")
    ticket = Ticket.from_events(entities.entity_events(journal, "tkt")[tid], cid)
    ticket.customer_name = _customer_name(store, cid)
    return ticket


@dataclass
class TicketFilter:
    open: bool = False
    status: str | None = None
    assignee: str | None = None
    priority: str | None = None
    category: str | None = None
    breached: bool = False
    customer: str | None = None


def _has_tickets(store: Store, cid: str) -> bool:
    """Cheap test on the bytes, so customers without tickets are never parsed."""
    for path in store.journal_files(cid):
        try:
            if b"tkt-" in path.read_bytes():
                return True
        except OSError:
            continue
    return False


def customer_tickets(store: Store, cid: str, journal: list[Entry] | None = None) -> list[Ticket]:
    journal = store.load_journal(cid) if journal is None else journal
    found = [Ticket.from_events(evts, cid) for evts in entities.entity_events(journal, "tkt").values()]
    return [t for t in found if t.opened_at is not None]


def list_tickets(store: Store, filters: TicketFilter | dict | None = None, *,
                 now: datetime | None = None) -> list[Ticket]:
    """Tickets of every customer (or one) that pass ``filters``; open ones first, soonest due first."""
    f = TicketFilter(**filters) if isinstance(filters, dict) else (filters or TicketFilter())
    config = store.config
    status = _choice(f.status, STATUSES, "status") if f.status else None
    priority = _choice(f.priority, list(priorities(config)), "priority") if f.priority else None
    category = _choice(f.category, categories(config), "category") if f.category else None
    now = now or dates.now()
    cids = [store.resolve(f.customer)] if f.customer else list(store.customer_ids())
    rows: list[tuple[Ticket, Sla]] = []
    for cid in cids:
        if not _has_tickets(store, cid):
            continue
        name = None
        for t in customer_tickets(store, cid):
            sla = t.sla(config, now)
            if ((f.open and not t.is_open) or (status and t.status != status)
                    or (priority and t.priority != priority) or (category and t.category != category)
                    or (f.assignee and (t.assignee or "").casefold() != f.assignee.strip().casefold())
                    or (f.breached and not sla.breached)):
                continue
            name = name or _customer_name(store, cid)
            t.customer_name = name
            rows.append((t, sla))

    def key(row: tuple[Ticket, Sla]) -> tuple:
        t, sla = row
        opened = t.opened_at.timestamp() if t.opened_at else 0.0
        if t.is_open:
            due = sla.resolution.due.timestamp() if sla.resolution.due else float("inf")
            return (0, due, opened, t.ref)
        return (1, -opened, t.ref)

    return [t for t, _ in sorted(rows, key=key)]


def complaints_since(journal: Iterable[Entry | dict], since: datetime | str | None) -> list[Ticket]:
    """Complaint tickets of one customer's journal opened at or after ``since`` (None: all)."""
    entries = list(journal)
    when = dates.parse_since(since) if isinstance(since, str) else since
    as_entries = [e if isinstance(e, Entry) else Entry(e, "", i) for i, e in enumerate(entries)]
    out = []
    for evts in entities.entity_events(as_entries, "tkt").values():
        t = Ticket.from_events(evts)
        if t.category == "complaint" and t.opened_at is not None and (when is None or t.opened_at >= when):
            out.append(t)
    return sorted(out, key=lambda t: t.opened_at or datetime.min)


# -- surveys -------------------------------------------------------------------------------------

def record_survey(store: Store, customer_ref: str, *, csat: Any = None, nps: Any = None,
                  ticket: str | None = None, comment: str | None = None) -> dict:
    """Append a ``survey.answer``; returns the event written."""
    csat_, nps_ = parse_csat(csat), parse_nps(nps)
    if csat_ is None and nps_ is None:
        raise UsageError("give --csat 1-5 or --nps 0-10 (or both)")
    text = _text(comment, "survey comment", required=False)
    cid = store.resolve(customer_ref)
    tid = None
    if ticket:
        ref = ticket if "/" in ticket else f"{cid}/{ticket}"
        owner, tid, _ = entities.resolve_entity(store, ref, "tkt")
        if owner != cid:
            raise InvalidRecord(f"ticket {ticket} belongs to {owner}, not {cid}; give a ticket of this customer")
    name = _customer_name(store, cid)
    scores = ", ".join(f"{n} {v}" for n, v in (("CSAT", csat_), ("NPS", nps_)) if v is not None)
    entry = _entry("survey.answer", by=store.user(), ticket=tid, csat=csat_, nps=nps_, comment=text)
    with store.transaction(f"Record survey from {name} ({scores})", action="survey.answer", customer=cid) as tx:
        tx.append_entry(cid, entry)
    return entry
