"""The knowledge base on the read side: which tickets link which articles, for ``crm report service``."""
from __future__ import annotations

from crmcli.analysis.journal_events import events_with
from crmcli.domain import tickets
from crmcli.domain.journal import entity_events
from crmcli.errors import CrmError
from crmcli.store import kb as files
from crmcli.store.store import Store


def ticket_links(store: Store) -> list[dict]:
    """One row per (ticket, linked article): customer, ticket, article.

    Only the journals holding a ``kb`` field are read (found in the index); unreadable customers are left out
    (the report's own loading names them).
    """
    rows: list[dict] = []
    for cid, events in events_with(store, '"kb"'):
        for tid, evts in entity_events(events, "tkt").items():
            ticket = tickets.Ticket.from_events(evts, cid)
            for slug in dict.fromkeys(str(c["kb"]) for c in ticket.comments if c.get("kb")):
                rows.append({"customer": cid, "ticket": tid, "article": slug})
    return rows


def article_titles(store: Store) -> dict[str, str]:
    """slug -> title of every readable article (the report lists unused ones too)."""
    try:
        articles, _ = files.load(store)
    except CrmError:
        return {}
    return {a.slug: a.title for a in articles}
