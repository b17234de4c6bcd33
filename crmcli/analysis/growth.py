"""Rows for the growth reports (funnel, campaigns): each customer's funnel days, campaign events and deals.

Plain Python from the files (one read of each profile and journal), no pandas: the reports in
``crmcli.analysis.reports.funnel`` and ``.campaigns`` make frames of them.
"""
from __future__ import annotations

from typing import Any

from crmcli.analysis.rows import problem_text
from crmcli.domain import deals, leads, loyalty
from crmcli.errors import CrmError
from crmcli.store.store import Store

FUNNEL_COLUMNS = ["customer", "name", "source", "campaign", "owner", *leads.STEPS]
EVENT_COLUMNS = ["customer", "at", "kind", "campaign", "response"]
DEAL_COLUMNS = ["customer", "id", "amount", "currency", "status", "created", "closed_at", "campaign"]


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def load(store: Store, *, problems: list[str] | None = None) -> dict[str, list[dict]]:
    """``funnel`` (one row per customer), ``campaign_events`` (``campaign.*`` events), ``deals`` rows, and
    ``members`` (one row per customer: referral, revenue and purchases in the store's currency, points)."""
    out: dict[str, list[dict]] = {"funnel": [], "campaign_events": [], "deals": [], "members": []}
    currency = str(store.config.get("currency", "CNY"))
    for cid in store.customer_ids():
        try:
            customer = store.load_customer(cid, validate=False)
            journal = store.load_journal(cid)
        except (CrmError, OSError) as exc:
            if problems is not None:
                problems.append(problem_text(store, cid, exc))
            continue
        events = [e.data for e in journal]
        revenue, bought = loyalty.purchases(journal, currency)
        book = loyalty.ledger(events)
        out["members"].append({"customer": cid, "name": customer.name,
                               "referred_by": _text(customer.get("referred_by")), "revenue": revenue,
                               "purchases": bought, "member": bool(book.history), "tier": book.tier,
                               "balance": book.balance, "earned": book.earned, "redeemed": book.redeemed,
                               "expired": book.expired})
        days = leads.steps(customer.get("created"), events)
        out["funnel"].append({"customer": cid, "name": customer.name, "source": _text(customer.get("source")),
                              "campaign": _text(customer.get("campaign")), "owner": _text(customer.get("owner")),
                              **{step: days[step] for step in leads.STEPS}})
        for e in events:
            kind = e.get("kind")
            if isinstance(kind, str) and kind.startswith("campaign."):
                out["campaign_events"].append({"customer": cid, "at": _text(e.get("at")), "kind": kind,
                                               "campaign": _text(e.get("campaign")),
                                               "response": _text(e.get("response"))})
        opened = {e.get("id"): e for e in events if e.get("kind") == "opp.open"}
        for opp in deals.customer_opportunities(journal, cid):
            status = opp.stage if opp.stage in deals.CLOSED else "open"
            out["deals"].append({"customer": cid, "id": opp.id, "amount": opp.amount, "currency": opp.currency or None,
                                 "status": status, "created": opp.created or None, "closed_at": opp.closed_at,
                                 "campaign": _text(opened.get(opp.id, {}).get("campaign"))})
    return out
