"""Stored moments read quickly (``crmcli.domain.dates.parse_iso``): each text once, crm's own spelling by datetime.

An import reads each time it writes several times (to check it, sort by it, index it). A text with a UTC offset
means the same moment whatever the local zone, so once read it is remembered; the form crm writes
(``2026-11-20T14:30:00+08:00``, or ``Z``), in years 1000-8999, is read by ``datetime.fromisoformat``, which gives
the same aware datetime as the strict reader. Every other text, and every error, goes through the strict reader.
"""
from __future__ import annotations

import re
from datetime import datetime

_SEEN: dict[str, datetime] = {}
_LIMIT = 200_000
_STORED = re.compile(r"[1-8]\d{3}-\d\d-\d\dT(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:[+-](?:[01]\d|2[0-3]):[0-5]\d|Z)",
                     re.ASCII)


def known(text: str) -> datetime | None:
    """The moment of a stored text read before, or of one in crm's own form; None: read it strictly."""
    moment = _SEEN.get(text)
    if moment is None and _STORED.fullmatch(text):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:  # not a real day (02-30): the strict reader says so
            return None
        remember(text, moment)
    return moment


def remember(text: str, moment: datetime) -> None:
    """Keep the moment of a text that has a UTC offset and a year in 1000-8999 (the strict reader's result)."""
    if len(_SEEN) < _LIMIT and 1000 <= moment.year <= 8999 and moment.utcoffset() is not None:
        _SEEN[text] = moment
