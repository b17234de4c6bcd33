"""Sales: opportunities moving through the pipeline, and the customer's lifecycle.

An opportunity (``opp-xxxx``) lives in its customer's journal as events:
``opp.open`` creates it, ``opp.stage`` moves it, ``opp.set`` edits fields,
``opp.won`` / ``opp.lost`` close it and ``opp.reopen`` opens it again. Its
state is the fold of those events (``Opportunity.from_events``), so every
stage change keeps its time and author, reports can replay the pipeline as it
stood on any past date (``Opportunity.as_of``), and two clones moving deals of
the same customer only append, which git's union merge keeps.

Orders and contracts are in ``crmcli.actions.contract``. Every command here writes
its events, and when the facts call for it the customer's lifecycle stage, in
one transaction (one commit).
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from crmcli.actions.customer import parse_assignment
from crmcli.config import Config
from crmcli.domain import dates
from crmcli.domain.customer import Customer
from crmcli.domain.journal import Entry
from crmcli.errors import InvalidRecord, UsageError, quote
from crmcli.store.refs import entity_events, new_local_id, remember, resolve_entity
from crmcli.store.store import Store

CLOSED = ("won", "lost")
EDITABLE = ["title", "amount", "currency", "close", "owner", "source", "product"]
SYMBOLS = {"CNY": "¥", "RMB": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$"}
# Lifecycle stages that facts move a customer through; others (loyal, churned, custom) are left alone.
LIFECYCLE_RANK = {"lead": 0, "prospect": 1, "customer": 2, "repeat": 3}
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
MAX_AMOUNT = Decimal("1e15")


# -- values ---------------------------------------------------------------------------------------------
def normalize_amount(value: Decimal | float | int) -> int | float:
    """Whole numbers as int, others as float rounded to cents."""
    d = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return int(d) if d == d.to_integral_value() else float(d)


def parse_amount(value: Any, what: str = "amount", currency: str | None = None) -> int | float:
    """A non-negative money amount from text (``120000``, ``120,000``, ``99.50``) or a number.

    A currency symbol in front (``$5``, ``¥5``) must agree with ``currency``: it is checked, never
    silently dropped. Digit groups (``,``, space or ``_``) must be groups of three: ``1,2,3`` is refused.
    """
    if isinstance(value, bool) or value is None:
        raise InvalidRecord(f"{what} {quote(value)} is not a number (like 120000 or 99.50)")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise InvalidRecord(f"{what} {quote(value)} is not a number (like 120000 or 99.50)")
        number = Decimal(str(value))
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        symbol = _SYMBOL_RE.match(text)
        if symbol:
            _check_symbol(symbol[1], value, what, currency)
            text = text[symbol.end():].strip()
        if _GROUP_SEPARATOR.search(text):
            if not _GROUPED_RE.match(text):
                raise InvalidRecord(f"{what} {quote(value)} has digit groups that are not of three; "
                                    "write 1234567.89 or 1,234,567.89")
            text = _GROUP_SEPARATOR.sub("", text)
        if not _NUMBER_RE.match(text):
            raise InvalidRecord(f"{what} {quote(value)} is not a number (like 120000 or 99.50)")
        try:
            number = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern already checked
            raise InvalidRecord(f"{what} {quote(value)} is not a number (like 120000 or 99.50)") from None
    if number < 0:
        raise InvalidRecord(f"{what} {quote(value)} is negative; give 0 or more")
    if number > MAX_AMOUNT:
        raise InvalidRecord(f"{what} {quote(value)} is too large (limit 10^15)")
    return normalize_amount(number)


# currency symbols people type in front of an amount, and the codes each may stand for
SYMBOL_CODES = {"HK$": ("HKD",), "US$": ("USD",), "$": ("USD",), "€": ("EUR",), "£": ("GBP",),
                "¥": ("CNY", "RMB", "JPY")}
_SYMBOL_RE = re.compile(r"(HK\$|US\$|\$|€|£|¥)")
_GROUP_SEPARATOR = re.compile(r"[, _]")
_GROUPED_RE = re.compile(r"^[+-]?\d{1,3}(?:([, _])\d{3})(?:\1\d{3})*(?:\.\d+)?$")


def _check_symbol(symbol: str, value: Any, what: str, currency: str | None) -> None:
    codes = SYMBOL_CODES[symbol]
    if currency is not None and currency.upper() in codes:
        return
    means = " or ".join(codes)
    if currency is None:
        raise InvalidRecord(f"{what} {quote(value)}: {symbol} means {means}; give the number alone "
                            f"and the currency as a code (--currency {codes[0]})")
    raise InvalidRecord(f"{what} {quote(value)}: {symbol} means {means} but the currency is {currency}; "
                        f"give the number alone, or --currency {codes[0]}")


def parse_currency(value: str | None, config: Config) -> str:
    if value is None or not str(value).strip():
        return str(config.get("currency", "CNY"))
    code = str(value).strip().upper()
    if not CURRENCY_RE.match(code):
        raise InvalidRecord(f"currency {value!r} is not a three-letter code (like CNY, USD, EUR)")
    return code


def parse_day(value: str, what: str) -> str:
    """A WHEN read as a day, stored as YYYY-MM-DD."""
    try:
        return dates.parse_date(value).isoformat()
    except dates.DateError as exc:
        raise InvalidRecord(f"{what}: {exc}") from None


def check_text(value: Any, what: str, *, limit: int = 200) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidRecord(f"{what} is empty; give some text")
    if _CONTROL.search(text):
        raise InvalidRecord(f"{what} {text!r} contains control characters; remove them")
    if len(text) > limit:
        raise InvalidRecord(f"{what} is {len(text)} characters long; the limit is {limit}")
    return text


def format_money(amount: Any, currency: str | None = None) -> str:
    if not isinstance(amount, (int, float)) or isinstance(amount, bool):
        return str(amount)
    text = f"{amount:,.2f}" if isinstance(amount, float) and not amount.is_integer() else f"{int(amount):,}"
    symbol = SYMBOLS.get(str(currency or "").upper())
    if symbol:
        return symbol + text
    return f"{text} {currency}" if currency else text


def stage_names(config: Config) -> list[str]:
    return config.stages


def open_stages(config: Config) -> list[str]:
    return [s for s in config.stages if s not in CLOSED]


def check_stage(config: Config, stage: str, *, open_only: bool = False) -> str:
    stage = str(stage).strip().lower()
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


def now_iso() -> str:
    return dates.iso(dates.now())


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
            d = item.data if isinstance(item, Entry) else item
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


def customer_opportunities(journal: list[Entry], cid: str = "") -> list[Opportunity]:
    """All deals in one customer's journal, oldest first."""
    out = []
    for events in entity_events(journal, "opp").values():
        opp = Opportunity.from_events(events, cid)
        if opp is not None:
            out.append(opp)
    return sorted(out, key=lambda o: (o.created, o.id))


