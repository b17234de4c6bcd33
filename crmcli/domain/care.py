"""The care calendar: birthdays, anniversaries, revisits after orders, check-ins and public holidays, by day.

Rules in ``crm.yaml`` (every key optional)::

    care:
      revisit_after_order: [7, 30]      # a visit 7 and 30 days after each order
      checkins:                         # a check-in this long after the last interaction
      - {tier: A, every: 3m}
      holidays: CN                      # public holidays of this country (the holidays library; lunar ones too)
      clear_days: 3                     # an interaction from this many days before the day on clears an item
      lookback_days: 30                 # undone items stay listed (overdue) this long
      greetings:                        # optional drafts: {name} {customer} {holiday} {years}
        birthday: 生日快乐，{name}！
        holiday: '{holiday}快乐！'

An item is **cleared** by any interaction with its customer logged on or after its day minus ``clear_days``
(and, for a revisit, after the order's day). Check-ins move with the last interaction by themselves. Holidays
belong to no customer and are never cleared. Pure: values in, items out; the holidays library is imported only
when a holiday calendar is named.
"""
from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from crmcli.domain import dates, durations
from crmcli.errors import InvalidRecord

KINDS = ("birthday", "anniversary", "revisit", "checkin", "holiday")
_KEYS = ("revisit_after_order", "checkins", "holidays", "clear_days", "lookback_days", "greetings")


def _fail(message: str) -> InvalidRecord:
    return InvalidRecord(f"crm.yaml: care: {message}")


@dataclass(frozen=True)
class Rules:
    revisit_after_order: tuple[int, ...] = ()
    checkins: tuple[tuple[str, str, int], ...] = ()  # (tier, as written, days)
    holidays: str | None = None
    clear_days: int = 3
    lookback_days: int = 30
    greetings: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Any) -> Rules:
        try:
            data = config.get("care")
        except AttributeError:
            data = None
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise _fail("must be a mapping (revisit_after_order: [7, 30], ...)")
        unknown = [str(k) for k in data if k not in _KEYS]
        if unknown:
            raise _fail(f"unknown key {unknown[0]!r}; use: {', '.join(_KEYS)}")
        days = data.get("revisit_after_order") or []
        if not isinstance(days, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0
                                                 for d in days):
            raise _fail("revisit_after_order must be a list of days, e.g. [7, 30]")
        checkins = []
        for rule in data.get("checkins") or []:
            if not isinstance(rule, dict) or set(rule) != {"tier", "every"}:
                raise _fail("each check-in rule is {tier: A, every: 3m}")
            try:
                every = durations.parse_period(str(rule["every"]))
            except dates.DateError as exc:
                raise _fail(f"check-in every {rule['every']!r}: {exc}") from None
            checkins.append((str(rule["tier"]), str(rule["every"]), max(every.days, 1)))
        country = data.get("holidays")
        if country is not None and (not isinstance(country, str) or not country.strip()):
            raise _fail("holidays must be a country code such as CN")
        numbers = {}
        for key, default in (("clear_days", 3), ("lookback_days", 30)):
            value = data.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise _fail(f"{key} must be a whole number of days")
            numbers[key] = value
        greetings = data.get("greetings") or {}
        if not isinstance(greetings, dict) or any(k not in KINDS or not isinstance(v, str)
                                                  for k, v in greetings.items()):
            raise _fail(f"greetings maps a kind ({', '.join(KINDS)}) to a text")
        for kind, text in greetings.items():
            try:
                list(string.Formatter().parse(text))
            except ValueError as exc:
                raise _fail(f"greetings: {kind}: {exc}") from None
        return cls(tuple(sorted(set(days))), tuple(checkins), country.strip().upper() if country else None,
                   numbers["clear_days"], numbers["lookback_days"], dict(greetings))


@dataclass
class CareItem:
    day: date
    kind: str
    text: str
    customer: str = ""
    name: str = ""
    owner: str | None = None
    done: bool = False
    greeting: str | None = None

    def row(self, today: date) -> dict:
        return {"date": self.day.isoformat(), "kind": self.kind, "customer": self.customer, "name": self.name,
                "text": self.text, "owner": self.owner, "status": "done" if self.done else
                ("overdue" if self.day < today else "due"), "greeting": self.greeting}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def greeting(rules: Rules, kind: str, **values: Any) -> str | None:
    template = rules.greetings.get(kind)
    if not template:
        return None
    try:
        return template.format_map(_Blank({k: "" if v is None else v for k, v in values.items()}))
    except (ValueError, IndexError, AttributeError):
        return template


