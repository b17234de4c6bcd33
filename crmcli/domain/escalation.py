"""Complaints end to end: their own SLA, escalation, routing of new tickets, the follow-up survey task.

Settings in ``crm.yaml`` (every key optional)::

    complaints:
      first_response_hours: 2      # a complaint's own SLA, instead of its priority's
      resolution_hours: 48
      escalate_after_hours: 24     # unresolved this long: crm ticket escalate escalates it
      escalate_to: 王经理           # ... to this person: a ticket.escalate event and a task for them
      survey_after_days: 3         # closing a complaint adds a follow-up survey task due this many days later
    ticket_routing:                # new tickets without --assignee: the first rule whose keys all match
      - {category: complaint, assignee: 王经理}
      - {product: Analytics, assignee: bob}
      - {tier: A, assignee: alice}

Events: ``ticket.escalate`` (``ticket, by, to, after_hours, task``). The escalation task and the survey task
are plain ``task.add`` events; the survey task carries ``survey_for: TICKET`` so that the answer
(``crm survey CUSTOMER --ticket TICKET``) completes it. Pure: no store, no disk.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crmcli.domain import dates
from crmcli.domain.journal import EventKind, new_entry
from crmcli.domain.tasks import task_entry
from crmcli.domain.text import first_line
from crmcli.errors import InvalidRecord

ROUTING_KEYS = ("category", "product", "tier")
_HOURS = ("first_response_hours", "resolution_hours", "escalate_after_hours")


def _section(config: Any, key: str) -> Any:
    try:
        return config.get(key)
    except AttributeError:
        return None


@dataclass(frozen=True)
class Settings:
    first_response_hours: float | None = None
    resolution_hours: float | None = None
    escalate_after_hours: float | None = None
    escalate_to: str | None = None
    survey_after_days: int | None = None

    @classmethod
    def from_config(cls, config: Any) -> Settings:
        """The ``complaints`` settings; ``InvalidRecord`` naming the key when one is wrong."""
        data = _section(config, "complaints")
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise InvalidRecord("crm.yaml: complaints must be a mapping (escalate_after_hours: 24, ...)")
        known = (*_HOURS, "escalate_to", "survey_after_days")
        for key, value in data.items():
            if key not in known:
                raise InvalidRecord(f"crm.yaml: complaints: unknown key {key!r}; use: {', '.join(known)}")
            if key in _HOURS and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise InvalidRecord(f"crm.yaml: complaints: {key} must be a positive number of hours")
            if key == "survey_after_days" and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise InvalidRecord("crm.yaml: complaints: survey_after_days must be a whole number of days "
                                    "(0 or more)")
            if key == "escalate_to" and (not isinstance(value, str) or not value.strip()):
                raise InvalidRecord("crm.yaml: complaints: escalate_to must be a person's name")
        if "escalate_after_hours" in data and "escalate_to" not in data:
            raise InvalidRecord("crm.yaml: complaints: escalate_after_hours needs escalate_to (who takes it over)")
        return cls(**{k: data.get(k) for k in known})


def complaint_sla(config: Any) -> dict[str, float]:
    """The SLA hours a complaint has instead of its priority's (empty when none is set or crm.yaml is wrong)."""
    try:
        s = Settings.from_config(config)
    except InvalidRecord:
        return {}
    return {k: v for k, v in (("first_response_hours", s.first_response_hours),
                              ("resolution_hours", s.resolution_hours)) if v is not None}


# -- routing -------------------------------------------------------------------------

def routing_rules(config: Any) -> list[dict[str, str]]:
    rules = _section(config, "ticket_routing")
    if rules is None:
        return []
    if not isinstance(rules, list):
        raise InvalidRecord("crm.yaml: ticket_routing must be a list of rules ({category: ..., assignee: ...})")
    out = []
    for i, rule in enumerate(rules, 1):
        where = f"crm.yaml: ticket_routing rule {i}"
        if not isinstance(rule, dict) or not isinstance(rule.get("assignee"), str) or not rule["assignee"].strip():
            raise InvalidRecord(f"{where}: needs an assignee ({{category: complaint, assignee: NAME}})")
        keys = [k for k in rule if k != "assignee"]
        bad = [k for k in keys if k not in ROUTING_KEYS]
        if bad or not keys:
            got = ", ".join(map(str, keys)) or "none"
            raise InvalidRecord(f"{where}: match on {', '.join(ROUTING_KEYS)} (got {got})")
        out.append({str(k): str(v) for k, v in rule.items()})
    return out


