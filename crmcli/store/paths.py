"""Where things are in a store: its folders, the files crm init writes, and where local state lives."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from crmcli.store import git

STATE_DIR = ".crm"  # legacy place of the local state; now refused when tracked or a symlink
CUSTOMERS = "customers"
GITIGNORE = "# Derived, rebuildable, never shared (crmcli)\n.crm/\n"
GITATTRIBUTES = (
    "# Journals are append-only lists: concurrent appends merge by keeping both (crmcli)\n"
    "customers/*/*/journal/*.yaml merge=union\n"
)
LOCK_TIMEOUT = float(os.environ.get("CRM_LOCK_TIMEOUT", "60"))


def state_dir_for(root: Path, top: Path | None) -> Path:
    """Where the local state of the store at ``root`` lives: inside the git dir, which git never transfers."""
    if top is None:
        return root / STATE_DIR
    dotgit = top / ".git"
    if dotgit.is_dir() and not dotgit.is_symlink():
        gitdir = dotgit
    else:  # a linked worktree or submodule: .git is a file naming the real git dir
        out = git.run(["rev-parse", "--absolute-git-dir"], cwd=top).stdout.decode("utf-8").strip()
        gitdir = Path(out)
    rel = os.path.relpath(root, top)
    base = gitdir / "crm"
    return base if rel == "." else base / "stores" / rel.replace("%", "%25").replace(os.sep, "%2F")


def not_regular(rel: str, mode: int, *, folder: bool = False) -> str:
    """Message for a record path that is not what it must be (a regular file, or a real folder)."""
    if stat.S_ISLNK(mode):
        what = "a symlink"
    elif stat.S_ISDIR(mode):
        what = "a folder"
    elif stat.S_ISFIFO(mode):
        what = "a FIFO"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device"
    elif stat.S_ISSOCK(mode):
        what = "a socket"
    elif stat.S_ISREG(mode):
        what = "a file"
    else:
        what = "a special file"
    need = "a folder" if folder else "a regular file"
    return f"{rel}: is {what}, not {need}; crm never reads or writes through it: replace it with {need} " \
           "(git rm it and restore the record from history) and retry"
