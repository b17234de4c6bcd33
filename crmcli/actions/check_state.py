"""What `crm check` may skip: the customers that were clean at the last check and have not changed since.

The last check leaves, in the store's local state folder (next to the index): the commit it checked,
the customers that had uncommitted changes then, and the emails of every customer it found clean (the
duplicate-email check needs them all). The next check asks git what changed since:
``git diff --name-only <that commit> HEAD`` (a pull, a reset, a checkout, crm's own commits) and
``git status`` (hand edits, new and deleted files, uncommitted or not; git compares its index's stat
data, and re-reads a file it cannot trust by it). A customer named there, one uncommitted at the last
check (an edit since undone), one with a problem then, and one new is read again; the rest are not.
A change of ``crm.yaml`` or of crmcli, or a commit git no longer has, re-reads everything.
"""
from __future__ import annotations

import hashlib
import marshal
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmcli import __version__
from crmcli.config import CONFIG_NAME
from crmcli.store import git
from crmcli.store.files import atomic_write
from crmcli.store.paths import CUSTOMERS
from crmcli.store.store import Store

STATE_NAME = "check-state.marshal"
FORMAT = 4  # 4: by git (commit and uncommitted customers), replacing the stat data of every file
OLD_CACHE = "check-cache.marshal"  # what format 3 kept: removed on the first write


@dataclass
class State:
    head: str | None  # the commit checked
    dirty: set[str] = field(default_factory=set)  # customers with uncommitted changes then
    clean: dict[str, list] = field(default_factory=dict)  # customer -> its emails, for those clean then


def key(store: Store) -> str:
    """Changes when anything a per-customer check depends on beyond the folder changes."""
    digest = hashlib.sha256(f"{FORMAT}\0{__version__}\0{os.getcwd()}\0".encode())  # messages name paths from here
    try:
        digest.update((store.root / CONFIG_NAME).read_bytes())
    except OSError:
        pass
    return digest.hexdigest()


def load(store: Store, want: str) -> State | None:
    try:
        data = marshal.loads((store.state_dir / STATE_NAME).read_bytes())
        if isinstance(data, dict) and data.get("key") == want:
            return State(data["head"], set(data["dirty"]), dict(data["clean"]))
    except (OSError, EOFError, ValueError, TypeError, KeyError):
        pass
    return None


def save(store: Store, want: str, state: State) -> None:
    try:
        store.state_dir.mkdir(parents=True, exist_ok=True)
        data = {"key": want, "head": state.head, "dirty": sorted(state.dirty), "clean": state.clean}
        atomic_write(store.state_dir / STATE_NAME, marshal.dumps(data), sync=False)
        (store.state_dir / OLD_CACHE).unlink(missing_ok=True)
    except OSError:
        pass  # state that cannot be written only costs time next run


def head(store: Store) -> str | None:
    if store.top is None:
        return None
    proc = git.run(["rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd=store.top, check=False)
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def _customers(store: Store, names: list[bytes]) -> set[str]:
    """The customer ids in paths relative to the top of the work tree."""
    assert store.top is not None
    base = store.root / CUSTOMERS
    out = set()
    for name in names:
        if not name:
            continue
        parts = Path(os.path.relpath(os.path.join(store.top, name.decode("utf-8", "replace")), base)).parts
        if len(parts) >= 2 and parts[0] != "..":
            out.add(parts[1])
    return out


def uncommitted(store: Store) -> set[str] | None:
    """Customers whose files differ from HEAD in the work tree or git's index (untracked and ignored files too)."""
    if store.top is None:
        return None
    scope = os.path.relpath(store.root / CUSTOMERS, store.top)
    proc = git.run(["status", "--porcelain", "-z", "--untracked-files=all", "--ignored=matching", "--no-renames",
                    "--", scope], cwd=store.top, check=False)
    if proc.returncode != 0:
        return None
    return _customers(store, [item[3:] for item in proc.stdout.split(b"\0")])


def changed(store: Store, old: State, now: str | None, dirty: set[str]) -> set[str] | None:
    """Customers that may differ from what the last check read; None when git cannot say (read everything)."""
    moved: set[str] = set()
    if old.head != now:
        if old.head is None or now is None or store.top is None:
            return None
        scope = os.path.relpath(store.root / CUSTOMERS, store.top)
        proc = git.run(["diff", "--name-only", "-z", "--no-renames", old.head, now, "--", scope], cwd=store.top,
                       check=False)
        if proc.returncode != 0:  # the old commit is gone (gc after a reset)
            return None
        moved = _customers(store, proc.stdout.split(b"\0"))
    return moved | dirty | old.dirty


def skippable(store: Store, full: bool) -> tuple[str, State | None, dict[str, Any]]:
    """(the state key, the state to save after this check, {customer: emails} of those this check may skip).

    No state to save when git cannot say what is uncommitted (outside a repository): every check reads all.
    """
    want = key(store)
    now = head(store)
    dirty = uncommitted(store)
    if dirty is None:
        return want, None, {}
    old = None if full else load(store, want)
    fresh = State(now, dirty)
    if old is None:
        return want, fresh, {}
    moved = changed(store, old, now, dirty)
    if moved is None:
        return want, fresh, {}
    return want, fresh, {cid: emails for cid, emails in old.clean.items() if cid not in moved}
