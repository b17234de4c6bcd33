"""The domain's records, their field order and their validation (no I/O).

A customer is kept as the mapping read from ``customer.yaml`` so that fields
this version does not know survive a rewrite; ``Customer`` adds typed access
and writes keys in one stable order, known fields first.
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from crmcli.config import Config
from crmcli.crypto import is_sealed
from crmcli.domain.dates import DateError, parse_iso
from crmcli.domain.text import LINE_CONTROL
from crmcli.errors import quote

CUSTOMER_FIELDS = [
    "name", "kind", "industry", "size", "tier", "stage", "owner", "source", "campaign", "referred_by", "tags",
    "email", "phone", "website", "address", "birthday", "touch_every", "contacts", "extra", "created",
]
CONTACT_FIELDS = ["name", "title", "email", "phone", "handles", "primary", "birthday", "note"]
# Fields `crm customer edit --set` and `customer list --FIELD` understand as plain text.
TEXT_FIELDS = ["name", "kind", "industry", "size", "tier", "stage", "owner", "source",
               "email", "phone", "website", "address", "birthday", "touch_every"]

EMAIL_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+$")
PHONE_RE = re.compile(r"^\+?[0-9 ()\-./]{3,30}(?:\s*(?:ext\.?|x|#)\s*[0-9]{1,6})?$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PERIOD_RE = re.compile(r"^\d+\s*[hdwmy]$")

# bidi embeddings, overrides and isolates, and zero-width characters: they make a name display as
# another one (or as two different-looking names that compare equal)
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")

# (key path inside the record, message)
Issue = tuple[tuple[Any, ...], str]


def normalize_name(name: str) -> str:
    """Form used to compare names: NFKC, case-folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def order_keys(data: dict, known: list[str]) -> dict:
    """Known keys in their documented order, unknown ones after, as found."""
    ordered = {k: data[k] for k in known if k in data and data[k] not in (None, "", [], {})}
    for k, v in data.items():
        if k not in ordered and k not in known:
            ordered[k] = v
    return ordered


def check_name(name: Any, what: str = "name") -> str | None:
    if not isinstance(name, str) or not name.strip():
        return f"{what} is empty; give a name"
    if LINE_CONTROL.search(name):
        return f"{what} {quote(name)} contains control characters; remove them"
    if _INVISIBLE.search(name):
        return (f"{what} {quote(name)} contains invisible characters (bidi overrides or zero-width); "
                "retype the name without them")
    if len(name) > 200:
        return f"{what} is {len(name)} characters long; the limit is 200"
    stripped = name.strip()
    if stripped.startswith("/") or stripped.startswith("../") or "/../" in stripped or stripped in (".", ".."):
        return f"{what} {name!r} looks like a file path; give the customer's real name"
    return None


MAX_FIELD_BYTES = 100 * 1024  # one text field (a summary, a note, a free field); documented in README


