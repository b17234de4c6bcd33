"""The needs report: the most requested needs across customers, weighted by customer value; by product, by tier.

A need's **theme** is each of its tags, or else its text (case and spacing ignored). A customer's **value** is its
revenue in the store's currency: orders, plus won deals that no order records (``common.purchases``). Each
theme counts its requests, the distinct customers asking and the sum of those customers' value; it is ranked by
value, then customers. Declined needs are left out of the ranking; done ones are counted as done.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from crmcli.analysis.reports import INT, MONEY, Chart, Report
from crmcli.analysis.reports.common import purchases
from crmcli.domain.text import fold

COLUMNS = ["family", "customer", "id", "type", "text", "product", "tags", "owner", "status", "created"]


def _theme_rows(d: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in d.iterrows():
        tags = list(r["tags"]) if isinstance(r["tags"], list) else []
        for theme in tags or [" ".join(fold(str(r["text"])).split())]:
            rows.append({**r.to_dict(), "theme": f"tag: {theme}" if tags else theme})
    return pd.DataFrame(rows, columns=[*d.columns, "theme"])


def _group(d: pd.DataFrame, key: str, value: pd.Series) -> pd.DataFrame:
    rows = []
    for name, g in d.groupby(key, sort=True):
        who = sorted(set(g["customer"]))
        rows.append({key: name, "requests": len(g), "customers": len(who),
                     "value": float(sum(value.get(c, 0.0) for c in who)),
                     "open": int(g["status"].isin(["new", "planned"]).sum()),
                     "done": int((g["status"] == "done").sum())})
    out = pd.DataFrame(rows, columns=[key, "requests", "customers", "value", "open", "done"])
    return out.sort_values(["value", "customers", "requests", key], ascending=[False, False, False, True],
                           kind="stable")


def build(frames: dict[str, pd.DataFrame], rows: list[dict], *, now: Any, currency: str) -> Report:
    report = Report("needs", "Needs report", "all needs and feedback", pd.Timestamp(now).isoformat(),
                    currency=currency)
    items = pd.DataFrame(rows, columns=COLUMNS)
    bought = purchases(frames, currency)
    value = bought.groupby("customer")["amount"].sum().astype(float) if len(bought) else pd.Series(dtype=float)
    customers = frames["customers"]
    tier = pd.Series(customers["tier"].values, index=customers["id"].values)
    fmt = {"requests": INT, "customers": INT, "value": MONEY, "open": INT, "done": INT}
    wanted = items[(items["family"] == "need") & (items["status"] != "declined")]
    themes = _theme_rows(wanted)
    report.add("top_needs", "Most requested needs, weighted by customer value", _group(themes, "theme", value),
               Chart("bar", "theme", ["value"]), **fmt)
    by_product = wanted.assign(product=wanted["product"].fillna("(none)"))
    report.add("by_product", "Needs by product", _group(by_product, "product", value), None, **fmt)
    by_tier = wanted.assign(tier=wanted["customer"].map(tier).fillna("(none)").astype(str))
    report.add("by_segment", "Needs by segment (customer tier)", _group(by_tier, "tier", value), None,
               **fmt)
    fb = items[items["family"] == "feedback"]
    counts = []
    for kind in ("praise", "suggestion", "problem"):
        g = fb[fb["type"] == kind]
        counts.append({"type": kind, "total": len(g), **{s: int((g["status"] == s).sum())
                                                         for s in ("new", "planned", "done", "declined")}})
    report.add("feedback", "Feedback by type and status",
               pd.DataFrame(counts, columns=["type", "total", "new", "planned", "done", "declined"]), None,
               **{c: INT for c in ("total", "new", "planned", "done", "declined")})
    return report
