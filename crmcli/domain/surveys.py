"""Satisfaction answers: CSAT and NPS scores and the ``survey.answer`` event.

``survey.answer``: by, ticket, csat, nps, comment. An answer about a ticket
also becomes that ticket's CSAT (see ``crmcli.domain.tickets``).
"""
from __future__ import annotations

import re
from typing import Any

from crmcli.config import Config
from crmcli.domain.journal import EventKind, Issues
from crmcli.domain.text import first_line
from crmcli.errors import InvalidRecord, UsageError

CSAT_RANGE = (1, 5)
NPS_RANGE = (0, 10)
TICKET_ID_RE = re.compile(r"^tkt-[0-9a-z]+$")



class ScoreNeeded(UsageError):
    """A survey answer has a CSAT, an NPS or both."""

    def __init__(self) -> None:
        super().__init__(f"a survey answer needs a CSAT ({CSAT_RANGE[0]}-{CSAT_RANGE[1]}) "
                         f"or an NPS ({NPS_RANGE[0]}-{NPS_RANGE[1]}), or both")


def _score(value: Any, bounds: tuple[int, int], what: str) -> int | None:
    if value is None or value == "":
        return None
    low, high = bounds
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise InvalidRecord(f"{what} {value!r} is out of range; give a whole number from {low} to {high}")
    return number


def parse_csat(value: Any) -> int | None:
    """A CSAT typed by a user (1-5); None when not given."""
    return _score(value, CSAT_RANGE, "CSAT")


def parse_nps(value: Any) -> int | None:
    """An NPS typed by a user (0-10); None when not given."""
    return _score(value, NPS_RANGE, "NPS")


def valid_score(value: Any, bounds: tuple[int, int]) -> int | None:
    """A stored score when it is a whole number within ``bounds``; otherwise None."""
    if isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]:
        return value
    return None


def scores_text(csat: Any, nps: Any) -> str:
    """``CSAT 4, NPS 9``: the scores given, in that order."""
    return ", ".join(f"{name} {value}" for name, value in (("CSAT", csat), ("NPS", nps)) if value is not None)


def describe(d: dict) -> str:
    """One line for the timeline: ``survey CSAT 4, NPS 9 (tkt-3f9a): Nice``."""
    scores = [f"{name} {d[key]}" for name, key in (("CSAT", "csat"), ("NPS", "nps")) if d.get(key) is not None]
    about = f" ({d['ticket']})" if d.get("ticket") else ""
    comment = f": {first_line(d.get('comment'), 80, mark='...')}" if d.get("comment") else ""
    return f"survey {', '.join(scores) or 'answer'}{about}{comment}"


def check_ticket_ref(entry: dict, ref: str, issues: Issues, *, required: bool) -> None:
    value = entry.get(ref)
    if (value is not None or required) and not (isinstance(value, str) and TICKET_ID_RE.match(value)):
        issues.append(((ref,), f"{ref} {value!r} is not a ticket id (like tkt-3f9a)"))


def check_by(entry: dict, issues: Issues) -> None:
    if "by" in entry and not isinstance(entry["by"], str):
        issues.append((("by",), "by must be the name of who acted"))


def check_score(entry: dict, key: str, bounds: tuple[int, int], issues: Issues) -> None:
    value = entry.get(key)
    if value is not None and value != "" and valid_score(value, bounds) is None:
        low, high = bounds
        issues.append(((key,), f"{key} {value!r} must be a whole number from {low} to {high}"))


def check_text(entry: dict, key: str, issues: Issues, *, required: bool, kind: str) -> None:
    value = entry.get(key)
    if value is None or value == "":
        if required:
            issues.append(((key,), f"{kind} needs {key}"))
    elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
        issues.append(((key,), f"{key} must be text"))


def validate(entry: dict, config: Config) -> Issues:
    """Problems with one ``survey.answer``, for ``crm check``."""
    issues: Issues = []
    check_ticket_ref(entry, "ticket", issues, required=False)
    check_by(entry, issues)
    check_score(entry, "csat", CSAT_RANGE, issues)
    check_score(entry, "nps", NPS_RANGE, issues)
    check_text(entry, "comment", issues, required=False, kind="survey.answer")
    if entry.get("csat") is None and entry.get("nps") is None:
        issues.append((("kind",), "survey.answer needs csat or nps"))
    return issues


def answer(at: str, by: str, *, ticket: str | None, csat: int | None, nps: int | None,
           comment: str | None) -> dict:
    """A ``survey.answer`` event from checked values; empty fields are left out."""
    fields = {"by": by, "ticket": ticket, "csat": csat, "nps": nps, "comment": comment}
    return {"at": at, "kind": "survey.answer", **{k: v for k, v in fields.items() if v is not None and v != ""}}


EVENT_KINDS: tuple[EventKind, ...] = (EventKind("survey.answer", validate=validate, describe=describe),)
