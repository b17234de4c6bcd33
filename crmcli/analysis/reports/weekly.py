"""The weekly report: what the team did and what moved in one week (or any window)."""
from __future__ import annotations

from typing import Any

import pandas as pd

from crmcli.analysis.reports import DATE, DAYS, INT, MONEY, TIME, Chart, Report
from crmcli.analysis.reports.common import between, names, pct, period_days, purchases, same, ts, tz_of

LIFECYCLE_RANK = {"lead": 0, "prospect": 1, "customer": 2, "repeat": 3}


def deal_moves(opps: pd.DataFrame, stages: list[str]) -> pd.DataFrame:
    """Every stage change of every deal: customer, opp, title, at, from, to, event, amount, owner."""
    rank = {s: i for i, s in enumerate(stages)}
    rows = []
    for r in opps.itertuples(index=False):
        for at, a, b in r.stage_history or []:
            if a is None:
                event = "created"
            elif b in ("won", "lost"):
                event = str(b)
            elif a in ("won", "lost"):
                event = "reopened"
            elif rank.get(b, -1) > rank.get(a, -1):
                event = "advanced"
            else:
                event = "moved back"
            rows.append((r.customer, r.id, r.title, at, a, b, event, r.amount, r.currency, r.owner))
    cols = ["customer", "opp", "title", "at", "from", "to", "event", "amount", "currency", "owner"]
    df = pd.DataFrame.from_records(rows, columns=cols)
    tz = opps["created"].dt.tz if len(opps) else "UTC"
    df["at"] = pd.to_datetime(pd.to_numeric(df["at"], errors="coerce"), unit="s", utc=True).dt.tz_convert(tz)
    return df


