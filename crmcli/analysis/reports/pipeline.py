"""The pipeline and forecast report, optionally replayed as it stood on a past day (``as_of``)."""
from __future__ import annotations

from typing import Any

import pandas as pd

from crmcli.analysis.reports import DATE, DAYS, INT, MONEY, PCT, TIME, Chart, Report
from crmcli.analysis.reports.common import between, names, pct, same, ts, tz_of

CLOSED = ("won", "lost")


def _stamp(epoch: Any, tz: Any) -> pd.Timestamp:
    return pd.Timestamp(int(epoch), unit="s", tz="UTC").tz_convert(tz) if epoch is not None else pd.NaT


def replay(opps: pd.DataFrame, cutoff: pd.Timestamp, stages: list[str]) -> pd.DataFrame:
    """Each deal as it stood at ``cutoff``: stage, close, closed_at, max_rank reached; deals not yet created dropped."""
    tz = cutoff.tz
    limit = cutoff.timestamp()
    open_stages = [s for s in stages if s not in CLOSED]
    rank = {s: i for i, s in enumerate(open_stages)}
    rank["won"] = len(open_stages)
    rows = []
    for r in opps.itertuples(index=False):
        hist = [h for h in (r.stage_history or []) if h[0] is not None and h[0] <= limit]
        if not hist:
            continue
        stage = hist[-1][2]
        reached = max((rank.get(to, -1) for _, _, to in hist), default=-1)
        closes = [c for at, c in (r.close_history or []) if at is not None and at <= limit]
        close = closes[-1] if closes else None
        rows.append((r.customer, r.id, r.title, r.amount, r.currency, stage, close, r.owner, r.source,
                     hist[0][0], hist[-1][0] if stage in CLOSED else None, reached))
    cols = ["customer", "id", "title", "amount", "currency", "stage", "close", "owner", "source", "created",
            "closed_at", "reached"]
    df = pd.DataFrame.from_records(rows, columns=cols)
    df["close"] = pd.to_datetime(df["close"], format="%Y-%m-%d", errors="coerce")
    for col in ("created", "closed_at"):
        df[col] = pd.to_datetime(pd.to_numeric(df[col], errors="coerce"), unit="s", utc=True).dt.tz_convert(tz)
    df["amount"] = pd.to_numeric(df["amount"], errors="coerce").astype(float)
    return df


