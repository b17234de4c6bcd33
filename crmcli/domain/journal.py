"""A journal entry as read from disk, and what every kind of entry provides: a validator and a describer."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from crmcli.domain import dates

Issues = list[tuple[tuple[Any, ...], str]]
# validator(entry, config) -> [(key path, message)], for crm check and the importer
Validator = Callable[[dict, Any], Issues]
# describer(entry) -> one line for a timeline ("stage proposal -> negotiation: ERP rollout")
Describer = Callable[[dict], str]


@dataclass(frozen=True)
class EventKind:
    """A dotted journal kind (``opp.stage``) with how to check it and how to say it in one line."""

    kind: str
    validate: Validator
    describe: Describer


@dataclass
class Entry:
    """One journal event with where it came from."""

    data: dict
    path: str
    index: int

    @property
    def at(self) -> str:
        return str(self.data.get("at", ""))

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))


def instant_key(entry: Entry) -> tuple[float, str]:
    """Sort key of an event: seconds since the epoch of its ``at``; unreadable ones sort first by text."""
    try:
        return dates.parse_iso(entry.at).timestamp(), ""
    except (dates.DateError, OverflowError, ValueError):
        return float("-inf"), entry.at


# the key that names an entity in the events after its creation (its creation event carries ``id``)
REF_KEYS = {"opp": "opp", "tkt": "ticket", "task": "task"}
E = TypeVar("E", Entry, dict)


def entity_events(events: Iterable[E], prefix: str) -> dict[str, list[E]]:
    """Events of each deal, ticket or task (``prefix`` opp, tkt or task), in file order, keyed by its id."""
    ref_key = REF_KEYS[prefix]
    out: dict[str, list[E]] = {}
    for event in events:
        data = event if isinstance(event, dict) else event.data
        for key in ("id", ref_key):
            ref = data.get(key)
            if isinstance(ref, str) and ref.startswith(prefix + "-"):
                out.setdefault(ref, []).append(event)
                break
    return out


ENTITY_KEYS = ("id", "opp", "ticket", "task")  # a creation's own id, then the entity an event refers to


def new_entry(kind: str, at: str, by: str | None, **fields: Any) -> dict:
    """A journal entry in the documented key order, for commands and the importer alike.

    ``at, kind``, the entity keys (``id`` of a creation, else ``opp``/``ticket``/``task``), ``by``, then the
    fields in the order given; empty ones (None or "") are left out.
    """
    out: dict[str, Any] = {"at": at, "kind": kind}
    out.update((key, fields[key]) for key in ENTITY_KEYS if fields.get(key))
    if by:
        out["by"] = by
    out.update((k, v) for k, v in fields.items() if k not in ENTITY_KEYS and v is not None and v != "")
    return out
