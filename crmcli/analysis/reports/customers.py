"""The customers report: segments, revenue (ABC, RFM, lifetime value), churn risk, revenue by lead source."""
from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import pandas as pd

from crmcli.analysis.reports import DATE, DAYS, INT, MONEY, NUM, PCT, Chart, Report
from crmcli.analysis.reports.common import pct, period_days, purchases, same, ts, tz_of

RISK_LIMIT = 25


def _counts(series: pd.Series, label: str, order: list[str] | None = None) -> pd.DataFrame:
    s = series.fillna("(none)").astype(str).value_counts()
    if order:
        keys = [k for k in order if k in s.index] + sorted(k for k in s.index if k not in order)
    else:
        keys = sorted(s.index, key=lambda k: (-s[k], k))
    total = int(s.sum())
    return pd.DataFrame({label: keys, "customers": [int(s[k]) for k in keys],
                         "share": [pct(int(s[k]), total) for k in keys]})


def _score(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """1-5 by rank (quintiles of the customers that bought); ties share a score."""
    if not len(values):
        return pd.Series([], dtype=int)
    r = values.rank(method="min", pct=True, ascending=higher_is_better)
    return ((r * 5).apply(lambda x: int(-(-x // 1))).clip(1, 5)).astype(int)


def build(frames: dict[str, pd.DataFrame], *, now: Any, currency: str, lifecycle: list[str] | None = None,
          tiers: list[str] | None = None, owner: str | None = None, health_settings: Any = None,
          label: str = "", loyalty: dict[str, Any] | None = None) -> Report:
    tz = tz_of(frames)
    now = ts(now, tz)
    today = now.tz_localize(None).normalize()
    report = Report("customers", "Customers report", label or f"as of {now:%Y-%m-%d}", now.isoformat(),
                    currency=currency)
    cust = frames["customers"]
    if owner:
        cust = cust[same(cust["owner"], owner)]
        report.notes.append(f"owner: {owner}")
    ids = set(cust["id"])
    name = pd.Series(cust["name"].values, index=cust["id"].values)

    report.add("by_lifecycle", "Customers by lifecycle stage", _counts(cust["stage"], "stage", lifecycle),
               Chart("bar", "stage", ["customers"]), customers=INT, share=PCT)
    report.add("by_tier", "Customers by tier", _counts(cust["tier"], "tier", tiers), customers=INT, share=PCT)
    report.add("by_industry", "Customers by industry", _counts(cust["industry"], "industry"), customers=INT, share=PCT)
    report.add("by_source", "Customers by lead source", _counts(cust["source"], "source"), customers=INT, share=PCT)

    buys = purchases(frames, currency)
    buys = buys[buys["customer"].isin(ids)]
    g = buys.groupby("customer")
    value = pd.DataFrame({"revenue": g["amount"].sum().astype(float), "purchases": g.size(),
                          "first": pd.to_datetime(g["date"].min()), "last": pd.to_datetime(g["date"].max())})
    value = value[value["revenue"] > 0].sort_values("revenue", ascending=False, kind="stable")
    total = float(value["revenue"].sum())
    value["share"] = value["revenue"] / total * 100 if total else 0.0
    before = value["revenue"].cumsum().shift(fill_value=0) / total * 100 if total else value["revenue"] * 0
    value["segment"] = ["A" if b < 80 else "B" if b < 95 else "C" for b in before]
    abc = pd.DataFrame([{"segment": s, "customers": int((value["segment"] == s).sum()),
                         "revenue": float(value.loc[value["segment"] == s, "revenue"].sum()),
                         "share": pct(float(value.loc[value["segment"] == s, "revenue"].sum()), total)}
                        for s in "ABC"])
    report.add("abc", "Revenue segments (ABC)", abc, Chart("bar", "segment", ["revenue"]), customers=INT,
               revenue=MONEY, share=PCT,
               note="A: the customers making the first 80% of revenue, B: the next 15%, C: the rest")

    rfm = value.copy()
    rfm["recency_days"] = (today - rfm["last"]).dt.days
    rfm["R"] = _score(rfm["recency_days"], higher_is_better=False)
    rfm["F"] = _score(rfm["purchases"])
    rfm["M"] = _score(rfm["revenue"])
    rfm["RFM"] = rfm["R"].astype(str) + rfm["F"].astype(str) + rfm["M"].astype(str)
    rfm = rfm.reset_index(names="customer")
    tenure = ((today - rfm["first"]).dt.days / 365.25).clip(lower=1 / 12)
    ltv = pd.DataFrame({"customer": rfm["customer"], "name": rfm["customer"].map(name), "segment": rfm["segment"],
                        "lifetime_value": rfm["revenue"], "purchases": rfm["purchases"].astype(int),
                        "first_purchase": rfm["first"], "last_purchase": rfm["last"],
                        "per_year": (rfm["revenue"] / tenure).round(2),
                        "recency_days": rfm["recency_days"], "R": rfm["R"], "F": rfm["F"], "M": rfm["M"],
                        "RFM": rfm["RFM"]})
    report.add("value", "Lifetime value and RFM", ltv, lifetime_value=MONEY, per_year=MONEY, purchases=INT,
               first_purchase=DATE, last_purchase=DATE, recency_days=DAYS, R=INT, F=INT, M=INT,
               note="lifetime value = all purchases (orders, and won deals without an order); "
                    "R, F, M: 1-5 by rank among buying customers (5 = most recent, most frequent, most revenue)")

    risk = _churn_health(frames, cust, now, currency, health_settings, loyalty or {})
    if risk is None:
        risk = _churn_simple(frames, cust, now)
        report.notes.append("churn risk from days since last contact and recent complaints")
    report.add("churn_risk", "Churn risk", risk.head(RISK_LIMIT), days_since_contact=DAYS, last_contact=DATE,
               health=INT, risk=NUM, complaints_90d=INT)

    opps = frames["opps"]
    opps = opps[opps["customer"].isin(ids) & (opps["status"] == "won")
                & (opps["currency"].fillna(currency) == currency)]
    src = opps["source"].fillna(opps["customer"].map(pd.Series(cust["source"].values, index=cust["id"].values)))
    won = pd.DataFrame({"source": src.fillna("(none)"), "amount": opps["amount"]})
    by_src = won.groupby("source").agg(won_deals=("amount", "size"), won_amount=("amount", "sum")).reset_index()
    wtotal = float(by_src["won_amount"].sum())
    by_src["share"] = [pct(float(v), wtotal) for v in by_src["won_amount"]]
    report.lead("customers", "customers", len(cust), INT)
    report.lead("won_revenue", "won revenue", wtotal, MONEY)
    by_src = by_src.sort_values(["won_amount", "source"], ascending=[False, True], kind="stable")
    report.add("won_by_source", "Won revenue by lead source", by_src, Chart("bar", "source", ["won_amount"]),
               won_deals=INT, won_amount=MONEY, share=PCT,
               note="the deal's source, else the customer's")
    return report


def _last_contacts(frames: dict[str, pd.DataFrame], now: pd.Timestamp) -> pd.Series:
    ix = frames["interactions"]
    return ix[ix["at"] <= now].groupby("customer")["at"].max()


def _churn_simple(frames: dict[str, pd.DataFrame], cust: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """Risk points: days since last contact beyond the cadence, plus 30 per complaint in the last 90 days."""
    last = _last_contacts(frames, now)
    t = frames["tickets"]
    recent = t[(t["category"] == "complaint") & (t["opened_at"] > now - pd.Timedelta(days=90))]
    complaints = recent.groupby("customer").size()
    live = cust[~cust["stage"].fillna("").isin(["churned"])]
    rows = []
    for r in live.itertuples(index=False):
        seen = last.get(r.id)
        since = seen if seen is not None and pd.notna(seen) else r.created
        days = int((now.normalize() - since.normalize()).days) if since is not None and pd.notna(since) else None
        cadence = period_days(r.touch_every) or 90
        n = int(complaints.get(r.id, 0))
        overdue = max(0.0, (days or 0) - cadence)
        score = round(min(100.0, 100.0 * overdue / cadence) * 0.7 + min(30 * n, 30) + 0.0, 1)
        if score <= 0:
            continue
        reasons = []
        if overdue > 0:
            reasons.append(f"no contact for {days} days (every {int(cadence)})")
        if n:
            reasons.append(f"{n} complaint{'s' if n > 1 else ''} in 90 days")
        rows.append((r.id, r.name, r.owner, r.stage, seen.normalize().tz_localize(None)
                     if seen is not None and pd.notna(seen) else pd.NaT, days, n, score, "; ".join(reasons)))
    df = pd.DataFrame.from_records(rows, columns=["customer", "name", "owner", "stage", "last_contact",
                                                  "days_since_contact", "complaints_90d", "risk", "why"])
    return df.sort_values(["risk", "customer"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _churn_health(frames: dict[str, pd.DataFrame], cust: pd.DataFrame, now: pd.Timestamp, currency: str,
                  settings: Any, loyalty: dict[str, Any]) -> pd.DataFrame | None:
    """Customers at risk by crmcli.domain.health's score, when that module is installed; None otherwise."""
    if importlib.util.find_spec("crmcli.domain.health") is None:
        return None
    try:
        health = importlib.import_module("crmcli.domain.health")
        Facts, score_of = health.Facts, health.health_score
        cfg = settings if settings is not None else health.Settings.from_config(None)
        ratings_of = health.ratings_of
    except (ImportError, AttributeError, TypeError, KeyError):
        return None
    today = now.date()
    last = _last_contacts(frames, now).to_dict()  # a dict: a Series lookup per customer costs far more
    last_day = {cid: at.date() for cid, at in last.items()}

    def grouped(df: pd.DataFrame, cols: list[str]) -> dict[str, list[tuple]]:
        out: dict[str, list[tuple]] = {}
        for row in zip(df["customer"], *(df[c] for c in cols), strict=True):
            out.setdefault(row[0], []).append(row[1:])
        return out

    t = frames["tickets"]
    t = t[t["opened_at"] <= now]
    live_t = grouped(t[t["status"].isin(["open", "in-progress", "waiting"])], ["id", "title"])
    comp_t = grouped(t[t["category"] == "complaint"], ["id", "title", "opened_at"])
    window = cfg.days("complaint_window")
    is_open = t["status"].isin(["open", "in-progress", "waiting"])
    br_t: dict[str, list[tuple]] = {}
    for cid, i, x, live, opened, resp, res in zip(t["customer"], t["id"], t["title"], is_open, t["opened_at"],
                                                  t["response_breached"], t["resolution_breached"], strict=True):
        missed = [name for name, hit in (("first response", resp), ("resolution", res)) if hit]
        day = opened.date() if pd.notna(opened) else None
        if health.counts_as_breach(missed, bool(live), day, today, window):
            br_t.setdefault(cid, []).append((i, x, health.breach_what(missed)))
    s = frames["surveys"]
    s = s[s["at"] <= now]
    closed = t[t["closed_at"].notna() & (t["closed_at"] <= now)]
    answers = sorted([(at, cid, c, None, i) for cid, at, c, i in zip(closed["customer"], closed["closed_at"],
                                                                     closed["csat"], closed["id"], strict=True)]
                     + list(zip(s["at"], s["customer"], s["csat"], s["nps"], s["ticket"], strict=True)),
                     key=lambda a: a[0])
    by_s: dict[str, list[tuple]] = {}
    for at, cid, c, n, i in answers:
        by_s.setdefault(cid, []).append((at.date(), None if pd.isna(c) else int(c),
                                         None if n is None or pd.isna(n) else int(n), i))
    tk = frames["tasks"]
    by_task = grouped(tk[(tk["status"] == "open") & tk["due_at"].notna() & (tk["due_at"] <= now)],
                      ["id", "text", "due"])
    buys = purchases(frames, currency)
    by_buy = grouped(buys[buys["date"].notna()], ["date", "amount"])
    rows = []
    try:
        for r in cust[~cust["stage"].fillna("").isin(["churned"])].itertuples(index=False):
            cid = r.id
            facts = Facts(created=r.created.date() if pd.notna(r.created) else None, cadence=r.touch_every,
                          last_contact=last_day.get(cid), currency=currency)
            facts.open_tickets = [{"id": i, "title": x} for i, x in live_t.get(cid, [])]
            facts.complaints = [{"id": i, "title": x, "opened": o.date()} for i, x, o in comp_t.get(cid, [])]
            facts.breaches = [{"id": i, "title": x, "what": w} for i, x, w in br_t.get(cid, [])]
            facts.ratings = ratings_of(by_s.get(cid, []))
            facts.revenue = [(d.date(), float(a)) for d, a in by_buy.get(cid, [])]
            facts.overdue_tasks = [{"id": i, "text": x, "due": d} for i, x, d in by_task.get(cid, [])]
            if cid in loyalty:  # points, tiers and referrals (crmcli.analysis.overview.loyalty_map)
                facts.loyalty = loyalty[cid]
            h = score_of(facts, cfg, today)
            if not h.at_risk and not h.warnings:
                continue
            seen = last.get(cid)
            rows.append((cid, r.name, r.owner, r.stage, h.score,
                         seen.normalize().tz_localize(None) if seen is not None else pd.NaT,
                         (now.normalize() - seen.normalize()).days if seen is not None else None,
                         "; ".join(str(w.get("reason", "")) for w in h.warnings) or "low health score"))
    except (AttributeError, TypeError, KeyError, ValueError):
        return None
    df = pd.DataFrame.from_records(rows, columns=["customer", "name", "owner", "stage", "health", "last_contact",
                                                  "days_since_contact", "why"])
    return df.sort_values(["health", "customer"], kind="stable").reset_index(drop=True)
