"""Records that live in a customer's journal: deals, tickets, tasks.

An entity is created by an event carrying ``id: <prefix>-xxxx`` (``opp-``,
``tkt-``, ``task-``) and changed by later events that name it (``opp:``,
``ticket:``, ``task:``). Its state is the fold of those events in time order,
so two clones changing the same customer only ever append, and git merges the
journals without conflicts.

A reference is ``CUSTOMER/ID`` (``acme/opp-9x2m``; both parts may be unique
prefixes) or a bare ``ID``. Bare ids are found through the derived index
(``crmcli.store.index``, its events' entity ids): asked as it is first, every hit verified in the
files, and caught up with the files on a miss.
"""
from __future__ import annotations

import contextlib
import os
import re

from crmcli.domain import ids
from crmcli.domain.journal import REF_KEYS, Entry, entity_events
from crmcli.errors import NotFound
from crmcli.store.index import open_index
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
        with open_index(store, catch_up=attempt == 1) as index:
            hits, odd = index.entity_ids(local)
        hits = sorted(set(hits) | {(cid, lid) for cid in odd for lid in _ids_in_files(store, cid)
                                   if lid.startswith(local)})
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


def _ids_in_files(store: Store, cid: str) -> set[str]:
    """Entity ids created in a customer's journal files, found in their text (not YAML)."""
    found: set[str] = set()
    folder = store.root / CUSTOMERS / ids.shard_of(cid) / cid / "journal"
    try:
        names = os.listdir(folder)
    except OSError:
        return found
    for name in names:
        with contextlib.suppress(OSError), open(folder / name, "rb") as fh:
            found.update(m.group(1).decode() for m in _ID_LINE.finditer(fh.read()))
    return found


def known_ids(store: Store) -> dict[str, list[str]]:
    """Every deal, ticket and task id with the customers that hold it, from the index (for shell completion)."""
    known: dict[str, list[str]] = {}
    with open_index(store) as index:
        hits, _ = index.entity_ids("")
    for cid, local_id in hits:
        known.setdefault(local_id, []).append(cid)
    return known
