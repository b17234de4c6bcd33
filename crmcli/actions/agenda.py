"""`crm agenda`: overdue and coming tasks, lapsing contact cadences, renewals, birthdays and care items, by day."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from crmcli.actions.care import agenda_entries as care_agenda
from crmcli.actions.care import agenda_entry, birthdays_due
from crmcli.actions.lead import first_touch_items
from crmcli.analysis.journals import fold_indexed_tasks, indexed_dicts
from crmcli.analysis.renewals import records_with, renewals_due
from crmcli.domain import dates, durations
from crmcli.domain.care import Rules
from crmcli.domain.customer import Customer
from crmcli.domain.interactions import event_time, same_name
from crmcli.domain.money import format_money
from crmcli.domain.tasks import due_day, read_due
from crmcli.store.index import Index, open_index
from crmcli.store.store import Store


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


_KIND_ORDER = {"task": 0, "lead": 1, "touch": 1, "renewal": 2, "birthday": 3}


def _touch(c: Customer, entries: list[dict], types: set[str], now: datetime, end: date) -> AgendaItem | None:
    try:
        every = durations.parse_period(str(c.get("touch_every")))
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


def _renewals(index: Index, start: date, end: date, owner: str | None,
              only: Collection[str] | None = None) -> list[AgendaItem]:
    """Contracts in their renewal-notice period."""
    store = index.store
    items = []
    due = renewals_due(index.store, start, end - timedelta(days=1), index=index, only=only)
    owners: dict[str, Any] = {c.id: c.get("owner") for c in index.customers(only={r["customer"] for r in due})}
    for r in due:
        if not same_name(owners.get(r["customer"]), owner):
            continue
        notice, c = date.fromisoformat(r["notice"]), r["contract"]
        value = format_money(c["value"], c.get("currency") or store.config["currency"]) \
            if isinstance(c.get("value"), (int, float)) else ""
        items.append(AgendaItem(notice, notice < start, "renewal", r["customer"], r["name"],
                                f"renewal: contract ends {r['end']}" + (f" ({value})" if value else ""),
                                owner=owners.get(r["customer"])))
    return items


def agenda(store: Store, owner: str | None = None, days: int = 7, today: date | None = None,
           problems: list[str] | None = None, *, only: Collection[str] | None = None,
           index: Index | None = None) -> list[AgendaItem]:
    """Overdue tasks, then each day's tasks, lapsing contact cadences, renewals and birthdays.

    Each unreadable customer's problem (``path:line: problem``) is appended to ``problems``.
    ``only``: the items of these customers alone (items not about one customer, such as holidays, are left
    out); every item is about one customer and made from its records alone, so the agenda of a store is the
    agenda of each of its customers, ordered by ``sort_items`` (what the web view's home page keeps up to
    date customer by customer). ``index``: an open, caught-up index to read through."""
    now = dates.now()
    if today is not None and today != now.date():
        now = dates.parse_when(today.isoformat())
    start, end = now.date(), now.date() + timedelta(days=max(days, 1))
    types = set(store.config.interaction_types)
    wanted = None if only is None else set(only)
    if index is not None:
        return _agenda(index, owner, now, start, end, types, problems, wanted)
    with open_index(store) as opened:
        return _agenda(opened, owner, now, start, end, types, problems, wanted)


def sort_items(items: list[AgendaItem]) -> list[AgendaItem]:
    """The agenda's order: overdue first, then by day, time, kind and customer name."""
    return sorted(items, key=lambda i: (not i.overdue, i.day, i.time or "99", _KIND_ORDER.get(i.kind, 9), i.name))


def _agenda(index: Index, owner: str | None, now: datetime, start: date, end: date,
            types: set[str], problems: list[str] | None = None, only: set[str] | None = None) -> list[AgendaItem]:
    items = _renewals(index, start, end, owner, only)
    store = index.store
    rules = Rules.from_config(store.config)
    # Only customers with an open task due soon, a contact cadence or a birthday can have an item.
    # A problem row comes back whatever the filter: this one call names every unreadable customer.
    # With care rules every customer may have a care item: the store's customers are read once, for both.
    # ``only``: the customers to look at (the site remakes the agenda items of the customers that changed).
    wanted = index.tasks_due_before(end) | index.profiles_with("touch_every", "birthday")
    if only is not None:
        wanted &= only
    everyone = index.customers(problems=problems, only=only) if store.config.get("care") is not None else None
    profiles = ([c for c in everyone if c.id in wanted] if everyone is not None
                else index.customers(problems=problems, only=wanted))
    # Open tasks with a due day: from their folded rows (the files of a journal the index cannot hold)
    window = (end + timedelta(days=2)).isoformat()  # ``due`` is the day as written: a time zone's slack
    tasks = {journal.cid: found for journal, _, found in
             records_with(index, "tasks", fold_indexed_tasks, "done = 0 AND due IS NOT NULL AND due < ?", (window,))}
    # A birthday in the window is cleared by an interaction (as crm care says): only then, or for a
    # contact cadence, is the customer's journal read.
    born_first = {c.id: birthdays_due(c, None, types, rules, start, end)
                  for c in profiles if same_name(c.get("owner"), owner)}
    journals = index.journal_rows(c.id for c in profiles
                                  if c.id in born_first and (c.get("touch_every") or born_first[c.id] is None))
    for c in profiles:
        mine = c.id in born_first
        for t in tasks.get(c.id, ()):
            if t.done or t.due is None or not same_name(t.owner, owner):
                continue
            day = due_day(t.due)
            if day < end:
                clock = dates.to_local(t.due).strftime("%H:%M") if isinstance(t.due, datetime) else None
                items.append(AgendaItem(day, day < start, "task", c.id, c.name, t.text,
                                        ref=t.ref, time=clock, owner=t.owner))
        if not mine:
            continue
        born = born_first[c.id]
        entries = indexed_dicts(index, c.id, journals.get(c.id, [])) \
            if c.get("touch_every") or born is None else []
        if c.get("touch_every"):
            item = _touch(c, entries, types, now, end)
            if item is not None:
                items.append(item)
        if born is None:  # a birthday in the window: cleared by an interaction, as crm care says
            born = birthdays_due(c, entries, types, rules, start, end) or []
        items += [AgendaItem(**agenda_entry(i, start)) for i in born]
    items += [AgendaItem(**fields) for fields in care_agenda(store, start, end, owner, everyone)  # care rules
              if only is None or fields.get("customer") in only]
    leads = index.customers(fields={"stage": "lead"}, only=only)
    items += [AgendaItem(**item) for item in first_touch_items(store, leads, owner, now, end)]
    return sort_items(items)
