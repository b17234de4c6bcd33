"""Customers and their contacts: add, edit, remove, list.

Each function takes a ``Store``, does one change in one transaction (hence one
commit), and returns what it changed so the CLI can render it.
"""
from __future__ import annotations

import copy
import datetime as _dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from crmcli import crypto, yamlio
from crmcli.actions.history import describe_changes
from crmcli.domain import dates, ids, pinyin
from crmcli.domain.customer import (
    CUSTOMER_FIELDS,
    Contact,
    Customer,
    check_email,
    check_phone,
    normalize_name,
    validate_contact,
    validate_customer,
)
from crmcli.errors import InvalidRecord, UsageError, quote
from crmcli.store.index import open_index
from crmcli.store.lookup import name_order
from crmcli.store.store import Store

LIST_FIELDS = ["kind", "industry", "tier", "stage", "owner", "source"]
SORT_FIELDS = ["id", "name", "kind", "industry", "size", "tier", "stage", "owner", "source", "created"]


def _now_iso() -> str:
    return dates.iso(dates.now())


def _raise_first(issues: list, what: str = "") -> None:
    if issues:
        path, message = issues[0]
        where = f"{what}: " if what else ""
        raise InvalidRecord(f"{where}{message}")


def new_customer(store: Store, name: str, *, fields: dict[str, Any] | None = None,
                 contacts: Iterable[Contact] = (), force: bool = False) -> Customer:
    """Build (not save) a validated customer with a fresh id."""
    name = name.strip() if isinstance(name, str) else name
    data: dict[str, Any] = {"name": name, "kind": "company", "stage": "lead"}
    for key, value in (fields or {}).items():
        if value not in (None, "", [], ()):
            data[key] = list(value) if isinstance(value, tuple) else value
    data["created"] = _now_iso()
    customer = Customer("", data)
    for contact in contacts:
        _raise_first(validate_contact(contact.to_dict()))
        customer.add_contact(contact)
    _raise_first(validate_customer(customer.data, store.config))
    if not force:
        twins = store._by_name(name)
        if twins:
            raise InvalidRecord(f"a customer named {name!r} already exists ({', '.join(twins)}); "
                                "use that id, or pass --force to add another")
    for _ in range(20):
        cid = ids.new_customer_id(name)
        if not store.customer_dir(cid).exists():
            customer.id = cid
            return customer
    raise InvalidRecord("could not find a free id; try again")  # pragma: no cover - 32**4 space


def add_customer(store: Store, name: str, *, fields: dict[str, Any] | None = None,
                 contacts: Iterable[Contact] = (), force: bool = False) -> Customer:
    customer = new_customer(store, name, fields=fields, contacts=contacts, force=force)
    with store.transaction(f"Add customer {customer.name} ({customer.id})",
                           action="customer.add", customer=customer.id) as tx:
        tx.write_customer(customer)
    return customer


