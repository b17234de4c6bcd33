"""The index's rows of a customer as its files give them: built with both cores, and compared.

A cold build (an empty index, e.g. a fresh clone or after ``crm reindex``) parses customer folders in
worker processes: each reads a chunk of folders into an empty in-memory index with the very code a
single-process catch-up runs (``Index._journal``, then ``Index._read``) and sends the rows back; one
process inserts them, chunk by chunk in folder order, so the result equals the single-process build row
for row (the same row ids). Memory stays bounded by a few chunks in flight.

The same rows, reduced to one digest per customer, let ``crm check`` verify that the index agrees with
the files (``digests``): a customer whose rows differ is rebuilt from its files (``repair``).

Nothing here names the index's tables: every table with a ``customer`` (or, for profiles, ``id``)
column is copied and compared, so tables added later are covered too.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from crmcli.store import index_fresh

if TYPE_CHECKING:
    from crmcli.store.index import Index
    from crmcli.store.store import Store

PARALLEL_FROM = 300  # customers in an empty index before worker processes pay for their start
CHUNK = 100  # customers per message from a worker
SKIP_COLUMNS = ("n", "st_mtime", "st_size")  # row ids and stat data: how fresh a row is, not what it says
PROFILES = "customers"  # the table of profiles: ``n`` is its row id, and the search text's (``texts``)


_TABLES: dict[tuple[int, int], list[tuple[str, list[str], str]]] = {}


def tables(db: sqlite3.Connection) -> list[tuple[str, list[str], str]]:
    """The ordinary tables holding customers' rows, in name order: (name, columns, the order of their rows)."""
    key = (id(db), db.execute("PRAGMA schema_version").fetchone()[0])
    if key not in _TABLES:
        _TABLES[key] = _tables(db)
    return _TABLES[key]


def _tables(db: sqlite3.Connection) -> list[tuple[str, list[str], str]]:
    rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL")]
    out = []
    for name, sql in rows:
        if name in virtual or name == "meta" or name.startswith("sqlite_") or \
                any(name.startswith(f"{v}_") for v in virtual):
            continue
        info = db.execute(f"PRAGMA table_info({name})").fetchall()
        order = "rowid"
        if "WITHOUT ROWID" in " ".join(sql.upper().split()):  # kept in key order whatever the insert order
            order = ", ".join(f'"{c[1]}"' for c in sorted((c for c in info if c[5]), key=lambda c: c[5]))
        out.append((name, [c[1] for c in info], order))
    return out


def _key(columns: list[str]) -> str | None:
    """The column naming a row's customer."""
    for name in ("_cid", "customer", "id"):
        if name in columns:
            return name
    return None


def derive(index: Index, cid: str, racy_after: int) -> None:
    """Read one customer's files into ``index`` as a catch-up does (its old rows, if any, replaced)."""
    index._journal(cid, (), True, racy_after)
    profile(index, cid, racy_after)


def profile(index: Index, cid: str, racy_after: int) -> None:
    """Read one customer's profile into ``index`` again; a customer whose folder is gone loses its rows."""
    try:
        st = os.lstat(index._path(cid))
    except OSError:
        index._delete([cid])
        return
    index._read(cid, st, racy_after)