def route(config: Any, *, category: str | None, product: str | None, tier: str | None) -> str | None:
    """The assignee of the first rule whose every key matches the new ticket (case ignored), or None."""
    have = {"category": category, "product": product, "tier": tier}
    for rule in routing_rules(config):
        if all(have.get(k) is not None and str(have[k]).casefold() == v.casefold()
               for k, v in rule.items() if k != "assignee"):
            return rule["assignee"]
    return None


# -- escalation ----------------------------------------------------------------------

def escalated_since_open(events: list[dict]) -> bool:
    """Whether the ticket was escalated since it was last opened or reopened (events in time order)."""
    escalated = False
    for e in events:
        if e.get("kind") in ("ticket.open", "ticket.reopen"):
            escalated = False
        elif e.get("kind") == "ticket.escalate":
            escalated = True
    return escalated


def due_for_escalation(ticket: Any, events: list[dict], settings: Settings, now: datetime) -> bool:
    """An unresolved complaint open longer than ``escalate_after_hours`` and not yet escalated."""
    if settings.escalate_after_hours is None or ticket.category != "complaint" or not ticket.is_open:
        return False
    if ticket.opened_at is None or now < ticket.opened_at + timedelta(hours=settings.escalate_after_hours):
        return False
    return not escalated_since_open(events)


def escalation(ticket: Any, settings: Settings, *, task_id: str, by: str, now: datetime,
               customer_name: str) -> list[dict]:
    """The ``ticket.escalate`` event and the task for the person it goes to, due now."""
    to = str(settings.escalate_to)
    hours = settings.escalate_after_hours
    open_for = (now - ticket.opened_at).total_seconds() / 3600 if ticket.opened_at else 0
    text = (f"Escalated complaint {ticket.id} of {customer_name}: {first_line(ticket.title, 60, mark='...')} "
            f"(unresolved {open_for:.0f} h)")
    event = new_entry("ticket.escalate", dates.iso(now), by, ticket=ticket.id, to=to, after_hours=hours, task=task_id)
    return [event, task_entry(task_id, text, now, by=by, owner=to, now=now)]


def survey_task(ticket: Any, settings: Settings, *, task_id: str, by: str, now: datetime,
                customer_ref: str) -> dict | None:
    """After closing a complaint: a task to ask for the customer's satisfaction, due ``survey_after_days`` on."""
    if settings.survey_after_days is None or ticket.category != "complaint":
        return None
    due = (dates.to_local(now) + timedelta(days=settings.survey_after_days)).date()
    text = (f"Follow-up survey on complaint {ticket.id}: {first_line(ticket.title, 60, mark='...')} "
            f"(crm survey {customer_ref} --ticket {ticket.id} --csat N)")
    entry = task_entry(task_id, text, due, by=by, owner=ticket.assignee or by, now=now)
    entry["survey_for"] = ticket.id
    return entry


# -- the event kind ------------------------------------------------------------------

def _validate(entry: dict, config: Any) -> list[tuple[tuple[Any, ...], str]]:
    issues: list[tuple[tuple[Any, ...], str]] = []
    if not str(entry.get("ticket", "")).startswith("tkt-"):
        issues.append((("ticket",), "ticket.escalate needs ticket (a ticket id like tkt-3f9a)"))
    if not isinstance(entry.get("to"), str) or not entry["to"].strip():
        issues.append((("to",), "ticket.escalate needs to (who it was escalated to)"))
    hours = entry.get("after_hours")
    if hours is not None and (isinstance(hours, bool) or not isinstance(hours, (int, float))):
        issues.append((("after_hours",), "after_hours must be a number of hours"))
    return issues


def _describe(entry: dict) -> str:
    after = f" after {entry['after_hours']} h" if entry.get("after_hours") is not None else ""
    return f"ticket {entry.get('ticket', '?')} escalated to {entry.get('to', '?')}{after}"


EVENT_KINDS: tuple[EventKind, ...] = (EventKind("ticket.escalate", validate=_validate, describe=_describe),)
