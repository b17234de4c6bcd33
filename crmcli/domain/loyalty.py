"""Loyalty and referrals: the points ledger (``points.*`` events), earning rules and tiers (``loyalty`` in
crm.yaml), tier changes (``loyalty.tier``) and referral rewards (``referrals`` in crm.yaml).

``points.earn`` / ``points.redeem`` / ``points.expire`` carry a positive whole ``points`` and a ``reason``;
``points.adjust`` a signed one and a required reason; a rule-made earn also carries ``ref`` (what earned it:
``order:<at>``, ``referral:<customer id>``, ``survey:<at>``) so a rule never pays twice. Pure.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crmcli.domain import deals
from crmcli.domain.customer import check_timestamp
from crmcli.domain.journal import Entry, EventKind, Issues
from crmcli.domain.orders import customer_orders
from crmcli.domain.text import first_line
from crmcli.errors import InvalidRecord, UsageError

KINDS = ("points.earn", "points.redeem", "points.expire", "points.adjust")
SIGN = {"points.earn": 1, "points.redeem": -1, "points.expire": -1, "points.adjust": 1}


@dataclass
class Tier:
    name: str
    threshold: float


@dataclass
class Settings:
    per_order_amount: float | None = None  # one point per this much of an order
    per_referral: int = 0
    per_survey: int = 0
    point_value: float = 0.0
    tier_by: str = "points"  # points (earned, lifetime) or revenue
    tiers: list[Tier] = field(default_factory=list)
    referral_reward: float = 0.0  # money due to the referrer per referred customer who bought

    @classmethod
    def from_config(cls, loyalty: Any, referrals: Any = None, where: str = "crm.yaml") -> Settings:
        def fail(message: str) -> InvalidRecord:
            return InvalidRecord(f"{where}: {message}")

        def number(value: Any, what: str, *, whole: bool = False) -> Any:
            ok = isinstance(value, int if whole else (int, float)) and not isinstance(value, bool) and value >= 0
            if not ok:
                raise fail(f"{what} must be a {'whole ' if whole else ''}number of 0 or more")
            return value

        out = cls()
        if loyalty is not None:
            if not isinstance(loyalty, dict):
                raise fail("loyalty must be a mapping (earn, tiers, tier_by, point_value)")
            earn = loyalty.get("earn") or {}
            if not isinstance(earn, dict):
                raise fail("loyalty earn must map per_order_amount, per_referral, per_survey to numbers")
            if earn.get("per_order_amount") is not None:
                out.per_order_amount = number(earn["per_order_amount"], "loyalty earn per_order_amount") or None
            out.per_referral = number(earn.get("per_referral", 0), "loyalty earn per_referral", whole=True)
            out.per_survey = number(earn.get("per_survey", 0), "loyalty earn per_survey", whole=True)
            out.point_value = float(number(loyalty.get("point_value", 0), "loyalty point_value"))
            out.tier_by = loyalty.get("tier_by", "points")
            if out.tier_by not in ("points", "revenue"):
                raise fail(f"loyalty tier_by {out.tier_by!r}: use points or revenue")
            tiers = loyalty.get("tiers") or []
            if not isinstance(tiers, list) or not all(isinstance(t, dict) and isinstance(t.get("name"), str)
                                                      for t in tiers):
                raise fail("loyalty tiers must be a list of {name, points} (or {name, revenue})")
            key = out.tier_by
            out.tiers = sorted((Tier(t["name"], float(number(t.get(key), f"loyalty tier {t['name']} {key}")))
                                for t in tiers), key=lambda t: t.threshold)
        if referrals is not None:
            if not isinstance(referrals, dict):
                raise fail("referrals must be a mapping (reward)")
            out.referral_reward = float(number(referrals.get("reward", 0), "referrals reward"))
        return out

    def tier_for(self, earned: float, revenue: float) -> str | None:
        value = earned if self.tier_by == "points" else revenue
        reached = [t.name for t in self.tiers if value >= t.threshold]
        return reached[-1] if reached else None


@dataclass
class Ledger:
    balance: int = 0
    earned: int = 0
    redeemed: int = 0
    expired: int = 0
    adjusted: int = 0
    refs: set[str] = field(default_factory=set)
    tier: str | None = None
    history: list[dict] = field(default_factory=list)


def ledger(events: Iterable[dict]) -> Ledger:
    """The fold of a customer's points and tier events, in file order."""
    out = Ledger()
    for e in events:
        kind = e.get("kind")
        if kind == "loyalty.tier":
            out.tier = e.get("to") or None
            out.history.append(e)
            continue
        points = e.get("points")
        if kind not in SIGN or not isinstance(points, int) or isinstance(points, bool):
            continue
        out.balance += SIGN[kind] * points
        out.earned += points if kind == "points.earn" else 0
        out.redeemed += points if kind == "points.redeem" else 0
        out.expired += points if kind == "points.expire" else 0
        out.adjusted += points if kind == "points.adjust" else 0
        if isinstance(e.get("ref"), str):
            out.refs.add(e["ref"])
        out.history.append(e)
    return out