def dump(db: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every row of a scratch index, by table (the search text as (row id, text)), and empty it."""
    out = {name: db.execute(f"SELECT * FROM {name} ORDER BY {order}").fetchall() for name, _, order in tables(db)}
    out["texts"] = db.execute("SELECT rowid, * FROM texts ORDER BY rowid").fetchall()
    for name in out:
        db.execute(f"DELETE FROM {name}")
    return out


def _insert(db: sqlite3.Connection, rows: dict[str, list[tuple]], offset: int) -> int:
    """Insert a worker's rows, its profile row ids moved past ``offset``; the new highest row id."""
    top = offset
    for name, batch in rows.items():
        if not batch:
            continue
        if name in (PROFILES, "texts"):
            batch = [(row[0] + offset, *row[1:]) for row in batch]
            top = max(top, max(row[0] for row in batch))
        columns = ""
        if name == "texts":
            names = [c[1] for c in db.execute("PRAGMA table_info(texts)")]
            columns = "(rowid, " + ", ".join(names) + ")"
        db.executemany(f"INSERT INTO {name} {columns} VALUES ({', '.join('?' * len(batch[0]))})", batch)
    return top


# -- worker processes ----------------------------------------------------------------------------------------------
def schema(index: Index) -> tuple[type, list[str], list[tuple]]:
    """What ``scratch`` needs to make an empty copy of ``index`` in another process: plain data."""
    rows = index.db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid").fetchall()
    virtual = [name for name, sql in rows if sql.upper().startswith("CREATE VIRTUAL")]
    statements = [sql for name, sql in rows if not any(name.startswith(f"{v}_") for v in virtual)]
    return type(index), statements, index.db.execute("SELECT * FROM meta WHERE key = 'tokenizer'").fetchall()


def scratch(store: Store, shape: tuple[type, list[str], list[tuple]]) -> Index:
    """An empty in-memory index of the ``schema`` given (an FTS table makes its own shadow tables)."""
    cls, statements, meta = shape
    db = sqlite3.connect(":memory:", isolation_level=None)
    for sql in statements:
        db.execute(sql)
    db.executemany("INSERT INTO meta VALUES (?, ?)", meta)
    made = cls(store, db)
    made.fresh = True  # nothing to delete before an insert
    return made


_scratch: Index | None = None


def _start(store: Store, shape: tuple[type, list[str], list[tuple]]) -> None:
    global _scratch

    _scratch = scratch(store, shape)


def _rows(job: tuple[list[str], int]) -> dict[str, list[tuple]]:
    assert _scratch is not None
    cids, racy_after = job
    _scratch.db.execute("BEGIN")
    for cid in cids:
        derive(_scratch, cid, racy_after)
    out = dump(_scratch.db)
    _scratch.db.execute("COMMIT")
    return out


def jobs() -> int:
    """Worker processes to use: the cores this process may run on, at most two (``CRM_JOBS`` overrides)."""
    try:
        return max(1, int(os.environ["CRM_JOBS"]))
    except (KeyError, ValueError):
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            cores = os.cpu_count() or 1
        return min(2, cores)


def pool(count: int, index: Index, start: Callable[..., None] = _start, *args: Any) -> Any:
    """``count`` forked worker processes, each running ``start(store, schema(index), *args)`` first: each
    makes its own empty in-memory copy of ``index``; the parent's connection is never used by a child."""
    import multiprocessing

    return multiprocessing.get_context("fork").Pool(count, initializer=start,
                                                    initargs=(index.store, schema(index), *args))


class Progress:
    """``Indexing customers 1200/10000`` on stderr, redrawn in place; only on a terminal."""

    def __init__(self, total: int, label: str = "Indexing customers"):
        self.total, self.label, self.done = total, label, 0
        self.shown = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if self.shown and (now - self.last > 0.2 or self.done >= self.total):
            self.last = now
            width = 30
            filled = width * self.done // max(self.total, 1)
            sys.stderr.write(f"\r{self.label} [{'#' * filled}{'-' * (width - filled)}] {self.done}/{self.total}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def fill(index: Index, racy_ns: int) -> bool:
    """Build an empty index with worker processes; False (nothing done) when it is not empty, the store is
    small or there is one core: then the ordinary catch-up builds it."""
    count = jobs()
    db = index.db
    if count < 2 or db.execute("SELECT EXISTS (SELECT 1 FROM customers) OR EXISTS (SELECT 1 FROM journals)"
                               ).fetchone()[0]:
        return False
    cids = list(index.store.customer_ids())
    if len(cids) < PARALLEL_FROM:
        return False
    head = index_fresh.head(index.store)
    now = index_fresh.work_tree(index.store, index.base)  # before reading, as refresh does
    racy_after = time.time_ns() - racy_ns
    progress = Progress(len(cids))
    chunks = [(cids[i:i + CHUNK], racy_after) for i in range(0, len(cids), CHUNK)]
    with pool(count, index) as workers:
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("SELECT EXISTS (SELECT 1 FROM customers)").fetchone()[0]:  # another process won
                db.execute("ROLLBACK")
                return True
            offset = 0
            for (chunk, _), rows in zip(chunks, workers.imap(_rows, chunks), strict=True):
                offset = _insert(db, rows, offset)
                progress(len(chunk))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('head', ?)", (head,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('work_tree', ?)",
                       (None if now is None else json.dumps(sorted(now)),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            progress.close()
    return True


def catch_up(index: Index, racy_ns: int) -> None:
    """``index.refresh()``; an empty index of a large store is built by ``fill`` instead."""
    if not fill(index, racy_ns):
        index.refresh()


# -- does the index agree with the files? --------------------------------------------------------------------------
def digests(db: sqlite3.Connection, only: Iterable[str] | None = None) -> dict[str, str]:
    """One digest per customer of every row the index holds for it (``only`` those customers)."""
    where = ""
    if only is not None:
        db.execute("CREATE TEMP TABLE IF NOT EXISTS verify (id TEXT PRIMARY KEY)")
        db.execute("DELETE FROM temp.verify")
        db.executemany("INSERT OR IGNORE INTO temp.verify VALUES (?)", ((c,) for c in only))
    hashes: dict[str, Any] = {}
    for name, columns, order in tables(db):
        key = _key(columns)
        if key is None:
            continue
        kept = [c for c in columns if c not in SKIP_COLUMNS and c != key]
        # a problem names its file relative to the current directory: only whether there is one counts
        picked = ", ".join("problem IS NULL" if c == "problem" else f'"{c}"' for c in kept) or "1"
        where = f" WHERE {key} IN (SELECT id FROM temp.verify)" if only is not None else ""
        for cid, *values in db.execute(f"SELECT {key}, {picked} FROM {name}{where} ORDER BY {key}, {order}"):
            _hasher(hashes, cid).update(repr((name, values)).encode())
    where = " WHERE c.id IN (SELECT id FROM temp.verify)" if only is not None else ""
    for cid, text in db.execute(f"SELECT c.id, t.folded FROM {PROFILES} c JOIN texts t ON t.rowid = c.n{where} "
                                "ORDER BY c.id"):
        _hasher(hashes, cid).update(repr(("texts", text)).encode())
    return {cid: h.hexdigest() for cid, h in hashes.items()}


def _hasher(hashes: dict[str, Any], cid: str) -> Any:
    h = hashes.get(cid)
    if h is None:
        h = hashes[cid] = hashlib.blake2b(digest_size=16)
    return h


def expected(scratch: Index, cids: Iterable[str], racy_after: int) -> dict[str, str | None]:
    """{customer: digest of the rows its files give} for each of ``cids``; None when they give none."""
    out: dict[str, str | None] = {}
    for cid in cids:
        scratch.db.execute("BEGIN")
        try:
            derive(scratch, cid, racy_after)
            out[cid] = digests(scratch.db).get(cid)
            dump(scratch.db)
        finally:
            scratch.db.execute("COMMIT")
    return out


def repair(index: Index, cids: Iterable[str], racy_ns: int) -> None:
    """Rebuild the rows of ``cids`` from their files (a customer without a folder loses its rows)."""
    racy_after = time.time_ns() - racy_ns
    index.db.execute("BEGIN IMMEDIATE")
    try:
        for cid in cids:
            for name, columns, _ in tables(index.db):
                key = _key(columns)
                if key is not None and name != PROFILES:
                    index.db.execute(f"DELETE FROM {name} WHERE {key} = ?", (cid,))
            index._delete([cid])
            if os.path.isdir(os.path.dirname(index._path(cid))):
                derive(index, cid, racy_after)
        index.db.execute("COMMIT")
    except BaseException:
        index.db.execute("ROLLBACK")
        raise
