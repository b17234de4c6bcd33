"""``crm search TEXT``: find text across customers, contacts and journals.

Matching is case-insensitive on NFKC-normalized text, so full-width letters and digits match their
ASCII forms and Chinese matches as typed. A query that looks like a phone number (digits with spaces,
dashes, dots, parentheses, an optional leading +) is also compared with phone numbers digits-only,
with a leading +86 / 0086 / +1 and a trunk 0 left out on both sides: ``13800138000`` finds
``138 0013 8000`` and ``0755 8888 0000`` finds ``+86 755 8888 0000``.

Profiles come from the derived index (``crmcli.store.index``), which names the customers whose profile text
contains the query (FTS5 trigram, or a scan of the indexed text for 1-2 characters) or whose name's pinyin
or initials do (``jishi``, ``jsxz``: a "name (pinyin)" hit); only those are checked field by field. Hits come
in the order of the customers' names by pinyin. A journal file is parsed only when its normalized text
contains the query. Each hit names its type (customer, contact, interaction, opp, ticket, task, survey), the
customer, the field and a snippet around the match.
"""
from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from crmcli import yamlio
from crmcli.crypto import is_sealed
from crmcli.domain import dates, pinyin
from crmcli.domain.customer import Customer
from crmcli.domain.text import fold, phone_key
from crmcli.domain.text import fold_with_map as _folded_with_map
from crmcli.errors import CrmError, UsageError
from crmcli.store.index import open_index
from crmcli.store.index_rows import CONTACT_FIELDS, CUSTOMER_FIELDS
from crmcli.store.lookup import name_order, pinyin_matches
from crmcli.store.store import Store

TYPES = ("customer", "contact", "interaction", "opp", "ticket", "task", "survey")
PROFILE_TYPES = ("customer", "contact")
PHONE_FIELDS = ("phone",)
CONTEXT = 24
_PHONE_QUERY = re.compile(r"^\+?[\d\s\-.()]+$")


@dataclass(frozen=True)
class Query:
    text: str
    folded: str
    phone: str | None  # phone_key of the query when it looks like a phone number

    @classmethod
    def parse(cls, text: str) -> Query:
        cleaned = " ".join(str(text).split())
        if not cleaned:
            raise UsageError("nothing to search for; give some text, e.g. crm search 李娜")
        digits = sum(ch.isdigit() for ch in unicodedata.normalize("NFKC", cleaned))
        looks_phone = bool(_PHONE_QUERY.match(unicodedata.normalize("NFKC", cleaned))) and digits >= 3
        return cls(cleaned, fold(cleaned), phone_key(cleaned) if looks_phone else None)


def snippet(text: str, query: Query, *, phone: bool = False) -> tuple[str, str] | None:
    """(snippet, matched text) when ``text`` contains the query; None otherwise."""
    flat = " ".join(str(text).split())
    folded, where = _folded_with_map(flat)
    pos = folded.find(query.folded)
    if pos >= 0:
        start, end = where[pos], where[pos + len(query.folded) - 1] + 1
    elif phone and query.phone and query.phone in phone_key(flat):
        return flat, flat
    else:
        return None
    left, right = max(start - CONTEXT, 0), min(end + CONTEXT, len(flat))
    shown = ("…" if left > 0 else "") + flat[left:right] + ("…" if right < len(flat) else "")
    return shown, flat[start:end]


def _hit(kind: str, customer: Customer, field: str, found: tuple[str, str], ref: str | None = None,
         at: str | None = None) -> dict:
    when = None
    if at:
        with contextlib.suppress(dates.DateError):
            when = dates.format_local(dates.parse_iso(at))
    return {"type": kind, "customer": customer.id, "name": customer.name, "field": field,
            "snippet": found[0], "match": found[1], "ref": ref or customer.id, "at": at, "when": when}


def _profile_hits(customer: Customer, query: Query, types: set[str], spoken: bool = False) -> list[dict]:
    """Hits in a profile; ``spoken``: its name's pinyin or initials match the query (``jishi``, ``jsxz``)."""
    hits = []
    if "customer" in types:
        if spoken and customer.name and not snippet(customer.name, query):
            hits.append(_hit("customer", customer, "name (pinyin)", (customer.name, customer.name)))
        for key in CUSTOMER_FIELDS:
            value = customer.id if key == "id" else customer.get(key)
            if isinstance(value, list):
                value = ", ".join(map(str, value))
            if value in (None, "") or is_sealed(value):  # encrypted: nothing to find, nothing to show
                continue
            found = snippet(str(value), query, phone=key in PHONE_FIELDS)
            if found:
                hits.append(_hit("customer", customer, key, found))
        extra = customer.get("extra")
        for key, value in (extra.items() if isinstance(extra, dict) else []):
            found = snippet(str(value), query) if value not in (None, "") and not is_sealed(value) else None
            if found:
                hits.append(_hit("customer", customer, f"extra.{key}", found))
    if "contact" in types:
        for person in customer.contacts:
            if not isinstance(person, dict):
                continue
            for key in CONTACT_FIELDS:
                value = person.get(key)
                found = snippet(str(value), query, phone=key in PHONE_FIELDS) if value not in (None, "") else None
                if found:
                    label = f"contact {person.get('name')}: {key}" if key != "name" else "contact"
                    hits.append(_hit("contact", customer, label, found))
    return hits


