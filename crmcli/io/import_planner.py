"""The planner's common part: one row at a time, through the same validation as every command, into the plan."""
from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from typing import Any

from crmcli.domain import dates, ids, money
from crmcli.domain.customer import Customer
from crmcli.domain.journal import entity_events, new_entry
from crmcli.domain.kinds import KINDS
from crmcli.errors import CrmError, InvalidRecord, UsageError
from crmcli.io.import_plan import MATCHES, ON_DUPLICATE, Options, Plan, Pool, Problem, Source
from crmcli.io.import_values import (
    CRM_ID,
    LOCAL_ID,
    MISSING,
    BadValue,
    amount_message,
    clean_cell,
    in_time_order,
    money_text,
    naive_times_in,
    text_cell,
)
from crmcli.io.mapping_file import convert
from crmcli.store.refs import new_local_id
from crmcli.store.store import Store


class PlannerBase:
    """State shared by the row handlers (CustomerRows, EventRows, HistoryRows) and the checks they share."""

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
        self.from_history: set[tuple[str, str]] = set()  # (customer, deal/ticket id) opened by a history row
        self.history_index: dict[str, Counter[tuple[str, str]]] = {}  # deal and ticket events in the store
        self.history_used: dict[tuple[str, tuple[str, str]], int] = {}  # of those, matched by rows of the file
        self._signatures: dict[tuple, tuple[set, list[int]]] = {}  # duplicate check, see _seen
        self._planned: dict[str, list[dict]] = {}  # planned events by customer
        self._tracked = 0

    def row_problems(self, source: Source, values: dict[str, Any]) -> list[tuple[str, str]]:
        """Every problem of one row's fields (``CheckedRows``); none here."""
        return []

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
        if wanted and CRM_ID.match(wanted) and wanted not in self.pool.customers and wanted not in taken:
            return wanted
        for _ in range(50):
            cid = ids.new_customer_id(name)
            if cid not in self.pool.customers and cid not in taken:
                return cid
        raise InvalidRecord("could not find a free customer id; try again")  # pragma: no cover

    def run(self, source: Source) -> None:
        handler = getattr(self, f"row_{source.kind}")
        counts = self.plan.count(source.kind)
        rows = source.table.rows
        if source.kind == "history":
            rows = in_time_order(rows, source.mapping)
        with naive_times_in(source.table.zone):
            self._rows(source, rows, handler, counts)

    def _rows(self, source: Source, rows: Any, handler: Any, counts: Any) -> None:
        mapping = source.mapping
        guarded = source.unit == "row"  # json and vcard are written without the formula guard
        for number, cells in rows:
            values: dict[str, Any] = {}
            for i, fld in mapping.fields.items():
                v = clean_cell(cells[i], guarded) if i < len(cells) else None
                if v is not None:
                    values[fld] = v
            problems = convert(mapping, values)
            if len(self.plan.preview.setdefault(source.label, [])) < 5:
                self.plan.preview[source.label].append(dict(values))
            problems += self.row_problems(source, values)
            if problems:
                for fld, message in problems:
                    self._bad(source, number, cells, mapping.column_of(fld) if mapping.has(fld) else None, message)
                counts.invalid += 1
                continue
            try:
                outcome = handler(values, source, number)
            except BadValue as exc:
                for fld, message in exc.all():
                    self._bad(source, number, cells, mapping.column_of(fld) if mapping.has(fld) else None, message)
                counts.invalid += 1
                continue
            except CrmError as exc:
                self._bad(source, number, cells, None, str(exc))
                counts.invalid += 1
                continue
            if outcome == "counted":
                continue  # a history opening (counted with its deals or tickets) or a row it made already
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

    def _customer_ref(self, v: dict[str, Any]) -> str:
        ref = text_cell(v.get("customer"))
        if not ref:
            raise BadValue("customer", MISSING["customer"])
        cid = self.pool.find(ref)
        if cid is None:
            raise BadValue("customer", f"no customer {ref!r} in the store or this file; import the customers first")
        return cid

    def _seen(self, cid: str, kinds: tuple[str, ...], signature: Callable[[dict], Any], new: dict,
              tag: str = "") -> bool:
        """True when ``cid``'s journal, or an event planned so far, has ``new``'s signature: one set per
        (customer, kinds, tag), filled once from the store and kept up to date with the planned events."""
        self._track()
        key = (cid, kinds, tag)
        held = self._signatures.get(key)
        if held is None:
            held = self._signatures[key] = (
                {signature(e.data) for e in self.pool.journal(cid) if e.kind in kinds}, [0])
        sigs, done = held
        planned = self._planned.get(cid, [])
        for e in planned[done[0]:]:
            if e.get("kind") in kinds:
                sigs.add(signature(e))
        done[0] = len(planned)
        return signature(new) in sigs

    def _track(self) -> None:
        """Index the events planned since the last call by customer (for ``_seen``)."""
        events = self.plan.events
        for cid, e in events[self._tracked:]:
            self._planned.setdefault(cid, []).append(e)
        self._tracked = len(events)

    def _validate_event(self, entry: dict, origin: dict[str, str] | None = None) -> None:
        self._validate_events([entry], origin)

    def _validate_events(self, entries: list[dict], origin: dict[str, str] | None = None) -> None:
        """Every problem of the events one row makes, at once (the field of the row each comes from)."""
        found = []
        for entry in entries:
            registered = KINDS.get(entry["kind"])
            for keys, message in registered.validate(entry, self.store.config) if registered else []:
                key = str(keys[0]) if keys else "kind"
                if ((origin or {}).get(key, key), message) not in found:
                    found.append(((origin or {}).get(key, key), message))
        if found:
            raise BadValue(*found[0], others=found[1:])

    def _ids(self, cid: str, prefix: str) -> set[str]:
        if cid not in self.local_ids:

            self.local_ids[cid] = set()
            for p in ("opp", "tkt", "task"):
                self.local_ids[cid] |= set(entity_events(self.pool.journal(cid), p))
        return self.local_ids[cid]

    def _local_id(self, cid: str, prefix: str, wanted: str | None) -> str:
        used = self._ids(cid, prefix)
        lid = wanted if wanted and LOCAL_ID[prefix].match(wanted) and wanted not in used else new_local_id(used, prefix)
        used.add(lid)
        return lid


    def _amount(self, fld: str, value: Any, required: bool = True, currency: str | None = None) -> Any:
        if value is None:
            if required:
                raise BadValue(fld, f"no {fld}; give a number (like 120000)")
            return None
        currency = currency or str(self.store.config.get("currency", "CNY"))
        try:
            return money.parse_amount(money_text(fld, value, currency), fld, currency=currency)
        except CrmError as exc:
            raise BadValue(fld, amount_message(fld, value, str(exc), currency)) from None

    def _currency(self, value: Any) -> str:
        try:
            return money.parse_currency(text_cell(value), self.store.config)
        except CrmError as exc:
            raise BadValue("currency", str(exc)) from None

    def _event(self, kind: str, **fields: Any) -> dict:
        at = fields.pop("at", None) or dates.iso(dates.now())
        return new_entry(kind, at, fields.pop("by", None) or self.user, **fields)
