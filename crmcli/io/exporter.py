"""Export records: xlsx (a sheet per kind, typed cells), csv (one kind), json, vcf (contacts), ics (agenda).

The ``history`` kind holds every event of every deal and ticket (opening, stage and close-date changes,
won/lost, comments, status changes, close with CSAT), so that import gives them back exactly.

Rows are streamed from the index (``crmcli.io.export_rows``), the few customers it cannot stand in for read from
their files; customers get one more column per free field (``extra.NAME``) so that an export imports back into the
same records. csv, xlsx (openpyxl's write-only mode) and json are written a row at a time: memory does not grow
with the store.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from crmcli.analysis import rows as tables
from crmcli.errors import InvalidRecord, UsageError
from crmcli.io import ics, vcard, xlsxio
from crmcli.io.csvio import write_csv
from crmcli.io.export_rows import open_sheets
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
    unreadable customers named in ``problems``. Every row in memory: for tests and small stores; ``export``
    streams them (``export_rows.open_sheets``)."""
    with open_sheets(store, kinds, problems if problems is not None else [],
                     include_sensitive=include_sensitive) as sheets:
        return {kind: (sheet.columns, list(sheet)) for kind, sheet in sheets.items()}


def export(store: Store, path: Path, *, kind: str = "all", excel: bool = False,
           progress: Callable[[int], Any] | None = None, include_sensitive: bool = False,
           skip_invalid: bool = False, problems: list[str] | None = None, fmt: str | None = None) -> dict[str, int]:
    """Write the file (its folder made when missing); returns the number of rows per kind.

    A customer whose files cannot be read is named in ``problems`` (``path:line: problem``); unless
    ``skip_invalid``, the export then raises ``InvalidRecord`` (exit 4) and writes nothing.
    """
    fmt = fmt or format_of(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as out:
            counts = write(store, fmt, out, kind=kind, excel=excel, progress=progress,
                           include_sensitive=include_sensitive, skip_invalid=skip_invalid, problems=problems,
                           name=path.name)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return counts


def export_bytes(store: Store, fmt: str, *, kind: str = "all", excel: bool = False,
                 progress: Callable[[int], Any] | None = None, include_sensitive: bool = False,
                 skip_invalid: bool = False, problems: list[str] | None = None,
                 name: str = "standard output") -> tuple[bytes, dict[str, int]]:
    """The export in format ``fmt`` (xlsx, csv, json, vcf, ics) as bytes, and the number of rows per kind."""
    out = io.BytesIO()
    counts = write(store, fmt, out, kind=kind, excel=excel, progress=progress, include_sensitive=include_sensitive,
                   skip_invalid=skip_invalid, problems=problems, name=name)
    return out.getvalue(), counts


def write(store: Store, fmt: str, out: IO[bytes], *, kind: str = "all", excel: bool = False,
          progress: Callable[[int], Any] | None = None, include_sensitive: bool = False,
          skip_invalid: bool = False, problems: list[str] | None = None,
          name: str = "standard output") -> dict[str, int]:
    """Write the export in format ``fmt`` to ``out``, rows streamed from the index; the number of rows per kind.

    Nothing is written when a customer cannot be read (unless ``skip_invalid``)."""
    problems = problems if problems is not None else []
    if fmt not in FORMATS.values():
        raise UsageError(f"--format {fmt}: use one of xlsx, csv, json, vcf, ics")
    if kind not in EXPORT_KINDS:
        raise UsageError(f"--kind {kind!r}: use one of {', '.join(EXPORT_KINDS)}")
    if fmt == "ics":
        if kind not in ("all", "tasks"):
            raise UsageError("an .ics calendar holds the agenda; use --kind tasks (or leave --kind out)")

        text = ics.calendar(store)
        out.write(text.encode("utf-8"))
        return {"events": text.count("BEGIN:VTODO") + text.count("BEGIN:VEVENT")}
    if fmt == "vcf":
        if kind not in ("all", "contacts"):
            raise UsageError("a .vcf file holds contacts; use --kind contacts (or leave --kind out)")
        data, counts = _vcf(store, progress, problems, skip_invalid, name)
        out.write(data)
        return counts
    kinds = [*tables.KINDS, "history"] if kind == "all" else [kind]
    if fmt == "csv" and len(kinds) > 1:
        raise UsageError("a .csv file holds one kind; pass --kind customers (or contacts, ...), or export all "
                         "to .xlsx or .json")
    with open_sheets(store, kinds, problems, include_sensitive=include_sensitive, progress=progress) as sheets:
        _refuse_skipped(problems, skip_invalid, name)
        counts = {k: len(sheet) for k, sheet in sheets.items()}
        if fmt == "xlsx":
            xlsxio.write_xlsx(out, {k: (sheet.columns, sheet) for k, sheet in sheets.items()})
            return counts
        stream = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
        try:
            if fmt == "csv":
                if excel:
                    stream.write("\ufeff")
                sheet = sheets[kinds[0]]
                write_csv(stream, sheet.columns, sheet, bom=excel)
            else:
                _write_json(stream, sheets, single=kind != "all")
        finally:
            stream.flush()
            stream.detach()
    return counts


def _write_json(text: IO[str], sheets: dict[str, Any], *, single: bool) -> None:
    """What ``json.dumps(doc, ensure_ascii=False, indent=2)`` gives for {kind: [row, ...]} (or one kind's list),
    a row at a time."""
    pad = "  " if single else "    "
    if not single:
        text.write("{" if sheets else "{}")
    for n, (kind, sheet) in enumerate(sheets.items()):
        if not single:
            text.write(("," if n else "") + "\n  " + json.dumps(kind, ensure_ascii=False) + ": ")
        first = True
        for row in sheet:
            cells = {c: _json_cell(kind, c, row.get(c)) for c in sheet.columns}
            body = json.dumps(cells, ensure_ascii=False, indent=2).replace("\n", "\n" + pad)
            text.write(("[\n" if first else ",\n") + pad + body)
            first = False
        text.write("[]" if first else "\n" + pad[:-2] + "]")
    if not single and sheets:
        text.write("\n}")
    text.write("\n")


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
