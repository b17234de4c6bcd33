"""What an import will do, before it does it: the plan, its counts and problems, and the customers it can refer to."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmcli.domain.customer import Customer, normalize_name
from crmcli.domain.journal import Entry
from crmcli.io.csvio import Table
from crmcli.io.mapping import Mapping
from crmcli.store.index import customer_index
from crmcli.store.store import Store

# -- results -------------------------------------------------------------------------------------
MATCHES = ("email", "name", "external-id")
ON_DUPLICATE = ("skip", "update", "error")


@dataclass
class Problem:
    """A bad value, located by file, row and column."""

    source: str
    row: int
    column: str | None
    message: str
    unit: str = "row"

    def __str__(self) -> str:
        if not self.row:
            return f"{self.source}: {self.message}"
        col = f", column {self.column}" if self.column else ""
        return f"{self.source}:{self.unit} {self.row}{col}: {self.message}"


@dataclass
class Source:
    label: str  # file name, or file:sheet
    kind: str
    table: Table
    mapping: Mapping
    unit: str = "row"
    problem: str | None = None  # a field the kind needs that no column gives (crmcli.io.import_checks)


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

    def summary(self, *, notable: bool = False) -> str:
        """Counts per kind; ``notable``: only kinds with something updated, skipped or invalid (the created are
        in ``message()``), so the closing line of a clean import stays short."""
        parts = []
        for kind, c in self.counts.items():
            if notable and not (c.updated or c.skipped or c.invalid):
                continue
            bits = [f"{c.created:,} created", f"{c.updated:,} updated", f"{c.skipped:,} skipped"]
            if c.invalid:
                bits.append(f"{c.invalid:,} invalid")
            parts.append(f"{kind}: " + ", ".join(bits))
        return "; ".join(parts) or ("" if notable else "nothing to import")

    def message(self) -> str:
        made = [f"{c.created:,} {kind}" for kind, c in self.counts.items() if c.created]
        changed = len(self.updates())
        name = self.path.name
        if made:
            head = f"Import {', '.join(made)} from {name}"
            return head + (f" ({changed:,} updated)" if changed else "")
        return f"Update {changed:,} customer{'s' if changed != 1 else ''} from {name}"


# -- the pool of customers (store + this import) ---------------------------------------------------
class Pool:
    """Every customer the import can match or refer to, with lookups by id, email, name and external id."""

    def __init__(self, store: Store):
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
        """A customer by id, exact name, email, or external id (from an earlier import)."""
        ref = ref.strip()
        if ref.lower() in self.customers:
            return ref.lower()
        hits = self.by_name.get(normalize_name(ref), [])
        if len(hits) == 1:
            return hits[0]
        return self.by_email.get(ref.lower()) or self.by_ext.get(ref)

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
