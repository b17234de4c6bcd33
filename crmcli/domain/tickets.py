"""Tickets: statuses and vocabularies, SLA targets, the ``Ticket`` fold, the ``ticket.*`` events.

A ticket lives in its customer's journal as events (see docs/architecture.md)::

    ticket.open     id, by, title, priority, category, channel, assignee, contact, product, tags, text
    ticket.comment  ticket, by, internal (only when true), text, kb (an article's name, optional)
    ticket.status   ticket, by, from, to
    ticket.assign   ticket, by, from, to
    ticket.close    ticket, by, csat, resolution
    ticket.reopen   ticket, by
    survey.answer   by, ticket, csat, nps, comment   (crmcli.domain.surveys)

Its state is the fold of those events in time order (``Ticket.from_events``):

* ``first_response_at``: the first reply to the customer after opening: a
  comment that is not ``internal``, or a move to in-progress or waiting.
  Assigning, internal notes, resolving and closing do not count: a ticket
  resolved or closed without any reply has no first response.
* ``resolved_at``: the first move to ``resolved``, else the close. Reopening
  (or a status change back to open, in-progress or waiting) clears it, so the
  ticket must be resolved again within its original deadline.
* ``csat``: from the close, replaced by a later survey answer for the ticket.

SLA targets are elapsed hours per priority (``ticket_priorities`` in crm.yaml): due = opened + hours; a
target is breached when (the time it was met, or now while it is not) is later than due; met exactly on the
deadline is met. A ticket resolved or closed with no reply stops its response clock there.

Pure: functions take a Config and values and return events, tickets and problems.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from crmcli.config import DEFAULTS, Config
from crmcli.domain import dates, surveys
from crmcli.domain.customer import normalize_name
from crmcli.domain.escalation import complaint_sla
from crmcli.domain.journal import EventKind, entity_events, new_entry
from crmcli.domain.surveys import CSAT_RANGE, NPS_RANGE, valid_score
from crmcli.domain.text import checked_text, first_line
from crmcli.errors import InvalidRecord, UsageError

STATUSES = ["open", "in-progress", "waiting", "resolved", "closed"]
ACTIVE = ("open", "in-progress", "waiting")
KINDS = ("ticket.open", "ticket.comment", "ticket.status", "ticket.assign", "ticket.close",
         "ticket.reopen", "survey.answer")


class ResolutionNeeded(UsageError):
    """A ticket is closed only with a resolution: by closing it, not by a status change."""

    def __init__(self, *, by_status: bool) -> None:
        self.by_status = by_status
        super().__init__("a ticket is closed with its resolution, not by a status change" if by_status
                         else "say how the ticket was resolved")


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


def choice(value: str, allowed: list[str], what: str, where: str = "") -> str:
    """The option of ``allowed`` that ``value`` names, ignoring case."""
    wanted = str(value).strip().casefold()
    for option in allowed:
        if option.casefold() == wanted:
            return option
    hint = f" ({where})" if where else ""
    raise InvalidRecord(f"unknown {what} {value!r}; use one of: {', '.join(allowed)}{hint}")


def _when(value: Any) -> datetime | None:
    try:
        return dates.parse_iso(str(value))
    except dates.DateError:
        return None


def contact_name(contacts: list[dict], given: str | None) -> str | None:
    """A known contact's name when ``given`` is its name or email; otherwise as given."""
    if not given:
        return None
    wanted = normalize_name(given)
    for c in contacts:
        if isinstance(c, dict) and wanted in (normalize_name(str(c.get("name", ""))),
                                              normalize_name(str(c.get("email") or ""))):
            return str(c.get("name"))
    return given


@dataclass(frozen=True)
class NewTicket:
    """The checked fields of a ticket to open (the contact is matched once the customer is known)."""

    title: str
    priority: str
    category: str
    channel: str | None = None
    assignee: str | None = None
    text: str | None = None
    product: str | None = None
    tags: tuple[str, ...] = ()

    @classmethod
    def check(cls, config: Config, title: str, *, priority: str | None = None, category: str | None = None,
              channel: str | None = None, assignee: str | None = None, text: str | None = None,
              product: str | None = None, tags: Iterable[str] = ()) -> NewTicket:
        prios = list(priorities(config))
        title_ = checked_text(title, "ticket title", one_line=True)
        priority_ = choice(priority, prios, "priority", "ticket_priorities in crm.yaml") if priority else (
            "normal" if "normal" in prios else prios[0])
        category_ = (choice(category, categories(config), "category", "ticket_categories in crm.yaml")
                     if category else categories(config)[0])
        channel_ = choice(channel, channels(config), "channel", "ticket_channels in crm.yaml") if channel else None
        return cls(str(title_), priority_, category_, channel_,
                   checked_text(assignee, "assignee", required=False, one_line=True),
                   checked_text(text, "ticket text", required=False),
                   checked_text(product, "product", required=False, one_line=True), _tags(tags))

    def event(self, tid: str, at: datetime, by: str, contact: str | None) -> dict:
        return new_entry("ticket.open", dates.iso(at), by, id=tid, title=self.title, priority=self.priority,
                     category=self.category, channel=self.channel, assignee=self.assignee, contact=contact,
                     product=self.product, tags=list(self.tags) or None, text=self.text)


