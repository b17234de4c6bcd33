"""Rows of customers and contacts: matched against the store and the file, created or updated."""
from __future__ import annotations

import copy
from typing import Any

from crmcli.domain import dates
from crmcli.domain.customer import Customer, normalize_name, validate_contact, validate_customer
from crmcli.errors import CrmError
from crmcli.io.import_plan import Source
from crmcli.io.import_planner import PlannerBase
from crmcli.io.import_values import (
    CRM_ID,
    BadValue,
    bool_cell,
    day_cell,
    moment_cell,
    person_name,
    phone_cell,
    strip_field,
    tags_cell,
    text_cell,
)
from crmcli.store import campaigns as campaign_files


class CustomerRows(PlannerBase):
    def _customer_fields(self, v: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Profile fields from a row, and which field each came from (for messages)."""
        data: dict[str, Any] = {}
        origin: dict[str, str] = {}

        def put(key: str, value: Any, src: str | None = None) -> None:
            if value not in (None, "", []):
                data[key] = value
                origin[key] = src or key

        for key in ("kind", "industry", "size", "stage", "owner", "source", "website", "address", "touch_every"):
            put(key, text_cell(v.get(key)))
        if v.get("tier") is not None:
            put("tier", text_cell(v["tier"]))
        campaign = text_cell(v.get("campaign"))
        if campaign:  # the campaign the customer came from: an existing campaigns/NAME.yaml, in its spelling
            try:
                found = campaign_files.find(self.store, campaign)
            except CrmError as exc:
                raise BadValue("campaign", str(exc)) from None
            if found is None:
                raise BadValue("campaign", f"no campaign {campaign!r}; add it first (crm campaign add {campaign} "
                                           "--kind ...) or fix the cell")
            put("campaign", found.name)
        put("tags", tags_cell(v.get("tags")))
        put("birthday", day_cell("birthday", v.get("birthday")))
        put("created", moment_cell("created", v.get("created")))
        extra = {k[6:]: text_cell(val) for k, val in v.items() if k.startswith("extra.") and text_cell(val)}
        if v.get("external_id") is not None:
            extra["external_id"] = text_cell(v["external_id"]) or ""
        if extra:
            data["extra"] = extra
            origin["extra"] = "external_id" if "external_id" in extra else next(
                k for k in v if k.startswith("extra."))
        return data, origin

    def row_customers(self, v: dict[str, Any], source: Source, number: int) -> str:
        person = (text_cell(v.get("contact"))
                  or person_name(text_cell(v.get("first_name")), text_cell(v.get("last_name"))))
        name = text_cell(v.get("name"))
        raw_id = (text_cell(v.get("id")) or "").lower() or None
        if raw_id and not CRM_ID.match(raw_id) and v.get("external_id") is None:
            v["external_id"], raw_id = v["id"], None
        data, origin = self._customer_fields(v)
        email, phone = text_cell(v.get("email")), phone_cell(v.get("phone"))
        contact: dict[str, Any] = {}
        contact_origin: dict[str, str] = {}
        if not name and person:
            name, person = person, None
            data.setdefault("kind", "person")
        if not name:
            raise BadValue("name", "no customer name; every row needs one (map a column with --map 'COLUMN=name')")
        data = {"name": name, **data}
        origin["name"] = "name"
        if person and data.get("kind") != "person":
            contact = {"name": person, "title": text_cell(v.get("title")),
                       "email": text_cell(v.get("contact_email")) or email,
                       "phone": phone_cell(v.get("contact_phone")) or phone}
            contact_origin = {"name": "contact" if v.get("contact") else "first_name", "title": "title",
                              "email": "contact_email" if v.get("contact_email") else "email",
                              "phone": "contact_phone" if v.get("contact_phone") else "phone"}
            contact = {k: val for k, val in contact.items() if val}
            if v.get("contact_email"):
                data["email"], origin["email"] = email, "email"
            if v.get("contact_phone"):
                data["phone"], origin["phone"] = phone, "phone"
        else:
            data["email"], data["phone"] = email, phone
            origin["email"], origin["phone"] = "email", "phone"
        data = {k: val for k, val in data.items() if val not in (None, "", [])}
        # validate as a whole record (contact included), naming the column of every problem
        probe = dict(data)
        if contact:
            probe["contacts"] = [contact]
        probe.setdefault("created", "2000-01-01T00:00:00+00:00")
        problems = []
        for keys, message in validate_customer(probe, self.store.config):
            fld = (contact_origin.get(str(keys[2]), "contact") if keys and keys[0] == "contacts" and len(keys) > 2
                   else origin.get(str(keys[0]) if keys else "name", str(keys[0]) if keys else "name"))
            problems.append((fld, strip_field(message, "email", "phone", "contact name", "name", "birthday",
                                              "lifecycle stage", "kind", "tier", "created", "touch_every")))
        if problems:
            raise BadValue(*problems[0], others=problems[1:])
        # duplicates
        found = self._match_customer(raw_id, data, contact)
        if found is not None:
            cid, why = found
            if self.options.on_duplicate != "update":
                return self._duplicate(why)
            if not why.startswith(("id ", "external id ")):
                data.pop("name")  # matched by name or email: the stored spelling of the name stays
            return self._update_customer(cid, data, contact)
        cid = self.new_id(name, raw_id)
        created = data.pop("created", None) or dates.iso(dates.now())
        customer = Customer(cid, {"name": name, "kind": "company", "stage": "lead", **data, "created": created})
        if contact:
            customer.data["contacts"] = [{**contact, "primary": True}]
        self.plan.new_customers[cid] = customer
        self.pool.add(customer)
        self.created_by_row[cid] = f"{source.unit} {number}"
        return "created"

    def _match_customer(self, raw_id: str | None, data: dict, contact: dict) -> tuple[str, str] | None:
        pool, match = self.pool, self.options.match
        if raw_id:  # a crm id says which customer this is: never merged with another by name or email
            return (raw_id, self._who(raw_id, f"id {raw_id}")) if raw_id in pool.customers else None
        ext = (data.get("extra") or {}).get("external_id")
        if ext and match in (None, "external-id") and ext in pool.by_ext:
            return pool.by_ext[ext], self._who(pool.by_ext[ext], f"external id {ext}")
        if match in (None, "email"):
            for email in (data.get("email"), contact.get("email")):
                if email and email.lower() in pool.by_email:
                    cid = pool.by_email[email.lower()]
                    return cid, self._who(cid, f"email {email}")
        if match in (None, "name"):
            hits = pool.by_name.get(normalize_name(data["name"]), [])
            if hits:
                return hits[0], self._who(hits[0], "same name")
        return None

    def _who(self, cid: str, why: str) -> str:
        row = self.created_by_row.get(cid)
        place = f"{row} of this file" if row else f"{cid} in the store"
        return f"{why}: already {place} ({self.pool.customers[cid].name})"

    def _update_customer(self, cid: str, data: dict, contact: dict) -> str:
        customer = self.editable(cid)
        for key, value in data.items():
            if key in ("created",):
                continue
            if key == "extra":
                customer.data.setdefault("extra", {}).update(value)
            else:
                customer.data[key] = value
        if contact:
            self._merge_contact(customer, contact)
        self.pool.index(customer)
        if cid in self.plan.new_customers:
            return "updated"
        return "updated" if customer.to_dict() != Customer(cid, self.plan.originals[cid]).to_dict() else \
            "unchanged"

    @staticmethod
    def _merge_contact(customer: Customer, contact: dict) -> bool:
        """Add ``contact`` or update the one with its email/name; True when it was new."""
        for existing in customer.contacts:
            if not isinstance(existing, dict):
                continue
            same_email = contact.get("email") and str(existing.get("email", "")).lower() == contact["email"].lower()
            same_name = normalize_name(str(existing.get("name", ""))) == normalize_name(contact["name"])
            if same_email or (same_name and not (existing.get("email") and contact.get("email"))):
                existing.update({k: val for k, val in contact.items() if k != "primary" or val})
                return False
        contacts = list(customer.contacts)
        if contact.get("primary"):
            for c in contacts:
                if isinstance(c, dict):
                    c.pop("primary", None)
        elif not contacts and "primary" not in contact:
            contact = {**contact, "primary": True}
        contacts.append({k: val for k, val in contact.items() if val not in (None, "", False)})
        customer.data["contacts"] = contacts
        return True

    # contacts ------------------------------------------------------------------------------------
    def row_contacts(self, v: dict[str, Any], source: Source, number: int) -> str:
        name = text_cell(v.get("name")) or person_name(text_cell(v.get("first_name")), text_cell(v.get("last_name")))
        if not name:
            raise BadValue("name", "no contact name; every row needs one")
        contact: dict[str, Any] = {"name": name, "title": text_cell(v.get("title")),
                                   "email": text_cell(v.get("email")), "phone": phone_cell(v.get("phone")),
                                   "birthday": day_cell("birthday", v.get("birthday")),
                                   "note": text_cell(v.get("note"))}
        if "primary" in source.mapping.fields.values():
            contact["primary"] = bool_cell(v.get("primary")) if v.get("primary") is not None else False
        contact = {k: val for k, val in contact.items() if val is not None}
        issues = validate_contact(contact)
        if issues:
            keys, message = issues[0]
            raise BadValue(str(keys[0]), strip_field(message, "email", "phone", "contact name", "birthday"))
        ref = text_cell(v.get("customer"))
        email = contact.get("email")
        if email and self.options.match in (None, "email") and email.lower() in self.pool.by_email:
            cid = self.pool.by_email[email.lower()]
            if not ref or self.pool.find(ref) in (cid, None):
                if self.options.on_duplicate != "update":
                    return self._duplicate(self._who(cid, f"email {email}"))
                customer = self.editable(cid)
                if str(customer.data.get("email") or "").lower() == email.lower() and not customer.contacts:
                    return "unchanged"
                self._merge_contact(customer, contact)
                self.pool.index(customer)
                return "updated"
        if ref:
            cid_or_none = self.pool.find(ref)
            if cid_or_none is None and CRM_ID.match(ref.lower()) and not v.get("customer_name"):
                raise BadValue("customer", f"no customer {ref!r} in the store or this file")
            if cid_or_none is None:
                cid = self._create_for_contact(text_cell(v.get("customer_name")) or ref, ref, "company", source, number)
            else:
                cid = cid_or_none
        else:  # a person on their own: the customer is the person
            cid = self._create_for_contact(name, None, "person", source, number, contact)
            return "created"
        customer = self.editable(cid)
        same_name = [c for c in customer.contacts if isinstance(c, dict)
                     and normalize_name(str(c.get("name", ""))) == normalize_name(name)]
        other_email = same_name[0].get("email") if same_name else None
        if same_name and self.options.match in (None, "name") and not (
                email and other_email and str(other_email).lower() != email.lower()):
            if self.options.on_duplicate != "update":
                return self._duplicate(f"contact {name} already at {customer.name}")
            before = copy.deepcopy(customer.data)
            self._merge_contact(customer, contact)
            return "updated" if customer.data != before else "unchanged"
        self._merge_contact(customer, contact)
        self.pool.index(customer)
        return "created"

    def _create_for_contact(self, name: str, wanted_id: str | None, kind: str, source: Source, number: int,
                            person: dict | None = None) -> str:
        cid = self.new_id(name, wanted_id.lower() if wanted_id else None)
        data: dict[str, Any] = {"name": name, "kind": kind, "stage": "lead"}
        if person:
            for key in ("email", "phone", "birthday"):
                if person.get(key):
                    data[key] = person[key]
            if person.get("title"):
                data["extra"] = {"title": person["title"]}
        data["created"] = dates.iso(dates.now())
        customer = Customer(cid, data)
        self.plan.new_customers[cid] = customer
        self.pool.add(customer)
        self.created_by_row[cid] = f"{source.unit} {number}"
        return cid

    # journal kinds ---------------------------------------------------------------------------------
