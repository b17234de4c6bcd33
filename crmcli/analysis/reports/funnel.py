"""The funnel report: lead -> contacted -> opportunity -> won, by source, campaign, owner and period.

Built from ``crmcli.analysis.growth`` funnel rows (each customer's day at each step, from its journal, see
``crmcli.domain.leads.steps``). The cohort is the customers whose lead day falls in the window.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from crmcli.analysis.reports import INT, NUM, PCT, Chart, Report
from crmcli.analysis.reports.common import pct
from crmcli.domain.leads import STEPS

PERIODS = {"week": "W-MON", "month": "M", "quarter": "Q", "year": "Y"}
COUNTS = ["leads", "contacted", "opps", "won"]
RATES = ["pct_contacted", "pct_opp", "pct_won"]  # each of the step before
GAPS = ["days_contact", "days_opp", "days_won"]  # median days from the step before


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["customer", "name", "source", "campaign", "owner", *STEPS])
    for step in STEPS:
        df[step] = pd.to_datetime(df[step].map(lambda d: d.isoformat() if d is not None else None))
    return df


def _median_gap(df: pd.DataFrame, a: str, b: str) -> float | None:
    both = df[df[a].notna() & df[b].notna()]
    if not len(both):
        return None
    return float((both[b] - both[a]).dt.days.median())


def _summary(df: pd.DataFrame) -> dict[str, Any]:
    counts = [int(df[s].notna().sum()) for s in STEPS]
    out: dict[str, Any] = dict(zip(COUNTS, counts, strict=True))
    out.update({rate: pct(counts[i + 1], counts[i]) for i, rate in enumerate(RATES)})
    out["lead_to_won"] = pct(counts[3], counts[0])
    out.update({gap: _median_gap(df, a, b) for gap, a, b in zip(GAPS, STEPS, STEPS[1:], strict=False)})
    return out


def _grouped(df: pd.DataFrame, by: pd.Series, label: str) -> pd.DataFrame:
    keys = by.fillna("(none)").astype(str)
    rows = [{label: key, **_summary(df[keys == key])} for key in sorted(set(keys))]
    out = pd.DataFrame(rows, columns=[label, *COUNTS, *RATES, *GAPS])  # lead_to_won: in the steps section
    return out.sort_values(["leads", label], ascending=[False, True], kind="stable") if label != "period" else out


def build(rows: list[dict], *, since: Any = None, until: Any = None, period: str = "month", owner: str | None = None,
          label: str = "", now: Any = None) -> Report:
    """The funnel of the customers who became leads in [since, until) (days; None: open-ended)."""
    report = Report("funnel", "Funnel report", label or "all leads", str(now or ""), currency="")
    df = _frame(rows)
    if owner:
        df = df[df["owner"].fillna("").str.strip().str.casefold() == owner.strip().casefold()]
        report.notes.append(f"owner: {owner}")
    if since is not None:
        df = df[df["lead"] >= pd.Timestamp(since)]
    if until is not None:
        df = df[df["lead"] < pd.Timestamp(until)]
    total = _summary(df)
    steps = pd.DataFrame({"step": list(STEPS), "customers": [total[c] for c in COUNTS],
                          "conversion": [None, *(total[r] for r in RATES)],
                          "of_leads": [pct(total[c], total["leads"]) for c in COUNTS],
                          "median_days": [None, *(total[g] for g in GAPS)]})
    report.add("steps", "Funnel", steps, Chart("funnel", "step", ["customers"]), customers=INT, conversion=PCT,
               of_leads=PCT, median_days=NUM,
               note="conversion: of the step before; median_days: from the step before, among customers reaching "
                    "this step")
    fmt = {**dict.fromkeys(COUNTS, INT), **dict.fromkeys(RATES, PCT), **dict.fromkeys(GAPS, NUM)}
    note = "pct_*: of the step before; days_*: median days from the step before"
    report.add("by_source", "By lead source", _grouped(df, df["source"], "source"), note=note).formats.update(fmt)
    report.add("by_campaign", "By campaign", _grouped(df, df["campaign"], "campaign"), note=note).formats.update(fmt)
    report.add("by_owner", "By owner", _grouped(df, df["owner"], "owner"), note=note).formats.update(fmt)
    periods = df["lead"].dt.to_period(PERIODS[period]).astype(str) if len(df) else df["lead"].astype(str)
    by_period = report.add("by_period", f"By {period} of becoming a lead", _grouped(df, periods, "period"), note=note)
    by_period.formats.update(fmt)
    return report
