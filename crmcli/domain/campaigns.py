"""Campaigns and events: their definition (``campaigns/NAME.yaml``), members and responses as journal events.

A campaign is a small YAML file (name, kind, title, cost, currency, start, end). Who is in it and how each
member answered are events in the member's journal, so they merge like every other event:
``campaign.member`` (campaign) when a customer joins, ``campaign.response`` (campaign, response, note) for
each answer: invited, sent, registered, attended, replied, converted. Pure: values in, records and events out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from crmcli.domain.customer import check_date, check_timestamp
from crmcli.domain.journal import EventKind, Issues
from crmcli.domain.money import parse_amount
from crmcli.domain.text import first_line
from crmcli.errors import InvalidRecord, UsageError

KINDS = ("email", "event", "webinar", "trade-show", "ads")
RESPONSES = ("invited", "sent", "registered", "attended", "replied", "converted")
FIELDS = ["name", "kind", "title", "cost", "currency", "start", "end", "created"]
NAME_RE = re.compile(r"^[^\W_][\w.-]{0,63}$")


def check_name(name: Any) -> str:
    """A campaign name: it is also its file name, so letters, digits, ``-``, ``_`` and ``.``, 64 at most."""
    if not isinstance(name, str) or not NAME_RE.match(name) or ".." in name:
        raise UsageError(f"campaign name {name!r}: use letters, digits, - _ and . (like spring-webinar-2026), "
                         "starting with a letter or digit, 64 characters at most")
    return name


def key(name: str) -> str:
    """How names compare (and the file is found): case does not matter."""
    return name.casefold()


@dataclass
class Campaign:
    name: str
    kind: str
    title: str | None = None
    cost: int | float | None = None
    currency: str | None = None
    start: str | None = None
    end: str | None = None
    created: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in FIELDS if getattr(self, k) not in (None, "")}

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Campaign:
        issues = validate(data)
        if issues:
            keys, message = issues[0]
            raise InvalidRecord(f"{where}: {message}")
        return cls(**{k: data.get(k) for k in FIELDS})


def validate(data: Any) -> Issues:
    """Problems with a campaign file's mapping, for ``crm check``-style messages."""
    if not isinstance(data, dict):
        return [((), "a campaign file must be a mapping (name, kind, cost, start, end)")]
    issues: Issues = []
    if not isinstance(data.get("name"), str) or not NAME_RE.match(data["name"]):
        issues.append((("name",), f"name {data.get('name')!r} is not a campaign name"))
    if data.get("kind") not in KINDS:
        issues.append((("kind",), f"kind {data.get('kind')!r} is not one of: {', '.join(KINDS)}"))
    cost = data.get("cost")
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost < 0):
        issues.append((("cost",), f"cost {cost!r} must be an amount of 0 or more"))
    for k in ("start", "end"):
        if data.get(k) is not None and (msg := check_date(data.get(k), k)):
            issues.append(((k,), msg))
    if isinstance(data.get("start"), str) and isinstance(data.get("end"), str) and data["end"] < data["start"]:
        issues.append((("end",), f"end {data['end']} is before start {data['start']}"))
    unknown = set(data) - set(FIELDS)
    if unknown:
        issues.append(((sorted(unknown)[0],), f"unknown key {sorted(unknown)[0]!r}; keys: {', '.join(FIELDS)}"))
    return issues


def new_campaign(name: str, kind: str, *, title: str | None, cost: Any, currency: str | None,
                 start: date | None, end: date | None, created: str) -> Campaign:
    """A checked campaign from what a user typed."""
    check_name(name)
    if kind not in KINDS:
        raise UsageError(f"campaign kind {kind!r} is not one of: {', '.join(KINDS)}")
    amount = parse_amount(str(cost), "cost") if cost not in (None, "") else None
    if amount is not None and amount < 0:
        raise InvalidRecord(f"cost {cost!r} must be 0 or more")
    if start and end and end < start:
        raise UsageError(f"end {end} is before start {start}")
    return Campaign(name, kind, (title or "").strip() or None, amount, currency,
                    start.isoformat() if start else None, end.isoformat() if end else None, created)


# -- events -------------------------------------------------------------------------------------------
def member_entry(at: str, by: str, campaign: str) -> dict:
    return {"at": at, "kind": "campaign.member", "by": by, "campaign": campaign}


def response_entry(at: str, by: str, campaign: str, response: str, note: str | None = None) -> dict:
    if response not in RESPONSES:
        raise UsageError(f"response {response!r} is not one of: {', '.join(RESPONSES)}")
    entry = {"at": at, "kind": "campaign.response", "by": by, "campaign": campaign, "response": response}
    if note:
        entry["note"] = note
    return entry


def memberships(events: list[dict]) -> dict[str, list[str]]:
    """Campaign (by ``key``) -> the responses a customer gave, in file order, for every campaign it is in."""
    out: dict[str, list[str]] = {}
    for e in events:
        if e.get("kind") in ("campaign.member", "campaign.response") and isinstance(e.get("campaign"), str):
            answers = out.setdefault(key(e["campaign"]), [])
            if e["kind"] == "campaign.response" and isinstance(e.get("response"), str):
                answers.append(e["response"])
    return out


def _validate(entry: dict, config: Any) -> Issues:
    issues: Issues = []
    if msg := check_timestamp(entry.get("at"), "at"):
        issues.append((("at",), msg))
    if not isinstance(entry.get("campaign"), str) or not NAME_RE.match(entry["campaign"]):
        issues.append((("campaign",), f"campaign {entry.get('campaign')!r} is not a campaign name"))
    if entry.get("kind") == "campaign.response" and entry.get("response") not in RESPONSES:
        issues.append((("response",), f"response {entry.get('response')!r} is not one of: {', '.join(RESPONSES)}"))
    return issues


def _describe_member(entry: dict) -> str:
    return f"joined campaign {entry.get('campaign')}"


def _describe_response(entry: dict) -> str:
    note = f": {first_line(entry['note'], 80, mark='...')}" if entry.get("note") else ""
    return f"campaign {entry.get('campaign')}: {entry.get('response')}{note}"


EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind("campaign.member", validate=_validate, describe=_describe_member),
    EventKind("campaign.response", validate=_validate, describe=_describe_response),
)
