"""The derived query index: one SQLite database of profiles, contacts, journals, events, deals, tickets, tasks.

The YAML files are the truth; the index only saves re-reading them. It lives in the store's local state
folder (``<git-dir>/crm/cache/index.sqlite``, never in git) and can be deleted at any time: a missing,
older-schema or corrupt database is rebuilt, never trusted.

Every read first catches up:
- when HEAD moved since the indexed commit, customers named by ``git diff --name-only <indexed> HEAD`` are re-read;
- every ``customer.yaml`` and journal file is ``lstat``-ed and re-read when its size or modification time differs from
  what the index stored (as git's own index does; a file written within the last two seconds is stored
  as "re-read next time", git's "racily clean" rule), so a hand edit is seen by the next command;
- a customer whose journal changed (a file added, removed or changed) has all its journal rows re-read
  (``crmcli.store.index_journals``);
- a customer folder that is gone loses its rows.
crm's writes update their customers' rows right after the commit (``after_commit``); else the next read does.
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmcli import yamlio
from crmcli.domain.customer import Customer, normalize_name
from crmcli.domain.pinyin import name_keys
from crmcli.errors import CrmError
from crmcli.store import git, index_build, index_facts, index_fresh, index_journals
from crmcli.store.index_reads import JournalReads
from crmcli.store.index_records import RecordReads
from crmcli.store.index_rows import COLUMNS, flat, folded, phones, profile_json, search_values
from crmcli.store.paths import CUSTOMERS

if TYPE_CHECKING:
    from crmcli.store.store import Store

SCHEMA_VERSION = 5  # 2: journals; 3: name pinyin; 4: folded records (index_records); 5: facts (index_facts)
_RACY_NS = 2_000_000_000  # changed this recently: its stat data is stored as unknown (git's "racily clean")
# More customers than this changed by one write: the next read catches up instead of the write.
_HOOK_LIMIT = 2000

_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE customers (
    n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, st_mtime INTEGER, st_size INTEGER,
    problem TEXT, profile TEXT, name TEXT, name_key TEXT, tags TEXT,
    {", ".join(f"{c} TEXT" for c in COLUMNS)}, phones TEXT, name_pinyin TEXT, name_initials TEXT);
CREATE INDEX customers_tier ON customers (tier);
CREATE INDEX customers_names ON customers (name_key, name_pinyin, name_initials, id);  -- name lookups scan this
CREATE INDEX customers_owner ON customers (owner);
CREATE TABLE contacts (customer TEXT NOT NULL, pos INTEGER, name TEXT, title TEXT, email TEXT, phone TEXT);
CREATE INDEX contacts_customer ON contacts (customer);
"""


def index_path(store: Store) -> Path:
    return store.state_dir / "cache" / "index.sqlite"


def _has_trigram(db: sqlite3.Connection) -> bool:
    try:
        db.execute("CREATE VIRTUAL TABLE temp.probe USING fts5(a, tokenize='trigram')")
        db.execute("DROP TABLE temp.probe")
        return True
    except sqlite3.OperationalError:
        return False


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            os.unlink(f"{path}{suffix}")


def _connect(path: Path | str) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 10000")
    db.execute("PRAGMA synchronous = NORMAL")  # with WAL: never corrupt, a crash may lose the last update
    return db


def _make_schema(db: sqlite3.Connection) -> None:
    tokenize = "trigram" if _has_trigram(db) else "unicode61"
    db.execute("BEGIN")
    for statement in (_SCHEMA + index_journals.SCHEMA).split(";") + index_facts.STATEMENTS:
        if statement.strip():
            db.execute(statement)
    db.execute(f"CREATE VIRTUAL TABLE texts USING fts5(folded, tokenize='{tokenize}')")
    db.execute("INSERT INTO meta VALUES ('tokenizer', ?)", (tokenize,))
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    db.execute("COMMIT")


