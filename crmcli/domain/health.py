"""The customer health score: 0 to 100, made of transparent components, and churn warnings.

Pure functions only (no store, no clock): ``crmcli.analysis.overview`` gathers a customer's ``Facts`` from its
journal, and ``health_score(facts, settings, today)`` turns them into a ``Health``. Each component
returns ``Component(score 0-100 or None, weight, explanation)``; a component without data to judge
(no surveys, no revenue in either period) has score None and weight 0 and is left out. The score is
the weighted mean of the counted components, rounded half up.

Components (settings in the ``health:`` block of crm.yaml, defaults in ``crmcli.config.DEFAULTS``):

* recency: days since the last interaction (or since the customer was added, when never contacted)
  against the cadence (``touch_every``, else ``default_cadence``): 100 within the cadence, then
  falling linearly to 0 at twice the cadence.
* service: 100 - 15 per open ticket - 25 per complaint in ``complaint_window`` - 20 per SLA breach: a
  ticket that missed its first-response or resolution target and is open, or was opened within
  ``complaint_window`` (``counts_as_breach``; both ``crm show`` and ``crm report customers`` use it).
* satisfaction: the mean of the last 3 ratings (CSAT 1-5 and NPS 0-10, both scaled to 0-100; a
  survey with both counts their mean); the explanation compares it with the 3 before.
* revenue: revenue of the last ``revenue_period`` against the one before: 100 when it did not fall,
  else 100 x current / previous; 100 when there was none before; left out when there is none in either
  period; 50 for a customer never sold to (a lead that went quiet is not a perfectly healthy customer).
* tasks: 100 - 25 per overdue task.
* loyalty: only for loyalty members (any points or tier event) and customers who referred someone within
  ``revenue_period``; left out for everyone else. 100 when the customer earned or redeemed points, or referred a
  customer, within ``revenue_period``; else 50 (a member gone quiet); 50 less when its latest tier change,
  within ``revenue_period``, was a downgrade (also a ``tier-down`` warning).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from crmcli.config import DEFAULTS
from crmcli.domain import dates, durations
from crmcli.domain.contracts import renewed
from crmcli.domain.money import format_money

COMPONENTS = ("recency", "service", "satisfaction", "revenue", "tasks", "loyalty")
OPEN_TICKET_PENALTY = 15
COMPLAINT_PENALTY = 25
BREACH_PENALTY = 20
OVERDUE_TASK_PENALTY = 25
RATINGS_COUNTED = 3
QUIET_MEMBER_SCORE = 50
TIER_DOWN_PENALTY = 50


class Component(NamedTuple):
    score: int | None  # 0-100; None: no data, not counted
    weight: float
    explanation: str


@dataclass(frozen=True)
class Settings:
    weights: dict[str, float]
    default_cadence: str = "90d"
    complaint_threshold: int = 2
    complaint_window: str = "30d"
    revenue_period: str = "365d"
    revenue_drop: float = 20
    at_risk_below: float = 50

    @classmethod
    def from_config(cls, config: Any) -> Settings:
        """The ``health:`` block of crm.yaml over the defaults (a partial block keeps the other defaults)."""

        base = DEFAULTS["health"]
        given = config.get("health") if config is not None else None
        given = given if isinstance(given, dict) else {}
        weights = dict(base["weights"])
        if isinstance(given.get("weights"), dict):
            weights.update(given["weights"])
        values = {k: given.get(k, base[k]) for k in base if k != "weights"}
        return cls(weights={k: weights.get(k, 0) for k in COMPONENTS}, **values)

    def days(self, key: str) -> int:
        return period_days(getattr(self, key), 1)


def period_days(text: Any, fallback: int) -> int:
    try:
        return max(durations.parse_period(str(text)).days, 1)
    except dates.DateError:
        return fallback


def round_half_up(value: float) -> int:
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _clamp(value: float) -> int:
    return max(0, min(100, round_half_up(value)))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- components ------------------------------------------------------------------------------------------
def recency_component(last_contact: date | None, created: date | None, cadence_days: int, today: date,
                      weight: float, cadence_label: str | None = None) -> Component:
    """100 within the cadence, then linearly down to 0 at twice the cadence."""
    cadence = max(cadence_days, 1)
    label = cadence_label or f"{cadence}d"
    since = last_contact or created
    if since is None:
        return Component(0, weight, f"never contacted (cadence {label})")
    days = max((today - since).days, 0)
    score = 100 if days <= cadence else _clamp(100 * (2 * cadence - days) / cadence)
    what = f"last contact {days} days ago" if last_contact else f"never contacted; added {days} days ago"
    verdict = "within" if days <= cadence else "beyond"
    return Component(score, weight, f"{what}, {verdict} the cadence of {label}")


def counts_as_breach(missed: list[str], is_open: bool, opened: date | None, today: date,
                     window_days: int) -> bool:
    """Whether a ticket's SLA breach counts against health: it missed a target (``missed``: "first
    response", "resolution") and is still open, or was opened less than ``window_days`` before ``today``.
    An old closed ticket stops counting once it is out of the window."""
    recent = opened is not None and (today - opened).days < window_days
    return bool(missed) and (is_open or recent)


def breach_what(missed: list[str]) -> str:
    return " and ".join(missed)


def service_component(open_tickets: int, complaints: int, breaches: int, weight: float,
                      window: str = "30d") -> Component:
    """100 - 15 per open ticket - 25 per recent complaint - 20 per SLA breach."""
    score = _clamp(100 - OPEN_TICKET_PENALTY * open_tickets - COMPLAINT_PENALTY * complaints
                   - BREACH_PENALTY * breaches)
    parts = [_plural(open_tickets, "open ticket"), f"{_plural(complaints, 'complaint')} in {window}",
             f"{breaches} SLA breach{'' if breaches == 1 else 'es'}"]
    return Component(score, weight, ", ".join(parts))


def rating_value(csat: Any = None, nps: Any = None) -> float | None:
    """One answer on 0-100: CSAT 1-5 -> 0-100, NPS 0-10 -> 0-100, both: their mean."""
    values = []
    if isinstance(csat, (int, float)) and not isinstance(csat, bool) and 1 <= csat <= 5:
        values.append((csat - 1) * 25)
    if isinstance(nps, (int, float)) and not isinstance(nps, bool) and 0 <= nps <= 10:
        values.append(nps * 10)
    return sum(values) / len(values) if values else None


def ratings_of(answers: list[tuple[date, Any, Any, Any]]) -> list[tuple[date, float]]:
    """The ratings the score counts from (day, csat, nps, ticket) answers in time order: a ticket's CSAT at
    its close and each survey answer; a later answer about the same ticket replaces the earlier one."""
    by_ticket: dict[str, tuple[date, float]] = {}
    loose: list[tuple[date, float]] = []
    for day, csat, nps, ticket in answers:
        value = rating_value(csat, nps)
        if value is None:
            continue
        if isinstance(ticket, str) and ticket:
            by_ticket[ticket] = (day, value)
        else:
            loose.append((day, value))
    return sorted(loose + list(by_ticket.values()), key=lambda r: r[0])


def satisfaction_component(ratings: list[float], weight: float) -> Component:
    """Mean of the last 3 ratings (0-100, oldest first in ``ratings``); left out without any."""
    if not ratings:
        return Component(None, 0, "no survey or CSAT answers yet: not counted")
    recent = ratings[-RATINGS_COUNTED:]
    earlier = ratings[-2 * RATINGS_COUNTED:-RATINGS_COUNTED]
    level = sum(recent) / len(recent)
    score = _clamp(level)
    text = f"mean of the last {len(recent)} ratings: {score}" if len(recent) > 1 else f"one rating so far: {score}"
    if earlier:
        before = _clamp(sum(earlier) / len(earlier))
        trend = "rising" if score > before else "falling" if score < before else "steady"
        text += f" ({trend}; {before} before)"
    return Component(score, weight, text)


NEVER_SOLD_SCORE = 50


def revenue_component(current: float, previous: float, weight: float, period: str = "365d",
                      money: Any = None, *, ever_sold: bool = True) -> Component:
    """100 when revenue did not fall, else 100 x current / previous; left out when both are 0;
    50 when the customer was never sold anything (``ever_sold`` False)."""
    show = money or (lambda v: f"{v:,.0f}")
    if not ever_sold:
        return Component(NEVER_SOLD_SCORE, weight, f"never sold to yet: {NEVER_SOLD_SCORE} until the first order")
    if current <= 0 and previous <= 0:
        return Component(None, 0, f"no revenue in the last two periods of {period}: not counted")
    if previous <= 0:
        return Component(100, weight, f"{show(current)} in the last {period}, none in the {period} before")
    score = 100 if current >= previous else _clamp(100 * current / previous)
    change = (current - previous) / previous * 100
    return Component(score, weight, f"{show(current)} in the last {period} against {show(previous)} before "
                                    f"({'+' if change >= 0 else ''}{round_half_up(change)}%)")


def tasks_component(overdue: int, weight: float) -> Component:
    score = _clamp(100 - OVERDUE_TASK_PENALTY * overdue)
    return Component(score, weight, f"{_plural(overdue, 'overdue task')}" if overdue else "no overdue tasks")


class TierMove(NamedTuple):
    day: date
    old: str | None
    new: str | None
    down: bool  # a downgrade: to a lower tier of crm.yaml's loyalty tiers, or to none


@dataclass
class LoyaltyFacts:
    """A customer's loyalty programme and referrals, as the score sees them."""

    member: bool = False  # any points or tier event
    activity: list[date] = field(default_factory=list)  # days points were earned or redeemed
    tier_moves: list[TierMove] = field(default_factory=list)  # in time order
    referrals: list[tuple[date | None, str]] = field(default_factory=list)  # (added, id) of customers it referred


