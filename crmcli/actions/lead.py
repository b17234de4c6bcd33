"""Leads: ``crm lead assign`` (rules in crm.yaml, a ``lead.assign`` event and a first-touch task each, one
commit) and the leads still waiting for a first touch, for the agenda."""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from crmcli.actions.task import new_task
from crmcli.analysis.journals import journal_dicts
from crmcli.config import CONFIG_NAME
from crmcli.domain import dates, leads
from crmcli.domain.customer import Customer, normalize_name
from crmcli.domain.interactions import same_name
from crmcli.domain.tasks import fold_tasks, read_due
from crmcli.errors import UsageError
from crmcli.store.index import customer_index
from crmcli.store.store import Store


@dataclass
class AssignResult:
    assignments: list[leads.Assignment] = field(default_factory=list)
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (id, name) no rule fits
    tasks: dict[str, str] = field(default_factory=dict)  # customer id -> task id
    due: date | None = None
    dry_run: bool = False

    def rows(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"customer": a.customer, "name": a.name, "owner": a.owner, "rule": a.rule,
                                      "task": self.tasks.get(a.customer), "due": self.due.isoformat()
                                      if self.due else None} for a in self.assignments]
        out += [{"customer": cid, "name": name, "owner": None, "rule": "no rule fits", "task": None, "due": None}
                for cid, name in self.unmatched]
        return out


def lead_settings(store: Store) -> leads.Settings:
    return leads.settings(store.config.get("leads"), CONFIG_NAME)


def _round_robin_state(store: Store, profiles: list[Customer]) -> dict[str, str]:
    """The owner each rule gave its latest lead, from the ``lead.assign`` events of every journal."""
    latest: dict[str, tuple[datetime, str]] = {}
    for c in profiles:
        for e in journal_dicts(store, c.id, (b"lead.assign",)):
            if e.get("kind") != "lead.assign" or not isinstance(e.get("rule"), str):
                continue
            try:
                at = dates.parse_iso(str(e.get("at")))
            except dates.DateError:
                continue
            if e["rule"] not in latest or at >= latest[e["rule"]][0]:
                latest[e["rule"]] = (at, str(e.get("owner") or ""))
    return {rule: owner for rule, (_, owner) in latest.items()}


def assign_leads(store: Store, *, dry_run: bool = False) -> AssignResult:
    """Give every unowned lead an owner by the rules; each gets ``lead.assign`` and a first-touch task."""
    config = lead_settings(store)
    if not config.rules:
        raise UsageError(f"no assignment rules: add a leads: assign: list to {CONFIG_NAME} "
                         "(see 'Leads and the funnel' in the README)")
    profiles = customer_index(store)
    waiting = sorted((c for c in profiles if leads.is_unowned_lead(c.data)),
                     key=lambda c: (str(c.get("created") or ""), c.id))
    load: dict[str, int] = {}
    for c in profiles:
        if c.get("stage") == "lead" and str(c.get("owner") or "").strip():
            key = normalize_name(str(c.get("owner")))
            load[key] = load.get(key, 0) + 1
    last = _round_robin_state(store, profiles)
    planned, unmatched = leads.plan(((c.id, c.data) for c in waiting), config.rules, last=last, load=load)
    now = dates.now()
    result = AssignResult(planned, unmatched, due=now.date() + timedelta(days=config.first_touch_days),
                          dry_run=dry_run)
    if dry_run or not planned:
        return result
    by = store.user()
    with store.transaction(f"Assign {len(planned)} lead{'s' if len(planned) != 1 else ''}: "
                           + ", ".join(f"{a.name} -> {a.owner}" for a in planned[:3])
                           + (" ..." if len(planned) > 3 else ""),
                           action="lead.assign", customer=planned[0].customer if len(planned) == 1 else None,
                           bulk=len(planned) > 20) as tx:
        for a in planned:
            customer = store.load_customer(a.customer)
            customer.data["owner"] = a.owner
            tx.write_customer(customer)
            tx.append_entry(a.customer, leads.assign_entry(dates.iso(now), by, a.owner, a.rule))
            task = new_task(store, a.customer, f"First touch with new lead {a.name}", result.due, a.owner, now)
            tx.append_entry(a.customer, task)
            result.tasks[a.customer] = task["id"]
    return result


def _touched_unassigned(store: Store, cid: str, kinds: re.Pattern[bytes]) -> bool:
    """A text test, before any YAML: never assigned by crm lead assign, and some interaction logged."""
    raw = b""
    for path in store.journal_files(cid):
        with contextlib.suppress(OSError):
            raw += path.read_bytes()
    return b"lead.assign" not in raw and kinds.search(raw) is not None


def first_touch_items(store: Store, profiles: list[Customer], owner: str | None, now: datetime,
                      end: date) -> list[dict[str, Any]]:
    """Leads of ``owner`` (everyone's when None) with no interaction within ``first_touch_days`` of their
    assignment (else of their creation) and no open task, due before ``end``: AgendaItem fields, kind ``lead``."""
    days = lead_settings(store).first_touch_days
    types = b"|".join(re.escape(t.encode()) for t in store.config.interaction_types)
    kinds = re.compile(rb"\bkind: (?:" + types + rb")[,}]")
    items = []
    for c in profiles:
        if c.get("stage") != "lead" or not str(c.get("owner") or "").strip() or not same_name(c.get("owner"), owner):
            continue
        created = read_due(c.get("created"))
        if isinstance(created, datetime) and dates.to_local(created).date() + timedelta(days=days) >= end:
            continue  # too new to be due in the window, whatever its journal says
        if _touched_unassigned(store, c.id, kinds):
            continue
        entries = journal_dicts(store, c.id)
        start, touched = leads.first_touch_start(c.get("created"), entries)
        if touched or start is None:
            continue
        if any(not t.done for t in fold_tasks(c.id, entries, c.name).values()):
            continue  # an open task (the first-touch task of crm lead assign, say) already reminds the owner
        due = dates.to_local(start).date() + timedelta(days=days)
        if due >= end:
            continue
        since = dates.format_local(start, with_time=False)
        items.append({"day": due, "overdue": due < now.date(), "kind": "lead", "customer": c.id, "name": c.name,
                      "text": f"first touch: lead since {since}, not contacted yet (within {days} days)",
                      "owner": c.get("owner")})
    return items
