"""The deal screen (``crm opp show``): its fields, then every stage change it went through."""
from __future__ import annotations

from typing import Any

from crmcli.config import Config
from crmcli.domain import dates
from crmcli.domain.deals import Opportunity
from crmcli.domain.money import format_money


def when_text(at: str | None) -> str:
    """A stored ISO time in local time (``2026-11-22 09:00``); text that is no time as it is."""
    if not at:
        return ""
    try:
        return dates.format_local(dates.parse_iso(at))
    except dates.DateError:
        return at


def opp_fields(o: Opportunity, config: Config) -> list[tuple[str, Any]]:
    """(label, value) pairs of the deal's fields; empty ones left out."""
    pairs = [("id", o.ref), ("customer", f"{o.customer_name} ({o.customer})"), ("title", o.title),
             ("stage", f"{o.stage} ({o.probability(config)}%, {o.category(config)})"),
             ("amount", format_money(o.amount, o.currency)),
             ("weighted", format_money(o.weighted(config), o.currency)),
             ("close", o.close), ("owner", o.owner), ("source", o.source), ("product", o.product),
             ("created", f"{when_text(o.created)} by {o.created_by}"),
             ("closed", when_text(o.closed_at) if o.closed_at else None), ("reason", o.reason)]
    return [(k, v) for k, v in pairs if v not in (None, "")]


def stage_history(o: Opportunity) -> list[dict]:
    """Rows (at, by, change) of the deal's stage history, oldest first."""
    return [{"at": when_text(at), "by": by, "change": f"{a} -> {b}" if a else f"opened at {b}"}
            for at, by, a, b in o.history]
