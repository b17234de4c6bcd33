"""`crm import` and `crm export`."""
from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from crmcli.cli.common import (
    CONTEXT_SETTINGS,
    done,
    echo,
    exit_partial,
    get_app,
    json_mode,
    note_result,
    quiet_option,
    records_option,
    skip_invalid_option,
    store_options,
    summary,
)
from crmcli.errors import InvalidRecord, UsageError
from crmcli.io import eml, exporter, importer
from crmcli.io.import_checks import detected_mapping
from crmcli.io.mapping_file import MappingSpec, add_value_options, load_spec
from crmcli.render.tables import render

MAX_SHOWN = 50


def phase(text: str) -> None:
    """What happens now (reading, checking, writing, committing), one line on stderr, only on a terminal."""
    if sys.stderr.isatty() and not get_app().quiet:
        click.echo(text, err=True)


@contextmanager
def _progress(label: str, then: str | None = None) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar with counts on stderr, only when stderr is a terminal; yields the library's callback.

    ``then``: the phase that follows the last item (``Committing {n} files to git...``, ``{n}`` the count),
    named as soon as the bar is full.
    """
    if not sys.stderr.isatty() or get_app().quiet:
        yield None
        return
    state: dict[str, Any] = {}

    def update(n: int, total: int) -> None:
        if state.get("then"):
            return  # the bar is done; the next phase is named
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
            bar.__enter__()
        bar.update(n - bar.pos)
        if then and n >= total and not state.get("then"):
            bar.__exit__(None, None, None)
            state["bar"], state["then"] = False, True
            phase(then.format(n=f"{total:,}"))

    try:
        yield update
    finally:
        if state.get("bar"):
            state["bar"].__exit__(None, None, None)


@contextmanager
def _stdin_file(fmt: str | None, kind: str | None) -> Iterator[Path]:
    """Standard input saved to a private temporary file named ``stdin.FORMAT``, for the importer to read."""
    fmt = fmt or "csv"
    if kind is None and fmt == "csv":
        raise UsageError("crm import -: cannot tell what the rows of standard input are; give --kind (customers, "
                         "contacts, interactions, ...)")
    if sys.stdin.isatty():
        raise UsageError("crm import -: standard input is a terminal; pipe a file in (crm import - < leads.csv)")
    with tempfile.TemporaryDirectory(prefix="crm-import-") as folder:
        path = Path(folder) / f"stdin.{fmt}"
        path.write_bytes(sys.stdin.buffer.read())
        yield path


@click.command("import", context_settings=CONTEXT_SETTINGS)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--input-format", "input_format", type=click.Choice(["csv", "json", "xlsx", "vcf"]),
              help="What standard input holds, with FILE - (default: csv; a file's extension tells its own).")
@click.option("--kind", type=click.Choice(["customers", "contacts", "interactions", "opps", "orders", "contracts",
                                           "tickets", "tasks", "surveys", "history"]),
              help="What each row is (default: customers; contacts for .vcf; per sheet name in a workbook).")
@click.option("--sheet", metavar="NAME", help="Worksheet of an .xlsx file (default: the first).")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=field",
              help="Column to field, when the header is not recognized; COLUMN=- ignores it. Repeatable.")
@click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False, path_type=Path), metavar="MAP.yaml",
              help="A mapping file written once for a source: columns, value maps, constants, date formats, kind.")
@click.option("--map-value", "map_values", multiple=True, metavar="COLUMN:FROM=TO",
              help="A word of the file to a word of the store, in one column (like 'Priority:Medium=normal'). "
                   "Repeatable.")
@click.option("--write-mapping", type=click.Path(dir_okay=False, path_type=Path), metavar="MAP.yaml",
              help="With --dry-run: write the detected mapping (with guesses for unknown words) to edit and reuse.")
@click.option("--encoding", metavar="ENC",
              help="Text encoding of a CSV (default: UTF-8, else detected: gb18030, cp1252, big5, shift_jis...; "
                   "refused when unsure).")
@click.option("--match", type=click.Choice(["email", "name", "external-id"]),
              help="What makes two records the same (default: external id, then email, then name).")
@click.option("--on-duplicate", type=click.Choice(["skip", "update", "error"]), default="skip", show_default=True,
              help="What to do with a record that already exists (in the store or earlier in the file).")
@click.option("--dry-run", is_flag=True, help="Show the mapping, a preview and what would change; write nothing.")
@click.option("--errors-out", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the bad rows with an 'error' column to FILE (.csv or .xlsx), to fix and re-import.")
@click.option("--skip-invalid", is_flag=True, help="Import the good rows and leave out the bad ones.")
@store_options
def import_cmd(file: Path, input_format: str | None, kind: str | None, sheet: str | None, maps: tuple[str, ...],
               mapping_file: Path | None, map_values: tuple[str, ...], write_mapping: Path | None,
               encoding: str | None, match: str | None, on_duplicate: str, dry_run: bool, errors_out: Path | None,
               skip_invalid: bool) -> None:
    """Import customers, contacts, deals... from CSV, Excel, JSON, vCard or a mailbox.

    Every row is checked before anything is written; with problems nothing
    is written (exit 4) unless --skip-invalid. A finished import is one
    commit; importing the same file again changes nothing. With
    --skip-invalid, leaving bad rows out exits 9 once the rest is in. Columns map
    from common English and Chinese headers (Company Name, 客户名称, 联系人,
    邮箱, 电话, 负责人...); --map names the rest. A workbook with sheets
    named customers, contacts, opps... imports each sheet as that kind.

    \b
    Examples:
      crm import leads.csv --dry-run
      crm import 客户.csv --map "客户全称=name" --map "备注=extra.notes"
      crm import contacts.xlsx --sheet Sheet2 --kind contacts --on-duplicate update
      crm import export.xlsx                      # every sheet: customers, contacts, ...
      crm import contacts.vcf
      crm import mailbox.mbox                     # emails with known customers, as interactions
      crm import big.csv --errors-out fix-me.csv  # then fix fix-me.csv and: crm import fix-me.csv
      some-tool | crm import - --kind contacts    # standard input (csv unless --input-format)
      crm import deals.csv --kind opps --dry-run --write-mapping deals.map.yaml
      crm import deals.csv --mapping deals.map.yaml   # every month, the same mapping
      crm import tickets.csv --kind tickets --map-value "Priority:Medium=normal"
    """
    if input_format and str(file) != "-":
        raise UsageError("--input-format is for standard input (crm import - ...); a file's extension tells its "
                         "format")
    if write_mapping is not None and not dry_run:
        raise UsageError("--write-mapping goes with --dry-run (crm import FILE --dry-run --write-mapping map.yaml)")
    spec = add_value_options(load_spec(mapping_file), map_values)
    kind = kind or spec.kind
    options: dict[str, Any] = dict(sheet=sheet, maps=maps, encoding=encoding, match=match, on_duplicate=on_duplicate,
                   dry_run=dry_run, errors_out=errors_out, skip_invalid=skip_invalid, spec=spec,
                   write_mapping=write_mapping)
    if str(file) == "-":
        with _stdin_file(input_format, kind) as path:
            _import(path, kind, **options)
        return
    _import(file, kind, **options)


def _import(file: Path, kind: str | None, *, sheet: str | None, maps: tuple[str, ...], encoding: str | None,
            match: str | None, on_duplicate: str, dry_run: bool, errors_out: Path | None, skip_invalid: bool,
            spec: MappingSpec, write_mapping: Path | None) -> None:
    store = get_app().store()
    if file.suffix.lower() in (".mbox", ".eml"):
        _import_mail(store, file, dry_run)
        return

    phase(f"Reading and checking {file.name}...")
    plan = importer.plan_import(store, file, kind=kind, sheet=sheet, maps=maps, encoding=encoding, match=match,
                                on_duplicate=on_duplicate, skip_invalid=skip_invalid, spec=spec)
    phase(f"Checked {file.name}: {plan.summary()}")
    if dry_run and not json_mode():
        _show_dry_run(plan)
    if write_mapping is not None:
        if len(plan.sources) != 1:
            raise UsageError(f"--write-mapping: {file.name} has {len(plan.sources)} sheets; pick one with --sheet")
        write_mapping.parent.mkdir(parents=True, exist_ok=True)
        write_mapping.write_text(detected_mapping(plan.sources[0], store.config), encoding="utf-8")
        echo(f"Wrote the mapping to {write_mapping}: edit it, then crm import {file} --mapping {write_mapping}",
             err=True)
    for line in plan.skipped[:MAX_SHOWN if dry_run and not json_mode() else 0]:
        echo(line, err=True)
    if plan.problems:
        for p in plan.problems[:MAX_SHOWN]:
            echo(str(p), err=True)
        if len(plan.problems) > MAX_SHOWN:
            echo(f"... and {len(plan.problems) - MAX_SHOWN:,} more problems", err=True)
        if errors_out is not None:
            n = importer.write_errors(plan, errors_out)
            echo(f"Wrote {n:,} bad rows to {errors_out} (fix them and import that file)", err=True)
        if not skip_invalid:
            raise InvalidRecord(f"{len(plan.problems):,} problem{'s' if len(plan.problems) != 1 else ''} in "
                                f"{file.name}; nothing imported (fix them, or pass --skip-invalid to leave those "
                                "rows out)")
    dropped = len(plan.problems)
    if dry_run:
        _note_plan(plan, file, dry_run=True)
        done(f"Dry run, nothing written: {plan.summary()}")
        exit_partial(dropped, "bad row", "the others would be imported")
        return
    with _progress("Writing", then="Committing {n} files to git...") as progress:
        importer.apply_plan(store, plan, progress)
    _note_plan(plan, file, dry_run=False)
    if plan.commit is None and not plan.has_changes:
        done(f"Nothing to import from {file.name}: {plan.summary()}")
    else:
        rest = plan.summary(notable=True)
        done(f"{plan.message()}: {rest}" if rest else plan.message(), store)
    exit_partial(dropped, "bad row", "the others were imported")


def _note_plan(plan: Any, file: Path, *, dry_run: bool) -> None:
    """What the import creates or changes, for --format json: the same document on a dry run and a real run."""
    if not json_mode():
        return
    events = [{"customer": cid, "kind": e.get("kind"), **({"id": e["id"]} if e.get("id") else {})}
              for cid, e in plan.events]
    note_result(file=file.name, dry_run=dry_run,
                counts={k: {"created": c.created, "updated": c.updated, "skipped": c.skipped, "invalid": c.invalid}
                        for k, c in plan.counts.items()},
                customers={"created": sorted(plan.new_customers), "updated": sorted(plan.updates())},
                events=events, problems=[str(p) for p in plan.problems], skipped=list(plan.skipped),
                sources=[{"source": s.label, "kind": s.kind, "rows": len(s.table.rows), "encoding": s.table.encoding,
                          "confidence": getattr(s.table, "confidence", None),
                          "mapping": dict(s.mapping.pairs())} for s in plan.sources])


def _show_dry_run(plan: Any) -> None:
    for source in plan.sources:
        t = source.table
        confidence = getattr(t, "confidence", None)
        sure = f" (detected, confidence {confidence:.0%})" if confidence is not None else ""
        detected = ", ".join(x for x in (t.encoding and f"encoding {t.encoding}{sure}",
                                         t.delimiter and f"delimiter {t.delimiter!r}") if x)
        echo(f"{source.label}: {len(t.rows):,} rows of {source.kind}" + (f" ({detected})" if detected else ""))
        echo("Mapping:")
        for column, fld in source.mapping.pairs():
            echo(f"  {column} -> {fld}")
        rows = plan.preview.get(source.label, [])
        if rows:
            echo("Preview:")
            columns = list(dict.fromkeys(k for r in rows for k in r))
            render(rows, "table", columns=columns)
        echo("")


def _import_mail(store: Any, file: Path, dry_run: bool) -> None:
    if file.suffix.lower() == ".eml":
        planned = eml.log_eml(store, file)
        lead = planned.lead is not None
        done(f"{'Added lead and logged email' if lead else 'Logged email'} with {planned.name} ({planned.cid})",
             store, customer=planned.cid,
             counts={"interactions": {"created": 1}} | ({"customers": {"created": 1}} if lead else {}))
        return
    phase(f"Reading {file.name}...")
    with _progress("Writing", then=None if dry_run else "Committing {n} files to git...") as progress:
        result = eml.import_mbox(store, file, dry_run=dry_run, progress=progress)
    for line in result.skipped[:MAX_SHOWN]:
        echo(line, err=True)
    n = len(result.logged)
    note_result(file=file.name, dry_run=dry_run,
                counts={"interactions": {"created": n, "skipped": len(result.skipped)}}, skipped=list(result.skipped))
    if dry_run:
        done(f"Dry run, nothing written: {n:,} emails would be logged, {len(result.skipped):,} skipped")
    elif n:
        done(f"Imported {n:,} emails from {file.name} ({len(result.skipped):,} skipped)", store)
    else:
        done(f"Nothing to import from {file.name}: 0 created, {len(result.skipped):,} skipped")


@click.command("export", context_settings=CONTEXT_SETTINGS)
@click.option("--kind", type=click.Choice(["all", "customers", "contacts", "interactions", "opps", "orders",
                                           "contracts", "tickets", "tasks", "surveys", "history"]),
              default="all", show_default=True, help="What to export (csv holds one kind).")
@click.option("-o", "--output", "output", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, allow_dash=True),
              help="File to write (missing folders are made), or - for standard output; its extension picks "
                   "the format unless --format is given: .xlsx .csv .json .vcf .ics")
@click.option("--format", "-f", "fmt", type=click.Choice(["xlsx", "csv", "json", "vcf", "ics"]),
              help="Output format (default: from --output's extension; needed with -o -).")
@click.option("--excel", is_flag=True, help="CSV for Excel: a UTF-8 byte order mark and CRLF line ends.")
@click.option("--include-sensitive", is_flag=True,
              help="Also export the encrypted sensitive fields, decrypted (needs your identity, $CRM_IDENTITY).")
@skip_invalid_option
@records_option
@quiet_option
def export_cmd(kind: str, output: str, fmt: str | None, excel: bool, include_sensitive: bool,
               skip_invalid: bool) -> None:
    """Export records to Excel, CSV, JSON, vCard or an iCalendar agenda.

    xlsx has a sheet per kind with typed cells (numbers, dates, money in
    its currency), a filter and a frozen header; csv holds one kind; json
    holds every kind. In csv, text a spreadsheet would run as a formula
    (starting with = + - @) gets a leading '; in xlsx such text is a text
    cell (only = still gets the '). An export imports
    back with crm import. Sensitive fields (crm.yaml sensitive_fields) are
    left out unless --include-sensitive is given and your key can read them.
    A customer whose files cannot be read is named on stderr (path:line)
    and nothing is written (exit 4), unless --skip-invalid exports the
    others (then exit 9). -o - writes to standard output (give --format;
    xlsx only when standard output is not a terminal). The closing
    "Exported ..." line shows only on a terminal (cron mails nothing), and
    never with -q.

    \b
    Examples:
      crm export -o crm.xlsx
      crm export --kind customers -o customers.csv --excel
      crm export --kind opps -o opps.json
      crm export --kind contacts -o contacts.vcf
      crm export --kind tasks -o agenda.ics
      crm export --kind customers -o - --format csv | head
    """

    to_stdout = output == "-"
    if to_stdout and fmt is None:
        raise UsageError("-o - writes to standard output: give --format (xlsx, csv, json, vcf or ics)")
    fmt = fmt or exporter.format_of(Path(output))
    if to_stdout and fmt == "xlsx" and sys.stdout.isatty():
        raise UsageError("xlsx is binary; write it with -o FILE.xlsx (or redirect standard output)")
    store = get_app().store()
    problems: list[str] = []
    try:
        with _progress("Reading") as progress:
            options: dict[str, Any] = dict(
                kind=kind, excel=excel, include_sensitive=include_sensitive, skip_invalid=skip_invalid,
                problems=problems, progress=(lambda n: progress(n, max(n, 1))) if progress else None)
            phase(f"Reading the store, then writing {'standard output' if to_stdout else output}...")
            if to_stdout:
                data, counts = exporter.export_bytes(store, fmt, **options)
            else:
                counts = exporter.export(store, Path(output), fmt=fmt, **options)
    finally:
        for line in problems:
            echo(line, err=True)
    if to_stdout:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    what = ", ".join(f"{n:,} {k}" for k, n in counts.items())
    summary(f"Exported {what} to {'standard output' if to_stdout else output}")  # on a terminal, unless -q
    exit_partial(len(problems), "unreadable customer", "the others were exported")
