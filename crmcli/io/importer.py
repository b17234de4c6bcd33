"""Import records from CSV, Excel, JSON and vCard: check every row first, then write all in one commit.

``plan_import`` reads the file(s), maps columns to fields (``crmcli.io.mapping``), validates each row
and matches duplicates (within the file and against the store); it writes nothing. ``apply_plan``
writes the plan in ONE bulk transaction, so an interrupted import leaves no partial records and a
finished one is one commit. Re-importing the same file plans nothing and makes no commit.
"""
from __future__ import annotations

import copy
import datetime as _dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmcli import yamlio
from crmcli.domain import dates, ids
from crmcli.domain.customer import PERIOD_RE, Customer, normalize_name, validate_contact, validate_customer
from crmcli.errors import CrmError, InvalidRecord, UsageError
from crmcli.io.csvio import Table, cell_text, read_csv, unneutralize
from crmcli.io.mapping import IMPORT_KINDS, Mapping, auto_map, parse_map_options
from crmcli.store.store import Entry, Store

MATCHES = ("email", "name", "external-id")
ON_DUPLICATE = ("skip", "update", "error")
# order in which the sheets of one workbook are imported (customers before what refers to them)
KIND_ORDER = ["customers", "contacts", "opps", "orders", "contracts", "interactions", "tickets", "tasks", "surveys"]
_SPLIT_TAGS = re.compile(r"[,;，；、|]")
_CJK = re.compile(r"[\u3400-\u9fff]")
_CRM_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*-[0-9a-z]{4}$")
_LOCAL = {"opp": re.compile(r"^opp-[0-9a-z]{4,}$"), "tkt": re.compile(r"^tkt-[0-9a-z]{4,}$"),
          "task": re.compile(r"^task-[0-9a-z]{4,}$")}