def _create(path: Path) -> sqlite3.Connection:
    """A new, empty index at ``path``: made aside, then renamed into place (readers never see half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    _remove(tmp)
    db = _connect(tmp)
    try:
        _make_schema(db)
    except BaseException:
        db.close()
        _remove(tmp)
        raise
    db.close()
    _remove(path)  # with its -wal and -shm: a stale log must never be replayed into the new file
    os.replace(tmp, path)
    db = _connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    return db


def _in_memory() -> sqlite3.Connection:
    """An index for this command only, when the file cannot be written (a read-only store)."""
    db = _connect(":memory:")
    _make_schema(db)
    return db


def _open(path: Path) -> sqlite3.Connection:
    """The index database, created afresh when missing, of another schema version or unreadable."""
    if path.exists():
        db = None
        try:
            db = _connect(path)
            if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
                db.execute("SELECT value FROM meta WHERE key = 'tokenizer'").fetchone()
                return db
        except sqlite3.DatabaseError:
            pass
        if db is not None:
            db.close()
    return _create(path)


class Index(JournalReads, RecordReads):
    """An open, caught-up index of one store."""

    def __init__(self, store: Store, db: sqlite3.Connection):
        self.store = store
        self.db = db
        self.trigram = db.execute("SELECT value FROM meta WHERE key = 'tokenizer'").fetchone()[0] == "trigram"
        self.base = str(store.root / CUSTOMERS)
        self.fresh = False  # True while filling an empty index: nothing to delete first

    def _path(self, cid: str) -> str:
        return f"{self.base}/{cid[:2]}/{cid}/customer.yaml" if len(cid) >= 2 else \
            str(self.store.customer_file(cid))

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _delete(self, cids: Iterable[str]) -> None:
        for cid in cids:
            row = self.db.execute("SELECT n FROM customers WHERE id = ?", (cid,)).fetchone()
            if row is not None:
                self.db.execute("DELETE FROM texts WHERE rowid = ?", row)
                self.db.execute("DELETE FROM customers WHERE n = ?", row)
            self.db.execute("DELETE FROM contacts WHERE customer = ?", (cid,))

    def _put(self, cid: str, stamp: tuple[int, int], data: Any = None, problem: str | None = None) -> None:
        spoken = None  # the name's pinyin and initials, kept when the name did not change (no pypinyin import)
        if not self.fresh:
            spoken = self.db.execute("SELECT name, name_pinyin, name_initials FROM customers WHERE id = ?",
                                     (cid,)).fetchone()
            self._delete([cid])
        if problem is not None or not isinstance(data, dict):
            self.db.execute("INSERT INTO customers (id, st_mtime, st_size, problem) VALUES (?, ?, ?, ?)",
                            (cid, stamp[0], stamp[1], problem))
            return
        customer = Customer(cid, data)
        keys = spoken[1:] if spoken and spoken[0] == customer.name and spoken[1] is not None else \
            name_keys(customer.name)
        values = [str(data.get(c, "")).casefold() for c in COLUMNS]  # as ``customer list --tier`` compares
        cur = self.db.execute(
            f"INSERT INTO customers (id, st_mtime, st_size, profile, name, name_key, tags, {', '.join(COLUMNS)}, "
            f"phones, name_pinyin, name_initials) VALUES ({', '.join('?' * (len(COLUMNS) + 10))})",
            (cid, stamp[0], stamp[1], profile_json(data), customer.name, normalize_name(customer.name),
             "\n".join(customer.tags), *values, phones(data), *keys))
        text = "\n".join(folded(flat(v)) for v in search_values(data, cid))
        self.db.execute("INSERT INTO texts (rowid, folded) VALUES (?, ?)", (cur.lastrowid, text))
        for pos, person in enumerate(customer.contacts):
            if isinstance(person, dict):
                self.db.execute("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)",
                                (cid, pos, *(None if person.get(k) is None else str(person.get(k))
                                             for k in ("name", "title", "email", "phone"))))
        index_facts.put_profile(self.db, cid, customer)

    def _read(self, cid: str, st: os.stat_result, racy_after: int) -> None:
        """Parse one profile file into its rows (or a problem row naming what is wrong with it)."""
        path = Path(self._path(cid))
        stamp = (st.st_mtime_ns if st.st_mtime_ns < racy_after else -1, st.st_size)
        rel = self.store.rel(path)
        if not stat.S_ISREG(st.st_mode):
            try:
                self.store.read_text(path)  # raises the one-line message naming the path
                problem = f"{rel}: not a regular file"
            except CrmError as exc:
                problem = str(exc)
            except OSError as exc:
                problem = f"{rel}: {exc.strerror}"
            self._put(cid, (-1, -1), problem=problem)
            return
        try:
            data = yamlio.loads(self.store.read_text(path), rel)
        except CrmError as exc:
            self._put(cid, stamp, problem=str(exc))
            return
        except OSError as exc:
            self._put(cid, stamp, problem=f"{rel}: cannot be read ({exc.strerror or exc})")
            return
        if not isinstance(data, dict):
            self._put(cid, stamp, problem=f"{rel}: not a customer profile (a mapping of fields was expected, "
                                          f"found {type(data).__name__})")
            return
        self._put(cid, stamp, data)

    def _journal_folder(self, cid: str) -> str:
        if len(cid) < 2:
            return str(self.store.customer_dir(cid) / "journal")
        return f"{self.base}/{cid[:2]}/{cid}/journal"

    # -- catching up -----------------------------------------------------------------------------------
    def _check(self, cid: str, forced: tuple[set[str], set[str]] | None, racy_after: int,
               stored: tuple | None, journal: tuple | None) -> bool:
        """Re-read one customer's profile and journal where their stat data or HEAD's move says; True: changed."""
        dirty = self._journal(cid, journal, forced is None or cid in forced[1], racy_after)
        try:
            st = os.lstat(self._path(cid))
        except OSError:
            if stored is not None:
                self._delete([cid])
                return True
            return dirty
        if stored is not None and stored[0] == st.st_mtime_ns and stored[1] == st.st_size \
                and stat.S_ISREG(st.st_mode) and forced is not None and cid not in forced[0]:
            return dirty
        self._read(cid, st, racy_after)
        return True

    def _walk(self, forced: tuple[set[str], set[str]] | None, racy_after: int) -> bool:
        """Look at every customer folder's files (a new or emptied index, or git cannot say what changed)."""
        known = {cid: (m, s) for cid, m, s in self.db.execute("SELECT id, st_mtime, st_size FROM customers")}
        journals = self._journal_stamps()
        dirty = False
        self.fresh = not known
        for cid in self.store.customer_ids():
            dirty = self._check(cid, forced, racy_after, known.pop(cid, None), journals.pop(cid, None)) or dirty
        if known:
            self._delete(known)
        if journals:
            index_journals.delete(self.db, journals)
        return dirty or bool(known) or bool(journals)

    def refresh(self) -> None:
        """Catch up with the files: re-read the customers HEAD's move or git's status names (and those it named
        last time: a hand edit undone); the first build, or a store git cannot speak for, looks at every file."""
        head = index_fresh.head(self.store)
        now = index_fresh.work_tree(self.store, self.base)  # before anything is read: an edit after it is seen
        racy_after = time.time_ns() - _RACY_NS
        self.db.execute("BEGIN IMMEDIATE")
        try:
            forced = index_fresh.moved(self.store, self.base, self._meta("head"), head)
            empty = self.db.execute("SELECT 1 FROM customers LIMIT 1").fetchone() is None
            before = self._meta("work_tree")
            if forced is None or empty or now is None or before is None:
                dirty = self._walk(forced, racy_after)
            else:
                dirty = False
                looks = now | set(json.loads(before)) | forced[0] | forced[1] | index_fresh.unsettled(self.db)
                for cid in sorted(looks):
                    if not index_fresh.is_folder(cid, self._path(cid)):  # as the walk: no dot, no symlink
                        self._delete([cid])
                        index_journals.delete(self.db, [cid])
                        dirty = True
                        continue
                    row = self.db.execute("SELECT st_mtime, st_size FROM customers WHERE id = ?", (cid,)).fetchone()
                    dirty = self._check(cid, forced, racy_after, row, self._journal_stamps(cid).get(cid)) or dirty
            marks = None if now is None else json.dumps(sorted(now))
            dirty = dirty or self._meta("head") != head or self._meta("work_tree") != marks
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('head', ?)", (head,))
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('work_tree', ?)", (marks,))
            self.db.execute("COMMIT" if dirty else "ROLLBACK")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        finally:
            self.fresh = False

    # -- reading ---------------------------------------------------------------------------------------
    def customers(self, *, problems: list | None = None, only: Iterable[str] | None = None,
                  fields: dict[str, str] | None = None) -> list[Customer]:
        """Readable customers in id order: ``only`` those ids, and only those whose ``fields`` (among
        ``COLUMNS``) equal the values given, compared case-folded."""
        sql = "SELECT id, problem, profile FROM customers"
        conditions = [f"{key} = ?" for key in fields or {} if key in COLUMNS]
        args = tuple(str(value).casefold() for key, value in (fields or {}).items() if key in COLUMNS)
        if only is not None:
            wanted = sorted(set(only))
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (id TEXT PRIMARY KEY)")
            self.db.execute("DELETE FROM temp.wanted")
            self.db.executemany("INSERT INTO temp.wanted VALUES (?)", ((c,) for c in wanted))
            conditions.append("id IN (SELECT id FROM temp.wanted)")
        if conditions:  # a problem row always comes back: its problem is reported whatever the filter
            sql += " WHERE problem IS NOT NULL OR (" + " AND ".join(f"({c})" for c in conditions) + ")"
        out: list[Customer] = []
        for cid, problem, profile in self.db.execute(sql + " ORDER BY id", args):
            path = self._path(cid)
            if problem is not None:
                if problems is not None:
                    problems.append(problem)
                continue
            if profile is None:  # a profile JSON cannot hold exactly: from its file
                data = yamlio.loads(self.store.read_text(Path(path)), self.store.rel(Path(path)))
            else:
                data = json.loads(profile)
            out.append(Customer(cid, data, path))
        return out

    def text_matches(self, folded: str, phone: str | None) -> set[str]:
        """Ids of customers whose searchable text contains ``folded`` (or whose phones contain ``phone``).

        A superset: the caller checks each field. FTS5 trigram for 3 characters or more, a scan of the
        indexed text otherwise.
        """
        if self.trigram and len(folded) >= 3:
            rows = self.db.execute("SELECT id FROM customers WHERE n IN (SELECT rowid FROM texts WHERE texts MATCH ?)",
                                   ('"' + folded.replace('"', '""') + '"',))
        else:
            rows = self.db.execute("SELECT id FROM customers WHERE n IN "
                                   "(SELECT rowid FROM texts WHERE instr(folded, ?) > 0)", (folded,))
        found = {cid for (cid,) in rows}
        if phone is not None:
            found |= {cid for (cid,) in self.db.execute(
                "SELECT id FROM customers WHERE phones IS NOT NULL AND instr(phones, ?) > 0", (phone,))}
        return found

    def close(self) -> None:
        self.db.close()


