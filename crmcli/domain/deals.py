"""Deals: the pipeline's stages, the Opportunity folded from its journal events, and the lifecycle rules.

An opportunity (``opp-xxxx``) lives in its customer's journal as events: ``opp.open`` creates it,
``opp.stage`` moves it, ``opp.set`` edits fields, ``opp.won`` / ``opp.lost`` close it and ``opp.reopen``
opens it again. Its state is the fold of those events (``Opportunity.from_events``), so every stage
change keeps its time and author, and reports can replay the pipeline as it stood on any past date
(``Opportunity.as_of``). ``EVENT_KINDS`` validates the ``opp.*`` kinds for ``crm check`` and describes
them for the timeline.

Pure: takes a Config and values (journal entries: dicts, or objects with ``.data``), returns values.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from crmcli.config import Config
from crmcli.domain import dates
from crmcli.domain.customer import Customer, check_date
from crmcli.domain.journal import Entry, EventKind, Issues, entity_events
from crmcli.domain.money import CURRENCY_RE, format_money, normalize_amount, parse_amount
from crmcli.errors import FieldError, InvalidRecord

CLOSED = ("won", "lost")
EDITABLE = ["title", "amount", "currency", "close", "owner", "source", "product"]
# Lifecycle stages that facts move a customer through; others (loyal, churned, custom) are left alone.
LIFECYCLE_RANK = {"lead": 0, "prospect": 1, "customer": 2, "repeat": 3}



# -- values -------------------------------------------------------------------------------------------
def parse_day(value: str, field: str) -> str:
    """A WHEN read as a day, stored as YYYY-MM-DD; a FieldError naming ``field`` when it is no day."""
    try:
        return dates.parse_date(value).isoformat()
    except dates.DateError as exc:
        raise FieldError(f"{{{field}}}: {{reason}}", reason=str(exc)) from None


def stage_names(config: Config) -> list[str]:
    return config.stages


def open_stages(config: Config) -> list[str]:
    return [s for s in config.stages if s not in CLOSED]


def check_stage(config: Config, stage: str, *, open_only: bool = False) -> str:
    """The stage named (case does not matter), as crm.yaml spells it; commands and the importer alike."""
    text = str(stage).strip()
    stage = next((s for s in config.stages if s.casefold() == text.casefold()), text.lower())
    names = open_stages(config) if open_only else config.stages
    if stage not in names:
        if open_only and stage in CLOSED:
            raise InvalidRecord(f"stage {stage!r} closes a deal; open it at one of: {', '.join(names)} "
                                f"and close it with crm opp win / crm opp lose")
        raise InvalidRecord(f"unknown stage {stage!r}; stages: {', '.join(names)}")
    return stage


def stage_info(config: Config, stage: str) -> dict:
    for s in config["pipeline"]:
        if isinstance(s, dict) and s.get("stage") == stage:
            return s
    return {"stage": stage, "probability": 0, "category": ""}


def next_stage(config: Config, stage: str) -> str | None:
    names = open_stages(config)
    if stage in names and names.index(stage) + 1 < len(names):
        return names[names.index(stage) + 1]
    return None


def _timestamp(at: Any) -> datetime | None:
    try:
        return dates.parse_iso(str(at))
    except dates.DateError:
        return None


def _cutoff(when: datetime | date | str) -> datetime:
    """A moment: datetimes as given, a day (or YYYY-MM-DD) as its last second in local time."""
    if isinstance(when, str):
        return dates.parse_when(when, date_only_time=time(23, 59, 59))
    if isinstance(when, datetime):
        return dates.to_local(when)
    return dates.to_local(datetime.combine(when, time(23, 59, 59)))


# -- the opportunity ----------------------------------------------------------------------------------
@dataclass
class Opportunity:
    """One deal, folded from its journal events."""

    id: str
    customer: str = ""
    title: str = ""
    amount: int | float = 0
    currency: str = ""
    stage: str = ""
    close: str | None = None
    owner: str | None = None
    source: str | None = None
    product: str | None = None
    created: str = ""
    created_by: str = ""
    closed_at: str | None = None
    reason: str | None = None
    history: list[tuple[str, str, str | None, str]] = field(default_factory=list)  # (at, by, from, to)
    events: list[dict] = field(default_factory=list, repr=False)
    customer_name: str = ""

    @classmethod
    def from_events(cls, events: Iterable[Entry | dict], customer: str = "") -> Opportunity | None:
        """Fold events (oldest first); None when there is no ``opp.open`` among them."""
        opp: Opportunity | None = None
        for item in events:
            d = item if isinstance(item, dict) else item.data
            kind = d.get("kind")
            at, by = str(d.get("at", "")), str(d.get("by", ""))
            if kind == "opp.open":
                opp = cls(id=str(d.get("id", "")), customer=customer, title=str(d.get("title", "")),
                          amount=_number(d.get("amount")), currency=str(d.get("currency", "") or ""),
                          stage=str(d.get("stage", "")), close=_opt(d.get("close")), owner=_opt(d.get("owner")),
                          source=_opt(d.get("source")), product=_opt(d.get("product")), created=at,
                          created_by=by)
                opp.history.append((at, by, None, opp.stage))
                opp.events.append(d)
                continue
            if opp is None:
                continue
            opp.events.append(d)
            if kind == "opp.stage":
                opp._move(at, by, str(d.get("to", "")))
            elif kind == "opp.set":
                changes = d.get("changes")
                for key, value in (changes.items() if isinstance(changes, dict) else []):
                    if key == "amount":
                        opp.amount = _number(value)
                    elif key in EDITABLE:
                        setattr(opp, key, _opt(value) if key != "title" else str(value))
            elif kind == "opp.won":
                if d.get("amount") is not None:
                    opp.amount = _number(d.get("amount"))
                opp._move(at, by, "won")
            elif kind == "opp.lost":
                opp._move(at, by, "lost")
                opp.reason = _opt(d.get("reason"))
            elif kind == "opp.reopen":
                opp._move(at, by, str(d.get("stage", "")))
        return opp

    def _move(self, at: str, by: str, to: str) -> None:
        self.history.append((at, by, self.stage, to))
        self.stage = to
        self.closed_at = at if to in CLOSED else None
        if to != "lost":
            self.reason = None

    @property
    def is_open(self) -> bool:
        return self.stage not in CLOSED

    @property
    def ref(self) -> str:
        return f"{self.customer}/{self.id}" if self.customer else self.id

    def probability(self, config: Config) -> int | float:
        p = stage_info(config, self.stage).get("probability", 0)
        return p if isinstance(p, (int, float)) else 0

    def category(self, config: Config) -> str:
        return str(stage_info(config, self.stage).get("category", "") or "")

    def weighted(self, config: Config) -> int | float:
        return normalize_amount(Decimal(str(self.amount)) * Decimal(str(self.probability(config))) / 100)

    def as_of(self, when: datetime | date | str) -> Opportunity | None:
        """The deal as it stood at ``when`` (a day means its end); None if it did not exist yet."""
        cutoff = _cutoff(when)
        kept = [e for e in self.events if (ts := _timestamp(e.get("at"))) is not None and ts <= cutoff]
        past = Opportunity.from_events(kept, self.customer)
        if past is not None:
            past.customer_name = self.customer_name
        return past

    def stage_at(self, when: datetime | date | str) -> str | None:
        past = self.as_of(when)
        return past.stage if past is not None else None

    def reopen_stage(self, config: Config) -> str:
        """The open stage a closed deal was in before it closed."""
        for _, _, before, _ in reversed(self.history):
            if before in open_stages(config):
                return before
        return open_stages(config)[0]

    def to_dict(self, config: Config) -> dict:
        return {
            "id": self.id, "customer": self.customer, "customer_name": self.customer_name, "title": self.title,
            "stage": self.stage, "probability": self.probability(config), "category": self.category(config),
            "amount": self.amount, "currency": self.currency, "weighted": self.weighted(config),
            "close": self.close, "owner": self.owner, "source": self.source, "product": self.product,
            "created": self.created, "created_by": self.created_by, "closed_at": self.closed_at,
            "reason": self.reason,
            "history": [{"at": at, "by": by, "from": a, "to": b} for at, by, a, b in self.history],
        }


def _number(value: Any) -> int | float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    try:
        return parse_amount(value)
    except InvalidRecord:
        return 0


def _opt(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def customer_opportunities(journal: Iterable[Entry], cid: str = "") -> list[Opportunity]:
    """All deals in one customer's journal, oldest first."""
    out = []
    for events in entity_events(journal, "opp").values():
        opp = Opportunity.from_events(events, cid)
        if opp is not None:
            out.append(opp)
    return sorted(out, key=lambda o: (o.created, o.id))