def last_tier_down(facts: LoyaltyFacts, today: date, period_days: int) -> TierMove | None:
    """The latest tier change, when it falls within the period and was a downgrade."""
    moves = sorted((m for m in facts.tier_moves if m.day <= today), key=lambda m: m.day)
    last = moves[-1] if moves else None
    return last if last is not None and last.down and (today - last.day).days < period_days else None


def loyalty_component(facts: LoyaltyFacts, today: date, period_days: int, weight: float,
                      period: str = "365d") -> Component:
    """Members and recent referrers only: 100 when active (points earned or redeemed, or a customer referred,
    within the period), else 50; 50 less after a downgrade of the tier within the period."""
    def recent(day: date | None) -> bool:
        return day is not None and 0 <= (today - day).days < period_days

    referred = [cid for day, cid in facts.referrals if recent(day)]
    if not facts.member and not referred:
        return Component(None, 0, f"not a loyalty member, no referral in the last {period}: not counted")
    active = any(recent(d) for d in facts.activity)
    parts = []
    if facts.member:
        parts.append(f"points {'used' if active else 'not earned or redeemed'} in the last {period}")
    if referred:
        parts.append(f"referred {_plural(len(referred), 'customer')} in the last {period}")
    score = 100 if active or referred else QUIET_MEMBER_SCORE
    down = last_tier_down(facts, today, period_days)
    if down is not None:
        score -= TIER_DOWN_PENALTY
        parts.append(f"tier down {down.old or '(none)'} -> {down.new or '(none)'} on {down.day.isoformat()} "
                     f"(-{TIER_DOWN_PENALTY})")
    return Component(_clamp(score), weight, "; ".join(parts))


