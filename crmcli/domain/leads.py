"""Leads: assignment rules (``leads`` in crm.yaml), the ``lead.assign`` event, and the first-touch clock.

``leads.assign`` is a list of rules; the first whose ``match`` fits a lead decides its owner: ``owner: NAME``,
or ``team: [A, B, ...]`` shared ``round-robin`` (after whoever that rule gave the last lead) or by ``load``
(the fewest open leads). ``match`` maps a customer field (or a free ``extra`` field, like ``territory``) to a
value or a list of values, compared without case. Pure: values in, decisions, events and dates out.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from crmcli.domain import dates
from crmcli.domain.customer import check_timestamp, normalize_name
from crmcli.domain.journal import EventKind, Issues
from crmcli.errors import InvalidRecord

METHODS = ("round-robin", "load")
DEFAULT_FIRST_TOUCH_DAYS = 3
STEPS = ("lead", "contacted", "opportunity", "won")  # the funnel (crmcli.analysis.growth.funnel_days)


@dataclass(frozen=True)
class Rule:
    """One assignment rule: when ``match`` fits, the lead goes to ``owner`` or to one of ``team``."""

    number: int
    match: tuple[tuple[str, tuple[str, ...]], ...] = ()
    team: tuple[str, ...] = ()
    method: str = "round-robin"

    @property
    def label(self) -> str:
        """``rule 2 (source=webinar)``: how the events and the plan name the rule."""
        cond = ", ".join(f"{k}={'|'.join(v)}" for k, v in self.match) or "any lead"
        return f"rule {self.number} ({cond})"

    def fits(self, customer: dict) -> bool:
        return all(normalize_name(field_value(customer, key)) in {normalize_name(v) for v in values}
                   for key, values in self.match)


@dataclass
class Settings:
    rules: list[Rule] = field(default_factory=list)
    first_touch_days: int = DEFAULT_FIRST_TOUCH_DAYS


def field_value(customer: dict, key: str) -> str:
    """A customer's field as text for matching: top level first, then ``extra`` (``extra.x`` or ``x``)."""
    name = key[len("extra."):] if key.startswith("extra.") else key
    value = customer.get(key) if not key.startswith("extra.") else None
    extra = customer.get("extra")
    if value in (None, "") and isinstance(extra, dict):
        value = extra.get(name)
    return "" if value is None else str(value)


