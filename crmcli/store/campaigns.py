"""Campaign definitions on disk: ``campaigns/NAME.yaml``, one small file each (``crmcli.domain.campaigns``)."""
from __future__ import annotations

from pathlib import Path

from crmcli import yamlio
from crmcli.domain.campaigns import Campaign, check_name, key
from crmcli.errors import NotFound
from crmcli.store.store import Store

FOLDER = "campaigns"


def folder(store: Store) -> Path:
    return store.root / FOLDER


def path(store: Store, name: str) -> Path:
    return folder(store) / f"{check_name(name)}.yaml"


def files(store: Store) -> list[Path]:
    try:
        return sorted(p for p in folder(store).iterdir() if p.suffix == ".yaml" and not p.name.startswith("."))
    except FileNotFoundError:
        return []


def load_file(store: Store, file: Path) -> Campaign:
    rel = store.rel(file)
    return Campaign.from_dict(yamlio.loads(store.read_text(file), rel), rel)


def all_campaigns(store: Store) -> list[Campaign]:
    """Every campaign, by start day then name."""
    found = [load_file(store, p) for p in files(store)]
    return sorted(found, key=lambda c: (c.start or "", key(c.name)))


def find(store: Store, name: str) -> Campaign | None:
    """The campaign of that name (case does not matter), or None."""
    check_name(name)
    exact = path(store, name)
    if exact.is_file():
        return load_file(store, exact)
    for p in files(store):
        if key(p.stem) == key(name):
            return load_file(store, p)
    return None


def load(store: Store, name: str) -> Campaign:
    found = find(store, name)
    if found is None:
        known = ", ".join(p.stem for p in files(store)[:10]) or "none yet; add one with crm campaign add"
        raise NotFound(f"no campaign {name!r} (campaigns: {known})")
    return found