@dataclass
class Facts:
    """What the calendar needs of one customer."""

    id: str
    name: str
    owner: str | None = None
    tier: str | None = None
    created: date | None = None
    people: list[tuple[str, date]] = field(default_factory=list)  # (who, birthday)
    orders: list[date] = field(default_factory=list)
    signed: date | None = None  # the first contract's start
    contacted: list[date] = field(default_factory=list)  # local days of interactions


def _yearly(origin: date, start: date, end: date) -> Iterable[date]:
    for year in range(start.year - 1, end.year + 1):
        try:
            day = origin.replace(year=year)
        except ValueError:  # 29 February in a common year
            day = date(year, 2, 28)
        if start <= day < end and day > origin:
            yield day


def _cleared(f: Facts, rules: Rules, day: date, after: date | None = None) -> bool:
    return any(c >= day - timedelta(days=rules.clear_days) and (after is None or c > after) for c in f.contacted)


def _item(f: Facts, rules: Rules, day: date, kind: str, text: str, after: date | None = None,
          **values: Any) -> CareItem:
    return CareItem(day, kind, text, f.id, f.name, f.owner, _cleared(f, rules, day, after),
                    greeting(rules, kind, customer=f.name, **values))


def birthday_items(f: Facts, rules: Rules, start: date, end: date) -> list[CareItem]:
    """The birthdays of the customer and its contacts with a day in [start, end): the one rule both ``crm care``
    and ``crm agenda`` list by. A birthday is due on its day (29 February: the 28th in a common year); an
    interaction with the customer from ``clear_days`` before it on clears it (done); until then it stays
    listed, overdue, for ``lookback_days`` (the callers start the window that far back)."""
    items = []
    for who, born in f.people:
        for day in _yearly(born, start, end):
            label = who if who == f.name else f"{who} of {f.name}"
            age = f" (turns {day.year - born.year})" if born.year > 1900 else ""
            items.append(_item(f, rules, day, "birthday", f"birthday: {label}{age}", name=who,
                               years=day.year - born.year))
    return items


def customer_items(f: Facts, rules: Rules, start: date, end: date, *, birthdays: bool = True) -> list[CareItem]:
    """The customer's care items with a day in [start, end) (start already includes the look-back)."""
    items: list[CareItem] = birthday_items(f, rules, start, end) if birthdays else []

    def add(day: date, kind: str, text: str, after: date | None = None, **values: Any) -> None:
        items.append(_item(f, rules, day, kind, text, after, **values))

    for origin, what in ((f.signed, "signing"), (min(f.orders, default=None), "first order")):
        if origin is None:
            continue
        for day in _yearly(origin, start, end):
            n = day.year - origin.year
            add(day, "anniversary", f"{n} year{'s' if n != 1 else ''} since {what} ({origin.isoformat()})",
                name=f.name, years=n)
    for ordered in f.orders:
        for n in rules.revisit_after_order:
            day = ordered + timedelta(days=n)
            if start <= day < end:
                add(day, "revisit", f"revisit: {n} days after the order of {ordered.isoformat()}", after=ordered,
                    name=f.name)
    for tier, every, days in rules.checkins:
        if (f.tier or "").casefold() != tier.casefold():
            continue
        last = max(f.contacted, default=None)
        base = last or f.created
        day = base + timedelta(days=days) if base else start
        if day < end:
            since = f"last contact {last.isoformat()}" if last else "never contacted"
            add(day, "checkin", f"check-in (tier {tier}, every {every}): {since}", name=f.name)
    return items


def holiday_items(rules: Rules, start: date, end: date) -> list[CareItem]:
    """The first day of each public holiday of ``rules.holidays`` in [start, end) (substitute days left out)."""
    if not rules.holidays:
        return []
    import holidays  # only when a calendar is named

    try:
        table = holidays.country_holidays(rules.holidays, years=range(start.year, end.year + 1),
                                          language="zh_CN" if rules.holidays == "CN" else None)
    except NotImplementedError:
        raise _fail(f"holidays {rules.holidays!r}: no such country in the holidays library; use a code such "
                    "as CN, HK, TW, SG, US, DE") from None
    out: list[CareItem] = []
    seen: set[tuple[int, str]] = set()
    for day, names in sorted(table.items()):
        for name in str(names).split("; "):
            if "补假" in name or "observed" in name.casefold() or (day.year, name) in seen:
                continue
            seen.add((day.year, name))
            if start <= day < end:
                out.append(CareItem(day, "holiday", f"holiday: {name}", greeting=greeting(rules, "holiday",
                                                                                         holiday=name)))
    return out
