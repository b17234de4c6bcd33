"""A journal entry as read from disk: the event's data, the file it came from and its place there."""
from __future__ import annotations

from dataclasses import dataclass

from crmcli.domain import dates


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
