"""`crm care`: what the care calendar (``crmcli.domain.care``) has due this week; and its items for `crm agenda`.

Each customer's facts (birthdays, orders, first contract, interactions) come from its profile and journal;
journals are parsed only when the rules need them.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from crmcli.analysis.journals import journal_dicts
from crmcli.domain import care, dates
from crmcli.domain.care import CareItem, Facts, Rules
from crmcli.domain.customer import Customer
from crmcli.domain.interactions import event_time, same_name
from crmcli.domain.tasks import read_due
from crmcli.store.index import customer_index
from crmcli.store.store import Store

ORDER = {kind: i for i, kind in enumerate(care.KINDS)}


def _day(value: Any) -> date | None:
    due = read_due(value)
    if isinstance(due, datetime):
        return dates.to_local(due).date()
    return due if isinstance(due, date) else None


def facts(c: Customer, entries: list[dict], types: set[str]) -> Facts:
    people = [(c.name, c.get("birthday"))]
    people += [(str(p.get("name")), p.get("birthday")) for p in c.contacts if isinstance(p, dict)]
    born = [(who, d) for who, raw in people if (d := _day(raw)) is not None and not isinstance(raw, datetime)]
    orders = sorted(d for e in entries if e.get("kind") == "order.add"
                    and (d := _day(str(e.get("date") or e.get("at") or "")[:10])) is not None)
    starts = sorted(d for e in entries if e.get("kind") == "contract.add" and (d := _day(e.get("start"))) is not None)
    contacted = sorted({dates.to_local(t).date() for e in entries
                        if e.get("kind") in types and (t := event_time(e)) is not None})
    tier = c.get("tier")
    return Facts(c.id, c.name, c.get("owner"), str(tier) if tier not in (None, "") else None,
                 _day(c.get("created")), born, orders, starts[0] if starts else None, contacted)


_NEEDLES = (b"order.add", b"contract.add")


def _has(store: Store, cid: str, needles: tuple[bytes, ...]) -> bool:
    for path in store.journal_files(cid):
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        if any(n in raw for n in needles):
            return True
    return False


_LINE = re.compile(rb"^- \{at: '?([0-9][0-9T:+\-.Z]*)'?, kind: ([A-Za-z0-9_.\-]+)([,}].*)$")
_FIELD = {b"order.add": re.compile(rb"[{,] date: '?(\d{4}-\d{2}-\d{2})"),
          b"contract.add": re.compile(rb"[{,] start: '?(\d{4}-\d{2}-\d{2})")}


def _entries(store: Store, cid: str, types: set[str]) -> list[dict]:
    """The events the calendar needs (interactions, orders, contracts) as ``at``/``kind``/day dicts.

    crm writes one event per line, so a line is read without the YAML parser; a file with any other line
    (edited by hand in block style) is parsed whole.
    """
    wanted = {t.encode() for t in types} | set(_FIELD)
    out: list[dict] = []
    for path in store.journal_files(cid):
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        quick: list[dict] = []
        for line in raw.splitlines():
            if not line.strip():
                continue
            m = _LINE.match(line)
            if m is None:
                quick = [e for e in journal_dicts(store, cid) if e.get("kind") in types or
                         str(e.get("kind")).encode() in _FIELD]
                return quick  # every file at once, exactly
            kind = m.group(2)
            if kind not in wanted:
                continue
            event = {"at": m.group(1).decode(), "kind": kind.decode()}
            if kind in _FIELD and (found := _FIELD[kind].search(m.group(3))):
                event["date" if kind == b"order.add" else "start"] = found.group(1).decode()
            quick.append(event)
        out += quick
    return out


def _items(store: Store, rules: Rules, start: date, end: date, owner: str | None, *,
           birthdays: bool, problems: list[str] | None = None,
           customers: list[Customer] | None = None) -> list[CareItem]:
    """Care items of every customer (of ``owner``; ``customers``: the store's, when the caller read them
    already); a journal is parsed only when an item may come of it: the customer has orders or contracts, a
    check-in tier, or a birthday in the window."""
    types = set(store.config.interaction_types)
    tiers = {tier.casefold() for tier, _, _ in rules.checkins}
    out: list[CareItem] = []
    for c in customer_index(store, problems=problems) if customers is None else customers:
        if not same_name(c.get("owner"), owner):
            continue
        bare = facts(c, [], types)
        wanted = ((bare.tier or "").casefold() in tiers or _has(store, c.id, _NEEDLES)
                  or (birthdays and care.customer_items(bare, rules, start, end)))
        f = facts(c, _entries(store, c.id, types), types) if wanted else bare
        out += care.customer_items(f, rules, start, end, birthdays=birthdays)
    return out


def due(store: Store, *, owner: str | None = None, today: date | None = None, days: int | None = None,
        include_done: bool = False, problems: list[str] | None = None) -> tuple[list[CareItem], date, date]:
    """Care items of this week (Monday to Sunday, or ``days`` from today) and undone ones of the look-back.
    Each unreadable customer's problem (``path:line: problem``) is appended to ``problems``.

    Returns (items by kind then day, first day, last day).
    """
    rules = Rules.from_config(store.config)
    today = today or dates.now().date()
    first = today if days else today - timedelta(days=today.weekday())
    end = today + timedelta(days=days) if days else first + timedelta(days=7)
    start = min(first, today - timedelta(days=rules.lookback_days))
    items = _items(store, rules, start, end, owner, birthdays=True, problems=problems)
    items += care.holiday_items(rules, first, end)
    keep = [i for i in items if (i.day >= first or not i.done) and (include_done or not i.done)]
    keep.sort(key=lambda i: (ORDER.get(i.kind, 9), i.day, i.name, i.text))
    return keep, first, end - timedelta(days=1)


def agenda_entry(item: CareItem, start: date) -> dict:
    """A care item as ``crm agenda``'s AgendaItem fields (overdue: before ``start``, today)."""
    return {"day": item.day, "overdue": item.day < start, "kind": item.kind, "customer": item.customer,
            "name": item.name, "text": item.text + (f" — {item.greeting}" if item.greeting else ""),
            "owner": item.owner}


def birthdays_due(c: Customer, entries: list[dict] | None, types: set[str], rules: Rules, start: date,
                  end: date) -> list[CareItem] | None:
    """The undone birthdays of ``c`` for the days ``start``..``end`` (exclusive) and the look-back before,
    by the rule of ``crm care`` (``crmcli.domain.care.birthday_items``). ``entries`` None: the journal is
    not read yet; returns None when the customer may have one (read it, pass its events), else the list."""
    since = start - timedelta(days=rules.lookback_days)
    if not care.birthday_items(facts(c, [], types), rules, since, end):
        return []
    if entries is None:
        return None
    return [i for i in care.birthday_items(facts(c, entries, types), rules, since, end) if not i.done]


def agenda_entries(store: Store, start: date, end: date, owner: str | None,
                   customers: list[Customer] | None = None) -> list[dict]:
    """Undone care items for ``crm agenda`` (birthdays it lists itself, by ``birthdays_due``), as AgendaItem
    fields; ``customers``: every customer of the store, when the agenda read them already."""
    if store.config.get("care") is None:  # no care rules: the agenda reads no more than it did
        return []
    rules = Rules.from_config(store.config)
    since = start - timedelta(days=rules.lookback_days)
    items = (_items(store, rules, since, end, owner, birthdays=False, customers=customers)
             + care.holiday_items(rules, start, end))
    return [agenda_entry(i, start) for i in items if not i.done and (i.kind != "anniversary" or i.day >= start)]
