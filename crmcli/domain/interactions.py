"""Interactions (calls, emails, meetings...): their types, times, durations and contacts, checked and built.

An interaction is a journal event ``kind: <type>`` (call, email... from ``interaction_types`` in crm.yaml) with
``at, kind, by, contact, direction, duration, outcome, tags, summary``. Pure: takes a Config and values, returns
entries and text; bad values raise ``InputError`` naming the input (``at``, ``duration``), which the CLI words as
its option.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any

from crmcli.config import Config
from crmcli.domain import dates, durations
from crmcli.domain.customer import Customer, normalize_name
from crmcli.errors import Input, InputError, InvalidRecord, NotFound, UsageError

MAX_DURATION = timedelta(hours=24)
MAX_AHEAD = timedelta(days=1)
DIRECTIONS = ("in", "out")
TEXT_KEYS = ("summary", "text", "comment", "title", "reason", "resolution")


# -- reading values ---------------------------------------------------------------
def dated(what: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
    """A crmcli.domain.dates parser whose error names the input: ``at: cannot read date 'x'; use one of: ...``."""
    try:
        return parse(*args, **kwargs)
    except dates.DateError as exc:
        raise InputError(Input(what), f": {exc}") from None


def when(text: str | datetime, what: str, *, prefer: str = "past", base: datetime | None = None) -> datetime:
    if isinstance(text, datetime):
        return text if text.tzinfo else dates.to_local(text)
    return dated(what, dates.parse_when, text, base=base, prefer=prefer)


def is_date_only(text: str, base: datetime, prefer: str) -> bool:
    a = dates.parse_when(text, base=base, prefer=prefer, date_only_time=time(0))
    b = dates.parse_when(text, base=base, prefer=prefer, date_only_time=time(0, 0, 1))
    return a != b


def parse_until(text: str, *, base: datetime | None = None) -> datetime:
    """End of a window (exclusive); a bare day includes that whole day."""
    b = base or dates.now()
    moment = when(text, "until", base=b)
    if is_date_only(text, b, "past"):
        return dates.parse_when((moment.date() + timedelta(days=1)).isoformat())
    return moment


def parse_since(text: str) -> datetime:
    return dated("since", dates.parse_since, text)


def happened_at(at: str | datetime | None, now: datetime) -> datetime:
    """When an interaction happened: now, or a past moment (at most a day ahead, for clocks that differ)."""
    moment = when(at, "at", base=now) if at else now
    if moment - now > MAX_AHEAD:
        raise InputError(Input("at"), f" {dates.format_local(moment)} is in the future; log what happened, "
                         "and plan what comes next with ", Input("follow_up", "WHEN"))
    return moment


def event_time(entry: dict) -> datetime | None:
    try:
        return dates.parse_iso(str(entry.get("at", "")))
    except dates.DateError:
        return None


def parse_duration(text: str | timedelta) -> timedelta:
    """An interaction's length: more than nothing, at most a day."""
    td = text if isinstance(text, timedelta) else dated("duration", durations.parse_duration, text)
    if td <= timedelta(0):
        raise InputError(Input("duration"), f" {text!s}: must be more than zero; leave it out when unknown")
    if td > MAX_DURATION:
        raise InputError(Input("duration"), f" {text!s} is longer than 24 hours; log one interaction per conversation")
    return td


def check_direction(direction: str | None) -> str | None:
    if direction is not None and direction not in DIRECTIONS:
        raise InputError(Input("direction"), f" {direction!r}: use in or out")
    return direction


def interaction_type(config: Config, text: str) -> str:
    """The configured type for ``text``: exact, case-insensitive, or a unique prefix."""
    types = config.interaction_types
    wanted = text.strip().lower()
    hits = [t for t in types if t == text] or [t for t in types if t.lower() == wanted]
    if not hits and wanted:
        hits = [t for t in types if t.lower().startswith(wanted)]
    if len(hits) == 1:
        return hits[0]
    raise InvalidRecord(f"unknown interaction type {text!r}; use one of: {', '.join(types)} "
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


def interaction_entry(kind: str, at: datetime, by: str, *, contact: str | None = None,
                      direction: str | None = None, duration: timedelta | None = None,
                      outcome: str | None = None, tags: Iterable[str] = ()) -> dict[str, Any]:
    """The journal entry of an interaction, without its summary (absent values left out)."""
    entry: dict[str, Any] = {"at": dates.iso(at), "kind": kind, "by": by, "contact": contact,
                             "direction": check_direction(direction),
                             "duration": durations.format_duration(duration) if duration else None,
                             "outcome": clean_text(outcome, "outcome") if outcome else None,
                             "tags": [t.strip() for t in tags if t.strip()] or None}
    return {k: v for k, v in entry.items() if v is not None}


def same_name(a: Any, b: str | None) -> bool:
    """True when ``b`` is None or names the same person as ``a``."""
    return b is None or normalize_name(str(a or "")) == normalize_name(b)