@contextlib.contextmanager
def open_index(store: Store, *, catch_up: bool = True) -> Iterator[Index]:
    """The store's index, caught up with the files (``catch_up=False``: as it is, for lookups that verify
    every hit in the files and catch up on a miss).

    Rebuilt when it cannot be read; when it cannot be written either, this command builds one in memory.
    """
    path = index_path(store)
    index = None
    for attempt in range(3):
        try:
            index = Index(store, _in_memory() if attempt == 2 else _open(path))
            if catch_up:
                index_build.catch_up(index, _RACY_NS)  # refresh(); an empty index is built with both cores
            break
        except (sqlite3.Error, OSError):
            if index is not None:
                index.close()
                index = None
            if attempt == 0:
                _remove(path)
            elif attempt == 2:
                raise
    assert index is not None
    try:
        yield index
    finally:
        index.close()


def customer_index(store: Store, *, problems: list | None = None) -> list[Customer]:
    """Every readable customer, in id order, through the index.

    Unreadable files are skipped (``crm check`` reports them); their errors are appended to ``problems`` if given."""
    with open_index(store) as index:
        return index.customers(problems=problems)


def rebuild(store: Store) -> dict[str, Any]:
    """Delete the index and build it again from the files: what ``crm reindex`` does."""
    path = index_path(store)
    started = time.perf_counter()
    _remove(path)
    with open_index(store) as index:
        count, bad = index.db.execute("SELECT count(*), count(problem) FROM customers").fetchone()
        contacts = index.db.execute("SELECT count(*) FROM contacts").fetchone()[0]
        tokenizer = "trigram" if index.trigram else "unicode61"
    return {"path": path, "customers": count - bad, "unreadable": bad, "contacts": contacts,
            "tokenizer": tokenizer, "seconds": time.perf_counter() - started}


