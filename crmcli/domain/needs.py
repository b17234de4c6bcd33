"""Needs and feedback: what customers ask for and tell us, each an event with a status and an owner.

In the customer's journal::

    need.add         id (need-xxxx), by, owner, text, product, priority, tags
    feedback.add     id (fb-xxxx), by, owner, type (praise|suggestion|problem), text, channel, product, ticket
    need.status      need, by, from, to, owner        (to: new|planned|done|declined; owner when it changes)
    feedback.status  feedback, by, from, to, owner

A new item is ``new``. Its state is the fold of its events in time order. Pure: no store, no disk.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crmcli.domain import dates
from crmcli.domain.journal import EventKind
from crmcli.domain.text import checked_text, first_line
from crmcli.errors import InvalidRecord

STATUSES = ("new", "planned", "done", "declined")
FEEDBACK_TYPES = ("praise", "suggestion", "problem")
PRIORITIES = ("low", "normal", "high")
PREFIX = {"need": "need", "feedback": "fb"}
ID_RE = re.compile(r"^(need|fb)-[0-9a-z]{4,}$")


def choice(value: Any, allowed: Iterable[str], what: str) -> str:
    wanted = str(value).strip().casefold()
    options = list(allowed)
    if wanted not in options:
        raise InvalidRecord(f"unknown {what} {value!r}; use one of: {', '.join(options)}")
    return wanted


def status_choice(value: Any) -> str:
    return choice(value, STATUSES, "status")


@dataclass
class Item:
    """A need or a piece of feedback as it stands."""

    id: str
    customer: str
    family: str  # need | feedback
    type: str  # need, praise, suggestion, problem
    text: str = ""
    product: str | None = None
    priority: str | None = None
    tags: list[str] = field(default_factory=list)
    channel: str | None = None
    owner: str | None = None
    status: str = "new"
    created: datetime | None = None
    by: str | None = None
    ticket: str | None = None
    customer_name: str = ""

    @property
    def ref(self) -> str:
        return f"{self.customer}/{self.id}"

    def row(self) -> dict:
        return {"ref": self.ref, "id": self.id, "customer": self.customer, "name": self.customer_name,
                "type": self.type, "text": self.text, "product": self.product, "priority": self.priority,
                "tags": list(self.tags), "channel": self.channel, "owner": self.owner, "status": self.status,
                "created": dates.iso(self.created) if self.created else None, "by": self.by, "ticket": self.ticket}


def _at(e: dict) -> datetime | None:
    try:
        return dates.parse_iso(str(e.get("at")))
    except dates.DateError:
        return None


def fold(cid: str, entries: Iterable[dict]) -> dict[str, Item]:
    """Every need and feedback of one customer's journal, by id."""
    timed = sorted(((t, i, e) for i, e in enumerate(entries)
                    if isinstance(e, dict) and str(e.get("kind", "")).split(".")[0] in PREFIX
                    and (t := _at(e)) is not None), key=lambda x: (x[0], x[1]))
    items: dict[str, Item] = {}
    for at, _, e in timed:
        family, _, verb = str(e["kind"]).partition(".")
        if verb == "add" and isinstance(e.get("id"), str) and e["id"] not in items:
            tags = e.get("tags")
            items[e["id"]] = Item(
                e["id"], cid, family, "need" if family == "need" else str(e.get("type") or ""),
                str(e.get("text") or ""), _opt(e.get("product")), _opt(e.get("priority")),
                [str(t) for t in tags] if isinstance(tags, list) else [], _opt(e.get("channel")),
                _opt(e.get("owner")), "new", at, _opt(e.get("by")), _opt(e.get("ticket")))
        elif verb == "status" and e.get(family) in items:
            item = items[e[family]]
            if e.get("to") in STATUSES:
                item.status = str(e["to"])
            if e.get("owner"):
                item.owner = str(e["owner"])
    return items


