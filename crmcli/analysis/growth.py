"""Rows for the growth reports (funnel, campaigns, referrals, loyalty), built on the report frames.

Deals, orders, interactions, tasks, tickets and surveys come from ``crmcli.analysis.frames`` (read from the
index: only what changed is parsed); profiles (``campaign``, ``referred_by``) from the index; the few journals
holding campaign or points events are found by a text test before any YAML is parsed
(``crmcli.analysis.journals.journal_dicts``).
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from crmcli.analysis import frames as report_frames
from crmcli.analysis.journals import journal_dicts
from crmcli.analysis.reports.common import purchases
from crmcli.domain import loyalty
from crmcli.domain.leads import STEPS
from crmcli.store.index import customer_index
from crmcli.store.store import Store

KINDS = ["customers", "interactions", "opps", "orders", "tasks", "tickets", "surveys"]
FUNNEL_COLUMNS = ["customer", "name", "source", "campaign", "owner", *STEPS]
EVENT_COLUMNS = ["customer", "at", "kind", "campaign", "response"]
DEAL_COLUMNS = ["customer", "id", "amount", "currency", "status", "created", "closed_at", "campaign"]


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _day(series: pd.Series) -> pd.Series:
    """Local calendar days of a column of local times (or days)."""
    s = pd.to_datetime(series)
    if getattr(s.dtype, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    return s.dt.normalize()


def _first(df: pd.DataFrame, col: str) -> pd.Series:
    if not len(df):
        return pd.Series(dtype="datetime64[ns]")
    return _day(df[col]).groupby(df["customer"].values).min()


def funnel_days(data: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each customer's day at each funnel step (index: customer id).

    Own days: lead = creation or the first dated record (interaction, deal, order, task, ticket, survey),
    whichever is earlier, so imported history counts from its own dates; contacted = the first interaction;
    opportunity = the first deal; won = the first won deal or order. A later step implies the earlier ones:
    each step's day is the earliest own day of it or any later step.
    """
    cust = data["customers"]
    opps = data["opps"]
    own = pd.DataFrame(index=pd.Index(cust["id"].values, name="customer"))
    own["won"] = pd.concat([_first(opps[opps["status"] == "won"], "closed_at"), _first(data["orders"], "date")],
                           axis=1).min(axis=1)
    own["opportunity"] = _first(opps, "created")
    own["contacted"] = _first(data["interactions"], "at")
    starts = [pd.Series(_day(cust["created"]).values, index=cust["id"].values), own["contacted"],
              own["opportunity"], own["won"], _first(data["tasks"], "created"),
              _first(data["tickets"], "opened_at"), _first(data["surveys"], "at")]
    own["lead"] = pd.concat(starts, axis=1).min(axis=1)
    out = pd.DataFrame(index=own.index)
    later = pd.Series(pd.NaT, index=own.index, dtype="datetime64[ns]")
    for step in reversed(STEPS):
        later = pd.concat([own[step], later], axis=1).min(axis=1)
        out[step] = later
    return out


def load(store: Store, *, problems: list[str] | None = None) -> dict[str, list[dict]]:
    """``funnel`` (one row per customer), ``campaign_events``, ``deals`` and ``members`` (referral, revenue and
    purchases in the store's currency, points) rows."""
    currency = str(store.config.get("currency", "CNY"))
    data = report_frames.load(store, KINDS, problems=problems, columns=report_frames.REPORT_COLUMNS)
    readable = set(data["customers"]["id"])
    profiles = {c.id: c for c in customer_index(store) if c.id in readable}
    days = funnel_days(data)
    out: dict[str, list[dict]] = {"funnel": [], "campaign_events": [], "deals": [], "members": []}
    for cid, row in days.iterrows():
        c = profiles.get(str(cid))
        if c is None:
            continue
        out["funnel"].append({"customer": cid, "name": c.name, "source": _text(c.get("source")),
                              "campaign": _text(c.get("campaign")), "owner": _text(c.get("owner")),
                              **{s: (row[s].date() if pd.notna(row[s]) else None) for s in STEPS}})
    deal_campaign: dict[tuple[str, str], str] = {}
    ledgers: dict[str, loyalty.Ledger] = {}
    for cid in profiles:
        events = journal_dicts(store, cid, (b"campaign", b"points.", b"loyalty.tier"))
        for e in events:
            kind = e.get("kind")
            if isinstance(kind, str) and kind.startswith("campaign."):
                out["campaign_events"].append({"customer": cid, "at": _text(e.get("at")), "kind": kind,
                                               "campaign": _text(e.get("campaign")),
                                               "response": _text(e.get("response"))})
            elif kind == "opp.open" and e.get("campaign") and isinstance(e.get("id"), str):
                deal_campaign[(cid, e["id"])] = str(e["campaign"])
        book = loyalty.ledger(events)
        if book.history:
            ledgers[cid] = book
    opps = data["opps"]
    for r in opps.itertuples(index=False):
        out["deals"].append({"customer": r.customer, "id": r.id, "amount": r.amount, "currency": r.currency,
                             "status": r.status, "created": r.created, "closed_at": r.closed_at,
                             "campaign": deal_campaign.get((r.customer, r.id))})
    bought, every = purchases(data, currency), purchases(data)
    revenue = bought.groupby("customer")["amount"].sum() if len(bought) else pd.Series(dtype=float)
    count = every.groupby("customer").size() if len(every) else pd.Series(dtype=int)
    for cid, c in profiles.items():
        book = ledgers.get(cid, loyalty.Ledger())
        out["members"].append({"customer": cid, "name": c.name, "referred_by": _text(c.get("referred_by")),
                               "revenue": float(revenue.get(cid, 0.0)), "purchases": int(count.get(cid, 0)),
                               "member": bool(book.history), "tier": book.tier, "balance": book.balance,
                               "earned": book.earned, "redeemed": book.redeemed, "expired": book.expired})
    return out
