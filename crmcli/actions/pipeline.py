"""``crm pipeline``: open deals per stage (count, total, weighted amount) in one currency, now or as of a day."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from crmcli.analysis.renewals import journals_with
from crmcli.domain.deals import customer_opportunities, open_stages, stage_info
from crmcli.domain.money import normalize_amount, parse_currency
from crmcli.store.store import Store


class Board(list):
    """Rows of ``pipeline_board``; ``skipped`` counts open deals in other currencies."""

    currency: str = ""
    skipped: dict[str, int]


def pipeline_board(store: Store, owner: str | None = None, *, currency: str | None = None,
                   as_of: datetime | date | str | None = None) -> Board:
    """Open deals per stage: count, total and weighted amount (in one currency), in pipeline order.

    ``as_of`` replays the journal up to that moment (a day means its end).
    """
    config = store.config
    code = parse_currency(currency, config)
    rows = {s: {"stage": s, "probability": stage_info(config, s).get("probability", 0),
                "category": stage_info(config, s).get("category", ""), "count": 0,
                "total": Decimal(0), "weighted": Decimal(0)} for s in open_stages(config)}
    board = Board()
    board.currency, board.skipped = code, {}
    among = None  # as of a past day every deal may count; now only the open ones (SQL on the folded deals)
    if as_of is None:
        among = "SELECT customer FROM opps WHERE open = 1" + (" AND owner = ?" if owner else "")
    for journal in journals_with(store, b"opp-", among, (owner.strip().casefold(),) if owner else ()):
        for opp in customer_opportunities(journal.entries, journal.cid):
            state = opp.as_of(as_of) if as_of is not None else opp
            if state is None or not state.is_open or state.stage not in rows:
                continue
            if owner and (state.owner or "").casefold() != owner.strip().casefold():
                continue
            if state.currency != code:
                board.skipped[state.currency] = board.skipped.get(state.currency, 0) + 1
                continue
            row = rows[state.stage]
            row["count"] += 1
            row["total"] += Decimal(str(state.amount))
            row["weighted"] += Decimal(str(state.amount)) * Decimal(str(row["probability"])) / 100
    for row in rows.values():
        row["total"] = normalize_amount(row["total"])
        row["weighted"] = normalize_amount(row["weighted"])
        board.append(row)
    return board
