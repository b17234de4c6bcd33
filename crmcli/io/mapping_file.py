"""A mapping written once (``crm import --mapping map.yaml``): columns, value maps, constants, date formats, kind.

The file (YAML, safe loader)::

    kind: opps                      # what each row is
    columns:                        # column -> field ('-' ignores the column)
      Opportunity ID: title
      Engage Date: created
    values:                         # per field (or column): the file's word -> the store's
      stage: {Prospecting: lead, Engaging: qualified}
    constants:                      # a field's value for every row that has none
      currency: USD
      customer: Walk-in             # the default customer of rows without one
    date_format: "%m/%d/%Y"         # or per field: {created: "%d.%m.%Y", close: "%Y%m%d"}

``--map COLUMN=field`` and ``--map-value COLUMN:FROM=TO`` add to (and win over) the file for one run.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmcli import yamlio
from crmcli.errors import InvalidRecord, UsageError
from crmcli.io.mapping import IMPORT_KINDS, Mapping, normalize_header

# fields that hold a day or a moment (plus every stage_at.* and status_at.*)
DATE_FIELDS = {"at", "created", "close", "closed_at", "opened_at", "first_response_at", "resolved_at", "due",
               "done_at", "date", "start", "end", "birthday", "answered_at"}
KEYS = ("kind", "columns", "values", "constants", "date_format")


def is_date_field(name: str) -> bool:
    return name in DATE_FIELDS or name.startswith(("stage_at.", "status_at."))


@dataclass
class MappingSpec:
    """What a mapping file and the one-run options say, before it meets a file's headers."""

    kind: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # header -> field
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # field or header -> {from: to}
    constants: dict[str, Any] = field(default_factory=dict)
    date_format: dict[str, str] = field(default_factory=dict)  # field or "*" -> strptime format
    origin: str = "--map-value"

    def map_options(self) -> list[str]:
        return [f"{column}={target}" for column, target in self.columns.items()]


def _mapping_of(data: Any, key: str, where: str) -> dict:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise InvalidRecord(f"{where}: {key} must be a mapping (name: value lines)")
    return value