# -- lifecycle -----------------------------------------------------------------------------------------
def lifecycle_target(entries: Sequence[Entry]) -> str | None:
    """Where the facts put a customer: prospect (a deal), customer (a purchase), repeat (two or more).

    A purchase is an order, or a won deal that no order records (``crm opp win --order`` writes both
    for one purchase).
    """
    opps = entity_events(entries, "opp")
    orders = [e.data for e in entries if e.kind == "order.add"]
    ordered = {str(o.get("opp")) for o in orders if o.get("opp")}
    won = [oid for oid, evs in opps.items() if (o := Opportunity.from_events(evs)) and o.stage == "won"]
    purchases = len(orders) + len([oid for oid in won if oid not in ordered])
    if purchases >= 2:
        return "repeat"
    if purchases == 1:
        return "customer"
    return "prospect" if opps else None


def lifecycle_change(config: Config, customer: Customer, entries: Sequence[Entry]) -> tuple[str, str] | None:
    """(from, to) when the facts move the customer forward; never backwards, never from loyal/churned."""
    target = lifecycle_target(entries)
    current = str(customer.get("stage") or "lead")
    if target is None or target not in config.lifecycle_stages or current not in LIFECYCLE_RANK:
        return None
    return (current, target) if LIFECYCLE_RANK[target] > LIFECYCLE_RANK[current] else None


