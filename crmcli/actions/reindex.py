"""`crm reindex`: delete the derived index and build it again from the files."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crmcli.store import index
from crmcli.store.store import Store


@dataclass(frozen=True)
class Reindexed:
    path: Path          # the index file
    customers: int      # profiles indexed
    unreadable: int     # customer.yaml files that could not be read (``crm check`` names them)
    contacts: int
    tokenizer: str      # the FTS5 tokenizer of this sqlite build: trigram, or unicode61
    seconds: float


def reindex(store: Store) -> Reindexed:
    """Rebuild the index of ``store`` from its files; what it now holds."""
    with store.lock():  # no crm write in between: the index reflects exactly one commit
        done = index.rebuild(store)
    return Reindexed(**done)
