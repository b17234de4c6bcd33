"""Finding a store (``--records``, ``$CRM_RECORDS``, the nearest crm.yaml) and creating one."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from crmcli.config import CONFIG_NAME, Config, default_config_text, load_config
from crmcli.errors import StoreError
from crmcli.store import git
from crmcli.store.files import make_private, restrict
from crmcli.store.paths import CUSTOMERS, GITATTRIBUTES, GITIGNORE
from crmcli.store.store import Store


def find_root(records: str | None = None, cwd: Path | None = None) -> Path:
    """The store to use: ``--records``, else ``$CRM_RECORDS``, else the nearest ``crm.yaml`` upwards."""
    explicit = records or os.environ.get("CRM_RECORDS")
    if explicit:
        root = Path(explicit).expanduser()
        if not (root / CONFIG_NAME).is_file():
            source = "--records" if records else "CRM_RECORDS"
            raise StoreError(f"{root}: no records store here ({source}); create one with: crm init {root}")
        return root.resolve()
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise StoreError("no records store found here or above; create one with: crm init [DIR], "
                     "or point to one with --records DIR or CRM_RECORDS")


def open_store(records: str | None = None, *, author: str | None = None,
               autocommit: bool | None = None, guard: bool = True) -> Store:
    """The store, after a crashed transaction is undone.

    ``guard=False`` (for ``crm check``) opens a store whose ``.crm`` is tracked or a symlink
    so that the problem can be reported; nothing there is ever read.
    """
    store = Store(find_root(records), author=author, autocommit=autocommit)
    if guard:
        problem = store.legacy_state_problem()
        if problem:
            raise StoreError(problem)
    store.recover_pending()
    return store


def init_store(path: Path, *, name: str | None = None, author: str | None = None,
               commit: bool = True, private: bool = False, currency: str | None = None) -> Store:
    """Create a store in ``path`` (git-initialised when not inside a repository).

    ``private``: the store folder is made 0700 and everything crm and git create in it
    0600/0700 (``private: true`` in crm.yaml keeps it so for every later command).
    """
    path = path.expanduser()
    if (path / CONFIG_NAME).exists():
        raise StoreError(f"{path / CONFIG_NAME} already exists; this folder is already a records store")
    if path.exists() and not path.is_dir():
        raise StoreError(f"{path} is a file; give a folder for the new store")
    created = not path.exists()
    if private:
        make_private()
    path.mkdir(parents=True, exist_ok=True)
    try:
        if private:
            restrict(path)
        if git.find_top(path) is None:
            git.init(path)
        return _init_files(path, name, author, commit, private, currency)
    except BaseException:
        if created:

            shutil.rmtree(path, ignore_errors=True)
        raise


def _init_files(path: Path, name: str | None, author: str | None, commit: bool, private: bool = False,
                currency: str | None = None) -> Store:
    store_name = name or path.resolve().name
    files = {
        CONFIG_NAME: default_config_text(store_name, private=private, currency=currency),
        ".gitignore": GITIGNORE,
        ".gitattributes": GITATTRIBUTES,
        f"{CUSTOMERS}/.gitkeep": "",
    }
    store = Store(path.resolve(), author=author, autocommit=commit, config=Config())
    with store.transaction(f"Create records store {store_name}", action="store.init") as tx:
        for rel, text in files.items():
            tx.write(store.root / rel, _added_to(store.root / rel, text))
    store.config = load_config(store.root)
    return store


def _added_to(path: Path, text: str) -> str:
    """``text`` after what ``path`` already holds: a repository's own .gitignore/.gitattributes stay."""
    try:
        current = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return text
    rules = [line for line in text.splitlines() if line and not line.startswith("#")]
    if all(rule in current.splitlines() for rule in rules):
        return current
    return current + ("\n" if current and not current.endswith("\n") else "") + text