def _event_fields(e: dict) -> tuple[str, str | None, list[tuple[str, Any]]] | None:
    """(type, entity ref, [(field, value)]) of the searchable text in one journal event."""
    kind = str(e.get("kind", ""))
    if kind and "." not in kind:
        return "interaction", None, [(f"{kind} summary", e.get("summary")), (f"{kind} outcome", e.get("outcome"))]
    if kind == "opp.open":
        return "opp", e.get("id"), [("title", e.get("title")), ("product", e.get("product")),
                                    ("source", e.get("source"))]
    if kind == "opp.set" and isinstance(e.get("changes"), dict):
        changes = e["changes"]
        return "opp", e.get("opp"), [(k, changes.get(k)) for k in ("title", "product", "source")]
    if kind == "opp.lost":
        return "opp", e.get("opp"), [("lost reason", e.get("reason"))]
    if kind == "ticket.open":
        return "ticket", e.get("id"), [("title", e.get("title")), ("text", e.get("text"))]
    if kind == "ticket.comment":
        label = "internal note" if e.get("internal") is True else "comment"
        return "ticket", e.get("ticket"), [(label, e.get("text"))]
    if kind == "ticket.close":
        return "ticket", e.get("ticket"), [("resolution", e.get("resolution"))]
    if kind == "task.add":
        return "task", e.get("id"), [("text", e.get("text"))]
    if kind == "survey.answer":
        return "survey", e.get("ticket"), [("comment", e.get("comment"))]
    return None


def _journal_hits(store: Store, customer: Customer, query: Query, types: set[str]) -> list[dict]:
    hits = []
    quoted = any(ch in query.text for ch in "'\"\\")  # YAML may escape these: skip the text pre-filter
    for path in store.journal_files(customer.id):
        try:
            text = path.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if not quoted and query.folded not in fold(text):
            continue
        with contextlib.suppress(CrmError):
            data = yamlio.loads(text, store.rel(path))
            for e in data if isinstance(data, list) else []:
                parts = _event_fields(e) if isinstance(e, dict) else None
                if parts is None or parts[0] not in types:
                    continue
                kind, local, fields = parts
                for name, value in fields:
                    found = snippet(str(value), query) if isinstance(value, (str, int, float)) else None
                    if found:
                        ref = f"{customer.id}/{local}" if local else customer.id
                        hits.append(_hit(kind, customer, name, found, ref, str(e.get("at", "")) or None))
    return hits


def check_types(types: Iterable[str]) -> set[str]:
    wanted = set()
    for t in types:
        name = str(t).strip().lower()
        if name not in TYPES:
            raise UsageError(f"--type {t!r}: use one of: {', '.join(TYPES)}")
        wanted.add(name)
    return wanted or set(TYPES)


def search(store: Store, text: str, types: Iterable[str] = (), limit: int | None = None,
           problems: list[str] | None = None) -> list[dict]:
    """Hits for ``text``, by customer name, then type (customer first), then newest first.

    Each unreadable customer's problem (``path:line: problem``) is appended to ``problems``."""

    query = Query.parse(text)
    wanted = check_types(types)
    journals = bool(wanted - set(PROFILE_TYPES))
    hits: list[dict] = []
    typed = pinyin.typed(query.text) if "customer" in wanted else None
    with open_index(store) as index:
        found = index.text_matches(query.folded, query.phone)
        spoken = pinyin_matches(index, typed) if typed else set()
        customers = index.customers(problems=problems) if journals else \
            index.customers(problems=problems, only=found | spoken)
        order = name_order(index)
    for customer in customers:
        if customer.id in found or customer.id in spoken:
            hits += _profile_hits(customer, query, wanted, customer.id in spoken)
        if journals:
            hits += _journal_hits(store, customer, query, wanted)
    seen: set[tuple] = set()
    unique = []
    for h in hits:
        key = (h["type"], h["ref"], h["field"], h["snippet"], h["at"])
        if key not in seen:
            seen.add(key)
            unique.append(h)
    rank = {t: i for i, t in enumerate(TYPES)}
    unique.sort(key=lambda h: (order.get(h["customer"]) or pinyin.sort_key(None, h["name"]), h["customer"],
                               rank[h["type"]], _newest_first(h["at"])))
    return unique[:limit] if limit else unique


def _newest_first(at: str | None) -> float:
    if not at:
        return float("-inf")
    try:
        return -dates.parse_iso(at).timestamp()
    except dates.DateError:
        return 0.0
