"""The 360-degree overview of one customer (``crm show``), and its health score.

Reads only that customer's folder (profile and journal), the store's config and one query of the index (the
customers it referred), so its cost barely grows with the store. The journal is read once and handed to
the domain libraries: deals
(``crmcli.domain.deals``), tickets and SLA (``crmcli.domain.tickets``), tasks and the timeline's wording
(``crmcli.domain.tasks``, ``crmcli.domain.interactions``), orders and contracts (``crmcli.domain.orders``,
``crmcli.domain.contracts``).
``crmcli.domain.health`` scores it, its loyalty part from points, tiers and referrals (``loyalty_facts``;
``referral_map`` and ``loyalty_map`` give the same facts for a whole list or report).

``customer_overview`` returns plain data (dicts, lists, ISO strings, numbers) for both the text screen
and ``--format json|yaml``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from crmcli.analysis.journals import journal_dicts
from crmcli.config import Config
from crmcli.domain import dates, deals, health, loyalty
from crmcli.domain import tickets as service
from crmcli.domain.contracts import customer_contracts
from crmcli.domain.customer import Customer
from crmcli.domain.interactions import event_time
from crmcli.domain.journal import Entry
from crmcli.domain.kinds import event_parts
from crmcli.domain.money import normalize_amount
from crmcli.domain.orders import customer_orders
from crmcli.domain.tasks import Task, due_text, fold_tasks, read_due, show_due
from crmcli.domain.text import first_line
from crmcli.store.index import open_index
from crmcli.store.store import Store

CORE_FIELDS = ["name", "kind", "industry", "size", "tier", "stage", "owner", "source", "campaign", "referred_by",
               "tags"]


def _moment(today: date | datetime | None) -> datetime:
    """The overview's "now": a datetime as given, a day as its start (local), None as dates.now()."""
    if today is None:
        return dates.now()
    if isinstance(today, datetime):
        return dates.to_local(today)
    current = dates.now()
    return current if current.date() == today else dates.parse_when(today.isoformat())


def _day(moment: datetime | None) -> date | None:
    return dates.to_local(moment).date() if moment is not None else None


def _sum(amounts: list[Any]) -> int | float:
    return normalize_amount(sum((Decimal(str(a)) for a in amounts), Decimal(0)))


@dataclass
class Gathered:
    """A customer's journal folded once by the domain libraries, and the health facts from it."""

    customer: Customer
    journal: list[Entry]
    now: datetime
    opportunities: list[deals.Opportunity] = field(default_factory=list)
    tickets: list[service.Ticket] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    orders: list[dict] = field(default_factory=list)
    contracts: list[dict] = field(default_factory=list)
    revenue: list[tuple[date, str, Any]] = field(default_factory=list)  # (day, currency, amount)
    last_contact: tuple[datetime, dict] | None = None
    facts: health.Facts = field(default_factory=health.Facts)


def _ratings(journal: list[Entry]) -> list[tuple[date, float]]:
    """One rating per survey answer, and per ticket closed with a CSAT that no survey replaced."""
    answers = []
    for e in journal:
        kind, d = e.kind, e.data
        if kind in ("ticket.close", "survey.answer") and (moment := event_time(d)) is not None:
            answers.append((_day(moment) or moment.date(), d.get("csat"),
                            d.get("nps") if kind == "survey.answer" else None, d.get("ticket")))
    return health.ratings_of(answers)


def _revenue(config: Config, opps: list[deals.Opportunity], orders: list[dict]) -> list[tuple[date, str, Any]]:
    """Orders, and won deals no order records (as ``crmcli.domain.deals.lifecycle_target`` counts purchases)."""
    default = str(config.get("currency", "CNY"))
    out: list[tuple[date, str, Any]] = []
    for o in orders:
        try:
            day = date.fromisoformat(str(o["date"])[:10])
        except ValueError:
            continue
        out.append((day, str(o.get("currency") or default), o.get("amount") or 0))
    ordered = {str(o["opp"]) for o in orders if o.get("opp")}
    for opp in opps:
        if opp.stage == "won" and opp.id not in ordered and opp.closed_at:
            moment = event_time({"at": opp.closed_at})
            if moment is not None:
                out.append((_day(moment) or moment.date(), opp.currency or default, opp.amount))
    return sorted(out, key=lambda r: r[0])