# -- lifecycle -----------------------------------------------------------------------------------------
def lifecycle_target(entries: list[Entry]) -> str | None:
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


def lifecycle_change(config: Config, customer: Customer, entries: list[Entry]) -> tuple[str, str] | None:
    """(from, to) when the facts move the customer forward; never backwards, never from loyal/churned."""
    target = lifecycle_target(entries)
    current = str(customer.get("stage") or "lead")
    if target is None or target not in config.lifecycle_stages or current not in LIFECYCLE_RANK:
        return None
    return (current, target) if LIFECYCLE_RANK[target] > LIFECYCLE_RANK[current] else None


@dataclass
class Outcome:
    """What a sales command changed, for the CLI to report."""

    cid: str
    name: str
    message: str
    events: list[dict]
    opp: Opportunity | None = None
    lifecycle: tuple[str, str] | None = None


def event(store: Store, kind: str, *, id: str | None = None, opp: str | None = None, **fields: Any) -> dict:
    """A journal entry in the documented key order, empty optional fields left out."""
    out: dict[str, Any] = {"at": now_iso(), "kind": kind}
    if id:
        out["id"] = id
    if opp:
        out["opp"] = opp
    out["by"] = store.user()
    for key, value in fields.items():
        if value is not None and value != "":
            out[key] = value
    return out


