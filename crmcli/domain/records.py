"""Every record of one customer as flat rows, one list of dicts per kind (pure: no files, no pandas).

Reports (``crmcli.analysis.frames``), export and the index's facts (``crmcli.store.index_facts``) build on these
rows. Entities are folded by their own domain modules (``deals.Opportunity``, ``tickets.Ticket``,
``tasks.fold_tasks``), never here.

Each row is a dict with exactly the keys of ``COLUMNS[kind]``, in that order. Values are plain
(str, int, float, bool or None); times are stored ISO strings. ``LIST_COLUMNS`` names the few
list-valued columns kept for frames (an opportunity's stage and close-date history); flat
exports skip them.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from crmcli.domain import dates, deals, durations, tickets
from crmcli.domain.contracts import customer_contracts
from crmcli.domain.customer import Customer
from crmcli.domain.journal import Entry
from crmcli.domain.orders import customer_orders
from crmcli.domain.tasks import due_text, fold_tasks

KINDS = ["customers", "contacts", "interactions", "opps", "orders", "contracts", "tickets", "tasks", "surveys"]

COLUMNS: dict[str, list[str]] = {
    "customers": ["id", "name", "kind", "industry", "size", "tier", "stage", "owner", "source", "tags", "email",
                  "phone", "website", "address", "birthday", "touch_every", "created"],
    "contacts": ["customer", "name", "title", "email", "phone", "primary", "birthday"],
    "interactions": ["customer", "at", "kind", "by", "contact", "direction", "duration_min", "outcome", "tags",
                     "summary"],
    "opps": ["customer", "id", "title", "amount", "currency", "stage", "probability", "close", "owner", "source",
             "product", "created", "closed_at", "status", "lost_reason", "stage_history", "close_history"],
    "orders": ["customer", "date", "amount", "currency", "product", "opp", "by"],
    "contracts": ["customer", "value", "currency", "start", "end", "renew_notice", "file", "by"],
    "tickets": ["customer", "id", "title", "priority", "category", "channel", "assignee", "status", "opened_at",
                "first_response_at", "resolved_at", "closed_at", "csat", "response_due", "resolution_due",
                "response_breached", "resolution_breached"],
    "tasks": ["customer", "id", "text", "owner", "due", "created", "done_at", "status", "by"],
    "surveys": ["customer", "at", "csat", "nps", "ticket", "comment", "by"],
}
# Export-only kind (not in KINDS, so frames never build it): every event of every deal and ticket, the opening
# included, one row each, oldest first per customer; ``fields`` is the rest of the event as JSON, exactly.
HISTORY_COLUMNS = ["customer", "id", "at", "kind", "by", "fields"]
HISTORY_KINDS = ("opp.", "ticket.")
_HISTORY_KEYS = {"at", "kind", "by", "id", "opp", "ticket"}
# list-valued columns: opps.stage_history = [(at, from, to), ...] (from is None at opening; at is an ISO time here,
# epoch seconds in crmcli.analysis.frames),
# opps.close_history = [(at, close), ...] (the expected close date from each moment on)
LIST_COLUMNS: dict[str, list[str]] = {"opps": ["stage_history", "close_history"]}

# columns holding ISO timestamps / days, for loaders that convert types
TIME_COLUMNS: dict[str, list[str]] = {
    "customers": ["created"], "interactions": ["at"], "opps": ["created", "closed_at"],
    "tickets": ["opened_at", "first_response_at", "resolved_at", "closed_at", "response_due", "resolution_due"],
    "tasks": ["created", "done_at"], "surveys": ["at"],
}
DATE_COLUMNS: dict[str, list[str]] = {
    "customers": ["birthday"], "contacts": ["birthday"], "opps": ["close"], "orders": ["date"],
    "contracts": ["start", "end"],
}


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _num(value: Any) -> int | float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        number = float(str(value).replace(",", ""))
    except ValueError:
        return None
    return int(number) if number.is_integer() else number


def _tags(value: Any) -> str | None:
    if isinstance(value, list):
        return ",".join(str(t) for t in value) or None
    return _text(value)


def _iso(value: datetime | None) -> str | None:
    return dates.iso(value) if value is not None else None


def _minutes(value: Any) -> int | float | None:
    if value is None or value == "":
        return None
    try:
        secs = durations.parse_duration(str(value)).total_seconds()
    except dates.DateError:
        return None
    mins = secs / 60
    return int(mins) if mins.is_integer() else round(mins, 2)


def customer_row(c: Customer) -> dict:
    d = c.data
    row: dict[str, Any] = {"id": c.id}
    for key in COLUMNS["customers"][1:]:
        row[key] = _tags(d.get(key)) if key == "tags" else _text(d.get(key))
    return row


def contact_rows(c: Customer) -> list[dict]:
    out = []
    for p in c.contacts:
        if isinstance(p, dict):
            out.append({"customer": c.id, "name": _text(p.get("name")), "title": _text(p.get("title")),
                        "email": _text(p.get("email")), "phone": _text(p.get("phone")),
                        "primary": bool(p.get("primary")), "birthday": _text(p.get("birthday"))})
    return out


def interaction_rows(cid: str, journal: list[Entry]) -> list[dict]:
    out = []
    for e in journal:
        d = e.data
        kind = d.get("kind")
        if not isinstance(kind, str) or not kind or "." in kind:
            continue  # dotted kinds are system events, not interactions
        out.append({"customer": cid, "at": _text(d.get("at")), "kind": kind, "by": _text(d.get("by")),
                    "contact": _text(d.get("contact")), "direction": _text(d.get("direction")),
                    "duration_min": _minutes(d.get("duration")), "outcome": _text(d.get("outcome")),
                    "tags": _tags(d.get("tags")), "summary": _text(d.get("summary"))})
    return out


def opp_rows(cid: str, journal: list[Entry], config: Any = None) -> list[dict]:
    """``probability`` comes from ``config`` (None without it)."""
    out = []
    for opp in deals.customer_opportunities(journal, cid):
        closes: list[tuple[str, str | None]] = []
        for ev in opp.events:
            if ev.get("kind") == "opp.open":
                closes.append((str(ev.get("at", "")), _text(ev.get("close"))))
            elif ev.get("kind") == "opp.set" and isinstance(ev.get("changes"), dict) and "close" in ev["changes"]:
                closes.append((str(ev.get("at", "")), _text(ev["changes"]["close"])))
        status = opp.stage if opp.stage in deals.CLOSED else "open"
        chance = opp.probability(config) if config is not None else None
        out.append({"customer": cid, "id": opp.id, "title": opp.title, "amount": opp.amount,
                    "currency": opp.currency or None, "stage": opp.stage, "probability": chance,
                    "close": opp.close, "owner": opp.owner, "source": opp.source, "product": opp.product,
                    "created": opp.created or None, "closed_at": opp.closed_at, "status": status,
                    "lost_reason": opp.reason if status == "lost" else None,
                    "stage_history": [(at, a, b) for at, _by, a, b in opp.history],
                    "close_history": closes})
    return out


def order_rows(cid: str, journal: list[Entry]) -> list[dict]:
    return [{"customer": cid, "date": o["date"] or None, "amount": _num(o["amount"]),
             "currency": _text(o["currency"]), "product": _text(o["product"]), "opp": _text(o["opp"]),
             "by": _text(o["by"])}
            for o in customer_orders(journal)]


def contract_rows(cid: str, journal: list[Entry]) -> list[dict]:
    return [{"customer": cid, "value": _num(c["value"]), "currency": _text(c["currency"]),
             "start": c["start"] or None, "end": c["end"], "renew_notice": c["renew_notice"],
             "file": _text(c["file"]), "by": _text(c["by"])}
            for c in customer_contracts(journal)]


def ticket_rows(cid: str, journal: list[Entry], config: Any = None, now: datetime | None = None) -> list[dict]:
    """SLA due times and breaches come from ``config``, judged at ``now`` (None without a config)."""
    out = []
    for t in sorted(tickets.customer_tickets([e.data for e in journal], cid), key=lambda t: (t.opened_at, t.id)):
        sla = t.sla(config, now or dates.now()) if config is not None else None
        out.append({"customer": cid, "id": t.id, "title": t.title, "priority": t.priority or None,
                    "category": t.category or None, "channel": t.channel, "assignee": t.assignee,
                    "status": t.status, "opened_at": _iso(t.opened_at),
                    "first_response_at": _iso(t.first_response_at), "resolved_at": _iso(t.resolved_at),
                    "closed_at": _iso(t.closed_at), "csat": t.csat,
                    "response_due": _iso(sla.first_response.due) if sla else None,
                    "resolution_due": _iso(sla.resolution.due) if sla else None,
                    "response_breached": sla.first_response.breached if sla else None,
                    "resolution_breached": sla.resolution.breached if sla else None})
    return out


def history_rows(cid: str, journal: list[Entry]) -> list[dict]:
    """Every deal and ticket event of one customer as ``HISTORY_COLUMNS`` rows, in time order."""

    picked = []
    for i, e in enumerate(journal):
        d = e.data
        kind = d.get("kind")
        if not isinstance(kind, str) or not kind.startswith(HISTORY_KINDS):
            continue
        ref = d.get("id") if kind in ("opp.open", "ticket.open") else d.get("opp" if kind.startswith("opp.") else
                                                                               "ticket")
        try:
            when = dates.parse_iso(str(d.get("at"))).timestamp()
        except dates.DateError:
            when = 0.0
        rest = {k: v for k, v in d.items() if k not in _HISTORY_KEYS}
        picked.append((when, i, {"customer": cid, "id": _text(ref), "at": _text(d.get("at")), "kind": kind,
                                 "by": _text(d.get("by")),
                                 "fields": json.dumps(rest, ensure_ascii=False, default=str) if rest else None}))
    return [row for _, _, row in sorted(picked, key=lambda x: (x[0], x[1]))]


def task_rows(cid: str, journal: list[Entry]) -> list[dict]:
    tasks = fold_tasks(cid, [e.data for e in journal])
    return [{"customer": cid, "id": t.id, "text": t.text, "owner": _text(t.owner),
             "due": due_text(t.due) if t.due is not None else None, "created": t.created,
             "done_at": t.done_at, "status": "done" if t.done else "open", "by": _text(t.by)}
            for t in sorted(tasks.values(), key=lambda t: (t.created, t.id))]


def survey_rows(cid: str, journal: list[Entry]) -> list[dict]:
    out = []
    for e in journal:
        d = e.data
        if d.get("kind") == "survey.answer":
            out.append({"customer": cid, "at": _text(d.get("at")), "csat": _num(d.get("csat")),
                        "nps": _num(d.get("nps")), "ticket": _text(d.get("ticket")),
                        "comment": _text(d.get("comment")), "by": _text(d.get("by"))})
    return out