def build(frames: dict[str, pd.DataFrame], *, pipeline: list[dict], as_of: Any, since: Any, now: Any,
          currency: str, owner: str | None = None, label: str = "") -> Report:
    tz = tz_of(frames)
    cutoff, since, now = ts(as_of, tz), ts(since, tz), ts(now, tz)
    stages = [str(p.get("stage")) for p in pipeline]
    info = {str(p.get("stage")): p for p in pipeline}
    prob = {s: float(info[s].get("probability", 0) or 0) for s in stages}
    cat = {s: str(info[s].get("category", "") or "") for s in stages}
    open_stages = [s for s in stages if s not in CLOSED]
    report = Report("pipeline", "Pipeline and forecast", label or f"as of {cutoff:%Y-%m-%d %H:%M}",
                    now.isoformat(), currency=currency)
    opps = frames["opps"]
    if owner:
        opps = opps[same(opps["owner"], owner)]
        report.notes.append(f"owner: {owner}")
    other = opps[opps["currency"].fillna(currency) != currency]
    if len(other):
        report.notes.append(f"{len(other)} deals in other currencies left out "
                            f"({', '.join(sorted(other['currency'].dropna().unique()))})")
    opps = opps[opps["currency"].fillna(currency) == currency]
    state = replay(opps, cutoff, stages)
    name = names(frames)

    live = state[state["stage"].isin(open_stages)].copy()
    live["probability"] = live["stage"].map(prob)
    live["weighted"] = (live["amount"] * live["probability"] / 100).round(2)
    live["category"] = live["stage"].map(cat)

    by_stage = pd.DataFrame({"stage": open_stages})
    by_stage["probability"] = by_stage["stage"].map(prob)
    by_stage["category"] = by_stage["stage"].map(cat)
    g = live.groupby("stage")
    by_stage["deals"] = by_stage["stage"].map(g.size()).fillna(0).astype(int)
    by_stage["amount"] = by_stage["stage"].map(g["amount"].sum()).fillna(0.0)
    by_stage["weighted"] = by_stage["stage"].map(g["weighted"].sum()).fillna(0.0)
    total = pd.DataFrame([{"stage": "total", "probability": float("nan"), "category": "",
                           "deals": int(by_stage["deals"].sum()), "amount": by_stage["amount"].sum(),
                           "weighted": by_stage["weighted"].sum()}])
    report.add("by_stage", "Open deals by stage", pd.concat([by_stage, total], ignore_index=True),
               Chart("funnel", "stage", ["amount", "weighted"], "Pipeline by stage"),
               probability=PCT, deals=INT, amount=MONEY, weighted=MONEY)
    report.lead("open_deals", "open deals", int(total["deals"].iloc[0]), INT)
    report.lead("pipeline_amount", "pipeline amount", float(total["amount"].iloc[0]), MONEY)
    report.lead("pipeline_weighted", "weighted pipeline", float(total["weighted"].iloc[0]), MONEY)

    month = live["close"].dt.strftime("%Y-%m").fillna("(no close date)")
    fm = live.assign(month=month)
    cats = [c for c in dict.fromkeys(cat[s] for s in open_stages) if c]
    if len(fm):
        piv = fm.pivot_table(index="month", columns="category", values="amount", aggfunc="sum", fill_value=0)
        piv = piv.reindex(columns=cats, fill_value=0)
    else:
        piv = pd.DataFrame(columns=cats)
    by_month = pd.DataFrame({"deals": fm.groupby("month").size(), "amount": fm.groupby("month")["amount"].sum(),
                             "weighted": fm.groupby("month")["weighted"].sum()})
    by_month = by_month.join(piv).reset_index().rename(columns={"index": "month"})
    if "month" not in by_month.columns:
        by_month.insert(0, "month", [])
    by_month = by_month.sort_values("month", key=lambda s: s.str.replace("(", "~", regex=False), kind="stable")
    report.add("forecast_month", "Forecast by close month", by_month,
               Chart("bar", "month", ["weighted"], "Weighted forecast by close month"),
               deals=INT, amount=MONEY, weighted=MONEY, **{c: MONEY for c in cats})
    by_cat = pd.DataFrame({"category": cats})
    gc = live.groupby("category")
    by_cat["deals"] = by_cat["category"].map(gc.size()).fillna(0).astype(int)
    by_cat["amount"] = by_cat["category"].map(gc["amount"].sum()).fillna(0.0)
    by_cat["weighted"] = by_cat["category"].map(gc["weighted"].sum()).fillna(0.0)
    report.add("forecast_category", "Forecast by category", by_cat, deals=INT, amount=MONEY, weighted=MONEY)

    # stage-to-stage conversion: of the deals that reached a stage, how many reached the next one
    steps = open_stages + ["won"]
    reached = [int((state["reached"] >= i).sum()) for i in range(len(steps))]
    conv = pd.DataFrame({"from": steps[:-1], "to": steps[1:], "reached": reached[:-1], "moved_on": reached[1:]})
    conv["conversion"] = [pct(b, a) for a, b in zip(reached[:-1], reached[1:], strict=True)]
    report.add("conversion", "Stage-to-stage conversion", conv, reached=INT, moved_on=INT, conversion=PCT,
               note="deals that reached a stage (or a later one) and went on to the next")

    closed = state[state["stage"].isin(CLOSED)].copy()
    closed["cycle_days"] = (closed["closed_at"] - closed["created"]).dt.total_seconds() / 86400
    rows = []
    groups = [("all", closed)] + [(str(o), d) for o, d in closed.assign(owner=closed["owner"].fillna("(none)"))
                                 .groupby("owner", sort=True)]
    for who, d in groups:
        won, lost = d[d["stage"] == "won"], d[d["stage"] == "lost"]
        rows.append({"owner": who, "won": len(won), "lost": len(lost), "win_rate": pct(len(won), len(won) + len(lost)),
                     "won_amount": float(won["amount"].sum()),
                     "avg_cycle_days": round(float(won["cycle_days"].mean()), 1) if len(won) else None})
    report.add("win_rate", "Win rate and sales cycle", pd.DataFrame(rows), won=INT, lost=INT, win_rate=PCT,
               won_amount=MONEY, avg_cycle_days=DAYS,
               note="win rate = won / (won + lost); cycle = opened to won, in days")

    # movement in the period (since, cutoff]
    moves = []
    lo, hi = since.timestamp(), cutoff.timestamp()
    rank = {s: i for i, s in enumerate(open_stages)}
    for r in opps.itertuples(index=False):
        for at, a, b in r.stage_history or []:
            if at is None or not lo <= at <= hi:
                continue
            if a is None:
                ev = "new"
            elif b in CLOSED:
                ev = str(b)
            elif a in rank and b in rank and rank[b] > rank[a]:
                ev = "advanced"
            else:
                continue
            moves.append((_stamp(at, tz), ev, r.customer, r.id, r.title, a or "", b, r.amount, r.owner))
        prev = None
        for i, (at, close) in enumerate(r.close_history or []):
            if i and at is not None and lo <= at <= hi and prev and close and close > prev:
                moves.append((_stamp(at, tz), "slipped", r.customer, r.id, r.title, prev, close, r.amount, r.owner))
            prev = close if close else prev
    mv = pd.DataFrame.from_records(moves, columns=["at", "event", "customer", "opp", "title", "from", "to", "amount",
                                                   "owner"])
    mv = mv.sort_values(["at", "opp"], kind="stable")
    events = ["new", "advanced", "slipped", "won", "lost"]
    summary = pd.DataFrame([(e, int((mv["event"] == e).sum()), float(mv.loc[mv["event"] == e, "amount"].sum()))
                            for e in events], columns=["movement", "deals", "amount"])
    report.add("movement", f"Pipeline movement {since:%Y-%m-%d} to {cutoff:%Y-%m-%d}", summary,
               Chart("bar", "movement", ["amount"]), deals=INT, amount=MONEY)
    mv.insert(2, "name", mv["customer"].map(name))
    report.add("movement_deals", "Deals that moved", mv.drop(columns=["customer"]), at=TIME, amount=MONEY)

    top = live.sort_values(["weighted", "id"], ascending=[False, True], kind="stable")
    top_tbl = pd.DataFrame({"customer": top["customer"].map(name), "opp": top["id"], "title": top["title"],
                            "stage": top["stage"], "amount": top["amount"], "weighted": top["weighted"],
                            "close": top["close"], "owner": top["owner"]})
    report.add("open_deals", "Open deals", top_tbl, amount=MONEY, weighted=MONEY, close=DATE)
    _ = between
    return report