def parse_assignment(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise UsageError(f"--set {quote(text)}: write FIELD=VALUE (like tier=A)")
    key, value = text.split("=", 1)
    key = key.strip()
    if not key:
        raise UsageError(f"--set {quote(text)}: the field name is empty")
    if key.startswith("extra.") and not key[len("extra."):].strip():
        raise UsageError(f"--set {quote(text)}: the free field name after extra. is empty (like extra.region=north)")
    return key, value.strip()


def _coerce(key: str, value: str) -> Any:
    if key == "tags":
        return [t.strip() for t in value.split(",") if t.strip()]
    return value


def apply_assignments(customer: Customer, assignments: list[tuple[str, str]],
                      known: Iterable[str] = ()) -> Customer:
    """New customer with ``field=value`` applied; ``extra.x=v`` sets a free field, ``field=`` clears."""
    data = copy.deepcopy(customer.data)
    for key, value in assignments:
        if key in ("contacts", "created"):
            raise UsageError(f"--set {key}: use crm contact add, or edit the YAML with crm customer edit")
        if key.startswith("extra."):
            sub = key[len("extra."):]
            extra = data.setdefault("extra", {})
            if not isinstance(extra, dict):
                raise InvalidRecord("extra must be a mapping; fix it with crm customer edit")
            if value == "":
                extra.pop(sub, None)
            else:
                extra[sub] = value
            continue
        if key not in CUSTOMER_FIELDS and key not in data and key not in known:
            raise UsageError(f"--set {key}: unknown field; known: {', '.join(CUSTOMER_FIELDS[:-3])} "
                             "(or extra.NAME for a free field)")
        if value == "":
            if key == "name":
                raise InvalidRecord("name cannot be cleared")
            data.pop(key, None)
        else:
            data[key] = _coerce(key, value)
    return Customer(customer.id, data, customer.path)


def describe(old: dict, new: dict) -> str:
    return "; ".join(describe_changes(old, new)) or "no change"


def change_lines(store: Store, old: dict, new: dict) -> list[str]:
    """What changed, as phrases; sensitive values never appear in them (commit messages, output)."""

    if store.config.get("sensitive_fields"):

        old, new = crypto.mask_customer(store.config, old), crypto.mask_customer(store.config, new)
    return describe_changes(old, new)


def save_customer(store: Store, customer: Customer, old: dict, *, action: str = "customer.edit",
                  keep_layout: bool = False) -> Customer | None:
    """Validate and commit ``customer``; None when nothing changed. ``keep_layout``: change only what differs in
    the file as it is (comments, key order), as ``customer edit --set`` does."""
    _raise_first(validate_customer(customer.data, store.config), store.rel(store.customer_file(customer.id)))
    if customer.to_dict() == Customer(customer.id, old).to_dict():
        return None
    summary = "; ".join(change_lines(store, old, customer.data)) or "no change"
    with store.transaction(f"Edit customer {customer.name} ({customer.id}): {summary}",
                           action=action, customer=customer.id) as tx:
        tx.write_customer(customer, keep_layout=keep_layout)
    return customer


def edit_customer(store: Store, ref: str, assignments: list[tuple[str, str]]) -> tuple[Customer, Customer | None]:
    cid = store.resolve(ref)
    before = store.load_customer(cid, validate=False)
    after = apply_assignments(before, assignments, store.config.get("sensitive_fields") or ())
    return before, save_customer(store, after, before.data, keep_layout=True)


def edit_customer_text(store: Store, cid: str, text: str, *, source: str | None = None) -> Customer | None:
    """Save a hand-edited ``customer.yaml`` after checking it; raises with file:line on errors.

    ``source`` names the file the text came from (default: the customer's own file).
    """
    path = source or store.rel(store.customer_file(cid))
    data = yamlio.loads(text, path)
    issues = validate_customer(data, store.config)
    if issues:
        keys, message = issues[0]
        line = yamlio.key_line(text, keys)
        raise InvalidRecord(f"{path}:{line}: {message}")
    before = store.load_customer(cid, validate=False)
    return save_customer(store, Customer(cid, data), before.data)


def show_customer(store: Store, ref: str) -> Customer:
    """The customer for display: sensitive fields decrypted with the user's identity, else masked."""
    cid = store.resolve(ref)
    customer = store.load_customer(cid, validate=False)

    if not crypto.has_sealed(customer.data):
        return customer
    data = crypto.reveal_customer(store.config, customer.data, crypto.load_identities(store.root))
    return Customer(cid, data, customer.path)


def remove_customer(store: Store, ref: str) -> Customer:
    cid = store.resolve(ref)
    customer = store.load_customer(cid, validate=False)
    folder = store.customer_dir(cid)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    with store.transaction(f"Remove customer {customer.name} ({cid})", action="customer.rm", customer=cid) as tx:
        for path in files:
            tx.delete(path)
    return customer


def add_contact(store: Store, ref: str, contact: Contact) -> Customer:
    cid = store.resolve(ref)
    customer = store.load_customer(cid)
    _raise_first(validate_contact(contact.to_dict()))
    if contact.email:
        for existing in customer.contacts:
            if isinstance(existing, dict) and str(existing.get("email", "")).lower() == contact.email.lower():
                raise InvalidRecord(f"{customer.name} already has a contact with email {contact.email} "
                                    f"({existing.get('name')})")
    customer.add_contact(contact)
    with store.transaction(f"Add contact {contact.label()} to {customer.name} ({cid})",
                           action="contact.add", customer=cid) as tx:
        tx.write_customer(customer)
    return customer


def make_contact(name: str, *, title: str | None = None, email: str | None = None,
                 phone: str | None = None, primary: bool = False) -> Contact:
    for check, value in ((check_email, email), (check_phone, phone)):
        if value:
            message = check(value)
            if message:
                raise InvalidRecord(message)
    return Contact(name=name.strip(), title=title, email=email, phone=phone, primary=primary)


def parse_contact_option(text: str) -> Contact:
    """``--contact "Name <email>, phone"`` or ``"Name, email, phone"``."""

    m = re.match(r"^\s*([^<,]+?)\s*<([^>]+)>\s*(?:,\s*(.+))?$", text)
    if m:
        return make_contact(m.group(1), email=m.group(2).strip(), phone=(m.group(3) or "").strip() or None)
    parts = [p.strip() for p in text.split(",")]
    name, email, phone = parts[0], None, None
    for part in parts[1:]:
        if "@" in part:
            email = part
        elif part:
            phone = part
    return make_contact(name, email=email, phone=phone)


@dataclass
class CustomerFilter:
    tags: tuple[str, ...] = ()
    query: str | None = None
    fields: dict[str, str] | None = None

    def matches(self, customer: Customer) -> bool:
        for key, wanted in (self.fields or {}).items():
            if str(customer.get(key, "")).casefold() != wanted.casefold():
                return False
        if self.tags and not set(t.casefold() for t in self.tags) <= set(t.casefold() for t in customer.tags):
            return False
        if self.query:
            q = normalize_name(self.query)
            hay = [customer.id, customer.name, str(customer.get("industry", "")), str(customer.get("owner", ""))]
            for c in customer.contacts:
                if isinstance(c, dict):
                    hay += [str(c.get("name", "")), str(c.get("email", "")), str(c.get("phone", ""))]
            if not any(q in normalize_name(h) for h in hay):
                return False
        return True


def list_customers(store: Store, flt: CustomerFilter, *, sort: str = "name",
                   problems: list[str] | None = None) -> list[Customer]:
    """The matching customers, sorted; unreadable ones are left out and named in ``problems`` when given."""

    if sort not in SORT_FIELDS:
        raise UsageError(f"--sort {sort!r}: sort by one of {', '.join(SORT_FIELDS)}")
    with open_index(store) as index:  # the simple filters in SQL, every filter again on the rows
        rows = [c for c in index.customers(problems=problems, fields=flt.fields) if flt.matches(c)]
        order = name_order(index)  # names by pinyin: 阿里巴巴 (a li ba ba) before Acme, 北京 before 深圳

    def key(c: Customer) -> tuple:
        named = order.get(c.id) or pinyin.sort_key(None, c.name)
        if sort == "name":
            return (0, "", named)
        value = c.id if sort == "id" else c.get(sort)
        if sort == "tier" and value is not None:
            tiers = store.config.tiers
            value = tiers.index(str(value)) if str(value) in tiers else len(tiers)
            return (0, value, named)
        return (value is None, str(value if value is not None else "").casefold(), named)

    return sorted(rows, key=key)


def profile_rows(customer: Customer) -> list[tuple[str, Any]]:
    """The profile as (field, value) pairs in the documented order, for display."""
    data = customer.to_dict()
    rows: list[tuple[str, Any]] = [("id", customer.id)]
    for key, value in data.items():
        if key == "contacts":
            continue
        if isinstance(value, list):
            value = ", ".join(map(str, value))
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        rows.append((key, value))
    return rows


def today() -> _dt.date:
    return dates.now().date()
