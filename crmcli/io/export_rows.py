"""The rows an export writes, streamed from the index's facts (``crmcli.store.index_facts``).

``open_sheets`` catches the index up, reads the few customers the index cannot stand in for from their
files (naming the unreadable ones in ``problems`` before anything is written), and gives one ``Sheet``
per kind: its columns, its number of rows, and its rows as ``crmcli.analysis.rows.collect`` would give them,
in the same order, read from SQL one at a time while the file is written. Nothing holds every row.

Customers get one more column per free field (``extra.NAME``), so that an export imports back into the
same records; sensitive fields only with ``include_sensitive``.
"""
from __future__ import annotations

import contextlib
import heapq
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from crmcli import yamlio
from crmcli.analysis import rows as tables
from crmcli.domain import dates
from crmcli.errors import UsageError
from crmcli.store import index_facts as facts
from crmcli.store.index import Index, open_index
from crmcli.store.store import Store


class Sheet:
    """One kind's columns and rows: ``len`` is known before the rows are read, and they are read once."""

    def __init__(self, columns: list[str], count: int, rows: Iterator[dict]):
        self.columns, self.count, self.rows = columns, count, rows

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[dict]:
        return self.rows


def _keyed(kind: str, rows: list[dict]) -> list[tuple]:
    """(customer, position among its rows, row) of rows read from the files, in their order."""
    out: list[tuple] = []
    seen: dict[str, int] = {}
    key = "id" if kind == "customers" else "customer"
    for r in rows:
        cid = r[key]
        seen[cid] = seen.get(cid, -1) + 1
        out.append((cid, seen[cid], r))
    return out


def _indexed(index: Index, kind: str, config: facts.WithConfig, now: float) -> Iterator[tuple]:
    """(customer, position, row) of the facts of ``kind``, rows as the files give them, at ``now`` (epoch)."""
    names = facts.columns(kind)
    extra = ["opened_at__s", "first_response_at__s", "resolved_at__s", "closed_at__s"] if kind == "tickets" else []
    keep = [c for c in names if c not in tables.LIST_COLUMNS.get(kind, [])]
    for cid, seq, *values in facts.scan(index.db, kind, keep + extra):
        row = dict(zip(keep, values[:len(keep)], strict=True))
        if kind == "contacts":
            row["primary"] = bool(row["primary"])
        elif kind == "opps":
            row["probability"] = config.probability(row["stage"])
        elif kind == "tickets":
            opened, first_at, resolved, closed = values[len(keep):]
            hours = config.hours(row["priority"], row["category"])
            row["response_due"] = config.due_text(row["opened_at"], hours[0])
            row["resolution_due"] = config.due_text(row["opened_at"], hours[1])
            due = [config.due_seconds(opened, h) for h in hours]
            ends = (first_at if first_at is not None else resolved if resolved is not None else closed,
                    resolved)
            row["response_breached"], row["resolution_breached"] = (
                d is not None and (end if end is not None else now) > d for d, end in zip(due, ends, strict=True))
        if kind in tables.LIST_COLUMNS:
            for c in tables.LIST_COLUMNS[kind]:
                row[c] = None
        yield cid, seq, {c: row[c] for c in names}


@contextlib.contextmanager
def open_sheets(store: Store, kinds: list[str], problems: list[str], *, include_sensitive: bool = False,
                progress: Callable[[int], Any] | None = None) -> Iterator[dict[str, Sheet]]:
    """One ``Sheet`` per kind (list-valued columns left out), readable while the context is open; ``progress(n)``
    hears the number of rows read so far (every 5,000)."""
    now = dates.now()
    config = facts.WithConfig(store.config)
    with open_index(store) as index:
        indexed = {c for (c,) in index.db.execute("SELECT id FROM customers")}
        missing = [c for c in store.customer_ids() if c not in indexed]  # a folder without customer.yaml
        del indexed
        odd = sorted(set(facts.fallback_ids(index.db)) | set(missing))
        disk = tables.collect(store, kinds, problems=problems, cids=odd) if odd else {k: [] for k in kinds}
        facts.skip(index.db, odd)
        extras = _Extras(store, index, include_sensitive) if "customers" in kinds else None
        sheets = {}
        done = [0]  # rows read so far, across the sheets
        for kind in kinds:
            skip = set(tables.LIST_COLUMNS.get(kind, []))
            columns = [c for c in facts.columns(kind) if c not in skip]
            from_disk = _keyed(kind, disk[kind])
            rows: Iterator[Any] = heapq.merge(_indexed(index, kind, config, now.timestamp()), from_disk,
                                              key=lambda r: (r[0], r[1]))
            rows = _project(rows, columns, progress, done)
            if kind == "customers" and extras is not None:
                columns, rows = extras.columns(columns), extras.rows(rows)
            sheets[kind] = Sheet(columns, facts.count(index.db, kind) + len(from_disk), rows)
        yield sheets