_DAY_FORMS = [re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")]
Progress = Callable[[int, int], Any]


# -- results -------------------------------------------------------------------------------------
@dataclass
class Problem:
    """A bad value, located by file, row and column."""

    source: str
    row: int
    column: str | None
    message: str
    unit: str = "row"

    def __str__(self) -> str:
        col = f", column {self.column}" if self.column else ""
        return f"{self.source}:{self.unit} {self.row}{col}: {self.message}"


@dataclass
class Source:
    label: str  # file name, or file:sheet
    kind: str
    table: Table
    mapping: Mapping
    unit: str = "row"


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    invalid: int = 0


@dataclass
class Plan:
    path: Path
    sources: list[Source] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # "file:row 3: duplicate of ..." lines
    new_customers: dict[str, Customer] = field(default_factory=dict)
    changed_customers: dict[str, Customer] = field(default_factory=dict)
    originals: dict[str, dict] = field(default_factory=dict)
    events: list[tuple[str, dict]] = field(default_factory=list)
    bad_rows: dict[str, list[tuple[int, list[Any], list[str]]]] = field(default_factory=dict)
    preview: dict[str, list[dict]] = field(default_factory=dict)
    skip_invalid: bool = False
    commit: str | None = None

    def count(self, kind: str) -> Counts:
        return self.counts.setdefault(kind, Counts())

    def updates(self) -> dict[str, Customer]:
        """Existing customers whose profile really changes."""
        return {cid: c for cid, c in self.changed_customers.items()
                if c.to_dict() != Customer(cid, self.originals[cid]).to_dict()}

    @property
    def has_changes(self) -> bool:
        return bool(self.new_customers or self.events or self.updates())

    def summary(self) -> str:
        parts = []
        for kind, c in self.counts.items():
            bits = [f"{c.created:,} created", f"{c.updated:,} updated", f"{c.skipped:,} skipped"]
            if c.invalid:
                bits.append(f"{c.invalid:,} invalid")
            parts.append(f"{kind}: " + ", ".join(bits))
        return "; ".join(parts) or "nothing to import"

    def message(self) -> str:
        made = [f"{c.created:,} {kind}" for kind, c in self.counts.items() if c.created]
        changed = len(self.updates())
        name = self.path.name
        if made:
            head = f"Import {', '.join(made)} from {name}"
            return head + (f" ({changed:,} updated)" if changed else "")
        return f"Update {changed:,} customer{'s' if changed != 1 else ''} from {name}"


# -- reading files ---------------------------------------------------------------------------------
def _kind_of_sheet(name: str) -> str | None:
    key = name.strip().casefold()
    aliases = {"opportunities": "opps", "deals": "opps", "客户": "customers", "联系人": "contacts"}
    key = aliases.get(key, key)
    return key if key in IMPORT_KINDS else None


def read_sources(path: Path, *, kind: str | None = None, sheet: str | None = None, maps: Iterable[str] = (),
                 encoding: str | None = None) -> list[Source]:
    """The tables of a file, each with its kind and column mapping."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    if kind is not None and kind not in IMPORT_KINDS:
        raise UsageError(f"--kind {kind!r}: use one of {', '.join(IMPORT_KINDS)}")
    suffix = path.suffix.lower()
    tables: list[tuple[Table, str, str]] = []  # table, kind, unit
    if suffix in (".xlsx", ".xlsm"):
        from crmcli.io import xlsxio

        if sheet is None and kind is None:
            names = xlsxio.sheet_names(path)
            kinds = {n: _kind_of_sheet(n) for n in names}
            if any(kinds.values()):
                for t in xlsxio.read_xlsx(path, all_sheets=True):
                    k = kinds.get(t.name)
                    if k:
                        tables.append((t, k, "row"))
                tables.sort(key=lambda x: KIND_ORDER.index(x[1]))
        if not tables:
            t = xlsxio.read_xlsx(path, sheet)[0]
            tables.append((t, kind or _kind_of_sheet(t.name) or "customers", "row"))
    elif suffix in (".vcf", ".vcard"):
        from crmcli.io import vcard

        tables.append((vcard.read_table(path, encoding), kind or "contacts", "card"))
    elif suffix == ".json":
        tables += [(t, k, "record") for t, k in _json_tables(path, kind)]
    elif suffix in (".xls",):
        raise UsageError(f"{path.name}: old .xls workbooks cannot be read; save it as .xlsx or .csv in Excel")
    else:
        tables.append((read_csv(path, encoding), kind or "customers", "row"))
    sources = []
    for table, k, unit in tables:
        if not table.headers:
            raise InvalidRecord(f"{path.name}: no header row found; the first row must name the columns")
        label = path.name if len(tables) == 1 else f"{path.name}:{table.name}"
        sources.append(Source(label, k, table, auto_map(table.headers, k, parse_map_options(tuple(maps), k)),
                              unit))
    return sources


def _json_tables(path: Path, kind: str | None) -> list[tuple[Table, str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRecord(f"{path.name}: not JSON ({exc})") from None
    groups = data if isinstance(data, dict) else {kind or "customers": data}
    out = []
    for name, rows in groups.items():
        k = kind if not isinstance(data, dict) else _kind_of_sheet(str(name))
        if k is None or (kind and k != kind) or not isinstance(rows, list):
            continue
        if not rows and isinstance(data, dict):
            continue  # an empty kind of a whole export: nothing to read
        headers: list[str] = []
        for r in rows:
            for key in r if isinstance(r, dict) else ():
                if key not in headers:
                    headers.append(key)
        table = Table(str(name), headers)
        table.rows = [(i + 1, [r.get(h) for h in headers]) for i, r in enumerate(rows) if isinstance(r, dict)]
        out.append((table, k))
    out.sort(key=lambda x: KIND_ORDER.index(x[1]))
    return out


# -- values ----------------------------------------------------------------------------------------
class BadValue(Exception):
    def __init__(self, fld: str, message: str):
        super().__init__(message)
        self.field = fld
        self.message = message


def _clean(value: Any, guarded: bool = True) -> Any:
    """A cell's value; ``guarded`` cells (csv, xlsx) lose the ' that export put before formula text."""
    if isinstance(value, str):
        value = value.replace("\r\n", "\n").strip()
        if guarded:
            value = unneutralize(value)
        return value or None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return cell_text(value).strip() or None


def _day(fld: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    text = str(value).strip()
    for form in _DAY_FORMS:
        m = form.match(text)
        if m:
            try:
                return _dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
            except ValueError:
                raise BadValue(fld, f"{text!r} is not a real date") from None
    try:
        return dates.parse_date(text).isoformat()
    except dates.DateError:
        raise BadValue(fld, f"{text!r} is not a date (like 2026-11-20)") from None


def _is_day(value: Any) -> bool:
    if isinstance(value, _dt.datetime):
        return value.tzinfo is None and value.time() == _dt.time(0)
    return isinstance(value, _dt.date) or (isinstance(value, str) and len(value.strip()) <= 10)


def _moment(fld: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return dates.iso(value if value.tzinfo else value)  # naive: local time
    if isinstance(value, _dt.date):
        return dates.iso(_dt.datetime.combine(value, _dt.time(0)))
    text = str(value).strip()
    try:
        return dates.iso(dates.parse_iso(text))
    except dates.DateError:
        pass
    m = _DAY_FORMS[0].match(text)
    if m:
        return _moment(fld, _day(fld, text))
    try:
        return dates.iso(dates.parse_when(text))
    except dates.DateError:
        raise BadValue(fld, f"{text!r} is not a date and time (like 2026-11-20 14:30)") from None


def _phone(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return _text(value)


def _tags(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return [str(t).strip() for t in value if str(t).strip()] or None
    return [t.strip() for t in _SPLIT_TAGS.split(str(value)) if t.strip()] or None


def _bool(value: Any) -> bool:
    return str(value).strip().casefold() in ("1", "true", "yes", "y", "x", "是", "√", "primary")


def _person_name(first: str | None, last: str | None) -> str | None:
    if not first and not last:
        return None
    if _CJK.search(f"{first or ''}{last or ''}"):
        return f"{last or ''}{first or ''}"
    return " ".join(p for p in (first, last) if p)


def _strip_field(message: str, *names: str) -> str:
    for name in names:
        if message.startswith(name + " "):
            return message[len(name) + 1:]
    return message


# -- the pool of customers (store + this import) ---------------------------------------------------
class Pool:
    """Every customer the import can match or refer to, with lookups by id, email, name and external id."""

    def __init__(self, store: Store):
        from crmcli.store.index import customer_index

        self.store = store
        self.customers: dict[str, Customer] = {}
        self.by_email: dict[str, str] = {}
        self.by_name: dict[str, list[str]] = {}
        self.by_ext: dict[str, str] = {}
        self.journals: dict[str, list[Entry]] = {}
        self.folders = set(store.customer_ids())  # taken ids, readable or not
        for c in customer_index(store):
            self.add(c)

    def add(self, c: Customer) -> None:
        self.customers[c.id] = c
        self.index(c)

    def index(self, c: Customer) -> None:
        for email in c.emails():
            self.by_email.setdefault(str(email).strip().lower(), c.id)
        names = self.by_name.setdefault(normalize_name(c.name), [])
        if c.id not in names:
            names.append(c.id)
        extra = c.get("extra")
        if isinstance(extra, dict) and extra.get("external_id") not in (None, ""):
            self.by_ext.setdefault(str(extra["external_id"]), c.id)

    def find(self, ref: str) -> str | None:
        """A customer by id, exact name, or email."""
        ref = ref.strip()
        if ref.lower() in self.customers:
            return ref.lower()
        hits = self.by_name.get(normalize_name(ref), [])
        if len(hits) == 1:
            return hits[0]
        return self.by_email.get(ref.lower())

    def journal(self, cid: str) -> list[Entry]:
        if cid not in self.journals:
            self.journals[cid] = self.store.load_journal(cid) if self.store.customer_file(cid).exists() else []
        return self.journals[cid]


# -- planning ---------------------------------------------------------------------------------------
@dataclass
class Options:
    match: str | None = None
    on_duplicate: str = "skip"
    skip_invalid: bool = False


class Planner:
    def __init__(self, store: Store, plan: Plan, options: Options):
        if options.match is not None and options.match not in MATCHES:
            raise UsageError(f"--match {options.match!r}: use one of {', '.join(MATCHES)}")
        if options.on_duplicate not in ON_DUPLICATE:
            raise UsageError(f"--on-duplicate {options.on_duplicate!r}: use one of {', '.join(ON_DUPLICATE)}")
        self.store = store
        self.plan = plan
        self.options = options
        self.pool = Pool(store)
        self.user = store.user()
        self.created_by_row: dict[str, str] = {}  # cid -> "row N" of the row that created it
        self.local_ids: dict[str, set[str]] = {}

    # working copies ------------------------------------------------------------------------------
    def editable(self, cid: str) -> Customer:
        if cid in self.plan.new_customers:
            return self.plan.new_customers[cid]
        if cid not in self.plan.changed_customers:
            current = self.pool.customers[cid]
            self.plan.originals[cid] = copy.deepcopy(current.data)
            self.plan.changed_customers[cid] = Customer(cid, copy.deepcopy(current.data), current.path)
        return self.plan.changed_customers[cid]

    def new_id(self, name: str, wanted: str | None) -> str:
        taken = self.pool.folders
        if wanted and _CRM_ID.match(wanted) and wanted not in self.pool.customers and wanted not in taken:
            return wanted
        for _ in range(50):
            cid = ids.new_customer_id(name)
            if cid not in self.pool.customers and cid not in taken:
                return cid
        raise InvalidRecord("could not find a free customer id; try again")  # pragma: no cover

    def run(self, source: Source) -> None:
        handler = getattr(self, f"row_{source.kind}")
        counts = self.plan.count(source.kind)
        mapping = source.mapping
        guarded = source.unit == "row"  # json and vcard are written without the formula guard
        for number, cells in source.table.rows:
            values: dict[str, Any] = {}
            for i, fld in mapping.fields.items():
                v = _clean(cells[i], guarded) if i < len(cells) else None
                if v is not None:
                    values[fld] = v
            if len(self.plan.preview.setdefault(source.label, [])) < 5:
                self.plan.preview[source.label].append(dict(values))
            try:
                outcome = handler(values, source, number)
            except BadValue as exc:
                column = mapping.column_of(exc.field) if mapping.has(exc.field) else None
                self._bad(source, number, cells, column, exc.message)
                counts.invalid += 1
                continue
            except CrmError as exc:
                self._bad(source, number, cells, None, str(exc))
                counts.invalid += 1
                continue
            if outcome == "created":
                counts.created += 1
            elif outcome == "updated":
                counts.updated += 1
            else:
                counts.skipped += 1
                if outcome:
                    self.plan.skipped.append(f"{source.label}:{source.unit} {number}: {outcome}")

    def _bad(self, source: Source, number: int, cells: list[Any], column: str | None, message: str) -> None:
        self.plan.problems.append(Problem(source.label, number, column, message, source.unit))
        rows = self.plan.bad_rows.setdefault(source.label, [])
        where = f"column {column}: " if column else ""
        if rows and rows[-1][0] == number:
            rows[-1][2].append(where + message)
        else:
            rows.append((number, cells, [where + message]))

    def _duplicate(self, what: str) -> str:
        """Outcome of a duplicate under --on-duplicate (error raises)."""
        if self.options.on_duplicate == "error":
            raise InvalidRecord(f"duplicate: {what} (--on-duplicate error)")
        return f"skipped, {what}"

    # customers -----------------------------------------------------------------------------------
    def _customer_fields(self, v: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Profile fields from a row, and which field each came from (for messages)."""
        data: dict[str, Any] = {}
        origin: dict[str, str] = {}

        def put(key: str, value: Any, src: str | None = None) -> None:
            if value not in (None, "", []):
                data[key] = value
                origin[key] = src or key

        for key in ("kind", "industry", "size", "stage", "owner", "source", "website", "address", "touch_every"):
            put(key, _text(v.get(key)))
        if v.get("tier") is not None:
            put("tier", _text(v["tier"]))
        put("tags", _tags(v.get("tags")))
        put("birthday", _day("birthday", v.get("birthday")))
        put("created", _moment("created", v.get("created")))
        extra = {k[6:]: _text(val) for k, val in v.items() if k.startswith("extra.") and _text(val)}
        if v.get("external_id") is not None:
            extra["external_id"] = _text(v["external_id"]) or ""
        if extra:
            data["extra"] = extra
            origin["extra"] = "external_id" if "external_id" in extra else next(
                k for k in v if k.startswith("extra."))
        return data, origin

    def row_customers(self, v: dict[str, Any], source: Source, number: int) -> str:
        person = _text(v.get("contact")) or _person_name(_text(v.get("first_name")), _text(v.get("last_name")))
        name = _text(v.get("name"))
        raw_id = (_text(v.get("id")) or "").lower() or None
        if raw_id and not _CRM_ID.match(raw_id) and v.get("external_id") is None:
            v["external_id"], raw_id = v["id"], None
        data, origin = self._customer_fields(v)
        email, phone = _text(v.get("email")), _phone(v.get("phone"))
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
            contact = {"name": person, "title": _text(v.get("title")),
                       "email": _text(v.get("contact_email")) or email,
                       "phone": _phone(v.get("contact_phone")) or phone}
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
        # validate as a whole record (contact included), naming the column of the first problem
        probe = dict(data)
        if contact:
            probe["contacts"] = [contact]
        probe.setdefault("created", "2000-01-01T00:00:00+00:00")
        issues = validate_customer(probe, self.store.config)
        if issues:
            keys, message = issues[0]
            fld = (contact_origin.get(str(keys[2]), "contact") if keys and keys[0] == "contacts" and len(keys) > 2
                   else origin.get(str(keys[0]) if keys else "name", str(keys[0]) if keys else "name"))
            raise BadValue(fld, _strip_field(message, "email", "phone", "contact name", "name", "birthday",
                                             "lifecycle stage", "kind", "tier", "created", "touch_every"))
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
        name = _text(v.get("name")) or _person_name(_text(v.get("first_name")), _text(v.get("last_name")))
        if not name:
            raise BadValue("name", "no contact name; every row needs one")
        contact: dict[str, Any] = {"name": name, "title": _text(v.get("title")), "email": _text(v.get("email")),
                                   "phone": _phone(v.get("phone")), "birthday": _day("birthday", v.get("birthday")),
                                   "note": _text(v.get("note"))}
        if "primary" in source.mapping.fields.values():
            contact["primary"] = _bool(v.get("primary")) if v.get("primary") is not None else False
        contact = {k: val for k, val in contact.items() if val is not None}
        issues = validate_contact(contact)
        if issues:
            keys, message = issues[0]
            raise BadValue(str(keys[0]), _strip_field(message, "email", "phone", "contact name", "birthday"))
        ref = _text(v.get("customer"))
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
            if cid_or_none is None and _CRM_ID.match(ref.lower()) and not v.get("customer_name"):
                raise BadValue("customer", f"no customer {ref!r} in the store or this file")
            if cid_or_none is None:
                cid = self._create_for_contact(_text(v.get("customer_name")) or ref, ref, "company", source, number)
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
    def _customer_ref(self, v: dict[str, Any]) -> str:
        ref = _text(v.get("customer"))
        if not ref:
            raise BadValue("customer", "no customer; every row needs one (id, exact name or email)")
        cid = self.pool.find(ref)
        if cid is None:
            raise BadValue("customer", f"no customer {ref!r} in the store or this file; import the customers first")
        return cid

    def _seen(self, cid: str, kinds: tuple[str, ...], signature: Callable[[dict], Any], new: dict) -> bool:
        wanted = signature(new)
        for e in self.pool.journal(cid):
            if e.kind in kinds and signature(e.data) == wanted:
                return True
        return any(c == cid and e.get("kind") in kinds and signature(e) == wanted for c, e in self.plan.events)

    def _validate_event(self, entry: dict, origin: dict[str, str] | None = None) -> None:
        from crmcli.domain.kinds import load_all

        registered = load_all().get(entry["kind"])
        if registered is None:
            return
        issues = registered.validate(entry, self.store.config)
        if issues:
            keys, message = issues[0]
            key = str(keys[0]) if keys else "kind"
            raise BadValue((origin or {}).get(key, key), message)

    def _ids(self, cid: str, prefix: str) -> set[str]:
        if cid not in self.local_ids:
            from crmcli.store.refs import entity_events

            self.local_ids[cid] = set()
            for p in ("opp", "tkt", "task"):
                self.local_ids[cid] |= set(entity_events(self.pool.journal(cid), p))
        return self.local_ids[cid]

    def _local_id(self, cid: str, prefix: str, wanted: str | None) -> str:
        from crmcli.store.refs import new_local_id

        used = self._ids(cid, prefix)
        lid = wanted if wanted and _LOCAL[prefix].match(wanted) and wanted not in used else new_local_id(used, prefix)
        used.add(lid)
        return lid

    def row_interactions(self, v: dict[str, Any], source: Source, number: int) -> str:
        from crmcli.actions import log as activities

        cid = self._customer_ref(v)
        at = _moment("at", v.get("at"))
        if at is None:
            raise BadValue("at", "no date; say when it happened (like 2026-11-20 14:30)")
        kind_text = _text(v.get("kind")) or "note"
        try:
            kind = activities.interaction_type(self.store, kind_text)
        except CrmError as exc:
            raise BadValue("kind", str(exc)) from None
        direction = _text(v.get("direction"))
        if direction is not None:
            direction = {"inbound": "in", "outbound": "out", "呼入": "in", "呼出": "out"}.get(direction.lower(),
                                                                                          direction.lower())
            if direction not in activities.DIRECTIONS:
                raise BadValue("direction", f"{v['direction']!r} is not a direction; use in or out")
        duration = None
        if v.get("duration") is not None:
            raw = v["duration"]
            try:
                td = (_dt.timedelta(minutes=raw) if isinstance(raw, (int, float))
                      else activities.parse_duration(str(raw)))
                duration = dates.format_duration(activities.parse_duration(td))
            except CrmError as exc:
                raise BadValue("duration", str(exc)) from None
        summary = _text(v.get("summary"))
        if not summary:
            raise BadValue("summary", "no summary; say what happened")
        entry: dict[str, Any] = {"at": at, "kind": kind, "by": _text(v.get("by")) or self.user,
                                 "contact": _text(v.get("contact")), "direction": direction, "duration": duration,
                                 "outcome": _text(v.get("outcome")), "tags": _tags(v.get("tags")),
                                 "summary": activities.clean_text(summary)}
        entry = {k: val for k, val in entry.items() if val is not None}
        if self._seen(cid, (kind,), lambda e: (dates_key(e.get("at")), e.get("summary")), entry):
            return self._duplicate(f"the same {kind} at {at[:16]} is already in {cid}'s journal")
        self.plan.events.append((cid, entry))
        return "created"

    def _amount(self, fld: str, value: Any, required: bool = True, currency: str | None = None) -> Any:
        from crmcli.domain import money

        if value is None:
            if required:
                raise BadValue(fld, f"no {fld}; give a number (like 120000)")
            return None
        try:
            return money.parse_amount(value, fld, currency=currency)
        except CrmError as exc:
            raise BadValue(fld, _strip_field(str(exc), fld)) from None

    def _currency(self, value: Any) -> str:
        from crmcli.domain import money

        try:
            return money.parse_currency(_text(value), self.store.config)
        except CrmError as exc:
            raise BadValue("currency", str(exc)) from None

    def _event(self, kind: str, **fields: Any) -> dict:
        out: dict[str, Any] = {"at": fields.pop("at", None) or dates.iso(dates.now()), "kind": kind}
        for key in ("id", "opp", "ticket", "task"):
            if fields.get(key):
                out[key] = fields.pop(key)
            fields.pop(key, None)
        out["by"] = fields.pop("by", None) or self.user
        out.update((k, val) for k, val in fields.items() if val not in (None, ""))
        return out

    def row_opps(self, v: dict[str, Any], source: Source, number: int) -> str:
        from crmcli.domain import deals as sales

        cid = self._customer_ref(v)
        title = _text(v.get("title"))
        if not title:
            raise BadValue("title", "no title; name the deal")
        currency = self._currency(v.get("currency"))
        amount = self._amount("amount", v.get("amount"), currency=currency)
        stages = sales.stage_names(self.store.config)
        stage = _text(v.get("stage")) or sales.open_stages(self.store.config)[0]
        match = [s for s in stages if s.casefold() == stage.casefold()]
        if not match:
            raise BadValue("stage", f"{stage!r} is not a stage; use one of: {', '.join(stages)}")
        stage = match[0]
        wanted = (_text(v.get("id")) or "").lower() or None
        if self._seen(cid, ("opp.open",), lambda e: (e.get("id") if wanted else None, e.get("title")),
                      {"id": wanted, "title": title}):
            return self._duplicate(f"deal {wanted or title!r} is already at {cid}")
        oid = self._local_id(cid, "opp", wanted)
        open_stage = stage if stage not in sales.CLOSED else sales.open_stages(self.store.config)[0]
        new = [self._event("opp.open", id=oid, title=title, amount=amount, currency=currency, stage=open_stage,
                           close=_day("close", v.get("close")), owner=_text(v.get("owner")) or self.user,
                           source=_text(v.get("source")), product=_text(v.get("product")))]
        if stage == "won":
            new.append(self._event("opp.won", opp=oid, amount=amount, currency=currency, title=title))
        elif stage == "lost":
            new.append(self._event("opp.lost", opp=oid, title=title,
                                   reason=_text(v.get("lost_reason")) or "lost before the import"))
        for e in new:
            self._validate_event(e)
        self.plan.events += [(cid, e) for e in new]
        return "created"

    def row_orders(self, v: dict[str, Any], source: Source, number: int) -> str:
        cid = self._customer_ref(v)
        currency = self._currency(v.get("currency"))
        amount = self._amount("amount", v.get("amount"), currency=currency)
        day = _day("date", v.get("date")) or dates.now().date().isoformat()
        opp = (_text(v.get("opp")) or "").lower() or None
        if opp and not _LOCAL["opp"].match(opp):
            raise BadValue("opp", f"{opp!r} is not a deal id (like opp-9x2m)")
        entry = self._event("order.add", opp=opp, date=day, amount=amount, currency=currency,
                            product=_text(v.get("product")))
        if self._seen(cid, ("order.add",), lambda e: (str(e.get("date")), e.get("amount"), e.get("product")), entry):
            return self._duplicate(f"an order of {amount} on {day} is already at {cid}")
        self._validate_event(entry)
        self.plan.events.append((cid, entry))
        return "created"

    def row_contracts(self, v: dict[str, Any], source: Source, number: int) -> str:
        from crmcli.domain import contracts

        cid = self._customer_ref(v)
        value = self._amount("value", v.get("value"))
        currency = self._currency(v.get("currency"))
        start, end = _day("start", v.get("start")), _day("end", v.get("end"))
        if start is None or end is None:
            raise BadValue("start" if start is None else "end", "no date; a contract has a start and an end day")
        if end < start:
            raise BadValue("end", f"{end} is before the start {start}; a contract ends after it starts")
        notice = "".join(str(_text(v.get("renew_notice")) or contracts.DEFAULT_NOTICE).lower().split())
        if not PERIOD_RE.match(notice):
            raise BadValue("renew_notice", f"{notice!r}: write a number and a unit (30d, 6w, 3m, 1y)")
        entry = self._event("contract.add", value=value, currency=currency, start=start, end=end,
                            renew_notice=notice, file=_text(v.get("file")))
        if self._seen(cid, ("contract.add",), lambda e: (str(e.get("start")), str(e.get("end")), e.get("value")),
                      entry):
            return self._duplicate(f"a contract from {start} to {end} is already at {cid}")
        self._validate_event(entry)
        self.plan.events.append((cid, entry))
        return "created"

    def row_tasks(self, v: dict[str, Any], source: Source, number: int) -> str:
        from crmcli.actions import log as activities

        cid = self._customer_ref(v)
        text = _text(v.get("text"))
        if not text:
            raise BadValue("text", "no text; say what is to be done")
        raw_due = v.get("due")
        due: str | None
        if raw_due is None:
            due = None
        elif _is_day(raw_due):  # a due day, not a moment (an xlsx date cell reads back as midnight)
            due = _day("due", raw_due)
        else:
            due = _moment("due", raw_due)
        created = _moment("created", v.get("created"))
        status = (_text(v.get("status")) or "open").lower()
        if status not in ("open", "done"):
            raise BadValue("status", f"{status!r} is not a task status; use open or done")
        done_at = _moment("done_at", v.get("done_at"))
        if status == "done" and done_at is None:
            raise BadValue("done_at", "a done task needs the moment it was done")
        wanted = (_text(v.get("id")) or "").lower() or None
        if self._seen(cid, ("task.add",), lambda e: (e.get("id") if wanted else None, e.get("text")),
                      {"id": wanted, "text": text}):
            return self._duplicate(f"task {wanted or text!r} is already at {cid}")
        tid = self._local_id(cid, "task", wanted)
        new = [self._event("task.add", at=created, id=tid, owner=_text(v.get("owner")), due=due,
                           text=activities.clean_text(text, "task text"))]
        if status == "done":
            new.append({"at": done_at, "kind": "task.done", "task": tid, "by": self.user})
        for e in new:
            self._validate_event(e)
        self.plan.events += [(cid, e) for e in new]
        return "created"

    def row_surveys(self, v: dict[str, Any], source: Source, number: int) -> str:
        cid = self._customer_ref(v)
        at = _moment("at", v.get("at"))
        if at is None:
            raise BadValue("at", "no date; say when it was answered (like 2026-11-20 14:30)")
        scores: dict[str, Any] = {}
        for fld in ("csat", "nps"):
            raw = v.get(fld)
            if raw is None:
                continue
            try:
                scores[fld] = int(str(raw))
            except ValueError:
                raise BadValue(fld, f"{raw!r} is not a whole number") from None
        if not scores:
            raise BadValue("csat", "no score; a survey answer has a csat or an nps")
        ticket = (_text(v.get("ticket")) or "").lower() or None
        if ticket and not _LOCAL["tkt"].match(ticket):
            raise BadValue("ticket", f"{ticket!r} is not a ticket id (like tkt-9x2m)")
        entry = self._event("survey.answer", at=at, ticket=ticket, **scores, comment=_text(v.get("comment")))
        if self._seen(cid, ("survey.answer",), lambda e: (dates_key(e.get("at")), e.get("csat"), e.get("nps")),
                      entry):
            return self._duplicate(f"a survey answer at {at[:16]} is already in {cid}'s journal")
        self._validate_event(entry)
        self.plan.events.append((cid, entry))
        return "created"

    def row_tickets(self, v: dict[str, Any], source: Source, number: int) -> str:
        from crmcli.actions import ticket as service

        cid = self._customer_ref(v)
        title = _text(v.get("title"))
        if not title:
            raise BadValue("title", "no title; say what the ticket is about")
        config = self.store.config

        def choice(fld: str, allowed: list[str], default: str | None) -> str | None:
            text = _text(v.get(fld))
            if text is None:
                return default
            hits = [a for a in allowed if a.casefold() == text.casefold()]
            if not hits:
                raise BadValue(fld, f"{text!r} is not one of: {', '.join(allowed)}")
            return hits[0]

        prios = list(service.priorities(config))
        priority = choice("priority", prios, "normal" if "normal" in prios else prios[0])
        category = choice("category", service.categories(config), service.categories(config)[0])
        channel = choice("channel", service.channels(config), None)
        status = choice("status", service.STATUSES, "open")
        wanted = (_text(v.get("id")) or "").lower() or None
        if self._seen(cid, ("ticket.open",), lambda e: (e.get("id") if wanted else None, e.get("title")),
                      {"id": wanted, "title": title}):
            return self._duplicate(f"ticket {wanted or title!r} is already at {cid}")
        tid = self._local_id(cid, "tkt", wanted)
        at = _moment("opened_at", v.get("opened_at"))
        new = [self._event("ticket.open", at=at, id=tid, title=title, priority=priority, category=category,
                           channel=channel, assignee=_text(v.get("assignee")), contact=_text(v.get("contact")),
                           text=_text(v.get("text")))]
        if status == "closed":
            new.append(self._event("ticket.close", at=at, ticket=tid, resolution="closed before the import"))
        elif status != "open":
            new.append(self._event("ticket.status", at=at, ticket=tid, **{"from": "open", "to": status}))
        for e in new:
            self._validate_event(e)
        self.plan.events += [(cid, e) for e in new]
        return "created"


def dates_key(value: Any) -> str:
    """A stored time compared by its instant (``+08:00`` and ``Z`` spellings of one moment are equal)."""
    try:
        return dates.parse_iso(str(value)).astimezone(_dt.UTC).isoformat()
    except dates.DateError:
        return str(value)


def plan_import(store: Store, path: Path, *, kind: str | None = None, sheet: str | None = None,
                maps: Iterable[str] = (), encoding: str | None = None, match: str | None = None,
                on_duplicate: str = "skip", skip_invalid: bool = False,
                sources: list[Source] | None = None) -> Plan:
    """Read, map, validate and match everything; write nothing."""
    plan = Plan(path, skip_invalid=skip_invalid)
    plan.sources = sources if sources is not None else read_sources(path, kind=kind, sheet=sheet, maps=maps,
                                                                     encoding=encoding)
    planner = Planner(store, plan, Options(match, on_duplicate, skip_invalid))
    for source in plan.sources:
        planner.run(source)
    return plan


def apply_plan(store: Store, plan: Plan, progress: Progress | None = None) -> Plan:
    """Write the plan in one bulk transaction (one commit); nothing when it changes nothing."""
    if plan.problems and not plan.skip_invalid:
        raise InvalidRecord(f"{len(plan.problems):,} problems in {plan.path.name}; nothing imported")
    updates = plan.updates()
    if not (plan.new_customers or updates or plan.events):
        return plan
    by_file: dict[tuple[str, str], list[str]] = {}
    for cid, entry in plan.events:
        year = str(entry.get("at", ""))[:4]
        by_file.setdefault((cid, year), []).append(yamlio.dump_entry(entry))
    total = len(plan.new_customers) + len(updates) + len(by_file)
    step = max(1, total // 200)
    done = 0
    with store.transaction(plan.message(), action="import", bulk=True) as tx:
        for customer in [*plan.new_customers.values(), *updates.values()]:
            tx.write_customer(customer)
            done += 1
            if progress is not None and done % step == 0:
                progress(done, total)
        for (cid, year), lines in by_file.items():
            tx.append(store.journal_file(cid, year), "".join(lines))
            done += 1
            if progress is not None and done % step == 0:
                progress(done, total)
        if progress is not None:
            progress(total, total)
    plan.commit = store.last_commit
    return plan


def write_errors(plan: Plan, out: Path) -> int:
    """The bad rows with an ``error`` column, as csv (or xlsx), to fix and import again; returns the count."""
    sheets: dict[str, tuple[list[str], list[dict]]] = {}
    for source in plan.sources:
        bad = plan.bad_rows.get(source.label, [])
        if not bad:
            continue
        headers = [h for h in source.table.headers if h.strip().casefold() != "error"]
        keep = [i for i, h in enumerate(source.table.headers) if h.strip().casefold() != "error"]
        rows = []
        for _, cells, messages in bad:
            row = {headers[j]: (cells[i] if i < len(cells) else None) for j, i in enumerate(keep)}
            row["error"] = "; ".join(messages)
            rows.append(row)
        sheets[source.table.name or source.kind] = (headers + ["error"], rows)
    count = sum(len(r) for _, r in sheets.values())
    if out.suffix.lower() == ".xlsx":
        from crmcli.io import xlsxio

        xlsxio.write_xlsx(out, sheets or {"errors": (["error"], [])})
        return count
    from crmcli.io.csvio import write_csv

    if len(sheets) <= 1:
        columns, rows = next(iter(sheets.values()), (["error"], []))
        write_csv(out, columns, rows, bom=True)
    else:
        columns = ["sheet"]
        rows = []
        for name, (cols, items) in sheets.items():
            columns += [c for c in cols if c not in columns]
            rows += [{"sheet": name, **r} for r in items]
        write_csv(out, columns, rows, bom=True)
    return count