def after_commit(store: Store, commit: str | None, changed: Iterable[Path], parsed: dict | None = None) -> None:
    """Bring the index up to a commit crm just made: re-read the touched profiles and journals, advance its HEAD.

    Journal files in ``parsed`` (``Transaction.parsed``) are taken as parsed there, not parsed again. Only when the
    index exists and reflected the commit's parent; otherwise (or on any failure) the next read catches up."""
    path = index_path(store)
    changed = list(changed)
    touched = {p.parent.name for p in changed if p.name == "customer.yaml"}
    journals = {p.parent.parent.name for p in changed if p.parent.name == "journal"}
    known: dict[str, dict[str, list]] = {}  # customer -> journal file name -> its parsed entries
    for file, data in (parsed or {}).items():
        known.setdefault(file.parent.parent.name, {})[file.name] = data
    if commit is None or store.top is None or len(touched | (journals - known.keys())) > _HOOK_LIMIT \
            or not path.exists():
        return
    try:
        db = _connect(path)
    except sqlite3.Error:
        return
    try:
        proc = git.run(["rev-parse", "-q", "--verify", f"{commit}^"], cwd=store.top, check=False)
        parent = proc.stdout.decode().strip() or None if proc.returncode == 0 else None
        if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            return
        index = Index(store, db)
        racy_after = time.time_ns() - _RACY_NS
        db.execute("BEGIN IMMEDIATE")
        try:
            if index._meta("head") != parent:
                db.execute("ROLLBACK")
                return
            for cid in touched:
                index_build.profile(index, cid, racy_after)
            for cid in journals:
                index._journal(cid, (), True, racy_after, known.get(cid))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('head', ?)", (commit,))
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
    except (sqlite3.Error, OSError, CrmError):
        pass
    finally:
        db.close()
