"""Which customers the index must look at again (``crmcli.store.index``), asked of git rather than of every file.

Two questions, both answered by git in C from its own data:
- ``moved``: what changed between the commit the index reflects and HEAD (``git diff --name-only``);
- ``work_tree``: which customers' files differ from HEAD in the work tree: modified, deleted, typechanged,
  staged or untracked (``git status --porcelain -unormal``). git decides from the stat data in its own
  index (``.git/index``), re-hashing only files whose stat data changed (and "racily clean" ones), and
  finds new files and folders with its untracked cache (``core.untrackedCache``: one ``stat`` per folder,
  no ``readdir`` of unchanged ones).

``git status`` may write refreshed stat data and the untracked cache back into ``.git/index`` (as a
user's own ``git status`` does); it does so only while this process holds the store's lock, so it never
races crm's own commits; otherwise it runs with ``--no-optional-locks`` and writes nothing.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from crmcli.errors import LockTimeout
from crmcli.store import git

if TYPE_CHECKING:
    from crmcli.store.store import Store

_STATUS = ["-c", "core.untrackedCache=true", "status", "--porcelain", "-z", "--untracked-files=normal",
           "--no-renames", "--ignore-submodules"]


def head(store: Store) -> str | None:
    if store.top is None:
        return None
    proc = git.run(["rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd=store.top, check=False)
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def _parts(top: str, base: str, name: str) -> tuple[str, ...]:
    return Path(os.path.relpath(os.path.join(top, name), base)).parts


def moved(store: Store, base: str, old: str | None, new: str | None) -> tuple[set[str], set[str]] | None:
    """Customers whose profile, and whose journal, differ between two commits; None: re-read all."""
    if old == new:
        return set(), set()
    if old is None or new is None or store.top is None:
        return None
    scope = os.path.relpath(base, store.top)
    proc = git.run(["diff", "--name-only", "-z", "--no-renames", old, new, "--", scope], cwd=store.top,
                   check=False)
    if proc.returncode != 0:  # the old commit is gone (gc after a reset): re-read everything
        return None
    found: tuple[set[str], set[str]] = (set(), set())
    for name in proc.stdout.decode("utf-8", "replace").split("\0"):
        parts = _parts(str(store.top), base, name)
        if len(parts) == 3 and parts[2] == "customer.yaml":
            found[0].add(parts[1])
        elif len(parts) >= 4 and parts[2] == "journal":
            found[1].add(parts[1])
    return found


def is_folder(cid: str, profile: str) -> bool:
    """``cid`` (its ``customer.yaml`` at ``profile``) is a customer folder ``Store.customer_ids`` would list:
    no leading dot, the folder and its shard real folders, not symlinks."""
    folder = os.path.dirname(profile)
    try:
        return not cid.startswith(".") and all(stat.S_ISDIR(os.lstat(p).st_mode)
                                               for p in (os.path.dirname(folder), folder))
    except OSError:
        return False


def _status(store: Store) -> bytes | None:
    assert store.top is not None
    proc = None
    with contextlib.suppress(LockTimeout, OSError), store.lock(timeout=0):
        proc = git.run(_STATUS, cwd=store.top, check=False)
    if proc is None:  # another crm command holds the lock (or it cannot be taken): read only
        proc = git.run(["--no-optional-locks", *_STATUS], cwd=store.top, check=False)
    return proc.stdout if proc.returncode == 0 else None


def work_tree(store: Store, base: str) -> set[str] | None:
    """Customers with a file that differs from HEAD in the work tree or git's index (new folders
    included); None when git cannot say (then every file is looked at)."""
    if store.top is None:
        return None
    out = _status(store)
    if out is None:
        return None
    top, found = str(store.top), set[str]()
    for item in out.split(b"\0"):
        if len(item) < 4:
            continue
        path = os.path.join(top, item[3:].decode("utf-8", "surrogateescape"))
        parts = Path(os.path.relpath(path, base)).parts
        if not parts or parts[0] in (".", ".."):
            if not os.path.relpath(base, path).startswith(".."):
                return None  # the customers folder itself, or a folder holding it, is untracked
            continue
        if len(parts) == 1:  # a whole untracked shard folder: every customer in it
            with contextlib.suppress(OSError), os.scandir(os.path.join(base, parts[0])) as it:
                found.update(e.name for e in it if e.is_dir(follow_symlinks=False))
            continue
        found.add(parts[1])
    return found


def unsettled(db: sqlite3.Connection) -> set[str]:
    """Customers with a file whose stat data the index stored as unknown (written within the racy window):
    git does not name them once they are committed, so the next read looks at them again and settles them."""
    return {row[0] for row in db.execute(
        "SELECT id FROM customers WHERE st_mtime = -1 UNION SELECT customer FROM journals WHERE st_mtime = -1")}