# -- the opp.* journal kinds: validation for crm check, one line each for the timeline -------------------
def check_amount(e: dict, key: str, issues: Issues, *, required: bool = True) -> None:
    if key not in e and not required:
        return
    v = e.get(key)
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
        issues.append(((key,), f"{key} {v!r} must be a number of 0 or more"))


def check_opp_ref(e: dict, key: str, issues: Issues) -> None:
    if not isinstance(e.get(key), str) or not re.fullmatch(r"opp-[0-9a-z]{4,}", e[key]):
        issues.append(((key,), f"{key} {e.get(key)!r} must be an opportunity id like opp-9x2m"))


def _check_stage_field(e: dict, key: str, config: Config, issues: Issues) -> None:
    if e.get(key) not in config.stages:
        issues.append(((key,), f"stage {e.get(key)!r} is not one of: {', '.join(config.stages)}"))


def check_common(e: dict, issues: Issues) -> None:
    if not isinstance(e.get("by"), str) or not e.get("by"):
        issues.append((("by",), "by (who did it) is missing"))
    if "currency" in e and not (isinstance(e["currency"], str) and CURRENCY_RE.match(e["currency"])):
        issues.append((("currency",), f"currency {e['currency']!r} must be a three-letter code like CNY"))


def _validate_open(e: dict, config: Config) -> Issues:
    issues: Issues = []
    check_common(e, issues)
    check_opp_ref(e, "id", issues)
    if not isinstance(e.get("title"), str) or not e["title"].strip():
        issues.append((("title",), "title is missing"))
    check_amount(e, "amount", issues, required=False)  # an open deal may have no amount yet
    _check_stage_field(e, "stage", config, issues)
    if e.get("close") is not None and (msg := check_date(e["close"], "close")):
        issues.append((("close",), msg))
    return issues


def _validate_stage(e: dict, config: Config) -> Issues:
    issues: Issues = []
    check_common(e, issues)
    check_opp_ref(e, "opp", issues)
    _check_stage_field(e, "from", config, issues)
    _check_stage_field(e, "to", config, issues)
    return issues


def _validate_set(e: dict, config: Config) -> Issues:
    issues: Issues = []
    check_common(e, issues)
    check_opp_ref(e, "opp", issues)
    changes = e.get("changes")
    if not isinstance(changes, dict) or not changes:
        return issues + [(("changes",), "changes must map fields to their new values")]
    for key, value in changes.items():
        if key not in EDITABLE:
            issues.append((("changes", key), f"{key} is not an opportunity field ({', '.join(EDITABLE)})"))
        elif key == "amount":
            check_amount(changes, "amount", issues)
        elif key == "close" and value is not None and (msg := check_date(value, "close")):
            issues.append((("changes", key), msg))
    return issues


def _validate_won(e: dict, config: Config) -> Issues:
    issues: Issues = []
    check_common(e, issues)
    check_opp_ref(e, "opp", issues)
    check_amount(e, "amount", issues, required=False)
    return issues


def _validate_lost(e: dict, config: Config) -> Issues:
    issues = _validate_won(e, config)
    if not isinstance(e.get("reason"), str) or not e["reason"].strip():
        issues.append((("reason",), "reason (why the deal was lost) is missing"))
    return issues


def _validate_reopen(e: dict, config: Config) -> Issues:
    issues: Issues = []
    check_common(e, issues)
    check_opp_ref(e, "opp", issues)
    _check_stage_field(e, "stage", config, issues)
    return issues


def _label(e: dict) -> str:
    return str(e.get("title") or e.get("opp") or e.get("id") or "?")


def _describe_set(e: dict) -> str:
    raw = e.get("changes")
    changes: dict = raw if isinstance(raw, dict) else {}
    parts = [f"{k} {'cleared' if v is None else v}" for k, v in changes.items()]
    return f"edited opp {e.get('opp')}: {', '.join(parts) or 'no change'}"


def _describe_lost(e: dict) -> str:
    reason = str(e.get("reason") or "").strip().splitlines()
    return f"lost {_label(e)}" + (f": {reason[0]}" if reason else "")


EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind("opp.open", validate=_validate_open,
              describe=lambda e: f"opened opp {_label(e)} ({format_money(e.get('amount'), e.get('currency'))}, "
                                 f"{e.get('stage')})"),
    EventKind("opp.stage", validate=_validate_stage,
              describe=lambda e: f"opp {_label(e)}: {e.get('from')} -> {e.get('to')}"),
    EventKind("opp.set", validate=_validate_set, describe=_describe_set),
    EventKind("opp.won", validate=_validate_won,
              describe=lambda e: f"won {_label(e)}" + (f" ({format_money(e['amount'], e.get('currency'))})"
                                                       if e.get("amount") is not None else "")),
    EventKind("opp.lost", validate=_validate_lost, describe=_describe_lost),
    EventKind("opp.reopen", validate=_validate_reopen,
              describe=lambda e: f"reopened opp {_label(e)} at {e.get('stage')}"),
)