def referrals_of(store: Store, cid: str) -> list[tuple[date | None, str]]:
    """(added, id) of every customer whose ``referred_by`` is ``cid``, through the index.

    The index catches up only when HEAD moved since it was last brought up to date (a pull, a commit by hand):
    the full walk of every file's stat data that catching up costs (over a second at 10,000 customers) is not
    for one customer's screen; a profile edited by hand and not committed shows after the next listing."""
    with open_index(store, catch_up=False) as index:
        if index._meta("head") != index._head():
            index.refresh()
        hits = [row[0] for row in index.db.execute(
            "SELECT id FROM customers WHERE problem IS NULL AND (profile IS NULL OR instr(profile, ?) > 0)", (cid,))]
        people = index.customers(only=hits) if hits else []
    return [(_created_day(c), c.id) for c in people if c.get("referred_by") == cid]


def referral_map(store: Store, customers: list[Customer] | None = None) -> dict[str, list[tuple[date | None, str]]]:
    """``referrals_of`` for every customer at once: referrer id -> (added, id) of the customers it referred."""
    if customers is None:
        with open_index(store) as index:
            customers = index.customers(only=index.profiles_with("referred_by"))
    out: dict[str, list[tuple[date | None, str]]] = {}
    for c in customers:
        if isinstance(c.get("referred_by"), str) and c.get("referred_by"):
            out.setdefault(c.get("referred_by"), []).append((_created_day(c), c.id))
    return out


LOYALTY_KINDS_SQL = ("SELECT customer FROM events WHERE kind LIKE 'points.%' OR kind = 'loyalty.tier' "
                     "UNION SELECT customer FROM journals WHERE odd")


def loyalty_map(store: Store) -> dict[str, health.LoyaltyFacts]:
    """``loyalty_facts`` of every loyalty member and referrer, for store-wide scores (``crm report customers``):
    the index names the customers with points or tier events and those named in a ``referred_by``; only their
    journals are read."""
    with open_index(store) as index:
        referred = index.customers(only=index.profiles_with("referred_by"))
        members = {cid for (cid,) in index.db.execute(LOYALTY_KINDS_SQL)}
    refs = referral_map(store, referred)
    out: dict[str, health.LoyaltyFacts] = {}
    for cid in sorted(members | set(refs)):
        events = journal_dicts(store, cid, (b"points.", b"loyalty.tier")) if cid in members else []
        out[cid] = loyalty_facts(store.config, events, refs.get(cid, []))
    return out


def _created_day(customer: Customer) -> date | None:
    created = read_due(customer.get("created"))
    return _day(created) if isinstance(created, datetime) else created


def loyalty_facts(config: Config, events: Any, referrals: Any = ()) -> health.LoyaltyFacts:
    """What the health score's loyalty part reads: membership, points activity, tier changes, referrals."""
    order = loyalty.tier_order(config)
    events = list(events)
    facts = health.LoyaltyFacts(member=bool(loyalty.ledger(events).history), referrals=list(referrals))
    for e in events:
        kind = e.get("kind")
        if kind not in ("points.earn", "points.redeem", "loyalty.tier"):
            continue
        moment = event_time(e)
        if moment is None:
            continue
        day = _day(moment) or moment.date()
        if kind == "loyalty.tier":
            old, new = e.get("from") or None, e.get("to") or None
            facts.tier_moves.append(health.TierMove(day, old, new, loyalty.is_downgrade(old, new, order)))
        else:
            facts.activity.append(day)
    facts.tier_moves.sort(key=lambda m: m.day)
    return facts