def commit_events(store: Store, cid: str, customer: Customer, journal: list[Entry], new: list[dict],
                  message: str, action: str, opp: Opportunity | None = None) -> Outcome:
    """Append ``new`` and move the lifecycle forward if due, in one transaction."""
    entries = list(journal) + [Entry(e, "", i) for i, e in enumerate(new)]
    change = lifecycle_change(store.config, customer, entries)
    full = message
    if change:
        full += f"\n\nLifecycle: {change[0]} -> {change[1]}"
        customer.data["stage"] = change[1]
    with store.transaction(full, action=action, customer=cid) as tx:
        if len(store.load_journal(cid)) != len(journal):  # another command wrote in between: do not guess
            raise InvalidRecord(f"{customer.name}'s journal changed while this command ran; run it again")
        for e in new:
            tx.append_entry(cid, e)
        if change:
            tx.write_customer(customer)
    if opp is not None:
        opp = Opportunity.from_events(opp.events + [e for e in new if e.get("opp") == opp.id], cid) or opp
        opp.customer_name = customer.name
    return Outcome(cid, customer.name, message, new, opp, change)


def load_opportunity(store: Store, ref: str) -> tuple[str, Customer, Opportunity, list[Entry]]:
    cid, oid, journal = resolve_entity(store, ref, "opp")
    opp = Opportunity.from_events(entity_events(journal, "opp").get(oid, []), cid)
    if opp is None:
        raise InvalidRecord(f"{cid}/{oid} has events but no opp.open; run crm check")
    customer = store.load_customer(cid, validate=False)
    opp.customer_name = customer.name
    return cid, customer, opp, journal


# -- commands ----------------------------------------------------------------------------------------
def add_opportunity(store: Store, customer_ref: str, title: str, *, amount: Any, currency: str | None = None,
                    close: str | None = None, stage: str | None = None, owner: str | None = None,
                    source: str | None = None, product: str | None = None) -> Outcome:
    config = store.config
    title = check_text(title, "title")
    code = parse_currency(currency, config)
    value = parse_amount(amount, currency=code)
    stage = check_stage(config, stage, open_only=True) if stage else open_stages(config)[0]
    close_day = parse_day(close, "--close") if close else None
    cid = store.resolve(customer_ref)
    customer = store.load_customer(cid, validate=False)
    journal = store.load_journal(cid)
    oid = new_local_id(entity_events(journal, "opp"), "opp")
    new = event(store, "opp.open", id=oid, title=title, amount=value, currency=code, stage=stage,
                close=close_day, owner=(owner or "").strip() or store.user(), source=(source or "").strip(),
                product=(product or "").strip())
    opp = Opportunity.from_events([new], cid)
    assert opp is not None
    message = f"Open opportunity {oid} for {customer.name}: {title} ({format_money(value, code)})"
    outcome = commit_events(store, cid, customer, journal, [new], message, "opp.open", opp)
    remember(store, cid, oid)
    return outcome


def _require_open(opp: Opportunity) -> None:
    if not opp.is_open:
        raise InvalidRecord(f"{opp.id} ({opp.title}) is already {opp.stage}; reopen it first: "
                            f"crm opp reopen {opp.ref}")


def advance(store: Store, ref: str, to: str | None = None) -> Outcome:
    """Move a deal to ``to`` (default: the next open stage); a jump or a step back is allowed."""
    config = store.config
    target = check_stage(config, to) if to else None
    cid, customer, opp, journal = load_opportunity(store, ref)
    _require_open(opp)
    if target is None:
        target = next_stage(config, opp.stage)
        if target is None:
            raise UsageError(f"{opp.id} is at {opp.stage}, the last open stage; close it with "
                             f"crm opp win {opp.ref} or crm opp lose {opp.ref} --reason TEXT")
    if target == "won":
        return _win(store, cid, customer, opp, journal)
    if target == "lost":
        raise UsageError(f"losing a deal needs a reason: crm opp lose {opp.ref} --reason TEXT")
    if target == opp.stage:
        raise InvalidRecord(f"{opp.id} is already at {target}")
    names = config.stages
    back = opp.stage in names and names.index(target) < names.index(opp.stage)
    new = event(store, "opp.stage", opp=opp.id, **{"from": opp.stage, "to": target}, title=opp.title)
    verb = f"Move {opp.id} of {customer.name} back" if back else f"Advance {opp.id} of {customer.name}"
    return commit_events(store, cid, customer, journal, [new], f"{verb}: {opp.stage} -> {target}",
                         "opp.stage", opp)


