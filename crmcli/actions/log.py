"""`crm log`: resolve the customer, build the interaction (and its follow-up task) in the domain, one commit.

Logging touches only the customer's own folder, so its cost does not depend on the size of the store. Two steps,
so that an editor opens for the summary only after every other value is known to be good: ``prepare_interaction``
checks and writes nothing; ``commit_interaction`` adds the summary and writes one commit, returning ``Logged``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crmcli.actions.task import new_task
from crmcli.domain import dates
from crmcli.domain.customer import Customer
from crmcli.domain.interactions import (
    check_direction,
    clean_text,
    happened_at,
    interaction_entry,
    interaction_type,
    match_contact,
    parse_duration,
)
from crmcli.domain.tasks import Due, parse_due
from crmcli.domain.text import first_line
from crmcli.errors import Input, MissingInput
from crmcli.store.store import Store


@dataclass
class FollowUp:
    """The follow-up task asked for with an interaction, before its id and text are known."""

    due: Due
    text: str | None
    owner: str | None
    now: datetime


@dataclass
class Logged:
    """One logged interaction: its entry, its moment, and the follow-up task's entry when there is one."""

    customer: Customer
    entry: dict
    at: datetime
    task: dict | None = None
    follow_up: FollowUp | None = field(default=None, repr=False)
    commit: str | None = None

    @property
    def cid(self) -> str:
        return self.customer.id

    @property
    def due(self) -> Due | None:
        """The follow-up task's due day or moment."""
        return self.follow_up.due if self.task is not None and self.follow_up is not None else None


def prepare_interaction(store: Store, ref: str, kind: str, *, at: str | datetime | None = None,
                        duration: str | timedelta | None = None, direction: str | None = None,
                        contact: str | None = None, outcome: str | None = None, tags: Iterable[str] = (),
                        follow_up: str | Due | None = None, task_text: str | None = None,
                        owner: str | None = None) -> Logged:
    """Check everything but the summary (so an editor opens only for a valid command); write nothing."""
    kind = interaction_type(store.config, kind)
    now = dates.now()
    moment = happened_at(at, now)
    length = parse_duration(duration) if duration else None
    check_direction(direction)
    due = parse_due(follow_up, "follow_up", base=now) if follow_up else None
    if task_text and due is None:
        raise MissingInput(Input("task"), " needs ", Input("follow_up", "WHEN"), " (when the follow-up is due)")
    cid = store.resolve(ref)
    customer = store.load_customer(cid, validate=False)
    person = match_contact(customer, contact) if contact else None
    entry = interaction_entry(kind, moment, store.user(), contact=person, direction=direction, duration=length,
                              outcome=outcome, tags=tags)
    logged = Logged(customer, entry, moment)
    if due is not None:
        logged.follow_up = FollowUp(due, task_text, owner, now)
    return logged


def commit_interaction(store: Store, draft: Logged, summary: str | None) -> Logged:
    """Add the summary and write the interaction and its follow-up task: one commit."""
    draft.entry["summary"] = clean_text(summary)
    cid, name, kind = draft.cid, draft.customer.name, draft.entry["kind"]
    message = f"Log {kind} with {name} ({cid})"
    plan = draft.follow_up
    if plan is not None:
        text = plan.text or f"Follow up on the {kind}: {first_line(draft.entry['summary'], 60)}"
        draft.task = new_task(store, cid, text, plan.due, plan.owner, plan.now)
        message += f"\n\nFollow-up {draft.task['id']} due {draft.task['due']}: {first_line(draft.task['text'])}"
    with store.transaction(message, action="interaction.add", customer=cid) as tx:
        tx.append_entry(cid, draft.entry)
        if draft.task is not None:
            tx.append_entry(cid, draft.task)
    draft.commit = store.last_commit
    return draft

