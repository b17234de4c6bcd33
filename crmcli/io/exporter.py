"""Export records: xlsx (a sheet per kind, typed cells), csv (one kind), json, vcf (contacts), ics (agenda).

The ``history`` kind holds every event of every deal and ticket (opening, stage and close-date changes,
won/lost, comments, status changes, close with CSAT), so that import gives them back exactly.

Rows come from ``crmcli.analysis.rows`` (one list of flat dicts per kind); customers get one more column per
free field (``extra.NAME``) so that an export imports back into the same records.
"""
from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crmcli.analysis import rows as tables
from crmcli.errors import InvalidRecord, UsageError
from crmcli.io import ics, vcard, xlsxio
from crmcli.io.csvio import write_csv
from crmcli.store.index import customer_index
from crmcli.store.store import Store

EXPORT_KINDS = ["all", "customers", "contacts", "interactions", "opps", "orders", "contracts", "tickets", "tasks",
                "surveys", "history"]
FORMATS = {".xlsx": "xlsx", ".csv": "csv", ".json": "json", ".vcf": "vcf", ".vcard": "vcf", ".ics": "ics"}


def format_of(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"-o {path}: the extension picks the format; use .xlsx, .csv, .json, .vcf or .ics")
    return fmt


def collect(store: Store, kinds: list[str], progress: Callable[[int], Any] | None = None,
            problems: list[str] | None = None, *, include_sensitive: bool = False
            ) -> dict[str, tuple[list[str], list[dict]]]:
    """Columns and rows per kind, list-valued columns left out; sensitive fields only when asked;
    unreadable customers named in ``problems``."""

    data = tables.collect(store, kinds, progress, problems=problems)
    out: dict[str, tuple[list[str], list[dict]]] = {}
    for kind in kinds:
        skip = set(tables.LIST_COLUMNS.get(kind, []))
        all_columns = tables.HISTORY_COLUMNS if kind == "history" else tables.COLUMNS[kind]
        columns = [c for c in all_columns if c not in skip]
        rows = data.get(kind, [])
        if kind == "customers":
            rows, columns = _with_extra(store, rows, columns, include_sensitive)
        out[kind] = (columns, rows)
    return out


def _with_extra(store: Store, rows: list[dict], columns: list[str],
                include_sensitive: bool = False) -> tuple[list[dict], list[str]]:
    from crmcli import crypto

    profiles = {c.id: c.data for c in customer_index(store)}
    sensitive = crypto.sensitive_fields(store.config)
    identities: list[Any] = []
    if include_sensitive:
        identities = crypto.load_identities(store.root)
        if not identities:
            raise UsageError(f"--include-sensitive needs your age identity to decrypt the sensitive fields; "
                             f"none at {crypto.identity_path()} (set CRM_IDENTITY)")
        for cid, data in profiles.items():
            profiles[cid] = _decrypted(crypto, data, identities)
        top = [f for f in sensitive if not f.startswith("extra.")]
        columns = columns + [f for f in top if f not in columns]
        rows = [{**row, **{f: profiles.get(row["id"], {}).get(f) for f in top}} for row in rows]
    else:
        profiles = {cid: crypto.strip_sensitive(store.config, data) for cid, data in profiles.items()}
        rows = [{k: v for k, v in row.items() if k not in sensitive and not crypto.is_sealed(v)} for row in rows]
    extras: dict[str, dict] = {cid: d["extra"] for cid, d in profiles.items() if isinstance(d.get("extra"), dict)}
    names: list[str] = []
    for extra in extras.values():
        for key in extra:
            if f"extra.{key}" not in names:
                names.append(f"extra.{key}")
    if not names:
        return rows, columns
    out = []
    for row in rows:
        extra = extras.get(row["id"]) or {}
        out.append({**row, **{n: extra.get(n[6:]) for n in names}})
    created = columns.index("created") if "created" in columns else len(columns)
    return out, columns[:created] + names + columns[created:]


def _decrypted(crypto: Any, data: dict, identities: list[Any]) -> dict:
    out = dict(data)
    if isinstance(out.get("extra"), dict):
        out["extra"] = dict(out["extra"])
    for container in [out] + ([out["extra"]] if isinstance(out.get("extra"), dict) else []):
        for key, value in list(container.items()):
            if crypto.is_sealed(value):
                container[key] = crypto.decrypt(value, identities, key)
    return out