def tier_order(config: Any) -> list[str]:
    """The tiers of crm.yaml's ``loyalty``, lowest first ([] when the block is missing or cannot be read)."""
    try:
        return [t.name for t in Settings.from_config(config.get("loyalty")).tiers]
    except (InvalidRecord, AttributeError):
        return []


def is_downgrade(old: Any, new: Any, order: list[str]) -> bool:
    """A tier change to a lower tier of ``order``, or from a tier to none."""
    if not old or old == new:
        return False
    if not new:
        return True
    return old in order and new in order and order.index(new) < order.index(old)


def purchases(journal: list[Entry], currency: str) -> tuple[float, int]:
    """(revenue in ``currency``, purchases): orders, and won deals no order records."""
    orders = customer_orders(journal)
    total, count = 0.0, 0
    for o in orders:
        if (o.get("currency") or currency) == currency and isinstance(o.get("amount"), (int, float)):
            total += float(o["amount"])
        count += 1
    ordered = {str(o["opp"]) for o in orders if o.get("opp")}
    for opp in deals.customer_opportunities(journal):
        if opp.stage == "won" and opp.id not in ordered:
            count += 1
            if (opp.currency or currency) == currency:
                total += float(opp.amount or 0)
    return total, count


def points_entry(kind: str, at: str, by: str, points: int, reason: str | None, *, balance: int,
                 ref: str | None = None) -> dict:
    """A checked ``points.*`` event; a redemption or expiry beyond ``balance`` is refused."""
    if kind not in KINDS:
        raise UsageError(f"{kind!r} is not one of: {', '.join(KINDS)}")
    if not isinstance(points, int) or isinstance(points, bool) or (points <= 0 and kind != "points.adjust") \
            or points == 0:
        raise InvalidRecord(f"points {points!r}: give a whole number above 0"
                            + (" (or below 0 to take points off)" if kind == "points.adjust" else ""))
    if kind == "points.adjust" and not (reason or "").strip():
        raise UsageError("an adjustment needs a reason: --reason TEXT")
    if kind in ("points.redeem", "points.expire") and points > balance:
        raise InvalidRecord(f"cannot {kind.split('.')[1]} {points} points: the balance is {balance}")
    if kind == "points.adjust" and balance + points < 0:
        raise InvalidRecord(f"cannot take {-points} points off: the balance is {balance}")
    entry: dict[str, Any] = {"at": at, "kind": kind, "by": by, "points": points}
    if ref:
        entry["ref"] = ref
    if reason:
        entry["reason"] = first_line(reason, 200)
    return entry


def tier_entry(at: str, by: str, old: str | None, new: str | None) -> dict:
    return {"at": at, "kind": "loyalty.tier", "by": by, "from": old, "to": new}


def _validate(entry: dict, config: Any) -> Issues:
    issues: Issues = []
    if msg := check_timestamp(entry.get("at"), "at"):
        issues.append((("at",), msg))
    points = entry.get("points")
    signed = entry.get("kind") == "points.adjust"
    if not isinstance(points, int) or isinstance(points, bool) or points == 0 or (points < 0 and not signed):
        issues.append((("points",), f"points {points!r} must be a whole number above 0"))
    if entry.get("kind") == "points.adjust" and not entry.get("reason"):
        issues.append((("reason",), "points.adjust needs a reason"))
    return issues


def _validate_tier(entry: dict, config: Any) -> Issues:
    issues: Issues = []
    if msg := check_timestamp(entry.get("at"), "at"):
        issues.append((("at",), msg))
    return issues


def _describe(entry: dict) -> str:
    verb = str(entry.get("kind", "points.")).split(".")[1]
    reason = f": {entry['reason']}" if entry.get("reason") else ""
    return f"points {verb} {entry.get('points')}{reason}"


def _describe_tier(entry: dict) -> str:
    return f"loyalty tier {entry.get('from') or '(none)'} -> {entry.get('to') or '(none)'}"


EVENT_KINDS: tuple[EventKind, ...] = (
    *(EventKind(k, validate=_validate, describe=_describe) for k in KINDS),
    EventKind("loyalty.tier", validate=_validate_tier, describe=_describe_tier),
)
