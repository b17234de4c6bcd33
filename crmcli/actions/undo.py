"""`crm undo`: revert the last commit the tool made, as a new commit.

Undo never undoes an undo: a second ``crm undo`` skips the first one and the
commit it reverted, and reverts the change before (``git revert`` of an undo
commit brings a change back).

Only a commit carrying crm's ``Crm-Action`` trailer is undone, and only when
its files have no uncommitted changes; anything else is refused so that a
person's own commits and work are never touched.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from crmcli.errors import GitError
from crmcli.store import git
from crmcli.store.store import Store


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


_REVERTS = "This reverts commit "
_BATCH = 200


@dataclass
class _Commit:
    sha: str
    subject: str
    trailers: dict[str, str]
    reverts: str | None


def _history(top: Path, head: str) -> Iterator[_Commit]:
    """Commits from ``head`` backwards along first parents, read in batches."""
    skip = 0
    while True:
        out = git.run(["log", "--first-parent", f"--skip={skip}", f"-n{_BATCH}", "--format=%H%x00%s%x00%B%x1e",
                       head], cwd=top).stdout.decode("utf-8", "replace")
        records = [r.strip("\n") for r in out.split("\x1e") if r.strip("\n")]
        for record in records:
            sha, subject, body = (record.split("\0", 2) + ["", ""])[:3]
            reverts = None
            for line in body.splitlines():
                if line.startswith(_REVERTS):
                    reverts = line[len(_REVERTS):].rstrip(".").strip()
            yield _Commit(sha, subject, _trailers(body), reverts)
        if len(records) < _BATCH:
            return
        skip += _BATCH


def undo_target(store: Store) -> tuple[str, str]:
    """(commit, subject) that ``crm undo`` would revert now.

    Undo never undoes an undo: the commits an earlier ``crm undo`` reverted are
    skipped with it, so running ``crm undo`` again steps one more change back.
    """
    top = store.top
    if top is None:
        raise GitError("this store is not in a git repository; there is nothing to undo")
    _, head = git.head_state(top)
    if head is None:
        raise GitError("nothing to undo: the repository has no commits yet")
    undone: set[str] = set()
    stepped = False
    for commit in _history(top, head):
        action = commit.trailers.get("Crm-Action")
        if action == "undo":
            if commit.reverts:
                undone.add(commit.reverts)
            stepped = True
            continue
        if commit.sha in undone:
            continue
        if action is None:
            which = "the last commit" if not stepped else "the last commit not yet undone"
            raise GitError(f"{which} ({commit.sha[:8]} {commit.subject!r}) was not made by crm; undo it with git "
                           "(git revert) if you mean to")
        if action == "store.init":
            if stepped:
                raise GitError("nothing left to undo: every change since the store was created is undone")
            raise GitError("nothing to undo: the last commit created the store")
        return commit.sha, commit.subject
    raise GitError("nothing to undo: no commit made by crm was found")


def undo_last(store: Store) -> Undone:
    """Revert the newest crm commit not already undone, as a new commit."""
    target, subject = undo_target(store)
    top = store.top
    assert top is not None
    _, head = git.head_state(top)
    trailers = _trailers(git.run(["log", "-1", "--format=%B", target], cwd=top).stdout.decode("utf-8", "replace"))
    names = git.run(["diff-tree", "-r", "--root", "--no-commit-id", "--name-only", "-z", target],
                    cwd=top).stdout.decode("utf-8").split("\0")
    paths = [p for p in names if p]
    root_rel = os.path.relpath(store.root, top)
    outside = [p for p in paths if root_rel != "." and not p.startswith(root_rel + "/")]
    if outside:
        raise GitError(f"the last commit touches files outside the store ({outside[0]}); undo it with git")
    dirty = git.staged_or_dirty(top, paths) if paths else []
    if dirty:
        raise GitError(f"{dirty[0]} has uncommitted changes; commit or discard them (git status) before undo")
    if target != head:
        # Only the commits between are undo pairs; still, never revert onto files that moved since.
        now = git.read_blobs(top, [f"{head}:{p}" for p in paths])
        then = git.read_blobs(top, [f"{target}:{p}" for p in paths])
        moved = [p for p, a, b in zip(paths, now, then, strict=True) if a != b]
        if moved:
            raise GitError(f"{moved[0]} changed after {target[:8]} {subject!r}; undo it with git (git revert) "
                           "if you mean to")
    parents = git.run(["rev-list", "--parents", "-n1", target], cwd=top).stdout.decode().split()[1:]
    old = git.read_blobs(top, [f"{parents[0]}:{p}" for p in paths]) if parents else [None] * len(paths)
    message = f'Undo "{subject}"\n\n{_REVERTS}{target}.'
    with store.transaction(message, action="undo", customer=trailers.get("Crm-Customer")) as tx:
        for rel, data in zip(paths, old, strict=True):
            path = top / rel
            if data is None:
                tx.delete(path)
            else:
                tx.write(path, data.decode("utf-8"))
    return Undone(target, subject, paths, tx.commit)
