"""Orders: what a customer bought, as ``order.add`` journal events (date, amount, currency, product, opp).

An order, like a won deal, moves the customer's lifecycle forward (``crmcli.domain.deals.lifecycle_change``).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crmcli.config import Config
from crmcli.domain.customer import check_date
from crmcli.domain.deals import Issues, check_amount, check_common, check_opp_ref
from crmcli.domain.journal import Entry, EventKind
from crmcli.domain.money import format_money


def customer_orders(journal: Iterable[Entry]) -> list[dict[str, Any]]:
    """A customer's orders, by date."""
    out = []
    for e in journal:
        if e.kind == "order.add":
            d = e.data
            out.append({"date": str(d.get("date") or d.get("at", ""))[:10], "amount": d.get("amount"),
                        "currency": d.get("currency"), "product": d.get("product"), "opp": d.get("opp"),
                        "at": str(d.get("at", "")), "by": d.get("by")})
    return sorted(out, key=lambda o: (o["date"], o["at"]))


def _validate_order(e: dict, config: Config) -> Issues:
    issues: Issues = []
    check_common(e, issues)
    check_amount(e, "amount", issues)
    if msg := check_date(e.get("date"), "date"):
        issues.append((("date",), msg))
    if e.get("opp") is not None:
        check_opp_ref(e, "opp", issues)
    return issues


def _describe_order(e: dict) -> str:
    text = f"order {format_money(e.get('amount'), e.get('currency'))}"
    if e.get("product"):
        text += f": {e['product']}"
    return text + (f" (from {e['opp']})" if e.get("opp") else "")


EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind("order.add", validate=_validate_order, describe=_describe_order),
)
