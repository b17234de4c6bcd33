"""Complaints end to end: routing new tickets, ``crm ticket escalate``, the follow-up survey after closing.

The rules are in ``crmcli.domain.escalation`` (settings in ``crm.yaml``); here they meet the store.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crmcli.domain import dates, escalation
from crmcli.domain.journal import entity_events
from crmcli.domain.tasks import fold_tasks
from crmcli.domain.tickets import Ticket
from crmcli.errors import CrmError, UsageError
from crmcli.store import refs as entities
from crmcli.store.store import Store


def route(store: Store, cid: str, *, category: str, product: str | None) -> str | None:
    """The assignee routing rules give a new ticket of customer ``cid`` (None: no rule matches)."""
    tier = store.load_customer(cid, validate=False).get("tier")
    return escalation.route(store.config, category=category, product=product,
                            tier=str(tier) if tier not in (None, "") else None)


def close_extras(store: Store, cid: str, ticket: Ticket, now: datetime) -> list[dict]:
    """What closing ``ticket`` adds beside the close: the follow-up survey task of a complaint."""
    settings = escalation.Settings.from_config(store.config)
    if settings.survey_after_days is None or ticket.category != "complaint":
        return []
    journal = [e.data for e in store.load_journal(cid)]
    task_id = entities.new_local_id(entity_events(journal, "task"), "task")
    entry = escalation.survey_task(ticket, settings, task_id=task_id, by=store.user(), now=now, customer_ref=cid)
    return [entry] if entry else []


def survey_done(store: Store, cid: str, tid: str, now: datetime) -> list[dict]:
    """``task.done`` for each open follow-up survey task of ticket ``tid`` (the answer has come)."""
    journal = [e.data for e in store.load_journal(cid)]
    wanted = {e.get("id") for e in journal if e.get("kind") == "task.add" and e.get("survey_for") == tid}
    return [{"at": dates.iso(now), "kind": "task.done", "task": t.id, "by": store.user()}
            for t in fold_tasks(cid, journal).values() if t.id in wanted and not t.done]


def _due(ticket: Ticket, evts: list[dict], settings: escalation.Settings, now: datetime) -> bool:
    timed = [(at, i, e) for i, e in enumerate(evts) if (at := _at(e)) is not None]
    return escalation.due_for_escalation(ticket, [e for _, _, e in sorted(timed, key=lambda x: (x[0], x[1]))],
                                         settings, now)


def _at(event: dict) -> datetime | None:
    try:
        return dates.parse_iso(str(event.get("at")))
    except dates.DateError:
        return None


@dataclass(frozen=True)
class Escalated:
    customer: str
    customer_name: str
    ticket: str
    title: str
    to: str
    task: str | None
    hours_open: float


def escalate(store: Store, *, dry_run: bool = False, now: datetime | None = None) -> list[Escalated]:
    """Escalate every unresolved complaint past ``escalate_after_hours``: all in one commit.

    The complaints are found first, then each is checked again under the store's lock before anything is written.
    """
    settings = escalation.Settings.from_config(store.config)
    if settings.escalate_after_hours is None:
        raise UsageError("no escalation rule: set complaints: {escalate_after_hours: 24, escalate_to: NAME} "
                         "in crm.yaml")
    now = now or dates.now()
    found: list[tuple[str, str, Ticket, list[dict]]] = []
    for cid in store.customer_ids():
        try:
            if not any(b"complaint" in p.read_bytes() for p in store.journal_files(cid)):
                continue
            journal = [e.data for e in store.load_journal(cid)]
        except (CrmError, OSError):
            continue
        for evts in entity_events(journal, "tkt").values():
            ticket = Ticket.from_events(evts, cid)
            if _due(ticket, evts, settings, now):
                name = store.load_customer(cid, validate=False).name or cid
                found.append((cid, name, ticket, journal))
    out: list[Escalated] = []
    if not found:
        return out
    plans = []
    for cid, name, ticket, journal in found:
        task_id = entities.new_local_id(entity_events(journal, "task"), "task")
        entries = escalation.escalation(ticket, settings, task_id=task_id, by=store.user(), now=now,
                                        customer_name=name)
        hours = (now - ticket.opened_at).total_seconds() / 3600 if ticket.opened_at else 0.0
        out.append(Escalated(cid, name, ticket.id, ticket.title, str(settings.escalate_to),
                             None if dry_run else task_id, round(hours, 1)))
        plans.append((cid, entries))
    if dry_run:
        return out
    n = len(plans)
    message = (f"Escalate complaint {out[0].ticket} of {out[0].customer_name} to {settings.escalate_to}" if n == 1
               else f"Escalate {n} complaints to {settings.escalate_to}")
    with store.transaction(message, action="ticket.escalate", customer=plans[0][0] if n == 1 else None) as tx:
        for cid, entries in plans:  # checked again under the lock: another command may have moved them
            evts = entity_events([e.data for e in store.load_journal(cid)], "tkt").get(entries[0]["ticket"], [])
            if not _due(Ticket.from_events(evts, cid), evts, settings, now):
                raise UsageError(f"{entries[0]['ticket']} changed while escalating; nothing was written: run "
                                 "crm ticket escalate again")
            for entry in entries:
                tx.append_entry(cid, entry)
    return out