def oversized(data: Any, keys: tuple[Any, ...] = ()) -> Iterator[Issue]:
    """Each text value larger than ``MAX_FIELD_BYTES`` (UTF-8), with its key path."""
    if isinstance(data, str):
        if len(data) * 4 > MAX_FIELD_BYTES and len(data.encode("utf-8", "surrogatepass")) > MAX_FIELD_BYTES:
            size = len(data.encode("utf-8", "surrogatepass"))
            where = ".".join(map(str, keys)) or "value"
            yield keys, (f"{where} is {size // 1024} KB; the limit for one field is {MAX_FIELD_BYTES // 1024} KB "
                         "(keep long documents as files and link them)")
    elif isinstance(data, dict):
        for k, v in data.items():
            yield from oversized(v, (*keys, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from oversized(v, (*keys, i))


def check_email(value: Any) -> str | None:
    if not isinstance(value, str) or not EMAIL_RE.match(value):
        return f"email {value!r} is not an email address (like name@example.com)"
    return None


def check_phone(value: Any) -> str | None:
    if not isinstance(value, (str, int)) or not PHONE_RE.match(str(value)):
        return f"phone {value!r} is not a phone number (digits, spaces, + - ( ) allowed)"
    return None


def check_date(value: Any, what: str) -> str | None:
    if not isinstance(value, str) or not DATE_RE.match(value):
        return f"{what} {value!r} is not a date (YYYY-MM-DD)"
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        return f"{what} {value!r} is not a real date"
    return None


def check_timestamp(value: Any, what: str) -> str | None:
    if not isinstance(value, str):
        return f"{what} {value!r} is not a date and time (ISO 8601)"
    try:
        _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return f"{what} {quote(value)} is not a date and time (ISO 8601, like 2026-11-20T14:30:00+08:00)"

    try:
        parse_iso(value)  # what every reader uses: it also refuses moments that overflow in UTC or local time
    except DateError as exc:
        return f"{what}: {exc}"
    return None


def _one_of(value: Any, allowed: list[str], what: str) -> str | None:
    if value not in allowed:
        return f"{what} {value!r} is not one of: {', '.join(map(str, allowed))}"
    return None


@dataclass
class Contact:
    name: str
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    primary: bool = False
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = {"name": self.name, "title": self.title, "email": self.email, "phone": self.phone,
                "primary": True if self.primary else None}
        data.update(self.extra)
        return order_keys(data, CONTACT_FIELDS)

    def label(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name


class Customer:
    """One customer's profile, as stored in ``customer.yaml``."""

    def __init__(self, id: str, data: dict, path: str | None = None):
        self.id = id
        self.data = data
        self.path = path

    def __getitem__(self, key: str) -> Any:
        return self.data.get(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @property
    def name(self) -> str:
        return str(self.data.get("name", ""))

    @property
    def contacts(self) -> list[dict]:
        contacts = self.data.get("contacts")
        return contacts if isinstance(contacts, list) else []

    @property
    def tags(self) -> list[str]:
        tags = self.data.get("tags")
        return [str(t) for t in tags] if isinstance(tags, list) else []

    def emails(self) -> list[str]:
        own = [self.data["email"]] if isinstance(self.data.get("email"), str) else []
        return own + [c["email"] for c in self.contacts if isinstance(c, dict) and c.get("email")]

    def primary_contact(self) -> dict | None:
        for c in self.contacts:
            if isinstance(c, dict) and c.get("primary"):
                return c
        return self.contacts[0] if self.contacts and isinstance(self.contacts[0], dict) else None

    def to_dict(self) -> dict:
        data = dict(self.data)
        if isinstance(data.get("contacts"), list):
            data["contacts"] = [order_keys(c, CONTACT_FIELDS) if isinstance(c, dict) else c
                                for c in data["contacts"]]
        return order_keys(data, CUSTOMER_FIELDS)

    def add_contact(self, contact: Contact) -> None:
        contacts = list(self.contacts)
        if contact.primary:
            for c in contacts:
                if isinstance(c, dict):
                    c.pop("primary", None)
        elif not contacts:
            contact.primary = True
        contacts.append(contact.to_dict())
        self.data["contacts"] = contacts


def validate_customer(data: Any, config: Config) -> list[Issue]:
    """Every problem with one customer mapping, each with its key path."""
    if not isinstance(data, dict):
        return [((), "customer.yaml must be a mapping of fields (name: ..., tier: ...)")]
    issues: list[Issue] = []

    def add(path: tuple, message: str | None) -> None:
        if message:
            issues.append((path, message))

    add(("name",), check_name(data.get("name")))
    checks: list[tuple[str, Callable[[Any], str | None]]] = [
        ("kind", lambda v: _one_of(v, config.kinds, "kind")),
        ("tier", lambda v: _one_of(str(v), config.tiers, "tier")),
        ("stage", lambda v: _one_of(v, config.lifecycle_stages, "lifecycle stage")),
        ("birthday", lambda v: check_date(v, "birthday")),
        ("email", check_email),
        ("phone", check_phone),
        ("created", lambda v: check_timestamp(v, "created")),
        ("touch_every", lambda v: None if isinstance(v, str) and PERIOD_RE.match(v.strip())
         else f"touch_every {v!r} is not a period (like 30d, 2w, 3m)"),
        ("tags", lambda v: None if isinstance(v, list) and all(isinstance(t, (str, int)) for t in v)
         else "tags must be a list of words"),
        ("extra", lambda v: None if isinstance(v, dict) else "extra must be a mapping of field: value"),
    ]
    for key, check in checks:
        if data.get(key) not in (None, "") and not is_sealed(data[key]):
            add((key,), check(data[key]))
    for key in ("owner", "industry", "source", "size", "website", "address"):
        value = data.get(key)
        if value is not None and not isinstance(value, (str, int, float)) and not is_sealed(value):
            add((key,), f"{key} must be text")
    contacts = data.get("contacts")
    if contacts is not None:
        if not isinstance(contacts, list):
            add(("contacts",), "contacts must be a list")
        else:
            for i, c in enumerate(contacts):
                issues.extend(((("contacts", i) + p), m) for p, m in validate_contact(c))
    return issues


def validate_contact(c: Any) -> list[Issue]:
    if not isinstance(c, dict):
        return [((), "a contact must be a mapping with at least a name")]
    issues: list[Issue] = []
    msg = check_name(c.get("name"), "contact name")
    if msg:
        issues.append((("name",), msg))
    if c.get("email") not in (None, ""):
        msg = check_email(c["email"])
        if msg:
            issues.append((("email",), msg))
    if c.get("phone") not in (None, ""):
        msg = check_phone(c["phone"])
        if msg:
            issues.append((("phone",), msg))
    if c.get("birthday") not in (None, ""):
        msg = check_date(c["birthday"], "birthday")
        if msg:
            issues.append((("birthday",), msg))
    return issues
