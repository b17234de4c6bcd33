"""The complaint sections of the service report: counts, causes, time to resolve, escalations, satisfaction."""
from __future__ import annotations

from typing import Any

import pandas as pd

from crmcli.analysis.reports import HOURS, INT, NUM, Chart, Report
from crmcli.analysis.reports.common import between, same, ts

COLUMNS = ["customer", "id", "title", "product", "tags", "assignee", "status", "opened_at", "resolved_at",
           "escalations", "reopened", "satisfaction"]
DONE = ("resolved", "closed")


def _stats(d: pd.DataFrame) -> dict:
    hours = ((d["resolved_at"] - d["opened_at"]).dt.total_seconds() / 3600).dropna()
    sat = d["satisfaction"].dropna()
    return {"complaints": len(d), "open": int((~d["status"].isin(DONE)).sum()),
            "resolve_median_h": round(float(hours.median()), 1) if len(hours) else None,
            "escalated": int((d["escalations"] > 0).sum()), "reopened": int((d["reopened"] > 0).sum()),
            "satisfaction": round(float(sat.mean()), 2) if len(sat) else None}


def add_sections(report: Report, rows: list[dict], *, now: Any, since: Any = None, owner: str | None = None) -> Report:
    """Add ``complaints`` (summary) and ``complaint_causes`` (by tag, then by product) to a service report.

    The same tickets as the rest of the report: opened since ``since``, assigned to ``owner``. Satisfaction is
    the mean of each complaint's last CSAT given at or after its resolution.
    """
    d = pd.DataFrame(rows, columns=COLUMNS)
    for col in ("opened_at", "resolved_at"):
        d[col] = pd.to_datetime(d[col], utc=True)
    for col in ("escalations", "reopened"):
        d[col] = d[col].astype(int)
    d["satisfaction"] = pd.to_numeric(d["satisfaction"])
    if owner:
        d = d[same(d["assignee"], owner)]
    if since is not None:
        d = d[between(d["opened_at"], ts(since, "UTC"), ts(now, "UTC") + pd.Timedelta(seconds=1))]
    s = _stats(d)
    summary = [("complaints", s["complaints"]), ("open", s["open"]),
               ("time to resolve, median (h)", s["resolve_median_h"]),
               ("escalated", s["escalated"]), ("escalations", int(d["escalations"].sum())),
               ("re-opened", s["reopened"]), ("satisfaction after resolution (CSAT 1-5)", s["satisfaction"]),
               ("satisfaction answers", int(d["satisfaction"].notna().sum()))]
    report.add("complaints", "Complaints", pd.DataFrame(summary, columns=["what", "value"]))

    causes = []
    tagged = d.explode("tags")
    for tag, g in tagged[tagged["tags"].notna()].groupby("tags", sort=True):
        causes.append({"cause": f"tag: {tag}", **_stats(g)})
    for product, g in d[d["product"].notna()].groupby("product", sort=True):
        causes.append({"cause": f"product: {product}", **_stats(g)})
    if len(d) and (untold := d[d["product"].isna() & (d["tags"].map(len) == 0)]).shape[0]:
        causes.append({"cause": "(no tag or product)", **_stats(untold)})
    fmt = {"complaints": INT, "open": INT, "resolve_median_h": HOURS, "escalated": INT, "reopened": INT,
           "satisfaction": NUM}
    report.add("complaint_causes", "Complaints by cause (tag, product)",
               pd.DataFrame(causes, columns=["cause", *fmt]), Chart("bar", "cause", ["complaints"]), **fmt)
    return report
