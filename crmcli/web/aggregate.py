"""The site's pages about the whole store: home, customer list, pipeline board, ticket queue, the four reports.

Each is made only when ``crmcli.web.build`` finds its inputs changed. All but the home page come from one
load of the report frames (``crmcli.analysis.frames``, from the index, at the first page that needs it) and the report
builders of ``crmcli.analysis.reports``, with the same arguments ``crm report`` uses by default, so every
number equals the one of ``crm report NAME --format json``. The home page needs no frames: its agenda is
``crm agenda``'s (``crmcli.actions.agenda``, kept customer by customer by the build) and its other numbers
come from the index and from the pipeline and ticket pages (``Facts``, kept in the site's manifest).
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
from crmcli.render.html_page import esc
from crmcli.render.reports import html_body
from crmcli.store.store import Store
from crmcli.web import changes, labels, pages

OPEN_STATUSES = ("open", "in-progress", "waiting")


MAX_ROWS = 200  # rows of a report table on a page; the note under it names the command with all of them
_PARALLEL_MIN = 2000  # customers from which the reports are made in two processes
_SHARED: dict[str, Any] = {}  # what forked workers inherit: the store, its frames, now


def report(name: str, store: Store, data: dict[str, pd.DataFrame], now: datetime,
           health_memo: dict | None = None) -> Any:
    """One report as ``crm report NAME`` makes it with no options (``health_memo``: see the customers report)."""
    config = store.config
    currency = str(config.get("currency", "CNY"))
    if name == "weekly":
        week, start, end = changes.last_week(now)
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
                           loyalty=loyalty_map(store), health_memo=health_memo)


def _report_page(name: str) -> tuple[str, str, Any]:
    """A report's page, and (the customers report) the health scores it made, which a worker process hands back."""
    store, data, now, lang, built, memo = (_SHARED[k] for k in ("store", "data", "now", "lang", "built", "memo"))
    tr = labels.translator(lang)
    rep = report(name, store, data, now, memo if name == "customers" else None)
    return name, pages.report_page(name, html_body(rep, tr, MAX_ROWS), tr=tr, lang=lang, built=built,
                                   title=f"{tr(rep.title)}: {rep.period}"), \
        (memo or {}).get("scores") if name == "customers" else None


def _report_pages(store: Store, data: dict[str, pd.DataFrame], now: datetime, lang: str, built: str,
                  names: list[str], memo: dict | None) -> dict[str, str]:
    """The pages of these reports; on a large store, in two processes (the customers report is the longest)."""
    _SHARED.update(store=store, data=data, now=now, lang=lang, built=built, memo=memo)
    try:
        if len(data["customers"]) >= _PARALLEL_MIN and len(names) > 1 and (os.cpu_count() or 1) > 1:
            import concurrent.futures as cf
            import multiprocessing as mp

            with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as pool:
                made = list(pool.map(_report_page, names))
        else:
            made = [_report_page(n) for n in names]
    finally:
        _SHARED.clear()
    for name, _, scores in made:
        if name == "customers" and memo is not None:
            memo["scores"] = scores
    return {name: text for name, text, _ in made}


def _when(v: Any) -> str:
    return "" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d %H:%M")


def _day(v: Any) -> str:
    return "" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d")


_CLOCK = {"tickets": ["opened_at", "response_due", "resolution_due", "closed_at", "first_response_at", "resolved_at"],
          "tasks": ["created", "due_at", "done_at"], "interactions": ["at"], "surveys": ["at"]}


