"""Words for shell completion: customer ids and names, owners, vocabularies, deal/ticket/task ids.

Fast on purpose (a shell waits for it): customers and owners come from the derived SQLite index (caught up
with git first, which costs a ``git diff`` and a stat per profile), ids from the entities cache.
"""
from __future__ import annotations

from crmcli.domain.customer import normalize_name
from crmcli.store import refs
from crmcli.store.index import open_index
from crmcli.store.store import Store


def _rows(store: Store, sql: str) -> list[tuple]:
    """Rows of the derived index, caught up with git and hand edits first (as every command does)."""
    with open_index(store) as index:
        return list(index.db.execute(sql))


def customers(store: Store, incomplete: str) -> list[tuple[str, str]]:
    """(word, help) pairs: ids that start with ``incomplete``, or whose name does (the help is the name); a name
    without spaces that starts with it is offered as itself too."""
    rows = _rows(store, "SELECT id, name FROM customers WHERE problem IS NULL ORDER BY id")
    wanted = incomplete.casefold()
    key = normalize_name(incomplete)
    out: list[tuple[str, str]] = []
    for cid, name in rows:
        name = name or ""
        by_name = bool(key) and normalize_name(name).startswith(key)
        if cid.startswith(wanted) or by_name or not incomplete:
            out.append((cid, name))
        if by_name and name and not any(ch.isspace() for ch in name) and not cid.startswith(wanted):
            out.append((name, cid))
    return out


def owners(store: Store, incomplete: str) -> list[str]:
    """Owners of customers (as the index keeps them: case-folded, which is how --owner compares)."""
    rows = _rows(store, "SELECT DISTINCT owner FROM customers WHERE owner IS NOT NULL AND owner != ''")
    return sorted(str(o) for (o,) in rows if str(o).startswith(incomplete.casefold()))


def vocabulary(store: Store, what: str, incomplete: str) -> list[str]:
    """Words of crm.yaml: interaction_types, lifecycle_stages, stages (the pipeline's), tiers, kinds."""
    config = store.config
    words = {"interaction_types": lambda: config.interaction_types, "lifecycle_stages": lambda: config.lifecycle_stages,
             "stages": lambda: config.stages, "tiers": lambda: config.tiers, "kinds": lambda: config.kinds}[what]()
    return [w for w in words if w.casefold().startswith(incomplete.casefold())]


def record_ids(store: Store, prefix: str, incomplete: str) -> list[tuple[str, str]]:
    """(id, customer) of deals (``opp``), tickets (``tkt``) or tasks (``task``) whose id starts with ``incomplete``
    (or, typed without the prefix, whose suffix does)."""
    known = refs.known_ids(store)
    wanted = incomplete.casefold()
    out = []
    for local_id, cids in sorted(known.items()):
        if local_id.startswith(prefix + "-") and (local_id.startswith(wanted)
                                                   or local_id.removeprefix(prefix + "-").startswith(wanted)):
            out.append((local_id, ", ".join(cids)))
    return out
