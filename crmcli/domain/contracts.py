"""Contracts: what a customer signed, as ``contract.add`` journal events, and when each comes up for renewal.

``contract.add`` carries value, currency, start, end, renew_notice (a period, ``30d`` by default) and
file. A contract's notice date is its end minus the notice period; a later contract (starting after it
and ending after it) is taken as its renewal.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from crmcli.config import Config
from crmcli.domain import dates, durations
from crmcli.domain.customer import PERIOD_RE, check_date
from crmcli.domain.deals import Issues, check_amount, check_common
from crmcli.domain.journal import Entry, EventKind
from crmcli.domain.money import format_money
from crmcli.errors import FieldError

DEFAULT_NOTICE = "30d"


def parse_notice(value: str | None) -> str:
    """A renew-notice period as stored (``30d``, ``6w``, ``3m``): spaces dropped, lower case; the default if none."""
    notice = "".join(str(value or DEFAULT_NOTICE).lower().split())
    try:
        durations.parse_period(notice)
    except dates.DateError as exc:
        raise FieldError("{renew_notice}: {reason}", reason=str(exc)) from None
    if not PERIOD_RE.match(notice):
        raise FieldError("{renew_notice} {given!r}: write a number and a unit (30d, 6w, 3m, 1y)", given=value)
    return notice


def customer_contracts(journal: Iterable[Entry]) -> list[dict[str, Any]]:
    """A customer's contracts by start date, each with its ``notice`` date (end minus the notice period)."""
    out = []
    for e in journal:
        if e.kind != "contract.add":
            continue
        d = e.data
        notice = str(d.get("renew_notice") or DEFAULT_NOTICE)
        try:
            end = date.fromisoformat(str(d.get("end")))
            days = durations.parse_period(notice).days
        except (ValueError, dates.DateError):
            continue  # crm check reports it
        out.append({"start": str(d.get("start", "")), "end": end.isoformat(), "value": d.get("value"),
                    "currency": d.get("currency"), "renew_notice": notice,
                    "notice": (end - timedelta(days=days)).isoformat(), "file": d.get("file"),
                    "at": str(d.get("at", "")), "by": d.get("by")})
    return sorted(out, key=lambda c: (c["start"], c["end"], c["at"]))


def renewed(contract: dict, others: list[dict]) -> bool:
    """A later contract (starting after this one and ending after it) is taken as its renewal."""
    return any(o is not contract and o["start"] > contract["start"] and o["end"] > contract["end"]
               for o in others)


def due_for_renewal(contracts: list[dict], first: date, last: date) -> list[dict]:
    """The contracts (rows of ``customer_contracts``) in their notice period at some day of [first, last]."""
    return [c for c in contracts
            if not (c["notice"] > last.isoformat() or c["end"] < first.isoformat() or renewed(c, contracts))]


def _validate_contract(e: dict, config: Config) -> Issues:
    issues: Issues = []
    check_common(e, issues)
    check_amount(e, "value", issues)
    for key in ("start", "end"):
        if msg := check_date(e.get(key), key):
            issues.append(((key,), msg))
    if not issues and str(e["end"]) < str(e["start"]):
        issues.append((("end",), f"end {e['end']} is before start {e['start']}"))
    notice = e.get("renew_notice")
    if notice is not None and not (isinstance(notice, str) and PERIOD_RE.match(notice.strip())):
        issues.append((("renew_notice",), f"renew_notice {notice!r} is not a period (like 30d, 6w, 3m)"))
    if e.get("file") is not None and not isinstance(e.get("file"), str):
        issues.append((("file",), "file must be a path"))
    return issues


EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind("contract.add", validate=_validate_contract,
              describe=lambda e: f"contract {format_money(e.get('value'), e.get('currency'))}, "
                                 f"{e.get('start')} to {e.get('end')}"),
)