class Sources:
    """The report frames and the pipeline report, loaded at most once, when a page first needs them."""

    def __init__(self, store: Store, now: datetime):
        self.store, self.now = store, now
        self._data: dict[str, pd.DataFrame] | None = None
        self._pipe: Any = None

    @property
    def loaded(self) -> bool:
        return self._data is not None

    @property
    def data(self) -> dict[str, pd.DataFrame]:
        if self._data is None:
            self._data = frames_.load(self.store, now=self.now, columns=frames_.REPORT_COLUMNS)
        return self._data

    @property
    def names(self) -> dict[str, str]:
        cust = self.data["customers"]
        return dict(zip(cust["id"], cust["name"], strict=True))

    @property
    def pipe(self) -> Any:
        if self._pipe is None:
            self._pipe = report("pipeline", self.store, self.data, self.now)
        return self._pipe

    def open_tickets(self) -> pd.DataFrame:
        t = self.data["tickets"]
        return t[t["status"].isin(OPEN_STATUSES)].sort_values(["resolution_due", "id"], kind="stable",
                                                              na_position="last")

    def next_changes(self) -> dict[str, str]:
        """Per customer, the next moment its pages change with the clock alone: the soonest time its records
        name that is still to come (an SLA or task due: a breach, an overdue task; an event dated ahead)."""
        stamp = pd.Timestamp(self.now)
        soonest: dict[str, Any] = {}
        for kind, columns in _CLOCK.items():
            frame = self.data[kind]
            for col in columns:
                if col not in frame or not len(frame):
                    continue
                later = frame[frame[col] > stamp]
                for cid, at in later.groupby("customer")[col].min().items():
                    if cid not in soonest or at < soonest[cid]:
                        soonest[cid] = at
        return {cid: at.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S") for cid, at in soonest.items()}


def customer_list(src: Sources, *, tr: pages.Tr, lang: str, built: str) -> str:
    cust = src.data["customers"].sort_values("name", kind="stable")
    return pages.customers_page([{"id": r.id, "name": r.name, "tier": r.tier, "stage": r.stage, "owner": r.owner}
                                 for r in cust.itertuples(index=False)], tr=tr, lang=lang, built=built)


def pipeline_board(src: Sources, *, tr: pages.Tr, lang: str, built: str) -> tuple[str, dict[str, Any]]:
    """The board (the pipeline report's stage totals, the deals under them) and the home page's numbers."""
    currency = str(src.store.config.get("currency", "CNY"))
    by_stage = src.pipe.section("by_stage").frame
    stages = [{"stage": r.stage, "deals": int(r.deals), "amount": float(r.amount), "weighted": float(r.weighted),
               "probability": float(r.probability)} for r in by_stage.itertuples(index=False) if r.stage != "total"]
    opps = src.data["opps"]
    live = opps[(opps["status"] == "open") & opps["stage"].isin([s["stage"] for s in stages])
                & (opps["currency"].fillna(currency) == currency)].sort_values("amount", ascending=False, kind="stable")
    deals: dict[str, list[dict]] = {}
    for r in live.itertuples(index=False):
        deals.setdefault(r.stage, []).append({"id": r.id, "title": r.title, "amount": r.amount, "customer": r.customer,
                                              "close": _day(r.close), "owner": r.owner or ""})
    ph = {h["key"]: h["value"] for h in src.pipe.headline}
    facts = {k: ph[k] for k in ("open_deals", "pipeline_amount", "pipeline_weighted")}
    return pages.pipeline_page(stages, deals, currency, src.names, tr=tr, lang=lang, built=built), facts


def ticket_queue(src: Sources, *, tr: pages.Tr, lang: str, built: str) -> tuple[str, dict[str, Any]]:
    """Open tickets, soonest resolution due first; and the home page's numbers."""
    names = src.names
    open_t = src.open_tickets()
    rows = []
    for r in open_t.itertuples(index=False):
        breached = bool(r.response_breached or r.resolution_breached)
        rows.append([esc(r.id), pages.customer_link(r.customer, names.get(r.customer), ""), esc(r.title),
                     esc(r.priority or ""), esc(r.status), esc(r.assignee or ""), esc(_when(r.opened_at)),
                     esc(_when(r.resolution_due)), '<span class="bad">breached</span>' if breached else "ok"])
    facts = {"open_tickets": len(open_t),
             "breached_open": int((open_t["response_breached"] | open_t["resolution_breached"]).sum())}
    return pages.tickets_page(rows, tr=tr, lang=lang, built=built), facts


def report_pages(src: Sources, names: list[str], *, lang: str, built: str,
                 health_memo: dict | None = None) -> dict[str, str]:
    """The pages of these reports (``reports/NAME.html``); ``health_memo``: see the customers report."""
    out: dict[str, str] = {}
    if "pipeline" in names:
        tr, pipe = labels.translator(lang), src.pipe
        out["reports/pipeline.html"] = pages.report_page("pipeline", html_body(pipe, tr, MAX_ROWS), tr=tr, lang=lang,
                                                         built=built, title=f"{tr(pipe.title)}: {pipe.period}")
    rest = [n for n in names if n != "pipeline"]  # the customers report first: the longest
    rest.sort(key=lambda n: n != "customers")
    if rest:
        for name, text in _report_pages(src.store, src.data, src.now, lang, built, rest, health_memo).items():
            out[f"reports/{name}.html"] = text
    return out
