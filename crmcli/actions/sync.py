"""Team work over git: `crm sync` and `crm diff`.

Sync is fetch, rebase (or merge) and push on the store's repository, under
the store lock. It commits nothing: uncommitted record changes stop it. A
conflict git cannot resolve is aborted at once, so the store is never left
half-merged, and reported by customer and field. Journals never conflict
(one event per line, union merge); profiles do when two people change the
same field, which is a real disagreement only a person can settle.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from crmcli import yamlio
from crmcli.actions.history import describe_changes, describe_entry
from crmcli.domain import dates
from crmcli.errors import CrmError, GitError, UsageError
from crmcli.store import git
from crmcli.store.paths import CUSTOMERS
from crmcli.store.store import Store


class NoRemote(GitError):
    """The repository has no remote: there is nothing to sync with (offline work is fine)."""


class SyncConflict(GitError):
    """Two people changed the same thing; nothing was changed locally."""


@dataclass
class SyncResult:
    remote: str
    branch: str
    incoming: int = 0
    outgoing: int = 0
    pushed: bool = False
    incoming_customers: list[str] = field(default_factory=list)

    def summary(self) -> str:
        def n(count: int) -> str:
            return f"{count} commit{'s' if count != 1 else ''}"
        where = f"{self.remote}/{self.branch}"
        if not self.incoming and not self.outgoing:
            return f"Up to date with {where}."
        return f"Synced with {where}: {n(self.incoming)} in, {n(self.outgoing)} out."


def _out(top: Path, *args: str) -> str:
    return git.run(list(args), cwd=top).stdout.decode("utf-8", "replace").strip()


def _try(top: Path, *args: str) -> str | None:
    proc = git.run(list(args), cwd=top, check=False)
    return proc.stdout.decode("utf-8", "replace").strip() if proc.returncode == 0 else None


def _upstream(top: Path) -> tuple[str, str]:
    ref, _ = git.head_state(top)
    branch = ref.removeprefix("refs/heads/")
    remote = _try(top, "config", f"branch.{branch}.remote")
    merge = _try(top, "config", f"branch.{branch}.merge")
    if remote and merge:
        return remote, merge.removeprefix("refs/heads/")
    remotes = [r for r in _out(top, "remote").splitlines() if r]
    if not remotes:
        raise NoRemote("no git remote to sync with; offline work is fine, share it later after "
                       "git remote add origin URL")
    return ("origin" if "origin" in remotes else remotes[0]), branch


def sync(store: Store, *, merge: bool = False, push: bool = True) -> SyncResult:
    top = store.top
    if top is None:
        raise GitError("this store is not in a git repository; crm sync needs one (git init, then add a remote)")
    with store.lock():
        remote, branch = _upstream(top)
        root_rel = os.path.relpath(store.root, top)
        dirty = git.staged_or_dirty(top, [root_rel])
        if dirty:
            raise UsageError(f"{len(dirty)} uncommitted change(s) in the records, e.g. {dirty[0]}; crm sync "
                             "commits nothing by surprise: commit them (git commit) or discard them first")
        _remote_op(top, remote, "fetch from", ["fetch", "--quiet", remote])
        result = SyncResult(remote, branch)
        upstream = f"refs/remotes/{remote}/{branch}"
        has_upstream = _try(top, "rev-parse", "-q", "--verify", upstream) is not None
        if has_upstream:
            result.incoming = int(_out(top, "rev-list", "--count", f"HEAD..{upstream}"))
            if result.incoming:
                before = _out(top, "rev-parse", "HEAD")
                _integrate(store, top, upstream, merge)
                result.incoming_customers = _changed_customers(store, top, before, "HEAD")
            result.outgoing = int(_out(top, "rev-list", "--count", f"{upstream}..HEAD"))
        else:
            result.outgoing = int(_out(top, "rev-list", "--count", "HEAD"))
        if push and result.outgoing:
            args = ["push", "--quiet"] + ([] if has_upstream else ["-u"]) + [remote, f"HEAD:refs/heads/{branch}"]
            _remote_op(top, remote, "push to", args)
            result.pushed = True
        return result


def git_reason(stderr: bytes) -> str:
    """All of git's explanation on one line: every line counts (the last alone is often just
    "and the repository exists."), without the repeated "fatal:"/"error:" prefixes and hints."""
    parts: list[str] = []
    for line in stderr.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line or line.startswith("hint:"):
            continue
        for prefix in ("fatal: ", "error: ", "remote: "):
            line = line.removeprefix(prefix)
        if parts and not parts[-1].endswith((".", ":", ";")) and line[:1].islower():
            parts[-1] += " " + line  # a sentence git wrapped over two lines
        else:
            parts.append(line)
    return "; ".join(p.rstrip(";") for p in parts) or "no reason given"


def _remote_op(top: Path, remote: str, what: str, args: list[str]) -> None:
    proc = git.run(args, cwd=top, check=False)
    if proc.returncode == 0:
        return
    url = _try(top, "remote", "get-url", remote) or remote
    kept = "nothing was changed here" if what.startswith("fetch") else "your commits are kept here"
    raise GitError(f"cannot {what} {remote} ({url}): {git_reason(proc.stderr)}; {kept}. "
                   "Check the address (git remote -v), your network and access rights, then crm sync again")


def _integrate(store: Store, top: Path, upstream: str, merge: bool) -> None:
    args = ["merge", "--no-edit", "-q", upstream] if merge else ["rebase", "-q", upstream]
    proc = git.run(args, cwd=top, check=False)
    if proc.returncode == 0:
        return
    conflicted = _out(top, "diff", "--name-only", "--diff-filter=U").splitlines()
    ours = _try(top, "rev-parse", "-q", "--verify", "HEAD") or ""
    theirs = _try(top, "rev-parse", "-q", "--verify", "REBASE_HEAD" if not merge else "MERGE_HEAD") or upstream
    git.run(["merge" if merge else "rebase", "--abort"], cwd=top, check=False)
    if not merge:  # during a rebase HEAD is the remote's side and REBASE_HEAD is ours
        ours, theirs = theirs, ours
    if not conflicted:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {'merge' if merge else 'rebase'} failed: {detail[-1] if detail else 'unknown error'}")
    raise SyncConflict(_describe_conflict(store, top, conflicted, ours, theirs, merge))


def _describe_conflict(store: Store, top: Path, paths: list[str], ours: str, theirs: str, merge: bool) -> str:
    first = paths[0]
    where = first
    fields: list[str] = []
    if first.endswith("customer.yaml"):
        base = _try(top, "merge-base", ours, theirs)
        blobs = git.read_blobs(top, [f"{c}:{first}" for c in (base or ours, ours, theirs)])
        docs = []
        for blob in blobs:
            try:
                docs.append(yamlio.loads(blob.decode("utf-8"), first) if blob else {})
            except CrmError:
                docs.append({})
        b, o, t = (d if isinstance(d, dict) else {} for d in docs)
        for key in list(o) + [k for k in t if k not in o]:
            if o.get(key) != b.get(key) and t.get(key) != b.get(key) and o.get(key) != t.get(key):
                fields.append(f"{key} ({_short(o.get(key))} here, {_short(t.get(key))} there)")
        name = o.get("name") or t.get("name") or Path(first).parent.name
        where = f"{name} ({Path(first).parent.name})"
    what = f"field {', '.join(fields)}" if fields else "the same lines"
    more = f" and {len(paths) - 1} more file(s)" if len(paths) > 1 else ""
    how = "git pull --no-rebase" if merge else "git pull --rebase"
    return (f"conflict: {where}: {what} changed on both sides{more}; nothing was changed here. "
            f"Resolve it by hand: {how}, edit {first}, git add it, git "
            f"{'commit' if merge else 'rebase --continue'}, then crm sync")


def _short(value: object) -> str:
    text = str(value) if value is not None else "(none)"
    return text if len(text) <= 30 else text[:27] + "..."


def _changed_customers(store: Store, top: Path, old: str, new: str) -> list[str]:
    prefix = os.path.relpath(store.root / CUSTOMERS, top)
    names = _out(top, "diff", "--name-only", old, new, "--", prefix).splitlines()
    seen: list[str] = []
    for name in names:
        parts = Path(name).relative_to(prefix).parts if prefix != "." else Path(name).parts
        if len(parts) >= 3 and parts[1] not in seen:
            seen.append(parts[1])
    return seen


# -- crm diff -------------------------------------------------------------------------------------
@dataclass
class CustomerDiff:
    customer: str
    name: str
    changes: list[str]

    def to_dict(self) -> dict:
        return {"customer": self.customer, "name": self.name, "changes": self.changes}


def resolve_base(store: Store, since: str | None, rev: str | None) -> str:
    top = store.top
    if top is None:
        raise GitError("this store is not in a git repository, so there is nothing to compare with")
    if rev:
        found = _try(top, "rev-parse", "-q", "--verify", f"{rev}^{{commit}}")
        if not found:
            raise UsageError(f"{rev!r} is not a commit or branch in this repository")
        return found

    when = dates.parse_since(since or "7d")
    found = _try(top, "rev-list", "-1", f"--before={dates.iso(when)}", "HEAD")
    if found:
        return found
    # Everything is newer than WHEN: compare with the empty tree.
    return _out(top, "hash-object", "-t", "tree", "/dev/null")


def store_diff(store: Store, base: str) -> list[CustomerDiff]:
    """What changed in each customer between ``base`` and the work tree, in words."""

    top = store.top
    assert top is not None
    prefix = os.path.relpath(store.root / CUSTOMERS, top)
    names = _out(top, "diff", "--name-only", "--no-renames", base, "--", prefix).splitlines()
    names += [n for n in _out(top, "ls-files", "--others", "--exclude-standard", "--", prefix).splitlines()
              if n not in names]
    by_customer: dict[str, list[str]] = {}
    for name in names:
        parts = Path(name).parts[len(Path(prefix).parts):] if prefix != "." else Path(name).parts
        if len(parts) >= 3:
            by_customer.setdefault(parts[1], []).append(name)
    out: list[CustomerDiff] = []
    for cid, paths in sorted(by_customer.items()):
        olds = git.read_blobs(top, [f"{base}:{p}" for p in paths])
        changes: list[str] = []
        name = cid
        for path, old in zip(paths, olds, strict=True):
            try:  # never through a symlink, never from a FIFO or device
                new_text: str | None = store.read_bytes(top / path).decode("utf-8", "replace")
            except (FileNotFoundError, CrmError):
                new_text = None
            old_text = old.decode("utf-8", "replace") if old is not None else None
            if path.endswith("customer.yaml"):
                before = _load(old_text, path)
                after = _load(new_text, path)
                name = str((after or before or {}).get("name", cid))
                if not before:
                    changes.append("added")
                elif not after:
                    changes.append("removed")
                else:
                    changes += describe_changes(before, after)
            elif "/journal/" in path:
                changes += _journal_words(old_text or "", new_text or "", path)
        out.append(CustomerDiff(cid, name, changes))
    return out


def _load(text: str | None, path: str) -> dict | None:
    if text is None:
        return None
    try:
        data = yamlio.loads(text, path)
    except CrmError:
        return {"(unreadable)": path}
    return data if isinstance(data, dict) else {}


def _journal_words(old: str, new: str, path: str) -> list[str]:
    """Events added (one line each), counted for interactions, described for the rest."""

    old_lines = set(old.splitlines())
    added = [line for line in new.splitlines() if line.startswith("- ") and line not in old_lines]
    counts: Counter[str] = Counter()
    words: list[str] = []
    for line in added:
        try:
            items = yamlio.loads(line, path)
        except CrmError:
            continue
        entry = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else None
        if entry is None:
            continue
        kind = str(entry.get("kind", "event"))
        if "." in kind:
            words.append(describe_entry(entry))
        else:
            counts[kind] += 1
    logged = [f"{n} {kind}{'s' if n != 1 else ''} logged" for kind, n in sorted(counts.items())]
    return logged + words
