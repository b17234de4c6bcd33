"""How one folded deal, ticket or task is kept in the index (``crmcli.store.index_records`` reads them back).

``state``: the object's fields as a JSON list (times as ISO text, read back into ``datetime`` and ``date`` by
field), and ``detail``: its long lists (a deal's history, a ticket's history and comments), which a table on
the screen never reads. A record JSON cannot hold exactly is refused (``ValueError``): its customer's journal
is then marked ``odd`` and read from its files.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

# Fields kept per kind (the customer's name is joined from the profile; a deal's raw events are not kept:
# ``Opportunity.as_of`` replays them, so ``pipeline --as-of`` folds the files).
OPP_FIELDS = ("id", "customer", "title", "amount", "currency", "stage", "close", "owner", "source", "product",
              "created", "created_by", "closed_at", "reason", "history")
TICKET_FIELDS = ("id", "customer", "title", "priority", "category", "channel", "assignee", "contact", "text",
                 "product", "tags", "status", "opened_by", "opened_at", "first_response_at", "resolved_at",
                 "closed_at", "resolution", "csat", "history", "comments")
TASK_FIELDS = ("cid", "id", "text", "due", "owner", "by", "created", "done", "done_at")
# Per table: its fields, the marker a journal's text has when it can hold such records
# (``index_journals.MARKERS``); a journal ``Store.load_journal`` refuses has no deals or tickets in the index
# (the list commands report its error), but its tasks (the task list reads such files as they parse); and the
# long lists kept apart as ``detail``.
TABLES = {"opps": (OPP_FIELDS, b"opp-", ("history",)), "tickets": (TICKET_FIELDS, b"tkt-", ("history", "comments")),
          "tasks": (TASK_FIELDS, b"task.", ())}


def _iso(value: Any) -> Any:
    if isinstance(value, date):  # a datetime too; which fields hold times is known (``_times``)
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _times(table: str, state: dict) -> None:
    """The times of a stored state back to ``datetime`` and ``date``, in place."""
    if table == "tickets":
        for f in ("opened_at", "first_response_at", "resolved_at", "closed_at"):
            state[f] = _time(state[f])
        for item in state.get("history", []) + state.get("comments", []):
            item["at"] = _time(item["at"])
    elif table == "tasks" and state["due"] is not None:
        due = state["due"]
        state["due"] = date.fromisoformat(due) if len(due) == 10 else datetime.fromisoformat(due)
    elif table == "opps" and "history" in state:
        state["history"] = [tuple(h) for h in state["history"]]


def _rebuild(table: str, light: list, detail: list | None) -> Any:
    fields, _, heavy = TABLES[table]
    state = dict(zip([f for f in fields if f not in heavy], light, strict=True))
    if detail is not None:
        state.update(zip(heavy, detail, strict=True))
    _times(table, state)
    if table == "opps":
        from crmcli.domain.deals import Opportunity  # here: crm log, which only writes rows, stays light

        return Opportunity(**state)
    if table == "tickets":
        from crmcli.domain.tickets import Ticket

        return Ticket(**state)
    from crmcli.domain.tasks import Task

    return Task(**state)


def state(table: str, record: Any) -> tuple[str, str | None]:
    """``record`` as the JSON its table keeps: (the fields but the long lists, those lists or None); ValueError
    when reading them back would not give the record exactly."""
    fields, _, heavy = TABLES[table]
    values = {f: getattr(record, f) for f in fields}
    try:
        light = json.dumps([v for f, v in values.items() if f not in heavy], ensure_ascii=False, default=_iso)
        detail = json.dumps([values[f] for f in heavy], ensure_ascii=False, default=_iso) if heavy else None
    except (TypeError, ValueError) as exc:
        raise ValueError(str(exc)) from None
    back = _rebuild(table, json.loads(light), json.loads(detail) if detail else None)
    if any(type(getattr(back, f)) is not type(values[f]) or getattr(back, f) != values[f] for f in fields):
        raise ValueError(f"a {table} record JSON cannot hold exactly")
    return light, detail


def record(table: str, light: str, detail: str | None, name: str = "") -> Any:
    """The object a row holds, with its customer's ``name``; without ``detail`` (a deal's or ticket's history
    and comments), those lists are empty."""
    found = _rebuild(table, json.loads(light), json.loads(detail) if detail is not None else None)
    if table == "tasks":
        found.name = name
    else:
        found.customer_name = name
    return found