def combine(components: dict[str, Component]) -> int:
    """Weighted mean of the counted components, rounded half up (100 when nothing is counted)."""
    counted = [(c.score, c.weight) for c in components.values() if c.score is not None and c.weight > 0]
    total = sum(w for _, w in counted)
    if not counted or total <= 0:
        return 100
    return _clamp(sum(s * w for s, w in counted) / total)


# -- facts and the score --------------------------------------------------------------------------------
@dataclass
class Facts:
    """What the score is made from; plain values so tests can build them by hand."""

    created: date | None = None
    cadence: str | None = None  # the customer's touch_every
    last_contact: date | None = None
    open_tickets: list[dict] = field(default_factory=list)  # id, title
    complaints: list[dict] = field(default_factory=list)  # id, title, opened (date): every complaint
    breaches: list[dict] = field(default_factory=list)  # id, title, what ("first response", ...)
    ratings: list[tuple[date, float]] = field(default_factory=list)  # (day, 0-100), any order
    revenue: list[tuple[date, float]] = field(default_factory=list)  # (day, amount) in one currency
    currency: str | None = None
    overdue_tasks: list[dict] = field(default_factory=list)  # id, text, due (text)
    contracts: list[dict] = field(default_factory=list)  # crmcli.domain.contracts.customer_contracts rows
    loyalty: LoyaltyFacts = field(default_factory=LoyaltyFacts)


@dataclass
class Health:
    score: int
    components: dict[str, Component]
    warnings: list[dict]  # {kind, reason}
    at_risk: bool = False

    def to_dict(self) -> dict:
        return {"score": self.score, "at_risk": self.at_risk,
                "components": [{"name": n, "score": c.score, "weight": c.weight, "explanation": c.explanation}
                               for n, c in self.components.items()]}


def revenue_in(revenue: list[tuple[date, float]], start: date, end: date) -> float:
    """Sum of amounts dated in (start, end]."""
    return sum(amount for day, amount in revenue if start < day <= end)


def cadence_of(facts: Facts, settings: Settings) -> tuple[int, str]:
    """(days, label): the customer's touch_every, else the default cadence."""
    default = period_days(settings.default_cadence, 90)
    if facts.cadence:
        days = period_days(facts.cadence, 0)
        if days:
            return days, str(facts.cadence)
    return default, f"{settings.default_cadence} by default"