def _opt(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _tags(tags: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(str(checked_text(t, "tag", one_line=True)) for t in tags if str(t).strip()))


# -- new events ---------------------------------------------------------------------------

def need_entry(nid: str, text: str, *, at: datetime, by: str, owner: str | None = None, product: str | None = None,
               priority: str | None = None, tags: Iterable[str] = ()) -> dict:
    entry: dict[str, Any] = {"at": dates.iso(at), "kind": "need.add", "id": nid, "by": by, "owner": owner or by,
                             "text": checked_text(text, "need")}
    _extra(entry, product=checked_text(product, "product", required=False, one_line=True),
           priority=choice(priority, PRIORITIES, "priority") if priority else None, tags=_tags(tags) or None)
    return entry


def feedback_entry(fid: str, kind: str, text: str, *, at: datetime, by: str, owner: str | None = None,
                   channel: str | None = None, product: str | None = None, ticket: str | None = None) -> dict:
    entry: dict[str, Any] = {"at": dates.iso(at), "kind": "feedback.add", "id": fid, "by": by,
                             "owner": owner or by, "type": choice(kind, FEEDBACK_TYPES, "feedback type"),
                             "text": checked_text(text, "feedback")}
    _extra(entry, channel=checked_text(channel, "channel", required=False, one_line=True),
           product=checked_text(product, "product", required=False, one_line=True), ticket=ticket)
    return entry


def _extra(entry: dict, **fields: Any) -> None:
    entry.update((k, v) for k, v in fields.items() if v not in (None, "", []))


def status_entry(item: Item, to: str, *, at: datetime, by: str, owner: str | None = None) -> dict:
    """The status change of ``item`` (and its new owner); refused when nothing changes."""
    if item.status == to and (not owner or owner == item.owner):
        raise InvalidRecord(f"{item.id} is already {to}; nothing to change")
    entry: dict[str, Any] = {"at": dates.iso(at), "kind": f"{item.family}.status", item.family: item.id, "by": by,
                             "from": item.status, "to": to}
    if owner and owner != item.owner:
        entry["owner"] = owner
    return entry


# -- validation and description -------------------------------------------------------------

def _validate(entry: dict, config: Any) -> list[tuple[tuple[Any, ...], str]]:
    issues: list[tuple[tuple[Any, ...], str]] = []
    family, _, verb = str(entry.get("kind")).partition(".")
    if verb == "add":
        if not (isinstance(entry.get("id"), str) and ID_RE.match(entry["id"])
                and entry["id"].startswith(PREFIX[family] + "-")):
            issues.append((("id",), f"{family} id {entry.get('id')!r} must look like {PREFIX[family]}-9x2m"))
        if not isinstance(entry.get("text"), str) or not entry["text"].strip():
            issues.append((("text",), f"{entry.get('kind')} needs text"))
        if family == "feedback" and entry.get("type") not in FEEDBACK_TYPES:
            issues.append((("type",), f"type {entry.get('type')!r} is not one of: {', '.join(FEEDBACK_TYPES)}"))
        if entry.get("priority") not in (None, *PRIORITIES):
            issues.append((("priority",), f"priority {entry.get('priority')!r} is not one of: {', '.join(PRIORITIES)}"))
        if entry.get("tags") is not None and not isinstance(entry["tags"], list):
            issues.append((("tags",), "tags must be a list"))
    else:
        if not (isinstance(entry.get(family), str) and ID_RE.match(entry[family])):
            issues.append(((family,), f"{entry.get('kind')} needs {family} (an id like {PREFIX[family]}-9x2m)"))
        if entry.get("to") not in STATUSES:
            issues.append((("to",), f"status {entry.get('to')!r} is not one of: {', '.join(STATUSES)}"))
    for key in ("by", "owner", "product", "channel"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            issues.append(((key,), f"{key} must be text"))
    return issues


def _describe(entry: dict) -> str:
    family, _, verb = str(entry.get("kind")).partition(".")
    if verb == "add":
        what = "need" if family == "need" else f"feedback ({entry.get('type', '?')})"
        product = f" [{entry['product']}]" if entry.get("product") else ""
        return f"{what} {entry.get('id', '?')}{product}: {first_line(entry.get('text'), 80, mark='...')}"
    owner = f", owner {entry['owner']}" if entry.get("owner") else ""
    return f"{family} {entry.get(family, '?')} {entry.get('from') or '?'} -> {entry.get('to', '?')}{owner}"


EVENT_KINDS: tuple[EventKind, ...] = tuple(EventKind(k, validate=_validate, describe=_describe)
                                           for k in ("need.add", "need.status", "feedback.add", "feedback.status"))
