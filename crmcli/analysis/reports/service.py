"""The service report: open tickets, response and resolution times, SLA compliance, CSAT and NPS."""
from __future__ import annotations

from typing import Any

import pandas as pd

from crmcli.analysis.reports import HOURS, INT, NUM, PCT, Chart, Report
from crmcli.analysis.reports.common import between, pct, same, ts, tz_of

SLA_NOTE = ("first response = the first reply to the customer (a public comment, or a move to in-progress or "
            "waiting; resolving or closing without any reply is not a response); response SLA = replied within "
            "the target, over the tickets replied to; resolution SLA = resolved within the target, over the "
            "resolved tickets; open tickets past either target are counted apart as breached-open")
AGES = [(0, 1, "<1d"), (1, 3, "1-3d"), (3, 7, "3-7d"), (7, 30, "7-30d"), (30, float("inf"), "30d+")]


def _hours(a: pd.Series, b: pd.Series) -> pd.Series:
    return (b - a).dt.total_seconds() / 3600


def _stats(d: pd.DataFrame) -> dict:
    frt = d["frt_h"].dropna()
    res = d["res_h"].dropna()
    # SLA met over the tickets that got a first reply / were resolved; open ones past due are breached-open
    resp_known = d["first_response_at"].notna()
    res_known = d["resolved_at"].notna()
    return {
        "tickets": len(d), "open": int(d["is_open"].sum()),
        "first_response_median_h": round(float(frt.median()), 1) if len(frt) else None,
        "first_response_p90_h": round(float(frt.quantile(0.9)), 1) if len(frt) else None,
        "resolution_median_h": round(float(res.median()), 1) if len(res) else None,
        "resolution_p90_h": round(float(res.quantile(0.9)), 1) if len(res) else None,
        "response_sla": pct(int((resp_known & ~d["response_breached"]).sum()), int(resp_known.sum())),
        "resolution_sla": pct(int((res_known & ~d["resolution_breached"]).sum()), int(res_known.sum())),
        "csat": round(float(d["csat"].mean()), 2) if d["csat"].notna().any() else None,
        "breached_open": int((d["is_open"] & (d["response_breached"] | d["resolution_breached"])).sum()),
        "no_reply": int((~d["is_open"] & d["first_response_at"].isna()).sum()),
    }


def build(frames: dict[str, pd.DataFrame], *, now: Any, since: Any = None, priorities: list[str] | None = None,
          owner: str | None = None, label: str = "") -> Report:
    tz = tz_of(frames)
    now = ts(now, tz)
    start = ts(since, tz) if since is not None else None
    report = Report("service", "Service report", label or (f"tickets opened since {start:%Y-%m-%d}" if start is not None
                                                            else "all tickets"), now.isoformat())
    t = frames["tickets"].copy()
    cust = frames.get("customers")
    names = pd.Series(cust["name"].values, index=cust["id"].values) if cust is not None else pd.Series(dtype=object)
    if owner:
        t = t[same(t["assignee"], owner)]
        report.notes.append(f"assignee: {owner}")
    if start is not None:
        t = t[between(t["opened_at"], start, now + pd.Timedelta(seconds=1))]
    t["is_open"] = t["status"].isin(["open", "in-progress", "waiting"])
    t["frt_h"] = _hours(t["opened_at"], t["first_response_at"])
    t["res_h"] = _hours(t["opened_at"], t["resolved_at"])
    t["age_days"] = (now - t["opened_at"]).dt.total_seconds() / 86400

    s = _stats(t)
    surveys = frames["surveys"]
    if start is not None:
        surveys = surveys[between(surveys["at"], start, now + pd.Timedelta(seconds=1))]
    nps = surveys["nps"].dropna()
    promoters, detractors = int((nps >= 9).sum()), int((nps <= 6).sum())
    nps_score = round(100.0 * (promoters - detractors) / len(nps), 1) if len(nps) else None
    extra = surveys[surveys["ticket"].isna()]["csat"].dropna()
    all_csat = pd.concat([t["csat"].dropna(), extra])
    summary = [
        ("tickets", s["tickets"], INT), ("open tickets", s["open"], INT),
        ("first response, median (h)", s["first_response_median_h"], HOURS),
        ("first response, p90 (h)", s["first_response_p90_h"], HOURS),
        ("resolution, median (h)", s["resolution_median_h"], HOURS),
        ("resolution, p90 (h)", s["resolution_p90_h"], HOURS),
        ("first response within SLA (%)", s["response_sla"], PCT),
        ("resolution within SLA (%)", s["resolution_sla"], PCT),
        ("open past SLA (breached-open)", s["breached_open"], INT),
        ("resolved or closed without any reply", s["no_reply"], INT),
        ("CSAT (1-5)", round(float(all_csat.mean()), 2) if len(all_csat) else None, NUM),
        ("CSAT answers", len(all_csat), INT),
        ("NPS", nps_score, NUM), ("NPS answers", len(nps), INT),
        ("promoters (9-10)", promoters, INT), ("detractors (0-6)", detractors, INT),
    ]
    report.add("summary", "Summary", pd.DataFrame([(a, b) for a, b, _ in summary], columns=["what", "value"]),
               note=SLA_NOTE)
    for what, value, kind in summary:
        if what in ("open tickets", "first response within SLA (%)", "resolution within SLA (%)", "CSAT (1-5)",
                    "NPS"):
            report.lead(what, what, value, kind)

    live = t[t["is_open"]]
    order = list(priorities or []) + sorted(set(live["priority"].dropna()) - set(priorities or []))
    rows = []
    for p in order:
        d = live[live["priority"] == p]
        row: dict[str, Any] = {"priority": p, "open": len(d)}
        for lo, hi, name in AGES:
            row[name] = int(((d["age_days"] >= lo) & (d["age_days"] < hi)).sum())
        row["breached"] = int((d["response_breached"] | d["resolution_breached"]).sum())
        rows.append(row)
    cols = ["priority", "open"] + [a[2] for a in AGES] + ["breached"]
    report.add("open_by_priority", "Open tickets by priority and age", pd.DataFrame(rows, columns=cols),
               Chart("bar", "priority", ["open"]), **{c: INT for c in cols[1:]})

    fmt = {"tickets": INT, "open": INT, "first_response_median_h": HOURS, "first_response_p90_h": HOURS,
           "resolution_median_h": HOURS, "resolution_p90_h": HOURS, "response_sla": PCT, "resolution_sla": PCT,
           "csat": NUM, "breached_open": INT, "no_reply": INT}
    for key, col, title in (("by_category", "category", "By category"), ("by_channel", "channel", "By channel"),
                            ("by_assignee", "assignee", "By assignee")):
        rows = []
        for value, d in t.assign(**{col: t[col].fillna("(none)")}).groupby(col, sort=True):
            rows.append({col: value, **_stats(d)})
        frame = pd.DataFrame(rows, columns=[col, *fmt])
        report.add(key, title, frame, Chart("bar", col, ["tickets"]) if key == "by_category" else None, **fmt)

    breached = t[t["is_open"] & (t["response_breached"] | t["resolution_breached"])]
    report.add("breached_open", "Open tickets past their SLA",
               pd.DataFrame({"ticket": breached["id"],
                             "customer": breached["customer"].map(names).fillna(breached["customer"]),
                             "title": breached["title"],
                             "priority": breached["priority"], "assignee": breached["assignee"],
                             "age_days": breached["age_days"].round(1)}).sort_values("age_days", ascending=False),
               age_days=NUM)
    return report
