"""Helpers shared by the reports (pandas)."""
from __future__ import annotations

from typing import Any

import pandas as pd

from crmcli.domain import dates, durations


def ts(value: Any, tz: Any) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return t.tz_localize(tz) if t.tzinfo is None else t.tz_convert(tz)


def tz_of(frames: dict[str, pd.DataFrame]) -> Any:
    for df in frames.values():
        for col in df.columns:
            tz = getattr(df[col].dtype, "tz", None)
            if tz is not None:
                return tz
    return "UTC"


def between(series: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """start <= value < end (NaT is outside)."""
    return series.notna() & (series >= start) & (series < end)


def period_days(text: Any) -> float | None:
    try:
        return durations.parse_period(str(text)).total_seconds() / 86400
    except dates.DateError:
        return None


def same(series: pd.Series, who: str) -> pd.Series:
    return series.fillna("").astype(str).str.strip().str.casefold() == who.strip().casefold()


def purchases(frames: dict[str, pd.DataFrame], currency: str | None = None) -> pd.DataFrame:
    """Every purchase (orders, and won deals that no order records): customer, at (day), amount, currency, opp."""
    orders = frames["orders"]
    opps = frames["opps"]
    a = pd.DataFrame({"customer": orders["customer"], "date": orders["date"], "amount": orders["amount"],
                      "currency": orders["currency"], "opp": orders["opp"]})
    ordered = set(zip(orders["customer"], orders["opp"].fillna(""), strict=False))
    won = opps[opps["status"] == "won"]
    keep = [(c, o) not in ordered for c, o in zip(won["customer"], won["id"], strict=False)]
    won = won[keep] if len(won) else won
    closed_day = won["closed_at"].dt.tz_localize(None).dt.normalize()
    b = pd.DataFrame({"customer": won["customer"], "date": closed_day, "amount": won["amount"],
                      "currency": won["currency"], "opp": won["id"]})
    out = pd.concat([x for x in (a, b) if len(x)], ignore_index=True) if len(a) or len(b) else a
    if currency is not None and len(out):
        out = out[out["currency"].fillna(currency) == currency]
    return out.sort_values(["customer", "date"], kind="stable").reset_index(drop=True)


def names(frames: dict[str, pd.DataFrame]) -> pd.Series:
    c = frames["customers"]
    return pd.Series(c["name"].values, index=c["id"].values)


def pct(num: float, den: float) -> float | None:
    return round(100.0 * num / den, 1) if den else None
