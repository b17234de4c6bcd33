"""Import records from CSV, Excel, JSON and vCard: check every row first, then write all in one commit.

``plan_import`` reads the file(s), maps columns to fields (``crmcli.io.mapping``), validates each row
and matches duplicates (within the file and against the store); it writes nothing. ``apply_plan``
writes the plan in ONE bulk transaction, so an interrupted import leaves no partial records and a
finished one is one commit. Re-importing the same file plans nothing and makes no commit.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from crmcli import yamlio
from crmcli.errors import InvalidRecord, UsageError
from crmcli.io import vcard, xlsxio
from crmcli.io.csvio import Table, read_csv, write_csv
from crmcli.io.import_activity import ActivityRows
from crmcli.io.import_checks import CheckedRows, column_problem, other_kind_problem
from crmcli.io.import_customers import CustomerRows
from crmcli.io.import_dated import DatedRows
from crmcli.io.import_events import EventRows
from crmcli.io.import_history import HistoryRows
from crmcli.io.import_plan import Options, Plan, Problem, Source
from crmcli.io.import_values import instant, reset_caches
from crmcli.io.mapping import IMPORT_KINDS, auto_map, known_fields, parse_map_options
from crmcli.io.mapping_file import MappingSpec, attach
from crmcli.store.store import Store

# order in which the sheets of one workbook are imported (customers before what refers to them)
# history (every event of each deal and ticket, opening included) comes before the opps and tickets sheets, whose
# rows then find their deal or ticket already made, exactly, from its events
KIND_ORDER = ["customers", "contacts", "history", "opps", "orders", "contracts", "interactions", "tickets", "tasks",
              "surveys", "events"]
Progress = Callable[[int, int], Any]


# -- reading files ---------------------------------------------------------------------------------
def _kind_of_sheet(name: str) -> str | None:
    key = name.strip().casefold()
    aliases = {"opportunities": "opps", "deals": "opps", "客户": "customers", "联系人": "contacts"}
    key = aliases.get(key, key)
    return key if key in IMPORT_KINDS else None


def read_sources(path: Path, *, kind: str | None = None, sheet: str | None = None, maps: Iterable[str] = (),
                 encoding: str | None = None, spec: MappingSpec | None = None) -> list[Source]:
    """The tables of a file, each with its kind and column mapping (``spec``: the mapping file and
    ``--map-value``; ``maps`` win over its columns)."""
    spec = spec or MappingSpec()
    kind = kind or spec.kind
    extra = list(maps)
    maps = [*spec.map_options(), *extra]
    origins = [f"{spec.origin}: columns"] * len(spec.columns) + ["--map"] * len(extra)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    if kind is not None and kind not in IMPORT_KINDS:
        raise UsageError(f"--kind {kind!r}: use one of {', '.join(IMPORT_KINDS)}")
    suffix = path.suffix.lower()
    tables: list[tuple[Table, str, str]] = []  # table, kind, unit
    if suffix in (".xlsx", ".xlsm"):

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
        mapping = auto_map(table.headers, k, parse_map_options(tuple(maps), k, origins))
        attach(mapping, spec, known_fields(k))
        problem = column_problem(mapping)
        if problem is None and kind is None and k == "customers" and unit == "row":
            problem = other_kind_problem(mapping)  # the default kind, for a file that says otherwise
        sources.append(Source(label, k, table, mapping, unit, problem))
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


class Planner(CheckedRows, CustomerRows, EventRows, DatedRows, HistoryRows, ActivityRows):
    """Every kind of row; ``run`` dispatches each row to ``row_<kind>``."""


def plan_import(store: Store, path: Path, *, kind: str | None = None, sheet: str | None = None,
                maps: Iterable[str] = (), encoding: str | None = None, match: str | None = None,
                on_duplicate: str = "skip", skip_invalid: bool = False,
                sources: list[Source] | None = None, spec: MappingSpec | None = None) -> Plan:
    """Read, map, validate and match everything; write nothing."""
    reset_caches()
    plan = Plan(path, skip_invalid=skip_invalid)
    plan.sources = sources if sources is not None else read_sources(path, kind=kind, sheet=sheet, maps=maps,
                                                                     encoding=encoding, spec=spec)
    planner = Planner(store, plan, Options(match, on_duplicate, skip_invalid))
    for source in plan.sources:
        if source.problem:  # a field the kind needs has no column: one problem for the file, not one a row
            plan.problems.append(Problem(source.label, 0, None, source.problem, source.unit))
            plan.count(source.kind).invalid += len(source.table.rows)
            continue
        planner.run(source)
    # counts in the order of the sheets, the history's own events (after their openings) last
    order = [k for k in dict.fromkeys(s.kind for s in plan.sources) if k != "history"]
    plan.counts = dict(sorted(plan.counts.items(), key=lambda kc: (kc[0] == "history", order.index(kc[0])
                                                                   if kc[0] in order else len(order))))
    return plan


def apply_plan(store: Store, plan: Plan, progress: Progress | None = None) -> Plan:
    """Write the plan in one bulk transaction (one commit); nothing when it changes nothing."""
    if plan.problems and not plan.skip_invalid:
        raise InvalidRecord(f"{len(plan.problems):,} problems in {plan.path.name}; nothing imported")
    updates = plan.updates()
    if not (plan.new_customers or updates or plan.events):
        return plan
    by_file: dict[tuple[str, str], list[dict]] = {}
    for cid, entry in sorted(plan.events, key=lambda ce: instant(ce[1].get("at"))):  # stable: ties keep order
        year = str(entry.get("at", ""))[:4]
        by_file.setdefault((cid, year), []).append(entry)
    total = len(plan.new_customers) + len(updates) + len(by_file)
    step = max(1, total // 200)
    done = 0
    with store.transaction(plan.message(), action="import", bulk=True) as tx:
        for customer in [*plan.new_customers.values(), *updates.values()]:
            tx.write_customer(customer)
            done += 1
            if progress is not None and done % step == 0:
                progress(done, total)
        for (cid, year), entries in by_file.items():  # the entries go to the index as they are: no parsing back
            tx.append(store.journal_file(cid, year), "".join(map(yamlio.dump_entry, entries)), entries)
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
    zone = None  # the zone of a crm-written workbook's naive date-times, kept for the rows copied from it
    for source in plan.sources:
        bad = plan.bad_rows.get(source.label, [])
        if not bad:
            continue
        zone = zone or source.table.zone
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

        xlsxio.write_xlsx(out, sheets or {"errors": (["error"], [])}, zone)
        return count

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

