"""The index's facts (``crmcli.store.index``): every record of every customer as the flat rows reports and export read.

One table per kind of ``crmcli.domain.records`` (``f_customers``, ``f_interactions``, ``f_opps``, ...,
``f_history``): the row's columns as the builders make them, keyed by (customer, position among that
customer's rows), so a scan in key order gives the rows in the order a parse of the files gives them.
Each time column also has its moment as epoch seconds (``COLUMN__s``), what the report frames use; the
list columns (an opportunity's stage and close-date history) are JSON with epoch seconds.

What depends on ``crm.yaml`` or on the clock is never stored, so a change to either needs no rebuild:
an opportunity's ``probability`` (from its stage) and a ticket's SLA due times and breaches (from its
priority, category and times) are worked out when read (``with_config``).

Profile rows are filled where the profile is indexed, journal rows where the journal is; a customer whose
rows cannot be built, or whose files the index cannot stand in for (a problem, an ``odd`` or refused
journal), is read from its files by the readers (``fallback_ids``).
"""
from __future__ import annotations

import contextlib
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from crmcli.domain import dates
from crmcli.domain import records as rec
from crmcli.domain.customer import Customer
from crmcli.domain.journal import Entry
from crmcli.store.index_journals import _PLAIN_AT, entries_of

if TYPE_CHECKING:
    import sqlite3

    from crmcli.store.index_journals import FileRow

KINDS = [*rec.KINDS, "history"]
PROFILE_KINDS = ("customers", "contacts")
JOURNAL_KINDS = tuple(k for k in KINDS if k not in PROFILE_KINDS)


def columns(kind: str) -> list[str]:
    return rec.HISTORY_COLUMNS if kind == "history" else rec.COLUMNS[kind]


def stored(kind: str) -> list[str]:
    """The table's value columns: the row's, then the epoch seconds of its time columns."""
    return columns(kind) + [f"{c}__s" for c in rec.TIME_COLUMNS.get(kind, [])]


def _q(name: str) -> str:
    return '"' + name + '"'


PROFILE_TABLES = (*(f"f_{k}" for k in PROFILE_KINDS), "f_bad_profile")
JOURNAL_TABLES = (*(f"f_{k}" for k in JOURNAL_KINDS), "f_bad_journal")
# The schema builder of crmcli.store.index runs these. A customer's facts go with its profile row and its
# journal rows: whatever deletes those deletes these (the triggers).
STATEMENTS = [
    *(f"CREATE TABLE f_{kind} (_cid TEXT NOT NULL, _seq INTEGER NOT NULL, "
      f"{', '.join(_q(c) for c in stored(kind))}, PRIMARY KEY (_cid, _seq)) WITHOUT ROWID" for kind in KINDS),
    "CREATE TABLE f_bad_profile (_cid TEXT PRIMARY KEY)",
    "CREATE TABLE f_bad_journal (_cid TEXT PRIMARY KEY)",
    "CREATE TRIGGER f_profile_gone AFTER DELETE ON customers BEGIN "
    + " ".join(f"DELETE FROM {t} WHERE _cid = OLD.id;" for t in PROFILE_TABLES) + " END",
    "CREATE TRIGGER f_journal_gone AFTER DELETE ON journals BEGIN "
    + " ".join(f"DELETE FROM {t} WHERE _cid = OLD.customer;" for t in JOURNAL_TABLES) + " END",
]


def epoch(value: Any) -> int | None:
    """Seconds since 1970 of a stored ISO time (None when absent or unreadable); the plain form crm writes is read
    in C (``dates.parse_iso`` gives the same instant for it)."""
    if not value:
        return None
    if type(value) is str and _PLAIN_AT.fullmatch(value):
        with contextlib.suppress(ValueError):
            return int(datetime.fromisoformat(value).timestamp())
    try:
        return int(dates.parse_iso(str(value)).timestamp())
    except (dates.DateError, ValueError, OverflowError):
        return None


def _values(kind: str, row: dict) -> list:
    values = [json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v for v in row.values()]
    if kind == "opps":  # the histories with epoch seconds, as the frames want them
        values[-2] = json.dumps([(epoch(at), a, b) for at, a, b in row["stage_history"]], ensure_ascii=False)
        values[-1] = json.dumps([(epoch(at), c) for at, c in row["close_history"]], ensure_ascii=False)
    return values + [epoch(row[c]) for c in rec.TIME_COLUMNS.get(kind, [])]


def _insert(db: sqlite3.Connection, cid: str, kind: str, rows: list[dict]) -> None:
    if rows:
        marks = ", ".join("?" * (len(stored(kind)) + 2))
        db.executemany(f"INSERT INTO f_{kind} VALUES ({marks})",
                       [(cid, i, *_values(kind, r)) for i, r in enumerate(rows)])


def put_profile(db: sqlite3.Connection, cid: str, customer: Customer) -> None:
    """The customer's and contacts' rows of one profile (its old rows already deleted)."""
    try:
        rows = {"customers": [rec.customer_row(customer)], "contacts": rec.contact_rows(customer)}
        for kind, items in rows.items():
            _insert(db, cid, kind, items)
    except Exception:  # noqa: BLE001 - rows the builders cannot make: the readers take the files
        for table in PROFILE_TABLES:
            db.execute(f"DELETE FROM {table} WHERE _cid = ?", (cid,))
        db.execute("INSERT INTO f_bad_profile VALUES (?)", (cid,))