def export(store: Store, path: Path, *, kind: str = "all", excel: bool = False,
           progress: Callable[[int], Any] | None = None, include_sensitive: bool = False,
           skip_invalid: bool = False, problems: list[str] | None = None, fmt: str | None = None) -> dict[str, int]:
    """Write the file (its folder made when missing); returns the number of rows per kind.

    A customer whose files cannot be read is named in ``problems`` (``path:line: problem``); unless
    ``skip_invalid``, the export then raises ``InvalidRecord`` (exit 4) and writes nothing.
    """
    data, counts = export_bytes(store, fmt or format_of(path), kind=kind, excel=excel, progress=progress,
                                include_sensitive=include_sensitive, skip_invalid=skip_invalid, problems=problems,
                                name=path.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return counts


def export_bytes(store: Store, fmt: str, *, kind: str = "all", excel: bool = False,
                 progress: Callable[[int], Any] | None = None, include_sensitive: bool = False,
                 skip_invalid: bool = False, problems: list[str] | None = None,
                 name: str = "standard output") -> tuple[bytes, dict[str, int]]:
    """The export in format ``fmt`` (xlsx, csv, json, vcf, ics) as bytes, and the number of rows per kind."""
    problems = problems if problems is not None else []
    if fmt not in FORMATS.values():
        raise UsageError(f"--format {fmt}: use one of xlsx, csv, json, vcf, ics")
    if kind not in EXPORT_KINDS:
        raise UsageError(f"--kind {kind!r}: use one of {', '.join(EXPORT_KINDS)}")
    if fmt == "ics":
        if kind not in ("all", "tasks"):
            raise UsageError("an .ics calendar holds the agenda; use --kind tasks (or leave --kind out)")

        text = ics.calendar(store)
        return text.encode("utf-8"), {"events": text.count("BEGIN:VTODO") + text.count("BEGIN:VEVENT")}
    if fmt == "vcf":
        if kind not in ("all", "contacts"):
            raise UsageError("a .vcf file holds contacts; use --kind contacts (or leave --kind out)")
        return _vcf(store, progress, problems, skip_invalid, name)
    kinds = [*tables.KINDS, "history"] if kind == "all" else [kind]
    if fmt == "csv" and len(kinds) > 1:
        raise UsageError("a .csv file holds one kind; pass --kind customers (or contacts, ...), or export all "
                         "to .xlsx or .json")
    data = collect(store, kinds, progress, problems, include_sensitive=include_sensitive)
    _refuse_skipped(problems, skip_invalid, name)
    counts = {k: len(rows) for k, (_, rows) in data.items()}
    if fmt == "csv":
        buf = io.StringIO()
        columns, rows = data[kinds[0]]
        write_csv(buf, columns, rows, bom=excel)
        return (b"\xef\xbb\xbf" if excel else b"") + buf.getvalue().encode("utf-8"), counts
    if fmt == "xlsx":
        out = io.BytesIO()
        xlsxio.write_xlsx(out, data)
        return out.getvalue(), counts
    doc = {k: [{c: _json_cell(k, c, r.get(c)) for c in cols} for r in rows] for k, (cols, rows) in data.items()}
    text = json.dumps(doc if kind == "all" else doc[kinds[0]], ensure_ascii=False, indent=2) + "\n"
    return text.encode("utf-8"), counts


def _json_cell(kind: str, column: str, value: Any) -> Any:
    """A cell of a JSON export: a history event's fields are a JSON object there, not its text."""
    return json.loads(value) if kind == "history" and column == "fields" and value else value


def _refuse_skipped(problems: list[str], skip_invalid: bool, name: str) -> None:
    if problems and not skip_invalid:
        n = len(problems)
        raise InvalidRecord(f"{n} customer{'s' if n != 1 else ''} could not be read; nothing written to "
                            f"{name}: fix {'them' if n != 1 else 'it'} (crm check lists every problem) or pass "
                            "--skip-invalid to export the others")


def _vcf(store: Store, progress: Callable[[int], Any] | None, problems: list[str], skip_invalid: bool,
         name: str) -> tuple[bytes, dict[str, int]]:

    data = tables.collect(store, ["customers", "contacts"], progress, problems=problems)
    _refuse_skipped(problems, skip_invalid, name)
    names = {r["id"]: r["name"] for r in data["customers"]}
    cards = []
    for r in data["contacts"]:
        cards.append({"name": r["name"], "org": names.get(r["customer"]), "title": r.get("title"),
                      "email": r.get("email"), "phone": r.get("phone"),
                      "uid": f"{r['customer']}/{r.get('email') or r['name']}"})
    for r in data["customers"]:
        if r.get("kind") == "person" and (r.get("email") or r.get("phone")):
            cards.append({"name": r["name"], "email": r.get("email"), "phone": r.get("phone"), "uid": r["id"]})
    return vcard.dump(cards).encode("utf-8"), {"contacts": len(cards)}
