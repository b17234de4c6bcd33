"""Loyalty points: ``crm points CUSTOMER`` (balance, tier, history), ``earn / redeem / expire / adjust`` (one
event, one commit) and ``award`` (the earning rules of crm.yaml over the whole store, tier changes, one commit)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from crmcli.domain import dates, loyalty
from crmcli.domain.customer import Customer
from crmcli.domain.orders import customer_orders
from crmcli.errors import UsageError
from crmcli.store.index import customer_index
from crmcli.store.store import Store


def settings(store: Store) -> loyalty.Settings:
    return loyalty.Settings.from_config(store.config.get("loyalty"), store.config.get("referrals"))


@dataclass
class Account:
    customer: Customer
    ledger: loyalty.Ledger
    tier: str | None  # what the rules say now
    revenue: float

    def data(self) -> dict[str, Any]:
        return {"customer": self.customer.id, "name": self.customer.name, "balance": self.ledger.balance,
                "earned": self.ledger.earned, "redeemed": self.ledger.redeemed, "expired": self.ledger.expired,
                "adjusted": self.ledger.adjusted, "tier": self.ledger.tier,
                "history": [{k: v for k, v in e.items() if k != "by"} for e in self.ledger.history]}


def account(store: Store, ref: str) -> Account:
    cid = store.resolve(ref)
    customer = store.load_customer(cid, validate=False)
    journal = store.load_journal(cid)
    book = loyalty.ledger(e.data for e in journal)
    money, _ = loyalty.purchases(journal, str(store.config.get("currency", "CNY")))
    return Account(customer, book, settings(store).tier_for(book.earned, money), money)


def change(store: Store, ref: str, kind: str, points: int, reason: str | None) -> tuple[Account, dict]:
    """One ``points.*`` event (a redemption beyond the balance is refused) and the tier change it makes."""
    acct = account(store, ref)
    now, by = dates.iso(dates.now()), store.user()
    entry = loyalty.points_entry(kind, now, by, points, reason, balance=acct.ledger.balance)
    new = [entry]
    after = loyalty.ledger([*acct.ledger.history, entry])
    tier = settings(store).tier_for(after.earned, acct.revenue)
    if tier != acct.ledger.tier and settings(store).tiers:
        new.append(loyalty.tier_entry(now, by, acct.ledger.tier, tier))
    cid = acct.customer.id
    with store.transaction(f"{kind.split('.')[1].capitalize()} {abs(points)} points for {acct.customer.name}",
                           action=kind, customer=cid) as tx:
        for e in new:
            tx.append_entry(cid, e)
    return account(store, cid), entry


@dataclass
class Award:
    rows: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False


def award(store: Store, *, dry_run: bool = False) -> Award:
    """Points the rules owe (orders, referrals, surveys not yet paid) and tier changes, for every customer."""
    rules = settings(store)
    if not (rules.per_order_amount or rules.per_referral or rules.per_survey or rules.tiers):
        raise UsageError("no earning rules or tiers: add loyalty: earn: / tiers: to crm.yaml (see 'Referrals and "
                         "loyalty' in the README)")
    currency = str(store.config.get("currency", "CNY"))
    profiles = customer_index(store)
    referred: dict[str, list[str]] = {}
    for c in profiles:
        if isinstance(c.get("referred_by"), str):
            referred.setdefault(c.get("referred_by"), []).append(c.id)
    now, by = dates.iso(dates.now()), store.user()
    result = Award(dry_run=dry_run)
    plans: list[tuple[str, list[dict]]] = []
    for c in profiles:
        journal = store.load_journal(c.id)
        book = loyalty.ledger(e.data for e in journal)
        owed: list[tuple[int, str, str]] = []  # (points, ref, reason)
        if rules.per_order_amount:
            for o in customer_orders(journal):
                if isinstance(o.get("amount"), (int, float)) and (o.get("currency") or currency) == currency:
                    owed.append((math.floor(o["amount"] / rules.per_order_amount), f"order:{o['at']}",
                                 f"order of {o['date']}"))
        if rules.per_referral:
            owed += [(rules.per_referral, f"referral:{rid}", f"referred {rid}") for rid in referred.get(c.id, [])]
        if rules.per_survey:
            owed += [(rules.per_survey, f"survey:{e.data.get('at')}", "survey answered")
                     for e in journal if e.kind == "survey.answer"]
        new = [loyalty.points_entry("points.earn", now, by, p, why, balance=0, ref=ref)
               for p, ref, why in owed if p > 0 and ref not in book.refs]
        after = loyalty.ledger([*book.history, *new])
        tier = rules.tier_for(after.earned, loyalty.purchases(journal, currency)[0])
        if rules.tiers and tier != book.tier:
            new.append(loyalty.tier_entry(now, by, book.tier, tier))
        if new:
            plans.append((c.id, new))
            result.rows += [{"customer": c.id, "name": c.name, "event": e["kind"],
                             "points": e.get("points"), "what": e.get("reason") or f"{e.get('from') or '-'} -> "
                             f"{e.get('to') or '-'}"} for e in new]
    if dry_run or not plans:
        return result
    n = sum(len(p[1]) for p in plans)
    with store.transaction(f"Award loyalty points: {n} event{'s' if n != 1 else ''} for {len(plans)} customer"
                           f"{'s' if len(plans) != 1 else ''}", action="points.award",
                           customer=plans[0][0] if len(plans) == 1 else None, bulk=len(plans) > 20) as tx:
        for cid, new in plans:
            for e in new:
                tx.append_entry(cid, e)
    return result
