"""The knowledge-base sections of the service report: articles by tickets resolved, categories with none."""
from __future__ import annotations

from typing import Any

import pandas as pd

from crmcli.analysis.reports import INT, Report
from crmcli.analysis.reports.common import between, same, ts, tz_of

DONE = ("resolved", "closed")


def add_sections(report: Report, frames: dict[str, pd.DataFrame], links: list[dict], titles: dict[str, str], *,
                 now: Any, since: Any = None, owner: str | None = None) -> Report:
    """Add ``kb_articles`` and ``kb_gaps`` to a service report, over the tickets it covers (same filters).

    * ``kb_articles``: each article (linked or not): tickets linking it, and of those the resolved or closed
      ones; most resolved first.
    * ``kb_gaps``: ticket categories with tickets of which none links an article.
    """
    t = frames["tickets"]
    tz = tz_of(frames)
    if owner:
        t = t[same(t["assignee"], owner)]
    if since is not None:
        t = t[between(t["opened_at"], ts(since, tz), ts(now, tz) + pd.Timedelta(seconds=1))]
    keys = pd.DataFrame(links, columns=["customer", "ticket", "article"])
    covered = t[["customer", "id", "status", "category"]].rename(columns={"id": "ticket"})
    linked = keys.merge(covered, on=["customer", "ticket"], how="inner")
    linked["done"] = linked["status"].isin(DONE)
    rows = []
    for slug in sorted(set(titles) | set(linked["article"])):
        d = linked[linked["article"] == slug]
        rows.append({"article": slug, "title": titles.get(slug, "(missing from kb/)"), "tickets": len(d),
                     "resolved": int(d["done"].sum())})
    frame = pd.DataFrame(rows, columns=["article", "title", "tickets", "resolved"])
    frame = frame.sort_values(["resolved", "tickets", "article"], ascending=[False, False, True], kind="stable")
    report.add("kb_articles", "Knowledge-base articles by tickets resolved", frame, tickets=INT, resolved=INT)

    with_article = set(linked["category"].dropna())
    gaps = []
    for category, d in t.assign(category=t["category"].fillna("(none)")).groupby("category", sort=True):
        if category not in with_article:
            gaps.append({"category": category, "tickets": len(d), "open": int((~d["status"].isin(DONE)).sum())})
    report.add("kb_gaps", "Ticket categories with no article linked",
               pd.DataFrame(gaps, columns=["category", "tickets", "open"]), tickets=INT, open=INT)
    return report