def load_spec(path: Path | None) -> MappingSpec:
    """The mapping file at ``path`` (an empty spec when None)."""
    if path is None:
        return MappingSpec()
    where = str(path)
    try:
        data = yamlio.loads(path.read_text(encoding="utf-8-sig"), where)
    except FileNotFoundError:
        raise UsageError(f"--mapping {path}: no such file (write one with --dry-run --write-mapping {path})") \
            from None
    except UnicodeDecodeError as exc:
        raise InvalidRecord(f"{where}: not UTF-8 text ({exc})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidRecord(f"{where}: must be a mapping with {', '.join(KEYS)}")
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise InvalidRecord(f"{where}: unknown key {unknown[0]!r}; a mapping file has {', '.join(KEYS)}")
    kind = data.get("kind")
    if kind is not None and kind not in IMPORT_KINDS:
        raise InvalidRecord(f"{where}: kind {kind!r} is not one of {', '.join(IMPORT_KINDS)}")
    values = {}
    for name, table in _mapping_of(data, "values", where).items():
        if not isinstance(table, dict):
            raise InvalidRecord(f"{where}: values of {name} must be a mapping (FROM: TO lines)")
        values[str(name)] = {str(k): v for k, v in table.items()}
    fmt = data.get("date_format") or {}
    if isinstance(fmt, str):
        fmt = {"*": fmt}
    if not isinstance(fmt, dict) or not all(isinstance(v, str) for v in fmt.values()):
        raise InvalidRecord(f"{where}: date_format is a strptime format (\"%d/%m/%Y\") or one per field")
    columns = {str(k): "-" if v in (None, "", "-") else str(v)
               for k, v in _mapping_of(data, "columns", where).items()}
    return MappingSpec(kind, columns, values, {str(k): v for k, v in _mapping_of(data, "constants", where).items()},
                       {str(k): v for k, v in fmt.items()}, where)


def add_value_options(spec: MappingSpec, options: tuple[str, ...] | list[str]) -> MappingSpec:
    """``--map-value COLUMN:FROM=TO`` (COLUMN may also be a field name), added to the spec."""
    for text in options:
        head, sep, to = text.rpartition("=")
        column, colon, frm = head.partition(":")
        if not (sep and colon and column.strip() and frm.strip()):
            raise UsageError(f"--map-value {text!r}: write COLUMN:FROM=TO (like --map-value 'Priority:Medium=normal')")
        spec.values.setdefault(column.strip(), {})[frm.strip()] = to.strip()
    return spec


def attach(mapping: Mapping, spec: MappingSpec, kind_fields: list[str]) -> Mapping:
    """Give ``mapping`` the value maps, constants and date formats of ``spec``, keyed by field."""
    by_header = {normalize_header(h): mapping.fields[i] for i, h in enumerate(mapping.headers) if i in mapping.fields}
    for name, table in spec.values.items():
        fld = name if name in mapping.fields.values() or name in kind_fields else by_header.get(
            normalize_header(name))
        if fld is None:
            raise UsageError(f"{spec.origin}: values for {name!r}: no such column or field in this file; its "
                             f"columns are: {', '.join(h for h in mapping.headers if h)}")
        target = mapping.values.setdefault(fld, {})
        target.update({str(k).strip().casefold(): v for k, v in table.items()})
    for name, value in spec.constants.items():
        if name not in kind_fields and not name.startswith(("extra.", "stage_at.", "status_at.")):
            raise UsageError(f"{spec.origin}: constant {name!r} is not a field of {mapping.kind}; use one of: "
                             f"{', '.join(kind_fields)}")
        mapping.constants[name] = value
    mapping.date_formats.update(spec.date_format)
    return mapping


def convert(mapping: Mapping, values: dict[str, Any]) -> list[tuple[str, str]]:
    """Apply value maps, date formats and constants to one row's values in place; problems as (field, message)."""
    problems: list[tuple[str, str]] = []
    for fld, table in mapping.values.items():
        raw = values.get(fld)
        if raw is not None:
            key = (raw.date().isoformat() if isinstance(raw, _dt.datetime) else str(raw)).strip().casefold()
            if key in table:
                values[fld] = table[key]
    for name, value in mapping.constants.items():
        if values.get(name) is None:
            values[name] = value
    if mapping.date_formats:
        for fld, raw in list(values.items()):
            fmt = mapping.date_formats.get(fld) or (mapping.date_formats.get("*") if is_date_field(fld) else None)
            if fmt and isinstance(raw, str):
                try:
                    values[fld] = _dt.datetime.strptime(raw.strip(), fmt)
                except ValueError:
                    problems.append((fld, f"{raw!r} does not match the date format {fmt!r}"))
    return problems


def spec_text(mapping: Mapping, extra_values: dict[str, dict[str, Any]], constants: dict[str, Any]) -> str:
    """The YAML of a detected mapping, for the user to edit (``--write-mapping``)."""
    data: dict[str, Any] = {"kind": mapping.kind,
                            "columns": {h: mapping.fields.get(i, "-") for i, h in enumerate(mapping.headers) if h}}
    tables: dict[str, dict[str, Any]] = {mapping.column_of(k): dict(v) for k, v in mapping.values.items()}
    for column, table in extra_values.items():
        tables.setdefault(column, {}).update(table)
    if tables:
        data["values"] = tables
    if constants or mapping.constants:
        data["constants"] = {**constants, **mapping.constants}
    if mapping.date_formats:
        data["date_format"] = dict(mapping.date_formats)
    head = ("# crm import mapping: edit it, then: crm import FILE --mapping THIS_FILE\n"
            "# values: the file's words -> the store's; a word not in the store's vocabulary was given its closest\n"
            "#   match: check each one. date_format (strptime, like \"%d/%m/%Y\") is needed only for dates that are\n"
            "#   not like 2026-11-20 or 2026/11/20 14:30.\n")
    return head + yamlio.dumps(data)
