"""The site's pages about the whole store: home, customer list, pipeline board, ticket queue, the four reports.

All from one load of the report frames (``crmcli.analysis.frames``, from the index) and the report builders of
``crmcli.analysis.reports``, with the same arguments ``crm report`` uses by default, so every number
equals the one of ``crm report NAME --format json``.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from crmcli.analysis import frames as frames_
from crmcli.analysis.overview import loyalty_map
from crmcli.analysis.reports import customers, pipeline, service_full, weekly
from crmcli.domain import dates, health
from crmcli.domain.money import format_money
from crmcli.render.html_page import esc
from crmcli.render.reports import html_body
from crmcli.store.store import Store
from crmcli.web import labels, pages

OPEN_STATUSES = ("open", "in-progress", "waiting")


MAX_ROWS = 200  # rows of a report table on a page; the note under it names the command with all of them
_PARALLEL_MIN = 2000  # customers from which the reports are made in two processes
_SHARED: dict[str, Any] = {}  # what forked workers inherit: the store, its frames, now


def report(name: str, store: Store, data: dict[str, pd.DataFrame], now: datetime) -> Any:
    """One report as ``crm report NAME`` makes it with no options."""
    config = store.config
    currency = str(config.get("currency", "CNY"))
    if name == "weekly":
        iso = (now - timedelta(days=7)).isocalendar()
        week = f"{iso.year}-W{iso.week:02d}"
        start, end = dates.iso_week_range(week)
        label = f"{week} ({start:%Y-%m-%d} to {end - timedelta(days=1):%Y-%m-%d})"
        return weekly.build(data, start=start, end=end, now=now, stages=config.stages, label=label,
                            currency=currency)
    if name == "pipeline":
        return pipeline.build(data, pipeline=[p for p in config["pipeline"] if isinstance(p, dict)], as_of=now,
                              since=dates.parse_since("30d", base=now), now=now, currency=currency,
                              label=f"as of {now:%Y-%m-%d %H:%M}")
    if name == "service":
        return service_full.build(store, data, now=now)
    try:
        settings = health.Settings.from_config(config)
    except Exception:  # noqa: BLE001 - as crm report customers: the report falls back without health
        settings = None
    return customers.build(data, now=now, currency=currency, lifecycle=config.lifecycle_stages,
                           tiers=[str(t) for t in config.tiers], health_settings=settings,
                           loyalty=loyalty_map(store))


def _report_page(name: str) -> tuple[str, str]:
    store, data, now, lang, built = (_SHARED[k] for k in ("store", "data", "now", "lang", "built"))
    tr = labels.translator(lang)
    rep = report(name, store, data, now)
    return name, pages.report_page(name, html_body(rep, tr, MAX_ROWS), tr=tr, lang=lang, built=built,
                                   title=f"{tr(rep.title)}: {rep.period}")


def report_pages(store: Store, data: dict[str, pd.DataFrame], now: datetime, lang: str, built: str,
                 names: list[str]) -> dict[str, str]:
    """The pages of these reports; on a large store, in two processes (the customers report is the longest)."""
    _SHARED.update(store=store, data=data, now=now, lang=lang, built=built)
    try:
        if len(data["customers"]) >= _PARALLEL_MIN and len(names) > 1 and (os.cpu_count() or 1) > 1:
            import concurrent.futures as cf
            import multiprocessing as mp

            with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as pool:
                return dict(pool.map(_report_page, names))
        return dict(_report_page(n) for n in names)
    finally:
        _SHARED.clear()


def _when(v: Any) -> str:
    return "" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d %H:%M")


def _day(v: Any) -> str:
    return "" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d")


def site_pages(store: Store, *, now: datetime, lang: str, built: str) -> dict[str, str]:
    """Every aggregate page, by its path in the site."""
    tr = labels.translator(lang)
    data = frames_.load(store, now=now, columns=frames_.REPORT_COLUMNS)
    names = dict(zip(data["customers"]["id"], data["customers"]["name"], strict=True))
    pipe = report("pipeline", store, data, now)
    currency = str(store.config.get("currency", "CNY"))
    stamp = pd.Timestamp(now)
    out: dict[str, str] = {}

    def link(cid: str, up: str = "") -> str:
        return pages.customer_link(cid, names.get(cid), up)

    cust = data["customers"].sort_values("name", kind="stable")
    out["customers/index.html"] = pages.customers_page(
        [{"id": r.id, "name": r.name, "tier": r.tier, "stage": r.stage, "owner": r.owner}
         for r in cust.itertuples(index=False)], tr=tr, lang=lang, built=built)

    # pipeline board: the report's stage totals, the deals under them
    by_stage = pipe.section("by_stage").frame
    stages = [{"stage": r.stage, "deals": int(r.deals), "amount": float(r.amount), "weighted": float(r.weighted),
               "probability": float(r.probability)} for r in by_stage.itertuples(index=False) if r.stage != "total"]
    opps = data["opps"]
    live = opps[(opps["status"] == "open") & opps["stage"].isin([s["stage"] for s in stages])
                & (opps["currency"].fillna(currency) == currency)].sort_values("amount", ascending=False, kind="stable")
    deals: dict[str, list[dict]] = {}
    for r in live.itertuples(index=False):
        deals.setdefault(r.stage, []).append({"id": r.id, "title": r.title, "amount": r.amount, "customer": r.customer,
                                              "close": _day(r.close), "owner": r.owner or ""})
    out["pipeline.html"] = pages.pipeline_page(stages, deals, currency, names, tr=tr, lang=lang, built=built)

    # ticket queue: open tickets, soonest resolution due first
    t = data["tickets"]
    open_t = t[t["status"].isin(OPEN_STATUSES)].sort_values(["resolution_due", "id"], kind="stable",
                                                             na_position="last")
    rows = []
    for r in open_t.itertuples(index=False):
        breached = bool(r.response_breached or r.resolution_breached)
        rows.append([esc(r.id), link(r.customer), esc(r.title), esc(r.priority or ""), esc(r.status),
                     esc(r.assignee or ""), esc(_when(r.opened_at)), esc(_when(r.resolution_due)),
                     '<span class="bad">breached</span>' if breached else "ok"])
    out["tickets.html"] = pages.tickets_page(rows, tr=tr, lang=lang, built=built)

    # home: headline numbers and the coming week's tasks
    tasks = data["tasks"]
    open_tasks = tasks[tasks["done_at"].isna() & tasks["due_at"].notna()]
    horizon = pd.Timestamp(stamp.normalize() + pd.Timedelta(days=7))
    coming = open_tasks[open_tasks["due_at"] < horizon].sort_values(["due_at", "id"], kind="stable")
    overdue = int((open_tasks["due_at"] <= stamp).sum())
    late = ' <span class="bad">' + esc(tr("overdue")) + "</span>"
    agenda = [[esc(str(r.due) if len(str(r.due)) == 10 else _when(r.due_at)) + (late if r.due_at <= stamp else ""),
               link(r.customer), esc(r.owner or ""), esc(r.text)] for r in coming.itertuples(index=False)]
    touch = weekly.losing_touch(data, stamp)
    touch_rows = [[link(r.customer), esc(r.owner or ""), esc(_day(r.last_contact)), str(r.days_since)]
                  for r in touch.itertuples(index=False)]
    ph = {h["key"]: h["value"] for h in pipe.headline}
    breached_open = int((open_t["response_breached"] | open_t["resolution_breached"]).sum())
    headline = [
        (tr("customers"), f"{len(data['customers']):,}", "", "customers", len(data["customers"])),
        (tr("open deals"), f"{ph['open_deals']:,}", "", "open_deals", ph["open_deals"]),
        (tr("pipeline amount"), format_money(ph["pipeline_amount"], currency), "", "pipeline_amount",
         ph["pipeline_amount"]),
        (tr("weighted pipeline"), format_money(ph["pipeline_weighted"], currency), "", "pipeline_weighted",
         ph["pipeline_weighted"]),
        (tr("open tickets"), f"{len(open_t):,}", "", "open_tickets", len(open_t)),
        (tr("breached SLA"), f"{breached_open:,}", "", "breached_open", breached_open),
        (tr("tasks overdue"), f"{overdue:,}", "", "tasks_overdue", overdue),
    ]
    title = str(store.config.get("name") or "crm")
    out["index.html"] = pages.home_page(headline, agenda, touch_rows, tr=tr, lang=lang, built=built, title=title)

    # the customers report first: the longest, so the other process makes the rest meanwhile
    for name, text in report_pages(store, data, now, lang, built, ["customers", "weekly", "service"]).items():
        out[f"reports/{name}.html"] = text
    out["reports/pipeline.html"] = pages.report_page(
        "pipeline", html_body(pipe, tr, MAX_ROWS), tr=tr, lang=lang, built=built,
        title=f"{tr(pipe.title)}: {pipe.period}")
    return out