def settings(section: Any, where: str = "crm.yaml") -> Settings:
    """The ``leads`` section of crm.yaml, checked; a bad rule raises InvalidRecord naming it."""
    if section is None:
        return Settings()
    if not isinstance(section, dict):
        raise InvalidRecord(f"{where}: leads must be a mapping (first_touch_days, assign)")
    days = section.get("first_touch_days", DEFAULT_FIRST_TOUCH_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise InvalidRecord(f"{where}: leads first_touch_days must be a whole number of days, 1 or more")
    raw = section.get("assign") or []
    if not isinstance(raw, list):
        raise InvalidRecord(f"{where}: leads assign must be a list of rules ({{match, owner}} or {{match, team}})")
    return Settings([_rule(i, r, where) for i, r in enumerate(raw, 1)], days)


def _rule(number: int, raw: Any, where: str) -> Rule:
    def fail(message: str) -> InvalidRecord:
        return InvalidRecord(f"{where}: leads assign rule {number}: {message}")

    if not isinstance(raw, dict):
        raise fail("must be a mapping like {match: {source: web}, team: [Alice, Bob]}")
    unknown = set(raw) - {"match", "owner", "team", "method"}
    if unknown:
        raise fail(f"unknown key {sorted(unknown)[0]!r}; use match, owner, team, method")
    match = raw.get("match") or {}
    if not isinstance(match, dict):
        raise fail("match must map fields to values, like {territory: north}")
    pairs = []
    for key, value in match.items():
        values = value if isinstance(value, list) else [value]
        if not values or any(v is None or isinstance(v, (dict, list)) for v in values):
            raise fail(f"match {key}: give a value or a list of values")
        pairs.append((str(key), tuple(str(v) for v in values)))
    owner, team = raw.get("owner"), raw.get("team")
    if (owner is None) == (team is None):
        raise fail("give either owner: NAME or team: [NAMES]")
    members = [owner] if owner is not None else team
    if not isinstance(members, list) or not members or not all(isinstance(m, str) and m.strip() for m in members):
        raise fail("team must be a non-empty list of names")
    method = raw.get("method", "round-robin")
    if method not in METHODS:
        raise fail(f"method {method!r} is not one of: {', '.join(METHODS)}")
    return Rule(number, tuple(pairs), tuple(m.strip() for m in members), method)


# -- assignment ------------------------------------------------------------------------------------
@dataclass
class Assignment:
    customer: str
    name: str
    owner: str
    rule: str


def is_unowned_lead(customer: dict) -> bool:
    return customer.get("stage") == "lead" and not str(customer.get("owner") or "").strip()


def plan(leads: Iterable[tuple[str, dict]], rules: list[Rule], *, last: dict[str, str],
         load: dict[str, int]) -> tuple[list[Assignment], list[tuple[str, str]]]:
    """Owners for ``leads`` (id, profile) in the order given: (assignments, [(id, name) no rule fits]).

    ``last`` maps a rule's label to the owner it gave its previous lead (round-robin goes on after them);
    ``load`` counts each person's open leads (load picks the fewest; ties go to the first in the team).
    Both are updated as leads are given out.
    """
    done: list[Assignment] = []
    unmatched: list[tuple[str, str]] = []
    for cid, profile in leads:
        rule = next((r for r in rules if r.fits(profile)), None)
        if rule is None:
            unmatched.append((cid, str(profile.get("name", cid))))
            continue
        team = list(rule.team)
        if rule.method == "load":
            owner = min(team, key=lambda m: (load.get(normalize_name(m), 0), team.index(m)))
        else:
            before = [i for i, m in enumerate(team) if normalize_name(m) == normalize_name(last.get(rule.label, ""))]
            owner = team[(before[0] + 1) % len(team)] if before else team[0]
        last[rule.label] = owner
        load[normalize_name(owner)] = load.get(normalize_name(owner), 0) + 1
        done.append(Assignment(cid, str(profile.get("name", cid)), owner, rule.label))
    return done, unmatched


def assign_entry(at: str, by: str, owner: str, rule: str) -> dict:
    """A ``lead.assign`` event: who the lead went to, and by which rule."""
    return {"at": at, "kind": "lead.assign", "by": by, "owner": owner, "rule": rule}


def _validate(entry: dict, config: Any) -> Issues:
    issues: Issues = []
    if msg := check_timestamp(entry.get("at"), "at"):
        issues.append((("at",), msg))
    for key in ("owner", "rule"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            issues.append(((key,), f"lead.assign needs {key} (text)"))
    return issues


def _describe(entry: dict) -> str:
    return f"lead assigned to {entry.get('owner')}" + (f" by {entry['rule']}" if entry.get("rule") else "")


EVENT_KINDS: tuple[EventKind, ...] = (EventKind("lead.assign", validate=_validate, describe=_describe),)


# -- first touch and the funnel ----------------------------------------------------------------------
def _local_day(value: Any) -> date | None:
    try:
        return dates.to_local(dates.parse_iso(str(value))).date()
    except (dates.DateError, ValueError, OverflowError):
        return None


def is_interaction(kind: Any) -> bool:
    return isinstance(kind, str) and bool(kind) and "." not in kind


def first_touch_start(created: Any, events: Iterable[dict]) -> tuple[datetime | None, bool]:
    """(when the first-touch clock started, touched since?): the clock starts at the latest ``lead.assign``,
    else at creation; without an assignment any interaction counts (history imported with the lead)."""
    start = None
    with_at = [(e, dates.parse_iso(str(e["at"]))) for e in events if _local_day(e.get("at")) is not None]
    for e, at in with_at:
        if e.get("kind") == "lead.assign" and (start is None or at > start):
            start = at
    assigned = start is not None
    if start is None and _local_day(created) is not None:
        start = dates.parse_iso(str(created))
    touched = any(is_interaction(e.get("kind")) and (not assigned or at >= start)  # type: ignore[operator]
                  for e, at in with_at)
    return start, touched