def _tags(tags: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(checked_text(t, "tag", one_line=True)) for t in tags if str(t).strip()))


def status_choice(status: str) -> str:
    """The status ``status`` names; closing is not a status change."""
    to = choice(status, STATUSES, "status")
    if to == "closed":
        raise ResolutionNeeded(by_status=True)
    return to


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


def _clock(opened: datetime | None, hours: Any, met: datetime | None, now: datetime,
           stop: datetime | None = None) -> SlaClock:
    """``stop``: when the clock stops unmet (a ticket resolved or closed without any reply)."""
    if opened is None or isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours <= 0:
        return SlaClock(None, met, False)
    due = opened + timedelta(hours=hours)
    return SlaClock(due, met, (met or stop or now) > due)


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
    product: str | None = None
    tags: list[str] = field(default_factory=list)
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
    def from_events(cls, evts: Iterable[dict], customer: str = "") -> Ticket:
        """Fold a ticket's events (any order; sorted here by time, ties keep their order)."""
        timed = []
        for data in evts:
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
            for key in ("channel", "assignee", "contact", "text", "product"):
                if d.get(key) is not None:
                    setattr(self, key, str(d[key]))
            self.tags = [str(t) for t in d["tags"]] if isinstance(d.get("tags"), list) else []
        elif kind == "ticket.comment":
            internal = d.get("internal") is True
            self.comments.append({"at": at, "by": by, "internal": internal, "text": str(d.get("text") or ""),
                                  "kb": str(d["kb"]) if d.get("kb") else None})
            if not internal:
                self._respond(at)
        elif kind == "ticket.status":
            to = d.get("to")
            if to not in STATUSES:
                return
            self.status = str(to)
            if to in ("in-progress", "waiting"):
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
            self.closed_at, self.resolved_at = at, self.resolved_at or at
            self.resolution = str(d.get("resolution") or "") or None
            csat = valid_score(d.get("csat"), CSAT_RANGE)
            if csat is not None:
                self.csat = csat
        elif kind == "ticket.reopen":
            self.status = "open"
            self.resolved_at = self.closed_at = self.resolution = None
        elif kind == "survey.answer":
            csat = valid_score(d.get("csat"), CSAT_RANGE)
            if csat is not None:
                self.csat = csat
        self.history.append({"at": at, "by": by, "kind": kind, "what": _what(d)})

    # -- the next event, checked against the state ----------------------------------------

    def comment(self, at: datetime, by: str, text: str, *, internal: bool = False, kb: str | None = None) -> dict:
        return new_entry("ticket.comment", dates.iso(at), by, ticket=self.id, internal=True if internal else None,
                         text=text, kb=kb)

    def assign(self, at: datetime, by: str, who: str) -> dict:
        if self.assignee == who:
            raise InvalidRecord(f"{self.id} is already assigned to {who}; nothing to change")
        return new_entry("ticket.assign", dates.iso(at), by, ticket=self.id, **{"from": self.assignee, "to": who})

    def move(self, at: datetime, by: str, to: str) -> dict:
        if self.status == "closed":
            raise InvalidRecord(f"{self.id} is closed; reopen it first (crm ticket reopen {self.id})")
        if self.status == to:
            raise InvalidRecord(f"{self.id} is already {to}; nothing to change")
        return new_entry("ticket.status", dates.iso(at), by, ticket=self.id, **{"from": self.status, "to": to})

    def close(self, at: datetime, by: str, resolution: str, csat: int | None = None) -> dict:
        if self.status == "closed":
            raise InvalidRecord(f"{self.id} is already closed; reopen it first (crm ticket reopen {self.id})")
        return new_entry("ticket.close", dates.iso(at), by, ticket=self.id, csat=csat, resolution=resolution)

    def reopen(self, at: datetime, by: str) -> dict:
        if self.status not in ("resolved", "closed"):
            raise InvalidRecord(f"{self.id} is {self.status}, not resolved or closed; nothing to reopen")
        return new_entry("ticket.reopen", dates.iso(at), by, ticket=self.id)

    # -- SLA and plain data ----------------------------------------------------------------

    def sla(self, config: Any, now: datetime | None = None) -> Sla:
        now = now or dates.now()
        target = priorities(config).get(self.priority)
        target = target if isinstance(target, dict) else {}
        if self.category == "complaint":  # a complaint's own SLA (complaints in crm.yaml) wins
            target = {**target, **complaint_sla(config)}
        return Sla(_clock(self.opened_at, target.get("first_response_hours"), self.first_response_at, now,
                          self.resolved_at or self.closed_at),
                   _clock(self.opened_at, target.get("resolution_hours"), self.resolved_at, now))


