"""`crm check` over many folders, with both cores, and its look at the index.

Each folder to check is read by ``check_customer`` and, in the same worker, into an empty in-memory
index (``crmcli.store.index_build``): the digest of those rows is what the index must hold for that
customer. After the workers, the index (caught up as every command does) is compared with them, and a
customer whose rows differ is reported and rebuilt from its files.
"""
from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from crmcli.errors import CrmError, Problem
from crmcli.store import index_build
from crmcli.store.index import _RACY_NS, Index, open_index
from crmcli.store.paths import CUSTOMERS
from crmcli.store.store import Store

PARALLEL_FROM = 400  # folders to (re)read before a second process pays for itself
BATCH = 200  # folders per message from a worker: bounds what is in flight

CheckOne = Callable[[Store, str, Path], Any]
_worker: dict[str, Any] = {}


def _start(store: Store, shape: Any, check_one: CheckOne) -> None:
    _worker.update(store=store, check=check_one, scratch=index_build.scratch(store, shape) if shape else None)


def _batch(batch: list[tuple[str, str]]) -> list[tuple[str, Any, str | None]]:
    """(customer, its check result, the digest of the index rows its files give) for each folder."""
    store, check_one, scratch = _worker["store"], _worker["check"], _worker["scratch"]
    out = []
    for cid, folder in batch:
        result = check_one(store, cid, Path(folder))
        digest = index_build.expected(scratch, [cid], time.time_ns())[cid] if scratch is not None else None
        out.append((cid, result, digest))
    return out


def check_many(store: Store, index: Index | None, todo: list[tuple[str, Path]], jobs: int,
               progress: Callable[[int], None] | None, check_one: CheckOne) -> tuple[dict[str, Any], dict]:
    """Check the given folders (in ``jobs`` processes when there are enough): results, and index digests."""
    shape = index_build.schema(index) if index is not None else None
    results: dict[str, Any] = {}
    digests: dict[str, str | None] = {}
    jobs = min(jobs, len(todo) // PARALLEL_FROM + 1)
    size = max(20, min(BATCH, len(todo) // (jobs * 8) or 1))
    batches = [[(cid, str(p)) for cid, p in todo[i:i + size]] for i in range(0, len(todo), size)]
    if jobs > 1:
        import multiprocessing

        pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_start, initargs=(store, shape, check_one))
        done: Iterator = pool.imap(_batch, batches)
    else:
        _start(store, shape, check_one)
        pool, done = None, map(_batch, batches)
    try:
        for batch in done:
            for cid, result, digest in batch:
                results[cid] = result
                digests[cid] = digest
            if progress:
                progress(len(batch))
    finally:
        _worker.clear()
        if pool is not None:
            pool.close()
            pool.join()
    return results, digests


@contextlib.contextmanager
def opened(store: Store) -> Iterator[Index | None]:
    """The store's index caught up with the files, or None when it cannot be opened (nothing to compare)."""
    with contextlib.ExitStack() as stack:
        try:
            index: Index | None = stack.enter_context(open_index(store))
        except (sqlite3.Error, OSError, CrmError):
            index = None
        yield index


def verify(store: Store, index: Index, expected: dict[str, str | None], full: bool) -> list[Problem]:
    """Customers whose rows in the index differ from what their files give: reported, and rebuilt.

    ``full``: every customer folder (those ``expected`` misses are read here) and every customer the
    index holds; else only the customers in ``expected``.
    """
    found = index_build.digests(index.db, None if full else expected)
    if full:
        folders = set(index.store.customer_ids())
        missing = sorted(folders - set(expected))
        if missing:
            scratch = index_build.scratch(store, index_build.schema(index))
            expected = {**expected, **index_build.expected(scratch, missing, time.time_ns())}
        expected.update({cid: None for cid in set(found) - folders})
    wrong = sorted(cid for cid, digest in expected.items() if found.get(cid) != digest)
    if not wrong:
        return []
    index_build.repair(index, wrong, _RACY_NS)
    base = store.root / CUSTOMERS
    return [Problem(store.rel(base / cid[:2] / cid), None,
                    "the index disagreed with these files (a stale or damaged row); its rows were rebuilt "
                    "from the files") for cid in wrong]
