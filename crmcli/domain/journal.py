"""A journal entry as read from disk, and what every kind of entry provides: a validator and a describer."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