def lifecycle_moves(frames: dict[str, pd.DataFrame], tz: Any) -> pd.DataFrame:
    """Moves the facts make (crmcli.domain.deals lifecycle rules): first deal, first and second purchase."""
    opps = frames["opps"]
    first_opp = opps.groupby("customer")["created"].min()
    buys = purchases(frames)
    buys = buys.assign(at=buys["date"].dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward"))
    nth: Any = {}
    for cid, at in zip(buys["customer"], buys["at"], strict=True):
        if pd.notna(at):
            nth.setdefault(cid, []).append(at)
    nth = {cid: sorted(v)[:2] for cid, v in nth.items()}
    rows = []
    for cid in sorted(set(first_opp.index) | set(nth)):
        steps = []
        if cid in first_opp.index and pd.notna(first_opp[cid]):
            steps.append((first_opp[cid], "prospect"))
        for at, target in zip(nth.get(cid, []), ("customer", "repeat"), strict=False):
            steps.append((at, target))
        current = "lead"
        for at, target in sorted(steps, key=lambda x: (x[0], LIFECYCLE_RANK[x[1]])):
            if LIFECYCLE_RANK[target] > LIFECYCLE_RANK[current]:
                rows.append((cid, at, current, target))
                current = target
    return pd.DataFrame.from_records(rows, columns=["customer", "at", "from", "to"])


def build(frames: dict[str, pd.DataFrame], *, start: Any, end: Any, now: Any, stages: list[str],
          owner: str | None = None, label: str = "", currency: str = "", previous: bool = True,
          headline_only: bool = False) -> Report:
    """The report of [start, end); with ``previous``, headline numbers compared with the window just before.

    ``headline_only`` skips what the headline does not need (lifecycle moves, customers losing touch: empty).
    """
    tz = tz_of(frames)
    start, end, now = ts(start, tz), ts(end, tz), ts(now, tz)
    as_of = min(end, now)
    cust = frames["customers"]
    name = names(frames)
    period = label or f"{start:%Y-%m-%d} to {(end - pd.Timedelta(seconds=1)):%Y-%m-%d}"
    report = Report("weekly", "Weekly report", period, now.isoformat(), currency=currency)
    if owner:
        report.notes.append(f"owner: {owner}")
    owned = set(cust.loc[same(cust["owner"], owner), "id"]) if owner else None

    # -- interactions
    ix = frames["interactions"]
    ix = ix[between(ix["at"], start, end)]
    if owner:
        ix = ix[same(ix["by"], owner)]
    by_type = ix.groupby("kind").size().rename("interactions").reset_index().sort_values(
        ["interactions", "kind"], ascending=[False, True])
    by_type.columns = ["type", "interactions"]
    days = pd.date_range(start.normalize(), (end - pd.Timedelta(seconds=1)).normalize(), freq="D")
    per_day = ix.groupby(ix["at"].dt.normalize()).size().reindex(days, fill_value=0)
    by_day = pd.DataFrame({"day": [d.strftime("%Y-%m-%d %a") for d in days], "interactions": per_day.values})
    for kind in sorted(ix["kind"].unique()):
        by_day[kind] = ix[ix["kind"] == kind].groupby(ix["at"].dt.normalize()).size().reindex(days, fill_value=0).values
    who = ix.assign(by=ix["by"].fillna("(unknown)"))
    by_owner = pd.crosstab(who["by"], who["kind"]) if len(who) else pd.DataFrame()
    if len(by_owner):
        by_owner.insert(0, "total", by_owner.sum(axis=1))
        by_owner = by_owner.sort_values("total", ascending=False, kind="stable").reset_index().rename(
            columns={"by": "who"})
        by_owner.columns.name = None
    else:
        by_owner = pd.DataFrame({"who": [], "total": []})

    # -- customers
    new = cust[between(cust["created"], start, end)]
    if owned is not None:
        new = new[new["id"].isin(owned)]
    new_tbl = pd.DataFrame({"customer": new["id"], "name": new["name"], "created": new["created"],
                            "owner": new["owner"], "source": new["source"], "stage": new["stage"]})
    moves = lifecycle_moves(frames, tz) if not headline_only else pd.DataFrame(columns=["customer", "at", "from",
                                                                                        "to"])
    moves = moves[between(moves["at"], start, end)] if len(moves) else moves
    if owned is not None:
        moves = moves[moves["customer"].isin(owned)]
    life_tbl = pd.DataFrame({"customer": moves["customer"], "name": moves["customer"].map(name),
                             "at": moves["at"], "from": moves["from"], "to": moves["to"]})

    # -- deals
    opps = frames["opps"]
    if owner:
        opps = opps[same(opps["owner"], owner)]
    mv = deal_moves(opps, stages)
    mv = mv[between(mv["at"], start, end)]
    deal_tbl = pd.DataFrame({"at": mv["at"], "event": mv["event"], "customer": mv["customer"].map(name),
                             "opp": mv["opp"], "title": mv["title"], "from": mv["from"], "to": mv["to"],
                             "amount": mv["amount"], "owner": mv["owner"]}).sort_values("at", kind="stable")
    deal_sum = pd.DataFrame([(ev, int((mv["event"] == ev).sum()), float(mv.loc[mv["event"] == ev, "amount"].sum()))
                             for ev in ("created", "advanced", "won", "lost")], columns=["deals", "count", "amount"])

    # -- tickets
    tk = frames["tickets"]
    if owned is not None:
        tk = tk[tk["customer"].isin(owned) | same(tk["assignee"], owner or "")]
    opened = between(tk["opened_at"], start, end)
    closed = between(tk["closed_at"], start, end)
    breached = ((between(tk["response_due"], start, end) & tk["response_breached"])
                | (between(tk["resolution_due"], start, end) & tk["resolution_breached"]))
    tk_rows = []
    for mask, ev in ((opened, "opened"), (closed, "closed"), (breached, "breached")):
        for r in tk[mask].itertuples(index=False):
            tk_rows.append((ev, name.get(r.customer, r.customer), r.id, r.title, r.priority, r.category,
                            r.assignee, r.status))
    tk_tbl = pd.DataFrame.from_records(tk_rows, columns=["event", "customer", "ticket", "title", "priority",
                                                          "category", "assignee", "status"])

    # -- tasks
    ts_ = frames["tasks"]
    if owner:
        ts_ = ts_[same(ts_["owner"], owner)]
    done = ts_[between(ts_["done_at"], start, end)]
    still_open = ts_["done_at"].isna() | (ts_["done_at"] > as_of)
    overdue = ts_[still_open & (ts_["created"] <= as_of) & ts_["due_at"].notna() & (ts_["due_at"] <= as_of)]
    task_tbl = pd.concat([
        pd.DataFrame({"state": "done", "customer": done["customer"].map(name), "task": done["id"],
                      "text": done["text"], "owner": done["owner"], "due": done["due"]}),
        pd.DataFrame({"state": "overdue", "customer": overdue["customer"].map(name), "task": overdue["id"],
                      "text": overdue["text"], "owner": overdue["owner"], "due": overdue["due"]}),
    ], ignore_index=True)

    # -- losing touch (as of the end of the window)
    touch = losing_touch(frames, as_of, owned) if not headline_only else losing_touch(frames, as_of, set())

    summary = [
        ("interactions", len(ix), None),
        ("new customers", len(new_tbl), None),
        ("lifecycle moves", len(life_tbl), None),
        ("deals created", int((mv["event"] == "created").sum()),
         float(mv.loc[mv["event"] == "created", "amount"].sum())),
        ("deals advanced", int((mv["event"] == "advanced").sum()),
         float(mv.loc[mv["event"] == "advanced", "amount"].sum())),
        ("deals won", int((mv["event"] == "won").sum()), float(mv.loc[mv["event"] == "won", "amount"].sum())),
        ("deals lost", int((mv["event"] == "lost").sum()), float(mv.loc[mv["event"] == "lost", "amount"].sum())),
        ("tickets opened", int(opened.sum()), None),
        ("tickets closed", int(closed.sum()), None),
        ("tickets breached", int(breached.sum()), None),
        ("tasks done", len(done), None),
        ("tasks overdue", len(overdue), None),
        ("customers losing touch", len(touch), None),
    ]
    report.add("summary", "Summary", pd.DataFrame(summary, columns=["what", "count", "amount"]),
               count=INT, amount=MONEY)
    before: dict[str, tuple] = {}
    if previous:
        prior = build(frames, start=start - (end - start), end=start, now=now, stages=stages, owner=owner,
                      label="previous", currency=currency, previous=False, headline_only=True)
        before = {r[0]: r[1:] for r in prior.section("summary").frame.itertuples(index=False, name=None)}
    this = {r[0]: r[1:] for r in summary}
    for key, what, col, fmt in (("interactions", "interactions", 0, INT), ("new_customers", "new customers", 0, INT),
                                ("deals_won", "deals won", 0, INT), ("won_value", "deals won", 1, MONEY),
                                ("tickets_opened", "tickets opened", 0, INT),
                                ("tickets_closed", "tickets closed", 0, INT),
                                ("tickets_breached", "tickets breached", 0, INT)):
        label_ = "value of deals won" if key == "won_value" else what
        report.lead(key, label_, this[what][col], fmt, before[what][col] if what in before else None)
    report.add("interactions_by_type", "Interactions by type", by_type,
               Chart("bar", "type", ["interactions"]), interactions=INT)
    report.add("interactions_by_day", "Interactions by day", by_day,
               Chart("line", "day", ["interactions"], "Interactions per day"),
               **{str(c): INT for c in by_day.columns if c != "day"})
    report.add("interactions_by_owner", "Interactions by owner", by_owner, Chart("bar", "who", ["total"]),
               **{str(c): INT for c in by_owner.columns if c != "who"})
    report.add("new_customers", "New customers", new_tbl, created=TIME)
    report.add("lifecycle", "Lifecycle moves", life_tbl, at=TIME,
               note="moves the facts make: first deal, first and second purchase")
    report.add("deal_summary", "Deals", deal_sum, Chart("bar", "deals", ["amount"]), count=INT, amount=MONEY)
    report.add("deals", "Deal moves", deal_tbl, at=TIME, amount=MONEY)
    report.add("tickets", "Tickets opened, closed and breached", tk_tbl)
    report.add("tasks", "Tasks done and overdue", task_tbl)
    report.add("losing_touch", "Customers losing touch", touch, last_contact=DATE, days_since=DAYS,
               every_days=DAYS)
    return report


def losing_touch(frames: dict[str, pd.DataFrame], as_of: pd.Timestamp, owned: set | None = None) -> pd.DataFrame:
    """Customers with ``touch_every`` whose last interaction (or creation) is longer ago than that."""
    cust = frames["customers"]
    cust = cust[cust["touch_every"].notna() & (cust["created"].isna() | (cust["created"] <= as_of))]
    if owned is not None:
        cust = cust[cust["id"].isin(owned)]
    ix = frames["interactions"]
    last = ix[ix["at"] <= as_of].groupby("customer")["at"].max().to_dict()
    rows = []
    for r in cust.itertuples(index=False):
        every = period_days(r.touch_every)
        if every is None:
            continue
        seen = last.get(r.id)
        since = seen if seen is not None and pd.notna(seen) else r.created
        if since is None or pd.isna(since):
            continue
        if since + pd.Timedelta(days=every) <= as_of:
            rows.append((r.id, r.name, r.owner, seen if seen is not None and pd.notna(seen) else pd.NaT,
                         (as_of.normalize() - since.normalize()).days, int(every)))
    df = pd.DataFrame.from_records(rows, columns=["customer", "name", "owner", "last_contact", "days_since",
                                                  "every_days"])
    return df.sort_values(["days_since", "customer"], ascending=[False, True], kind="stable")


__all__ = ["build", "deal_moves", "lifecycle_moves", "losing_touch", "pct"]
