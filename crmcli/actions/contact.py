"""A customer's contact people: change one (phone, email, title...) or remove one, in one commit each."""
from __future__ import annotations

import copy
from dataclasses import dataclass

from crmcli.actions.customer import change_lines
from crmcli.domain import dates
from crmcli.domain.customer import Customer, check_email, check_name, check_phone, validate_customer
from crmcli.domain.interactions import match_contact
from crmcli.errors import InvalidRecord, UsageError
from crmcli.store.store import Store

# what `crm contact edit` may change, and the option that names it
EDITABLE = ("name", "title", "email", "phone", "birthday", "note")


@dataclass
class ContactChange:
    customer: Customer
    contact: dict  # the contact after the change (or the removed one)
    lines: list[str]  # the change in words, as crm history shows it
    changed: bool = True


def _find(customer: Customer, who: str) -> int:
    name = match_contact(customer, who)
    hits = [i for i, c in enumerate(customer.contacts) if isinstance(c, dict) and c.get("name") == name]
    if len(hits) > 1:  # two people of one name: the email tells them apart
        raise UsageError(f"{customer.name} has {len(hits)} contacts named {name}; name the one you mean by email")
    return hits[0]


def _checked(field: str, value: str) -> str | None:
    value = value.strip()
    if not value:
        if field == "name":
            raise InvalidRecord("a contact's name cannot be empty (crm contact rm removes the contact)")
        return None  # FIELD= clears it
    check = {"email": check_email, "phone": check_phone}.get(field)
    message = check(value) if check else check_name(value, "contact name") if field == "name" else None
    if message:
        raise InvalidRecord(message)
    if field == "birthday":
        try:
            return dates.parse_date(value).isoformat()
        except dates.DateError as exc:
            raise InvalidRecord(f"birthday: {exc}") from None
    return value


def edit_contact(store: Store, ref: str, who: str, changes: dict[str, str], *,
                 primary: bool = False) -> ContactChange:
    """Set (or with an empty value clear) fields of one contact, found by name, email or name prefix."""
    unknown = [f for f in changes if f not in EDITABLE]
    if unknown:
        raise UsageError(f"a contact has no field {unknown[0]!r}; change one of: {', '.join(EDITABLE)}")
    if not changes and not primary:
        raise UsageError("nothing to change: give --phone, --email, --title/--role, --name, --birthday, --note "
                         "or --primary")
    cid = store.resolve(ref)
    before = store.load_customer(cid)
    customer = Customer(cid, copy.deepcopy(before.data), before.path)
    i = _find(customer, who)
    contacts = customer.contacts
    person = contacts[i]
    for field, raw in changes.items():
        value = _checked(field, raw)
        if field == "email" and value:
            for j, other in enumerate(contacts):
                if j != i and isinstance(other, dict) and str(other.get("email", "")).lower() == value.lower():
                    raise InvalidRecord(f"{customer.name} already has a contact with email {value} "
                                        f"({other.get('name')})")
        if value is None:
            person.pop(field, None)
        else:
            person[field] = value
    if primary:
        for other in contacts:
            if isinstance(other, dict):
                other.pop("primary", None)
        person["primary"] = True
    return _save(store, customer, before.data, person, f"Edit contact {person['name']} of", "contact.edit")


def remove_contact(store: Store, ref: str, who: str) -> ContactChange:
    """Remove one contact; when it was the primary one, the next contact becomes primary."""
    cid = store.resolve(ref)
    before = store.load_customer(cid)
    customer = Customer(cid, copy.deepcopy(before.data), before.path)
    i = _find(customer, who)
    contacts = customer.contacts
    person = contacts.pop(i)
    if person.get("primary") and contacts and isinstance(contacts[0], dict):
        contacts[0]["primary"] = True
    if not contacts:
        customer.data.pop("contacts", None)
    return _save(store, customer, before.data, person, f"Remove contact {person['name']} from", "contact.rm")


def _save(store: Store, customer: Customer, old: dict, person: dict, what: str, action: str) -> ContactChange:
    issues = validate_customer(customer.data, store.config)
    if issues:
        raise InvalidRecord(f"{store.rel(store.customer_file(customer.id))}: {issues[0][1]}")
    lines = change_lines(store, old, customer.data)
    if customer.to_dict() == Customer(customer.id, old).to_dict():
        return ContactChange(customer, person, [], changed=False)
    with store.transaction(f"{what} {customer.name} ({customer.id}): {'; '.join(lines)}", action=action,
                           customer=customer.id) as tx:
        tx.write_customer(customer, keep_layout=True)
    return ContactChange(customer, person, lines)