def win(store: Store, ref: str, *, amount: Any = None, order: bool = False) -> Outcome:
    cid, customer, opp, journal = load_opportunity(store, ref)
    return _win(store, cid, customer, opp, journal, amount=amount, order=order)


def _win(store: Store, cid: str, customer: Customer, opp: Opportunity, journal: list[Entry], *,
         amount: Any = None, order: bool = False) -> Outcome:
    value = parse_amount(amount, currency=opp.currency) if amount is not None else opp.amount
    _require_open(opp)
    new = [event(store, "opp.won", opp=opp.id, amount=value, currency=opp.currency, title=opp.title)]
    money = format_money(value, opp.currency)
    message = f"Win {opp.id} of {customer.name}: {opp.title} ({money})"
    if order:
        new.append(event(store, "order.add", date=dates.now().date().isoformat(), amount=value,
                         currency=opp.currency, product=opp.product, opp=opp.id))
        message += " with an order"
    return commit_events(store, cid, customer, journal, new, message, "opp.won", opp)


def lose(store: Store, ref: str, *, reason: str | None) -> Outcome:
    if reason is None or not str(reason).strip():
        raise InvalidRecord("losing a deal needs a reason: --reason TEXT (e.g. --reason 'price too high')")
    text = check_text(reason, "reason", limit=2000)
    cid, customer, opp, journal = load_opportunity(store, ref)
    _require_open(opp)
    new = event(store, "opp.lost", opp=opp.id, title=opp.title, reason=text)
    short = text.splitlines()[0][:60]
    return commit_events(store, cid, customer, journal, [new],
                         f"Lose {opp.id} of {customer.name}: {opp.title} ({short})", "opp.lost", opp)


def reopen(store: Store, ref: str, *, stage: str | None = None) -> Outcome:
    config = store.config
    target = check_stage(config, stage, open_only=True) if stage else None
    cid, customer, opp, journal = load_opportunity(store, ref)
    if opp.is_open:
        raise InvalidRecord(f"{opp.id} ({opp.title}) is open at {opp.stage}; only won or lost deals reopen")
    target = target or opp.reopen_stage(config)
    new = event(store, "opp.reopen", opp=opp.id, stage=target, title=opp.title)
    return commit_events(store, cid, customer, journal, [new],
                         f"Reopen {opp.id} of {customer.name} at {target}", "opp.reopen", opp)


def edit_opportunity(store: Store, ref: str, assignments: list[str] | list[tuple[str, str]]) -> Outcome | None:
    """Apply ``FIELD=VALUE`` changes (``FIELD=`` clears); None when nothing changes."""
    config = store.config
    pairs = [parse_assignment(a) if isinstance(a, str) else a for a in assignments]
    if not pairs:
        raise UsageError(f"nothing to change; give --set FIELD=VALUE ({', '.join(EDITABLE)})")
    cid, customer, opp, journal = load_opportunity(store, ref)
    changes: dict[str, Any] = {}
    for key, raw in pairs:
        key = key.strip().lower()
        if key == "stage":
            raise UsageError("change the stage with crm opp advance, win, lose or reopen")
        if key not in EDITABLE:
            raise UsageError(f"--set {key}: unknown field; fields: {', '.join(EDITABLE)}")
        if raw == "" and key in ("title", "amount", "currency"):
            raise InvalidRecord(f"{key} cannot be cleared")
        value: Any
        if raw == "":
            value = None
        elif key == "title":
            value = check_text(raw, "title")
        elif key == "amount":
            new_currency = dict(pairs).get("currency", "").strip().upper() or opp.currency
            value = parse_amount(raw, currency=new_currency)
        elif key == "currency":
            value = parse_currency(raw, config)
        elif key == "close":
            value = parse_day(raw, "close")
        else:
            value = check_text(raw, key)
        if getattr(opp, key) != value:
            changes[key] = value
    if not changes:
        return None
    new = event(store, "opp.set", opp=opp.id, changes=changes)
    summary = ", ".join(f"{k} {'cleared' if v is None else v}" for k, v in changes.items())
    return commit_events(store, cid, customer, journal, [new], f"Edit {opp.id} of {customer.name}: {summary}",
                         "opp.set", opp)


