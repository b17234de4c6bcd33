"""The campaigns report: members, responses, leads, deals, won revenue, cost per lead and ROI, per campaign and kind.

From ``crmcli.analysis.growth`` rows and the campaign definitions. A campaign's *leads* are the customers
that came from it (``campaign`` in customer.yaml); its *deals* are the deals whose ``opp.open`` names it,
else the deals of its leads; *won revenue* sums its won deals in the store's currency.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from crmcli.analysis.reports import INT, MONEY, PCT, Chart, Report
from crmcli.domain.campaigns import RESPONSES

COLUMNS = ["campaign", "kind", "cost", "members", *RESPONSES, "leads", "deals", "won", "won_revenue",
           "cost_per_lead", "roi"]
KIND_COLUMNS = ["kind", "campaigns", "cost", "members", "leads", "deals", "won", "won_revenue", "cost_per_lead",
                "roi"]


def _key(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str).str.casefold()


def _ratios(cost: float | None, leads: int, revenue: float) -> tuple[float | None, float | None]:
    per_lead = round(cost / leads, 2) if cost is not None and leads else None
    roi = round(100.0 * (revenue - cost) / cost, 1) if cost else None
    return per_lead, roi


def build(data: dict[str, list[dict]], campaigns: list[dict], *, currency: str, now: Any = None,
          kind: str | None = None) -> Report:
    report = Report("campaigns", "Campaigns report", f"as of {str(now or '')[:10]}", str(now or ""),
                    currency=currency)
    defs = [c for c in campaigns if not kind or c.get("kind") == kind]
    if kind:
        report.notes.append(f"kind: {kind}")
    events = pd.DataFrame(data["campaign_events"], columns=["customer", "at", "kind", "campaign", "response"])
    events["key"] = _key(events["campaign"])
    funnel = pd.DataFrame(data["funnel"], columns=["customer", "campaign"])
    origin = pd.Series(_key(funnel["campaign"]).values, index=funnel["customer"].values)
    deals = pd.DataFrame(data["deals"], columns=["customer", "id", "amount", "currency", "status", "campaign"])
    deals["key"] = _key(deals["campaign"]).where(deals["campaign"].notna(), deals["customer"].map(origin))
    deals["key"] = deals["key"].fillna("")
    won = deals[(deals["status"] == "won") & (deals["currency"].fillna(currency) == currency)]
    rows = []
    foreign = []
    for c in defs:
        k = str(c["name"]).casefold()
        mine = events[events["key"] == k]
        answered = mine[mine["kind"] == "campaign.response"]
        cost = c.get("cost")
        if cost is not None and c.get("currency") not in (None, currency):
            foreign.append(str(c["name"]))
            cost = None
        leads = int((origin == k).sum())
        revenue = float(won.loc[won["key"] == k, "amount"].astype(float).sum())
        per_lead, roi = _ratios(float(cost) if cost is not None else None, leads, revenue)
        rows.append({"campaign": c["name"], "kind": c.get("kind"), "cost": cost,
                     "members": int(mine["customer"].nunique()),
                     **{r: int(answered.loc[answered["response"] == r, "customer"].nunique()) for r in RESPONSES},
                     "leads": leads, "deals": int((deals["key"] == k).sum()), "won": int((won["key"] == k).sum()),
                     "won_revenue": revenue, "cost_per_lead": per_lead, "roi": roi})
    table = pd.DataFrame(rows, columns=COLUMNS)
    money = {"cost": MONEY, "won_revenue": MONEY, "cost_per_lead": MONEY, "roi": PCT}
    report.add("campaigns", "Per campaign", table[[c for c in COLUMNS if c not in RESPONSES]],
               Chart("bar", "campaign", ["won_revenue"]),
               note="leads: customers who came from the campaign; roi = (won revenue - cost) / cost"
               ).formats.update({**dict.fromkeys(["members", "leads", "deals", "won"], INT), **money})
    report.add("responses", "Responses per campaign", table[["campaign", "kind", "members", *RESPONSES]],
               note="members who gave each response at least once").formats.update(
        dict.fromkeys(["members", *RESPONSES], INT))
    by_kind = []
    for k, group in table.groupby("kind", sort=True):
        cost = float(group["cost"].dropna().sum()) if group["cost"].notna().any() else None
        leads, revenue = int(group["leads"].sum()), float(group["won_revenue"].sum())
        per_lead, roi = _ratios(cost, leads, revenue)
        by_kind.append({"kind": k, "campaigns": len(group), "cost": cost, "members": int(group["members"].sum()),
                        "leads": leads, "deals": int(group["deals"].sum()), "won": int(group["won"].sum()),
                        "won_revenue": revenue, "cost_per_lead": per_lead, "roi": roi})
    kinds = pd.DataFrame(by_kind, columns=KIND_COLUMNS)
    report.add("by_kind", "Per kind", kinds).formats.update(
        {**dict.fromkeys(["campaigns", "members", "leads", "deals", "won"], INT), "cost": MONEY,
         "won_revenue": MONEY, "cost_per_lead": MONEY, "roi": PCT})
    if foreign:
        report.notes.append(f"cost in another currency than {currency}, left out of cost per lead and ROI: "
                            + ", ".join(foreign))
    return report