def journal_rows(cid: str, journal: list[Entry]) -> dict[str, list[dict]]:
    """The rows of one customer's journal, without what depends on crm.yaml or the clock."""
    return {"interactions": rec.interaction_rows(cid, journal), "opps": rec.opp_rows(cid, journal),
            "orders": rec.order_rows(cid, journal), "contracts": rec.contract_rows(cid, journal),
            "tickets": rec.ticket_rows(cid, journal), "tasks": rec.task_rows(cid, journal),
            "surveys": rec.survey_rows(cid, journal), "history": rec.history_rows(cid, journal)}


def put_journal(db: sqlite3.Connection, cid: str, folder: str, files: list[FileRow]) -> None:
    """The rows of one customer's journal (its old rows already deleted); none when the index cannot stand in
    for its files (``odd`` or refused: the readers take the files)."""
    if any(f.odd or f.refused for f in files):
        return
    try:
        entries = entries_of({f.name: f"{folder}/{f.name}" for f in files}, [(f.name, f.data) for f in files
                                                                             if f.loaded])
        for kind, rows in journal_rows(cid, entries).items():
            _insert(db, cid, kind, rows)
    except Exception:  # noqa: BLE001 - a fold the domain cannot make: the readers take the files
        for table in JOURNAL_TABLES:
            db.execute(f"DELETE FROM {table} WHERE _cid = ?", (cid,))
        db.execute("INSERT INTO f_bad_journal VALUES (?)", (cid,))


# -- reading -----------------------------------------------------------------------------------------------

def fallback_ids(db: sqlite3.Connection) -> list[str]:
    """Customers (with a profile row) whose rows the facts do not hold: read them from their files."""
    rows = db.execute("SELECT id FROM customers WHERE problem IS NOT NULL OR id IN ("
                      "SELECT customer FROM journals WHERE odd OR refused "
                      "UNION SELECT _cid FROM f_bad_profile UNION SELECT _cid FROM f_bad_journal) "
                      "ORDER BY id")
    return [c for (c,) in rows]


def skip(db: sqlite3.Connection, cids: list[str]) -> None:
    """Leave these customers out of the next ``scan`` and ``count`` (their rows are read from the files)."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS facts_skip (id TEXT PRIMARY KEY)")
    db.execute("DELETE FROM temp.facts_skip")
    db.executemany("INSERT OR IGNORE INTO temp.facts_skip VALUES (?)", ((c,) for c in cids))


_WHERE = ("WHERE f._cid IN (SELECT id FROM customers WHERE problem IS NULL) "
          "AND f._cid NOT IN (SELECT id FROM temp.facts_skip)")


def scan(db: sqlite3.Connection, kind: str, wanted: list[str]) -> sqlite3.Cursor:
    """(customer, seq, *wanted columns) of every row of ``kind``, in key order, of the customers indexed without a
    problem and not left out by ``skip``."""
    cols = "".join(f", f.{_q(c)}" for c in wanted)
    return db.execute(f"SELECT f._cid, f._seq{cols} FROM f_{kind} f {_WHERE} ORDER BY f._cid, f._seq")


def count(db: sqlite3.Connection, kind: str) -> int:
    """How many rows ``scan`` gives."""
    return int(db.execute(f"SELECT count(*) FROM f_{kind} f {_WHERE}").fetchone()[0])


class WithConfig:
    """What the facts leave out, from crm.yaml: deals' ``probability``, tickets' SLA hours."""

    def __init__(self, config: Any):
        self.config = config
        self._chance: dict[Any, Any] = {}
        self._hours: dict[tuple, tuple] = {}

    def probability(self, stage: Any) -> Any:
        if stage not in self._chance:
            from crmcli.domain.deals import stage_info

            p = stage_info(self.config, stage).get("probability", 0) if isinstance(stage, str) else 0
            self._chance[stage] = p if isinstance(p, (int, float)) else 0
        return self._chance[stage]

    def hours(self, priority: Any, category: Any) -> tuple[Any, Any]:
        """(first response, resolution) hours of a ticket's SLA; None where it has none (as ``Ticket.sla``)."""
        key = (priority, category)
        if key not in self._hours:
            from crmcli.domain.escalation import complaint_sla
            from crmcli.domain.tickets import priorities

            target = priorities(self.config).get(priority or "")
            target = target if isinstance(target, dict) else {}
            if category == "complaint":
                target = {**target, **complaint_sla(self.config)}
            self._hours[key] = tuple(
                h if not isinstance(h, bool) and isinstance(h, (int, float)) and h > 0 else None
                for h in (target.get("first_response_hours"), target.get("resolution_hours")))
        return self._hours[key]

    @staticmethod
    def due_seconds(opened: int | None, hours: Any) -> int | None:
        """Epoch seconds of an SLA due time (as the ISO text ``Ticket.sla`` gives, read back)."""
        if opened is None or hours is None:
            return None
        return opened + int(timedelta(hours=hours).total_seconds())

    @staticmethod
    def due_text(opened: str | None, hours: Any) -> str | None:
        if not opened or hours is None:
            return None
        try:
            return dates.iso(dates.parse_iso(opened) + timedelta(hours=hours))
        except (dates.DateError, ValueError, OverflowError):
            return None
