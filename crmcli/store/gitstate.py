"""What git says about the paths a commit is about to touch: the branch, HEAD's blobs, staged changes.

One ``git status`` answers all of it for the few paths of an everyday command; a transaction asks it
once, checks that it folds no one's uncommitted work into its commit, then commits on that answer.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from crmcli.store import git


@dataclass(frozen=True)
class Inspection:
    """What a commit of some paths needs to know first, read before anything is committed.

    ``ref`` is None when HEAD is detached (``detached`` says why), ``commit`` None on an unborn
    branch; ``in_head`` maps each path to its blob id in HEAD (None: not there); ``staged`` holds
    the paths whose index entry differs from HEAD (changes staged with ``git add``).
    """
    ref: str | None
    commit: str | None
    in_head: dict[str, str | None]
    staged: frozenset[str]


# Above this many paths, one pathspec each costs more than listing their shards (bulk import).
INSPECT_LIMIT = 64


def inspect(top: Path, paths: Sequence[str]) -> Inspection:
    """The branch, its commit, and each path's blob in HEAD and staged state: one ``git status``.

    ``git status --porcelain=v2 --branch`` names the branch and its commit, and lists every path
    whose work tree, index or HEAD differ, with its blob in HEAD and whether its index entry differs
    from HEAD (untracked and ignored files too). A path it does not list is the same in all three,
    so its blob in HEAD is that of the file on disk. Many paths go through ``head_state``,
    ``head_blob_ids`` and ``staged_paths`` instead, which list whole shards.
    """
    paths = list(dict.fromkeys(paths))
    if len(paths) > INSPECT_LIMIT:
        return _inspect_many(top, paths)
    args = ["--no-optional-locks", "--literal-pathspecs", "status", "--porcelain=v2", "-z", "--branch",
            "--no-ahead-behind", "--no-renames", "--untracked-files=all", "--ignored=traditional", "--", *paths]
    out = git.run(args, cwd=top).stdout.decode("utf-8", "surrogateescape").split("\0")
    branch = oid = None
    in_head: dict[str, str | None] = {}
    staged: set[str] = set()
    items = iter(out)
    for item in items:
        kind, _, rest = item.partition(" ")
        if kind == "#":
            key, _, value = rest.partition(" ")
            if key == "branch.oid":
                oid = value
            elif key == "branch.head":
                branch = value
        elif kind in ("1", "2"):
            # 1 XY sub mH mI mW hH hI path (2: then a score, and the original path after a NUL)
            fields = rest.split(" ", 8 if kind == "2" else 7)
            name = fields[-1]
            in_head[name] = fields[5] if fields[2] != "000000" else None
            if fields[0][0] != "." or kind == "2":
                staged.add(name)
            if kind == "2":
                next(items, None)
        elif kind == "u":  # u XY sub m1 m2 m3 mW h1 h2 h3 path: a merge conflict, never ours to commit
            fields = rest.split(" ", 9)
            in_head[fields[-1]] = fields[7] if fields[3] != "000000" else None
            staged.add(fields[-1])
        elif kind in ("?", "!"):
            in_head[rest] = None  # a folder ("dir/"; a repository inside this one) holds nothing of HEAD
    folders = tuple(name for name, blob in in_head.items() if name.endswith("/") and blob is None)
    for rel in paths:
        if rel in in_head:
            continue
        if rel.startswith(folders):  # inside an untracked or ignored folder listed as one
            in_head[rel] = None
        else:  # unchanged: HEAD holds exactly the file on disk
            try:
                in_head[rel] = git.blob_id((top / rel).read_bytes())
            except FileNotFoundError:
                in_head[rel] = None
    commit = None if oid in (None, "(initial)") else oid
    if branch is None or branch.startswith(("(", "refs/")):  # detached, unknown, or not plainly a branch
        ref = git.symbolic_head(top)
    else:
        ref = "refs/heads/" + branch
    return Inspection(ref, commit, {rel: in_head[rel] for rel in paths}, frozenset(staged.intersection(paths)))


def _inspect_many(top: Path, paths: list[str]) -> Inspection:
    ref = git.symbolic_head(top)
    commit = None
    if ref is not None:
        proc = git.run(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"], cwd=top, check=False)
        commit = proc.stdout.decode().strip() if proc.returncode == 0 else None
    in_head = dict(zip(paths, git.head_blob_ids(top, paths), strict=True))
    return Inspection(ref, commit or None, in_head, frozenset(git.staged_paths(top, paths)))
