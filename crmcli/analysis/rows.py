"""Every record of the store as flat rows, one list of dicts per kind (pure Python, no pandas), read from the files.

The rows themselves are built by ``crmcli.domain.records`` (the same builders fill the index's facts,
``crmcli.store.index_facts``); this module reads one customer's files (``customer_tables``) or every
customer's (``collect``), the way to answer without the index and the check that the index agrees.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from crmcli.domain import dates
from crmcli.domain import records as rec
from crmcli.domain.customer import Customer
from crmcli.domain.journal import Entry
from crmcli.domain.records import (  # noqa: F401 - the row shapes, re-exported for the readers
    COLUMNS,
    DATE_COLUMNS,
    HISTORY_COLUMNS,
    HISTORY_KINDS,
    KINDS,
    LIST_COLUMNS,
    TIME_COLUMNS,
    history_rows,
)
from crmcli.errors import CrmError
from crmcli.store.store import Store


def problem_text(store: Store, cid: str, exc: BaseException) -> str:
    """An unreadable customer's problem as one ``path[:line]: problem`` line.

    ``CrmError`` messages from the YAML reader already start with the path (and line); an ``OSError``
    (a folder or a special file where a YAML file belongs) is located at the customer's profile.
    """
    text = str(exc)
    if isinstance(exc, OSError):
        where = store.rel(Path(exc.filename) if isinstance(exc.filename, str) else store.customer_file(cid))
        return f"{where}: cannot be read ({exc.strerror or exc})"
    if not text.startswith(store.rel(store.customer_dir(cid))):
        text = f"{store.rel(store.customer_file(cid))}: {text}"
    return text


def customer_tables(store: Store, cid: str, customer: Customer | None = None,
                    journal: list[Entry] | None = None, *, kinds: Iterable[str] | None = None,
                    now: datetime | None = None) -> dict[str, list[dict]]:
    """Rows of one customer, per kind (every kind in ``KINDS`` unless ``kinds`` narrows it).

    Ticket SLA breaches are judged at ``now`` (default: ``crmcli.domain.dates.now()``, which CRM_NOW pins).
    """
    wanted = list(kinds) if kinds is not None else KINDS
    customer = customer if customer is not None else store.load_customer(cid, validate=False)
    needs_journal = any(k not in ("customers", "contacts") for k in wanted)
    if journal is None and needs_journal:
        journal = store.load_journal(cid)
    journal = journal or []
    out: dict[str, list[dict]] = {}
    for kind in wanted:
        if kind == "customers":
            out[kind] = [rec.customer_row(customer)]
        elif kind == "contacts":
            out[kind] = rec.contact_rows(customer)
        elif kind == "interactions":
            out[kind] = rec.interaction_rows(cid, journal)
        elif kind == "opps":
            out[kind] = rec.opp_rows(cid, journal, store.config)
        elif kind == "orders":
            out[kind] = rec.order_rows(cid, journal)
        elif kind == "contracts":
            out[kind] = rec.contract_rows(cid, journal)
        elif kind == "tickets":
            out[kind] = rec.ticket_rows(cid, journal, store.config, now or dates.now())
        elif kind == "tasks":
            out[kind] = rec.task_rows(cid, journal)
        elif kind == "surveys":
            out[kind] = rec.survey_rows(cid, journal)
        elif kind == "history":
            out[kind] = history_rows(cid, journal)
        else:
            raise ValueError(f"unknown table {kind!r}; tables: {', '.join(KINDS)}")
    return out


def collect(store: Store, kinds: Iterable[str] | None = None, progress: Callable[[int], Any] | None = None,
            *, problems: list[str] | None = None, cids: Iterable[str] | None = None) -> dict[str, list[dict]]:
    """Rows of every customer (or of ``cids``), per kind, in customer-id order.

    ``progress(n)`` is called with the number of customers read so far (every 500, and at the end).
    Customers whose files cannot be read are left out; each one's problem (``path[:line]: ...``) is
    appended to ``problems`` when given.
    """
    wanted = list(kinds) if kinds is not None else KINDS
    out: dict[str, list[dict]] = {k: [] for k in wanted}
    now = dates.now()
    n = 0
    for cid in store.customer_ids() if cids is None else cids:
        try:
            customer = store.load_customer(cid, validate=False)
            journal = None if all(k in ("customers", "contacts") for k in wanted) else store.load_journal(cid)
            rows = customer_tables(store, cid, customer, journal, kinds=wanted, now=now)
        except (CrmError, OSError) as exc:
            if problems is not None:
                problems.append(problem_text(store, cid, exc))
            continue
        for kind, items in rows.items():
            out[kind].extend(items)
        n += 1
        if progress is not None and n % 500 == 0:
            with contextlib.suppress(Exception):
                progress(n)
    if progress is not None:
        progress(n)
    return out
