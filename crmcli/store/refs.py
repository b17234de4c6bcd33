"""Records that live in a customer's journal: deals, tickets, tasks.

An entity is created by an event carrying ``id: <prefix>-xxxx`` (``opp-``,
``tkt-``, ``task-``) and changed by later events that name it (``opp:``,
``ticket:``, ``task:``). Its state is the fold of those events in time order,
so two clones changing the same customer only ever append, and git merges the
journals without conflicts.

A reference is ``CUSTOMER/ID`` (``acme/opp-9x2m``; both parts may be unique
prefixes) or a bare ``ID``. Bare ids are found through a derived index in
``.git/crm/cache/`` that is verified on every hit and rebuilt on a miss.
"""
from __future__ import annotations

import contextlib
import marshal
import os
import re
from pathlib import Path

from crmcli.domain import ids
from crmcli.domain.journal import REF_KEYS, Entry, entity_events
from crmcli.errors import NotFound
from crmcli.store.files import atomic_write
from crmcli.store.paths import CUSTOMERS
from crmcli.store.store import Store

# Block style (``  id: opp-9x2m``) or one-line flow entries (``- {at: ..., id: opp-9x2m, ...}``).
_ID_LINE = re.compile(rb"(?:^  |[{,] )id: ((?:opp|tkt|task)-[0-9a-z]+)(?=\s*(?:[,}]|$))", re.MULTILINE)


def new_local_id(existing: set[str] | dict, prefix: str) -> str:
    for _ in range(50):
        candidate = ids.new_local_id(prefix)
        if candidate not in existing:
            return candidate
    return ids.new_local_id(prefix) + ids.random_suffix(2)


def _local_match(candidates: list[str], wanted: str, prefix: str) -> list[str]:
    wanted = wanted.lower()
    if not wanted.startswith(prefix + "-"):
        wanted = f"{prefix}-{wanted}"
    exact = [c for c in candidates if c == wanted]
    return exact or [c for c in candidates if c.startswith(wanted)]


def resolve_entity(store: Store, ref: str, prefix: str) -> tuple[str, str, list[Entry]]:
    """(customer id, local id, that customer's journal) for a reference."""
    what = REF_KEYS[prefix]
    ref = ref.strip()
    if "/" in ref:
        customer_ref, local = ref.rsplit("/", 1)
        cid = store.resolve(customer_ref)
        journal = store.load_journal(cid)
        found = _local_match(list(entity_events(journal, prefix)), local, prefix)
        if len(found) == 1:
            return cid, found[0], journal
        if found:
            raise NotFound(f"{what} {ref!r} is ambiguous: {', '.join(found[:5])}; give more of the id")
        raise NotFound(f"no {what} {local!r} at {cid}; see crm {'ticket' if prefix == 'tkt' else prefix} list "
                       f"--customer {cid}")
    local = ref.lower() if ref.lower().startswith(prefix + "-") else f"{prefix}-{ref.lower()}"
    if not re.fullmatch(r"[0-9a-z-]+", local):
        raise NotFound(f"{what} {ref!r} is not an id (like {prefix}-9x2m or CUSTOMER/{prefix}-9x2m)")
    for attempt in range(2):
        index = _load_index(store) if attempt == 0 else _rebuild_index(store)
        hits = sorted({(cid, lid) for lid, cids in index.items() if lid.startswith(local) for cid in cids})
        verified = []
        for cid, lid in hits:
            with contextlib.suppress(NotFound):
                journal = store.load_journal(cid)
                if lid in entity_events(journal, prefix):
                    verified.append((cid, lid, journal))
        exact = [v for v in verified if v[1] == local]
        if len(exact) == 1 or len(verified) == 1:
            return (exact or verified)[0]
        if len(verified) > 1:
            listing = ", ".join(f"{c}/{lid}" for c, lid, _ in verified[:5])
            raise NotFound(f"{what} {ref!r} is ambiguous: {listing}; give more of the id or CUSTOMER/ID")
    raise NotFound(f"no {what} {ref!r}; ids look like {prefix}-9x2m (see crm "
                   f"{'ticket' if prefix == 'tkt' else prefix} list)")


def _index_path(store: Store) -> Path:
    return store.state_dir / "cache" / "entities.marshal"


def _load_index(store: Store) -> dict[str, list[str]]:
    try:
        with open(_index_path(store), "rb") as fh:
            data = marshal.loads(fh.read())
        return data if isinstance(data, dict) else {}
    except (OSError, EOFError, ValueError, TypeError):
        return {}


def _save_index(store: Store, index: dict[str, list[str]]) -> None:
    path = _index_path(store)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, marshal.dumps(index), sync=False)


def _rebuild_index(store: Store) -> dict[str, list[str]]:
    """Scan journal text (not YAML) for entity ids: fast enough for 100,000 customers."""
    index: dict[str, list[str]] = {}
    base = store.root / CUSTOMERS
    for cid in store.customer_ids():
        folder = base / ids.shard_of(cid) / cid / "journal"
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            with contextlib.suppress(OSError), open(folder / name, "rb") as fh:
                for m in _ID_LINE.finditer(fh.read()):
                    index.setdefault(m.group(1).decode(), []).append(cid)
    _save_index(store, index)
    return index


def known_ids(store: Store) -> dict[str, list[str]]:
    """Every deal, ticket and task id with the customers that hold it (from the cache; built when missing)."""
    return _load_index(store) if _index_path(store).exists() else _rebuild_index(store)


def remember(store: Store, cid: str, local_id: str) -> None:
    """Add a newly minted id to the index (best effort; the index is derived)."""
    path = _index_path(store)
    if not path.exists():
        return
    index = _load_index(store)
    cids = index.setdefault(local_id, [])
    if cid not in cids:
        cids.append(cid)
        _save_index(store, index)