def gather(config: Config, customer: Customer, journal: list[Entry], now: datetime,
           referrals: Any = ()) -> Gathered:
    cid = customer.id
    g = Gathered(customer, journal, now)
    g.opportunities = deals.customer_opportunities(journal, cid)
    g.tickets = service.customer_tickets([e.data for e in journal], cid)
    g.tasks = sorted(fold_tasks(cid, [e.data for e in journal], customer.name).values(),
                     key=Task.sort_key)
    g.orders = customer_orders(journal)
    g.contracts = customer_contracts(journal)
    g.revenue = _revenue(config, g.opportunities, g.orders)
    types = set(config.interaction_types)
    for e in journal:
        if e.kind in types and (moment := event_time(e.data)) is not None:
            if g.last_contact is None or moment >= g.last_contact[0]:
                g.last_contact = (moment, e.data)

    settings = health.Settings.from_config(config)
    window = settings.days("complaint_window")
    today = now.date()
    breaches = []
    for t in g.tickets:
        missed = t.sla(config, now).breaches()
        if health.counts_as_breach(missed, t.is_open, _day(t.opened_at), today, window):
            breaches.append({"id": t.id, "title": t.title, "what": health.breach_what(missed)})
    currency = str(config.get("currency", "CNY"))
    g.facts = health.Facts(
        created=_created_day(customer),
        cadence=str(customer.get("touch_every")) if customer.get("touch_every") else None,
        last_contact=_day(g.last_contact[0]) if g.last_contact else None,
        open_tickets=[{"id": t.id, "title": t.title} for t in g.tickets if t.is_open],
        complaints=[{"id": t.id, "title": t.title, "opened": _day(t.opened_at)}
                    for t in service.complaints_since([e.data for e in journal], None)],
        breaches=breaches,
        ratings=_ratings(journal),
        revenue=[(day, float(amount)) for day, code, amount in g.revenue if code == currency],
        currency=currency,
        overdue_tasks=[{"id": t.id, "text": t.text, "due": show_due(t.due)}
                       for t in g.tasks if t.is_overdue(now)],
        contracts=g.contracts,
        loyalty=loyalty_facts(config, (e.data for e in journal), referrals),
    )
    return g


def customer_health(store: Store, customer: Customer, now: datetime | None = None,
                    referrals: dict[str, list[tuple[date | None, str]]] | None = None) -> health.Health:
    """The health of one customer (reads its journal): for lists sorted or filtered by health (``referrals``:
    ``referral_map``, read once for a whole list)."""
    moment = now or dates.now()
    mine = referrals.get(customer.id, []) if referrals is not None else referrals_of(store, customer.id)
    g = gather(store.config, customer, store.load_journal(customer.id), moment, mine)
    return health.health_score(g.facts, health.Settings.from_config(store.config), moment.date())


def customer_overview(store: Store, ref: str, today: date | datetime | None = None, events: int = 10) -> dict:
    """Everything about one customer, as plain data (see the module docstring)."""
    now = _moment(today)
    cid = store.resolve(ref)
    customer = store.load_customer(cid, validate=False)
    return build_overview(store.config, customer, store.load_journal(cid), now, events, referrals_of(store, cid))


def build_overview(config: Config, customer: Customer, journal: list[Entry], now: datetime,
                   events: int = 10, referrals: Any = ()) -> dict:
    g = gather(config, customer, journal, now, referrals)
    settings = health.Settings.from_config(config)
    h = health.health_score(g.facts, settings, now.date())
    currency = str(config.get("currency", "CNY"))
    return {
        "id": customer.id,
        "name": customer.name,
        "as_of": dates.iso(now),
        "core": {k: customer.get(k) for k in CORE_FIELDS if customer.get(k) not in (None, "", [])}
        | ({"touch_every": customer.get("touch_every")} if customer.get("touch_every") else {}),
        "metrics": _metrics(config, g, h, currency),
        "contacts": [c for c in customer.contacts if isinstance(c, dict)],
        "opportunities": [_opp_row(config, o) for o in g.opportunities if o.is_open],
        "tickets": [_ticket_row(config, t, now) for t in _open_tickets(config, g.tickets, now)],
        "tasks": [_task_row(t, now) for t in g.tasks if not t.done],
        "timeline": _timeline(customer, journal, g.tasks, events),
        "health": h.to_dict() | {"at_risk_below": settings.at_risk_below},
        "warnings": h.warnings,
    }


