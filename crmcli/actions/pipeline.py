"""``crm pipeline``: open deals per stage (count, total, weighted amount) in one currency, now or as of a day."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

from crmcli.analysis.renewals import journals_with, records_with
from crmcli.domain.deals import Opportunity, customer_opportunities, open_stages, stage_info
from crmcli.domain.money import normalize_amount, parse_currency
from crmcli.store.index import Index, open_index
from crmcli.store.index_reads import FileRow
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
    for opp in _deals(store, owner, as_of):
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


def _deals(store: Store, owner: str | None, as_of: datetime | date | str | None) -> Iterator[Opportunity]:
    """As of a past day every deal may count (its events are replayed); now only the open ones, from the
    folded deals in the index."""
    args = (owner.strip().casefold(),) if owner else ()
    if as_of is not None:
        for journal in journals_with(store, b"opp-", None, args):
            yield from customer_opportunities(journal.entries, journal.cid)
        return
    with open_index(store) as index:
        for _, _, found in records_with(index, "opps", _fold, "open = 1" + (" AND owner = ?" if owner else ""),
                                        args, detail=False):
            yield from found


def _fold(index: Index, cid: str, rows: list[FileRow]) -> list[Opportunity]:
    return customer_opportunities(index.entries(cid, rows), cid)