def sla_flag(sla: Sla) -> str:
    """The ticket list's SLA column: ok, met, BREACHED response / resolution / response+resolution."""
    if sla.breached:
        return "BREACHED " + "+".join("response" if b == "first response" else b for b in sla.breaches())
    if sla.resolution.due is None:
        return ""
    return "met" if sla.resolution.met_at is not None else "ok"


def customer_tickets(events: Iterable[dict], customer: str = "") -> list[Ticket]:
    """Every ticket opened in one customer's journal, folded."""
    found = [Ticket.from_events(evts, customer) for evts in entity_events(events, "tkt").values()]
    return [t for t in found if t.opened_at is not None]


def complaints_since(events: Iterable[dict], since: datetime | str | None) -> list[Ticket]:
    """Complaint tickets of one customer's journal opened at or after ``since`` (None: all)."""
    when = dates.parse_since(since) if isinstance(since, str) else since
    out = []
    for evts in entity_events(events, "tkt").values():
        t = Ticket.from_events(evts)
        if t.category == "complaint" and t.opened_at is not None and (when is None or t.opened_at >= when):
            out.append(t)
    return sorted(out, key=lambda t: t.opened_at or datetime.min)


# -- one line per event (timeline, history, show) ----------------------------------------

def _what(d: dict) -> str:
    """What an event did to its ticket, without the ticket's id."""
    kind = d.get("kind")
    if kind == "ticket.open":
        title = first_line(d.get('title'), 80, mark='...')
        return f"opened ({d.get('priority', '?')}, {d.get('category', '?')}): {title}"
    if kind == "ticket.comment":
        label = "internal note" if d.get("internal") is True else "comment"
        return f"{label}: {first_line(d.get('text'), 80, mark='...')}"
    if kind == "ticket.status":
        return f"{d['from']} -> {d.get('to', '?')}" if d.get("from") else f"status {d.get('to', '?')}"
    if kind == "ticket.assign":
        was = f" (was {d['from']})" if d.get("from") else ""
        return f"assigned to {d.get('to') or 'nobody'}{was}"
    if kind == "ticket.close":
        score = f" (CSAT {d['csat']})" if d.get("csat") is not None else ""
        return f"closed{score}: {first_line(d.get('resolution'), 80, mark='...')}"
    if kind == "ticket.reopen":
        return "reopened"
    if kind == "survey.answer":
        return surveys.describe(d)
    return str(kind)


def describe(d: dict) -> str:
    """One line for the timeline: ``ticket tkt-3f9a opened (high, bug): Login fails``."""
    return f"ticket {d.get('id') or d.get('ticket') or '?'} {_what(d)}"


# -- validation for `crm check` -----------------------------------------------------------

# kind -> {field: required}; vocabularies and scores are checked by name, the rest must be text
_RULES: dict[str, dict[str, bool]] = {
    "ticket.open": {"title": True, "priority": True, "category": True, "channel": False, "assignee": False,
                    "contact": False, "product": False, "text": False},
    "ticket.comment": {"text": True, "kb": False},
    "ticket.status": {"to": True, "from": False},
    "ticket.assign": {"to": True, "from": False},
    "ticket.close": {"resolution": True, "csat": False},
    "ticket.reopen": {},
}
_SCORES = {"csat": CSAT_RANGE, "nps": NPS_RANGE}


def validate(entry: dict, config: Config) -> list[tuple[tuple[Any, ...], str]]:
    """Problems with one ``ticket.*`` event, for ``crm check``."""
    issues: list[tuple[tuple[Any, ...], str]] = []
    kind = entry.get("kind")
    choices = {"priority": (list(priorities(config)), "ticket_priorities in crm.yaml"),
               "category": (categories(config), "ticket_categories in crm.yaml"),
               "channel": (channels(config), "ticket_channels in crm.yaml")}
    if kind == "ticket.status":
        choices["to"] = choices["from"] = (STATUSES, "ticket statuses")
    surveys.check_ticket_ref(entry, "id" if kind == "ticket.open" else "ticket", issues, required=True)
    surveys.check_by(entry, issues)
    for key, required in _RULES.get(str(kind), {}).items():
        value = entry.get(key)
        if value is None or value == "":
            if required:
                issues.append(((key,), f"{kind} needs {key}"))
        elif key in choices:
            allowed, where = choices[key]
            if value not in allowed:
                issues.append(((key,), f"{key} {value!r} is not one of: {', '.join(allowed)} ({where})"))
        elif key in _SCORES:
            surveys.check_score(entry, key, _SCORES[key], issues)
        else:
            surveys.check_text(entry, key, issues, required=required, kind=str(kind))
    if kind == "ticket.comment" and entry.get("internal") not in (None, True, False):
        issues.append((("internal",), "internal must be true or false"))
    return issues


EVENT_KINDS: tuple[EventKind, ...] = tuple(
    EventKind(kind, validate=validate, describe=describe) for kind in KINDS if kind.startswith("ticket."))