def _money(currency: str | None) -> Any:
    def show(value: float) -> str:
        amount: int | float = int(value) if float(value).is_integer() else round(value, 2)
        return format_money(amount, currency)

    return show


def renewal_due(contracts: list[dict], today: date) -> dict | None:
    """The contract in its renewal-notice period today (notice <= today <= end), unless renewed."""
    day = today.isoformat()
    due = [c for c in contracts if c["notice"] <= day <= c["end"] and not renewed(c, contracts)]
    return min(due, key=lambda c: c["end"]) if due else None


def running_contract(contracts: list[dict], today: date) -> dict | None:
    """A contract that runs today (start <= today <= end): revenue paid up front is expected to pause."""
    day = today.isoformat()
    running = [c for c in contracts if str(c.get("start") or "") <= day <= str(c.get("end") or "")]
    return max(running, key=lambda c: c["end"]) if running else None


def health_score(facts: Facts, settings: Settings, today: date) -> Health:
    w = settings.weights
    cadence_days, cadence_label = cadence_of(facts, settings)
    window = settings.days("complaint_window")
    period = settings.days("revenue_period")
    recent_complaints = [c for c in facts.complaints if c["opened"] > today - timedelta(days=window)]
    money = _money(facts.currency)
    current = revenue_in(facts.revenue, today - timedelta(days=period), today)
    previous = revenue_in(facts.revenue, today - timedelta(days=2 * period), today - timedelta(days=period))
    ratings = [v for _, v in sorted(facts.ratings, key=lambda r: r[0])]
    components = {
        "recency": recency_component(facts.last_contact, facts.created, cadence_days, today, w["recency"],
                                     cadence_label),
        "service": service_component(len(facts.open_tickets), len(recent_complaints), len(facts.breaches),
                                     w["service"], settings.complaint_window),
        "satisfaction": satisfaction_component(ratings, w["satisfaction"]),
        "revenue": revenue_component(current, previous, w["revenue"], settings.revenue_period, money,
                                     ever_sold=any(amount > 0 for _, amount in facts.revenue)),
        "tasks": tasks_component(len(facts.overdue_tasks), w["tasks"]),
        "loyalty": loyalty_component(facts.loyalty, today, period, w["loyalty"], settings.revenue_period),
    }
    score = combine(components)

    warnings: list[dict] = []

    def warn(kind: str, reason: str) -> None:
        warnings.append({"kind": kind, "reason": reason})

    since = facts.last_contact or facts.created
    if since is not None and (today - since).days > cadence_days:
        days = (today - since).days
        what = (f"last contact {facts.last_contact.isoformat()}, {days} days ago" if facts.last_contact
                else f"never contacted since added {since.isoformat()}, {days} days ago")
        warn("no-contact", f"no contact beyond the cadence: {what} (cadence {cadence_label})")
    elif since is None:
        warn("no-contact", f"never contacted (cadence {cadence_label})")
    if len(recent_complaints) >= settings.complaint_threshold:
        titles = "; ".join(f"{c['id']} {c['title']}" for c in recent_complaints)
        warn("complaints", f"{len(recent_complaints)} complaints in the last {settings.complaint_window}: {titles}")
    for b in facts.breaches:
        warn("sla-breach", f"SLA breached ({b['what']}): {b['id']} {b['title']}")
    contract = renewal_due(facts.contracts, today)
    if contract is not None:
        left = (date.fromisoformat(contract["end"]) - today).days
        warn("contract-expiring", f"contract ends {contract['end']} ({left} days), within its notice period of "
                                  f"{contract['renew_notice']} (from {contract['notice']}); not renewed yet")
    drop = (previous - current) / previous * 100 if previous > 0 else 0.0
    running = running_contract(facts.contracts, today)
    if previous > 0 and drop > 0 and drop >= settings.revenue_drop and running is None:
        warn("revenue-falling", f"revenue fell {round_half_up(drop)}%: {money(current)} in the last "
                                f"{settings.revenue_period} against {money(previous)} before")
    down = last_tier_down(facts.loyalty, today, period)
    if down is not None:
        warn("tier-down", f"loyalty tier fell from {down.old or '(none)'} to {down.new or '(none)'} on "
                          f"{down.day.isoformat()}")
    if facts.overdue_tasks:
        items = "; ".join(f"{t['id']} {t['text']} (due {t['due']})" for t in facts.overdue_tasks)
        warn("overdue-tasks", f"{_plural(len(facts.overdue_tasks), 'overdue task')}: {items}")
    return Health(score, components, warnings, at_risk=score < settings.at_risk_below)