def _project(rows: Iterator[tuple], columns: list[str], progress: Callable[[int], Any] | None,
             done: list[int]) -> Iterator[dict]:
    for r in rows:
        yield {c: r[2][c] for c in columns}
        done[0] += 1
        if progress is not None and done[0] % 5000 == 0:
            progress(done[0])


class _Extras:
    """The customers' free fields (``extra.NAME`` columns) and sensitive fields, one profile at a time."""

    def __init__(self, store: Store, index: Index, include_sensitive: bool):
        from crmcli import crypto

        self.store, self.index, self.crypto = store, index, crypto
        self.sensitive = crypto.sensitive_fields(store.config)
        self.identities: list[Any] = []
        if include_sensitive:
            self.identities = crypto.load_identities(store.root)
            if not self.identities:
                raise UsageError(f"--include-sensitive needs your age identity to decrypt the sensitive fields; "
                                 f"none at {crypto.identity_path()} (set CRM_IDENTITY)")
        self.top = [f for f in self.sensitive if not f.startswith("extra.")] if include_sensitive else []
        self.names: list[str] = []
        for cid, profile in index.db.execute("SELECT id, profile FROM customers WHERE problem IS NULL ORDER BY id"):
            data = self._data(cid, profile, decrypt=False)
            extra = data.get("extra")
            for key in extra if isinstance(extra, dict) else ():
                if f"extra.{key}" not in self.names:
                    self.names.append(f"extra.{key}")

    def _profile(self, cid: str, *, decrypt: bool = True) -> dict | None:
        row = self.index.db.execute("SELECT profile FROM customers WHERE id = ? AND problem IS NULL",
                                    (cid,)).fetchone()
        return None if row is None else self._data(cid, row[0], decrypt=decrypt)

    def _data(self, cid: str, profile: str | None, *, decrypt: bool = True) -> dict:
        """A profile as the export shows it: without sensitive fields, or with them decrypted."""
        if profile is not None:
            data = json.loads(profile)
        else:  # a profile JSON cannot hold exactly: from its file
            path = Path(self.index._path(cid))
            data = yamlio.loads(self.store.read_text(path), self.store.rel(path))
        if not self.identities:
            return self.crypto.strip_sensitive(self.store.config, data)
        return _decrypted(self.crypto, data, self.identities) if decrypt else data

    def columns(self, columns: list[str]) -> list[str]:
        columns = columns + [f for f in self.top if f not in columns]
        if not self.names:
            return columns
        created = columns.index("created") if "created" in columns else len(columns)
        return columns[:created] + self.names + columns[created:]

    def rows(self, rows: Iterator[dict]) -> Iterator[dict]:
        for row in rows:
            data: dict = self._profile(row["id"]) or {}
            if self.identities:
                row = {**row, **{f: data.get(f) for f in self.top}}
            else:
                row = {k: v for k, v in row.items() if k not in self.sensitive and not self.crypto.is_sealed(v)}
            extra: dict = data["extra"] if isinstance(data.get("extra"), dict) else {}
            yield {**row, **{n: extra.get(n[6:]) for n in self.names}} if self.names else row


def _decrypted(crypto: Any, data: dict, identities: list[Any]) -> dict:
    out = dict(data)
    if isinstance(out.get("extra"), dict):
        out["extra"] = dict(out["extra"])
    for container in [out] + ([out["extra"]] if isinstance(out.get("extra"), dict) else []):
        for key, value in list(container.items()):
            if crypto.is_sealed(value):
                container[key] = crypto.decrypt(value, identities, key)
    return out