def _metrics(config: Config, g: Gathered, h: health.Health, currency: str) -> dict:
    now, today = g.now, g.now.date()
    mine = [(day, amount) for day, code, amount in g.revenue if code == currency]
    others: dict[str, list[Any]] = {}
    for _, code, amount in g.revenue:
        if code != currency:
            others.setdefault(code, []).append(amount)
    open_opps = [o for o in g.opportunities if o.is_open]
    pipeline = [o for o in open_opps if (o.currency or currency) == currency]
    next_task = next((t for t in g.tasks if not t.done), None)
    ends = [c["end"] for c in g.contracts]
    out: dict[str, Any] = {
        "currency": currency,
        "revenue_this_year": _sum([a for day, a in mine if day.year == today.year and day <= today]),
        "revenue_lifetime": _sum([a for _, a in mine]),
        "open_deals": len(open_opps),
        "pipeline_total": _sum([o.amount for o in pipeline]),
        "pipeline_weighted": _sum([o.weighted(config) for o in pipeline]),
        "last_contact": dates.iso(g.last_contact[0]) if g.last_contact else None,
        "last_contact_kind": str(g.last_contact[1].get("kind")) if g.last_contact else None,
        "days_since_contact": (today - dates.to_local(g.last_contact[0]).date()).days if g.last_contact else None,
        "next_task": _task_row(next_task, now) if next_task else None,
        "contract_end": max(ends) if ends else None,
        "contract_ended": bool(ends) and max(ends) < today.isoformat(),
        "health": h.score,
        "at_risk": h.at_risk,
    }
    book = loyalty.ledger(e.data for e in g.journal)
    if book.history:  # a loyalty member: points balance and tier (crmcli.domain.loyalty)
        out.update(points=book.balance, loyalty_tier=book.tier)
    if g.facts.loyalty.referrals:  # the customers it referred (their referred_by)
        out["referrals"] = sorted(cid for _, cid in g.facts.loyalty.referrals)
    if others:
        out["revenue_other_currencies"] = {code: _sum(v) for code, v in sorted(others.items())}
    skipped = sorted({o.currency for o in open_opps if (o.currency or currency) != currency})
    if skipped:
        out["pipeline_other_currencies"] = skipped
    return out


def _opp_row(config: Config, o: deals.Opportunity) -> dict:
    return {"id": o.id, "title": o.title, "stage": o.stage, "probability": o.probability(config),
            "amount": o.amount, "currency": o.currency, "weighted": o.weighted(config), "close": o.close,
            "owner": o.owner}


def _open_tickets(config: Config, tickets: list[service.Ticket], now: datetime) -> list[service.Ticket]:
    def key(t: service.Ticket) -> tuple:
        due = t.sla(config, now).resolution.due
        return (due is None, due.timestamp() if due else 0.0, t.id)

    return sorted((t for t in tickets if t.is_open), key=key)


def _ticket_row(config: Config, t: service.Ticket, now: datetime) -> dict:
    sla = t.sla(config, now)
    return {"id": t.id, "title": t.title, "priority": t.priority, "category": t.category, "status": t.status,
            "assignee": t.assignee, "opened": dates.iso(t.opened_at) if t.opened_at else None,
            "due": dates.iso(sla.resolution.due) if sla.resolution.due else None,
            "sla": service.sla_flag(sla), "breached": sla.breached}


def _task_row(t: Task, now: datetime) -> dict:
    return {"id": t.id, "due": due_text(t.due) if t.due else None, "due_local": show_due(t.due),
            "owner": t.owner, "text": t.text, "overdue": t.is_overdue(now)}


def _timeline(customer: Customer, journal: list[Entry], tasks: list[Task], limit: int) -> list[dict]:
    context = {t.id: first_line(t.text) for t in tasks}
    entries: list[dict] = [e.data for e in journal]
    if customer.get("created"):
        entries.insert(0, {"at": customer.get("created"), "kind": "customer.add",
                           "summary": f"added {customer.name}"})
    rows = []
    for i, e in enumerate(entries):
        moment = event_time(e)
        if moment is None:
            continue
        what, text = event_parts(e, context)
        rows.append((moment, i, {"at": dates.iso(moment), "when": dates.format_local(moment),
                                 "kind": str(e.get("kind", "")), "who": e.get("by"), "what": what,
                                 "summary": text}))
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    return [r[2] for r in rows[:max(limit, 0)]]