# -- reading many ------------------------------------------------------------------------------------
def customers_with(store: Store, marker: bytes) -> Iterator[str]:
    """Customers whose journal text mentions ``marker`` (a cheap pre-filter before parsing YAML)."""
    for cid in store.customer_ids():
        for path in store.journal_files(cid):
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if marker in data:
                yield cid
                break


@dataclass
class OppFilter:
    stage: str | None = None
    owner: str | None = None
    open_only: bool = False
    closing_before: str | None = None  # WHEN; deals with a close date on or before that day
    customer: str | None = None


def list_opportunities(store: Store, flt: OppFilter | None = None) -> list[Opportunity]:
    """Deals across the store matching ``flt``, by close date (undated last), then customer."""
    flt = flt or OppFilter()
    stage = check_stage(store.config, flt.stage) if flt.stage else None
    before = parse_day(flt.closing_before, "--closing-before") if flt.closing_before else None
    cids: Iterable[str] = [store.resolve(flt.customer)] if flt.customer else customers_with(store, b"opp-")
    out = []
    for cid in cids:
        name = None
        for opp in customer_opportunities(store.load_journal(cid), cid):
            if stage and opp.stage != stage:
                continue
            if flt.open_only and not opp.is_open:
                continue
            if flt.owner and (opp.owner or "").casefold() != flt.owner.strip().casefold():
                continue
            if before and not (opp.close and opp.close <= before):
                continue
            if name is None:
                name = store.load_customer(cid, validate=False).name
            opp.customer_name = name
            out.append(opp)
    return sorted(out, key=lambda o: (o.close is None, o.close or "", o.customer_name.casefold(), o.id))


class Board(list):
    """Rows of ``pipeline_board``; ``skipped`` counts open deals in other currencies."""

    currency: str = ""
    skipped: dict[str, int]


def pipeline_board(store: Store, owner: str | None = None, *, currency: str | None = None,
                   as_of: datetime | date | str | None = None) -> Board:
    """Open deals per stage: count, total and weighted amount (in one currency), in pipeline order.

    ``as_of`` replays the journal up to that moment (a day means its end).
    """
    config = store.config
    code = parse_currency(currency, config)
    rows = {s: {"stage": s, "probability": stage_info(config, s).get("probability", 0),
                "category": stage_info(config, s).get("category", ""), "count": 0,
                "total": Decimal(0), "weighted": Decimal(0)} for s in open_stages(config)}
    board = Board()
    board.currency, board.skipped = code, {}
    for cid in customers_with(store, b"opp-"):
        for opp in customer_opportunities(store.load_journal(cid), cid):
            state = opp.as_of(as_of) if as_of is not None else opp
            if state is None or not state.is_open or state.stage not in rows:
                continue
            if owner and (state.owner or "").casefold() != owner.strip().casefold():
                continue
            if state.currency != code:
                board.skipped[state.currency] = board.skipped.get(state.currency, 0) + 1
                continue
            row = rows[state.stage]
            row["count"] += 1
            row["total"] += Decimal(str(state.amount))
            row["weighted"] += Decimal(str(state.amount)) * Decimal(str(row["probability"])) / 100
    for row in rows.values():
        row["total"] = normalize_amount(row["total"])
        row["weighted"] = normalize_amount(row["weighted"])
        board.append(row)
    return board


# Validation and descriptions of the journal kinds (opp.*, order.add, contract.add) register on import,
# and orders and contracts live next door; crmcli.domain.kinds loads only this module.
from crmcli.actions import contract as _contracts  # noqa: E402,F401
from crmcli.domain import deals as _sales_events  # noqa: E402,F401
