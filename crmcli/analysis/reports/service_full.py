"""The whole service report of a store: tickets and surveys, plus its knowledge-base and complaint sections.

One function so that `crm report service` and the web view (``crmcli.web``) show the same report.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd

from crmcli.analysis import kb as kb_links
from crmcli.analysis.complaints import complaint_rows
from crmcli.analysis.reports import Report
from crmcli.analysis.reports import complaints as report_complaints
from crmcli.analysis.reports import kb as report_kb
from crmcli.analysis.reports import service as report_service
from crmcli.domain import tickets
from crmcli.store.store import Store


def build(store: Store, data: dict[str, pd.DataFrame], *, now: datetime, since: datetime | None = None,
          owner: str | None = None) -> Report:
    """The service report with every section, over the tickets opened since ``since`` (of ``owner``)."""
    rep = report_service.build(data, now=now, since=since, priorities=list(tickets.priorities(store.config)),
                               owner=owner)
    report_kb.add_sections(rep, data, kb_links.ticket_links(store), kb_links.article_titles(store), now=now,
                           since=since, owner=owner)
    report_complaints.add_sections(rep, complaint_rows(store), now=now, since=since, owner=owner)
    return rep
