"""Needs and feedback on the read side: every item of the store as a row, for ``crm report needs``."""
from __future__ import annotations

from crmcli.domain import needs
from crmcli.errors import CrmError
from crmcli.store.store import Store


def item_rows(store: Store) -> list[dict]:
    """One row per need and per feedback (``Item.row()``); journals without either are never parsed."""
    rows: list[dict] = []
    for cid in store.customer_ids():
        try:
            if not any(b"need.add" in b or b"feedback.add" in b
                       for b in (p.read_bytes() for p in store.journal_files(cid))):
                continue
            items = needs.fold(cid, [e.data for e in store.load_journal(cid)])
        except (CrmError, OSError):
            continue
        rows += [dict(i.row(), family=i.family) for i in items.values()]
    return rows
