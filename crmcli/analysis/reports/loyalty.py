"""The referrals and loyalty reports, from ``crmcli.analysis.growth`` member rows (one per customer).

Referrals: who referred whom, the revenue of the referred customers, and the rewards due (``referrals:
reward`` per referred customer who bought). Loyalty: members per tier, points outstanding (a liability at
``point_value``), redemption rate, and the repeat-purchase rate of members against non-members.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from crmcli.analysis.reports import INT, MONEY, NUM, PCT, Chart, Report
from crmcli.analysis.reports.common import pct

MEMBER_COLUMNS = ["customer", "name", "referred_by", "revenue", "purchases", "member", "tier", "balance", "earned",
                  "redeemed", "expired"]


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=MEMBER_COLUMNS)


def referrals(rows: list[dict], *, reward: float, currency: str, now: Any = None) -> Report:
    report = Report("referrals", "Referrals report", f"as of {str(now or '')[:10]}", str(now or ""),
                    currency=currency)
    df = _frame(rows)
    names = pd.Series(df["name"].values, index=df["customer"].values)
    ref = df[df["referred_by"].notna()]
    pairs = pd.DataFrame({"referrer": ref["referred_by"].values,
                          "referrer_name": ref["referred_by"].map(names).values,
                          "customer": ref["customer"].values, "name": ref["name"].values,
                          "revenue": ref["revenue"].astype(float).values,
                          "bought": (ref["purchases"] > 0).values})
    pairs = pairs.sort_values(["referrer", "customer"], kind="stable")
    report.add("referred", "Who referred whom", pairs).formats.update(revenue=MONEY)
    per = []
    for referrer, group in pairs.groupby("referrer", sort=True):
        buyers = int(group["bought"].sum())
        per.append({"referrer": referrer, "name": names.get(referrer), "referred": len(group), "bought": buyers,
                    "referred_revenue": float(group["revenue"].sum()), "reward_due": buyers * reward})
    table = pd.DataFrame(per, columns=["referrer", "name", "referred", "bought", "referred_revenue", "reward_due"])
    table = table.sort_values(["referred_revenue", "referrer"], ascending=[False, True], kind="stable")
    report.add("referrers", "Per referrer", table, Chart("bar", "name", ["referred_revenue"]),
               note=f"reward_due: {reward:g} per referred customer who bought (referrals: reward in crm.yaml)"
               ).formats.update(referred=INT, bought=INT, referred_revenue=MONEY, reward_due=MONEY)
    return report


def loyalty(rows: list[dict], *, tiers: list[str], point_value: float, currency: str, now: Any = None) -> Report:
    report = Report("loyalty", "Loyalty report", f"as of {str(now or '')[:10]}", str(now or ""), currency=currency)
    df = _frame(rows)
    members = df[df["member"].astype(bool)]
    order = [*tiers, *sorted({str(t) for t in members["tier"].dropna()} - set(tiers))]
    counts = members["tier"].fillna("(none)").astype(str).value_counts()
    keys = [t for t in order if t in counts.index] + (["(none)"] if "(none)" in counts.index else [])
    per_tier = pd.DataFrame({"tier": keys, "members": [int(counts[k]) for k in keys],
                             "points_outstanding": [int(members.loc[members["tier"].fillna("(none)") == k,
                                                                    "balance"].sum()) for k in keys]})
    report.add("tiers", "Members per tier", per_tier, Chart("bar", "tier", ["members"])).formats.update(
        members=INT, points_outstanding=INT)
    earned, redeemed = int(members["earned"].sum()), int(members["redeemed"].sum())
    outstanding = int(members["balance"].sum())
    summary = pd.DataFrame([
        {"measure": "members", "value": float(len(members))},
        {"measure": "points earned", "value": float(earned)},
        {"measure": "points redeemed", "value": float(redeemed)},
        {"measure": "points expired", "value": float(members["expired"].sum())},
        {"measure": "points outstanding", "value": float(outstanding)},
        {"measure": f"liability ({currency})", "value": round(outstanding * point_value, 2)},
        {"measure": "redemption rate %", "value": pct(redeemed, earned)},
    ])
    report.add("points", "Points", summary, note=f"liability = points outstanding x point_value ({point_value:g})"
               ).formats.update(value=NUM)
    repeat = []
    for label, group in (("members", members), ("non-members", df[~df["member"].astype(bool)])):
        buyers = group[group["purchases"] > 0]
        repeat.append({"group": label, "customers": len(group), "buyers": len(buyers),
                       "repeat_buyers": int((buyers["purchases"] >= 2).sum()),
                       "repeat_rate": pct(int((buyers["purchases"] >= 2).sum()), len(buyers))})
    report.add("repeat", "Repeat purchases: members and non-members", pd.DataFrame(repeat),
               note="repeat_rate: buyers with two purchases or more, of the buyers").formats.update(
        customers=INT, buyers=INT, repeat_buyers=INT, repeat_rate=PCT)
    return report
