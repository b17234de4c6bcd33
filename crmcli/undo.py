"""`crm undo`: revert the last commit the tool made, as a new commit.

Only a commit carrying crm's ``Crm-Action`` trailer is undone, and only when
its files have no uncommitted changes; anything else is refused so that a
person's own commits and work are never touched.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from crmcli import git
from crmcli.errors import GitError
from crmcli.store import Store


@dataclass
class Undone:
    commit: str
    subject: str
    paths: list[str]
    new_commit: str | None


def _trailers(body: str) -> dict[str, str]:
    out = {}
    for line in body.splitlines():
        if line.startswith("Crm-") and ": " in line:
            key, value = line.split(": ", 1)
            out[key] = value.strip()
    return out


def undo_last(store: Store) -> Undone:
    top = store.top
    if top is None:
        raise GitError("this store is not in a git repository; there is nothing to undo")
    _, head = git.head_state(top)
    if head is None:
        raise GitError("nothing to undo: the repository has no commits yet")
    raw = git.run(["log", "-1", "--format=%s%x00%B", head], cwd=top).stdout.decode("utf-8", "replace")
    subject, _, body = raw.partition("\0")
    trailers = _trailers(body)
    action = trailers.get("Crm-Action")
    if action is None:
        raise GitError(f"the last commit ({head[:8]} {subject!r}) was not made by crm; undo it with git "
                       "(git revert) if you mean to")
    if action == "store.init":
        raise GitError("nothing to undo: the last commit created the store")
    names = git.run(["diff-tree", "-r", "--root", "--no-commit-id", "--name-only", "-z", head],
                    cwd=top).stdout.decode("utf-8").split("\0")
    paths = [p for p in names if p]
    root_rel = os.path.relpath(store.root, top)
    outside = [p for p in paths if root_rel != "." and not p.startswith(root_rel + "/")]
    if outside:
        raise GitError(f"the last commit touches files outside the store ({outside[0]}); undo it with git")
    dirty = git.staged_or_dirty(top, paths) if paths else []
    if dirty:
        raise GitError(f"{dirty[0]} has uncommitted changes; commit or discard them (git status) before undo")
    parents = git.run(["rev-list", "--parents", "-n1", head], cwd=top).stdout.decode().split()[1:]
    old = git.read_blobs(top, [f"{parents[0]}:{p}" for p in paths]) if parents else [None] * len(paths)
    message = f'Undo "{subject}"\n\nThis reverts commit {head}.'
    with store.transaction(message, action="undo", customer=trailers.get("Crm-Customer")) as tx:
        for rel, data in zip(paths, old, strict=True):
            path = top / rel
            if data is None:
                tx.delete(path)
            else:
                tx.write(path, data.decode("utf-8"))
    return Undone(head, subject, paths, tx.commit)
