"""One transaction: every file a command changes, written atomically, committed once, or none of them.

The manifest in ``<git-dir>/crm/txn/`` lets the next command undo a transaction a crash cut short
(``recover``); it only ever names store-relative paths with no symlink on the way.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmcli import crypto, yamlio
from crmcli.domain.customer import CUSTOMER_FIELDS, Customer, oversized
from crmcli.errors import CrmError, GitError, InvalidRecord
from crmcli.store import git
from crmcli.store.files import atomic_write
from crmcli.store.gitstate import Inspection, inspect
from crmcli.store.paths import CUSTOMERS

if TYPE_CHECKING:
    from crmcli.store.store import Store


def _refuse_oversized(data: Any, where: str) -> None:
    for _keys, message in oversized(data):
        raise InvalidRecord(f"{where}: {message}")


class Transaction:
    """Files changed by one command; all of them or none of them."""

    def __init__(self, store: Store, *, bulk: bool = False):
        self.store = store
        self.bulk = bulk
        self.originals: dict[Path, bytes | None] = {}
        # what this transaction wrote, so appends and the commit never re-read files
        self.contents: dict[Path, bytes | None] = {}
        # what ``yamlio.loads`` gives for a file as written, when the writer knows it: the index takes it from here
        # instead of parsing the file again (``crmcli.store.index.after_commit``)
        self.parsed: dict[Path, list] = {}
        self._dirs: set[Path] = set()
        self._real: set[Path] = set()  # folders check_path found real (not symlinks) in this transaction
        self.created_dirs: list[Path] = []
        self.commit: str | None = None
        self._manifest: Any = None
        self._backups = store.state_dir / "txn"

    # The manifest lets the next command undo a transaction a crash cut short.
    def _remember(self, path: Path) -> None:
        if path in self.originals:
            return
        self.store.check_path(path, self._real)  # never through a symlink, never over a folder, FIFO or device
        if self._manifest is None:
            self._start_manifest()
        try:
            original: bytes | None = self.store.read_bytes(path)
        except FileNotFoundError:
            original = None
        self.originals[path] = original
        backup = ""
        if original is not None:
            backup = str(len(self.originals))
            atomic_write(self._backups / backup, original, sync=not self.bulk)
        rel = path.relative_to(self.store.root).as_posix()  # store-relative: recovery resolves it again
        self._manifest.write(json.dumps({"path": rel, "backup": backup}) + "\n")
        self._manifest.flush()
        if not self.bulk:
            os.fsync(self._manifest.fileno())

    def _start_manifest(self) -> None:
        self._backups.mkdir(parents=True, exist_ok=True)
        self._manifest = open(self._backups / "manifest.jsonl", "w", encoding="utf-8")
        self._manifest.write(json.dumps({"base": None}) + "\n")  # no commit yet; see _record_base

    def _record_base(self, commit: str | None) -> None:
        """Note the commit this transaction's commit will follow, before it is made.

        Recovery compares it with HEAD: moved means the commit was made and only the index may lag.
        """
        self._manifest.write(json.dumps({"base": commit}) + "\n")
        self._manifest.flush()
        if not self.bulk:
            os.fsync(self._manifest.fileno())

    def _mkdirs(self, folder: Path) -> None:
        if folder in self._dirs:
            return
        self._dirs.add(folder)
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for d in reversed(missing):
            d.mkdir()
            self.created_dirs.append(d)

    def write(self, path: Path, text: str) -> None:
        self._remember(path)
        self.parsed.pop(path, None)
        self._mkdirs(path.parent)
        data = text.encode("utf-8")
        atomic_write(path, data, sync=not self.bulk)
        self.contents[path] = data

    def append(self, path: Path, text: str, entries: list | None = None) -> None:
        """Add ``text`` to the end of a file; ``entries``: what ``yamlio.loads(text)`` gives (``text`` is
        ``yamlio.dump_entry`` of each), kept for the index when the whole file's parsed form is then known."""
        self._remember(path)
        current = self.contents.get(path, self.originals[path]) or b""
        known = self.parsed.pop(path, [] if not current else None)
        if current and not current.endswith(b"\n"):
            current += b"\n"
        self._mkdirs(path.parent)
        data = current + text.encode("utf-8")
        atomic_write(path, data, sync=not self.bulk)
        self.contents[path] = data
        if known is not None and entries:
            self.parsed[path] = known + entries

    def delete(self, path: Path) -> None:
        self._remember(path)
        self.parsed.pop(path, None)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self.contents[path] = None
        self._dirs.clear()  # pruning may have removed folders we knew
        self._real.clear()
        _prune_empty(path.parent, self.store.root / CUSTOMERS)

    def write_customer(self, customer: Customer, *, keep_layout: bool = False) -> None:
        """Write the profile; ``keep_layout`` changes the file as the person left it (comments, key order) and
        rewrites only what differs, instead of writing the canonical form."""
        path = self.store.customer_file(customer.id)
        data = customer.to_dict()
        _refuse_oversized(data, self.store.rel(path))
        if self.store.config.get("sensitive_fields"):  # encrypt before anything touches the disk

            data = crypto.seal_customer(self.store.config, data)
        text = None
        if keep_layout:
            self._remember(path)
            original = self.originals.get(path)
            if original:
                text = yamlio.update_text(original.decode("utf-8"), data, CUSTOMER_FIELDS)
        self.write(path, text if text is not None else yamlio.dumps(data))

    def append_entry(self, cid: str, entry: dict) -> None:
        _refuse_oversized(entry, "the new event")
        year = str(entry.get("at", ""))[:4] or time.strftime("%Y")
        path = self.store.journal_file(cid, year)
        if path not in self.contents:  # first touch in this transaction: never build on damage
            profile = self.store.customer_file(cid)
            if profile not in self.contents:
                self.store.load_customer(cid, validate=True)
            self.store.check_journal(path)
        self.append(path, yamlio.dump_entry(entry))

    def changed_paths(self) -> list[Path]:
        return list(self.originals)

    def finish(self, message: str, *, action: str, customer: str | None) -> None:
        if self.bulk:
            os.sync()
        top = self.store.top
        changed = [p for p, original in self.originals.items() if self.contents.get(p, original) != original]
        if top is not None and self.store.autocommit and changed:
            trailers = [f"Crm-Action: {action}"]
            if customer:
                trailers.append(f"Crm-Customer: {customer}")
            full = f"{message}\n\n" + "\n".join(trailers) + "\n"
            rels = [os.path.relpath(p, top) for p in changed]
            state = inspect(top, rels)  # one git status: the branch, HEAD's blobs, staged paths
            if action != "store.init":
                self._refuse_hand_edits(changed, rels, state)
            idents = self.store.identities()
            if state.ref is None:
                raise GitError(git.detached_advice(top))
            data = {rel: self.contents[p] for rel, p in zip(rels, changed, strict=True)}
            self._record_base(state.commit)
            self.commit = git.commit_paths(top, rels, full, contents=data, idents=idents,
                                           head=(state.ref, state.commit))
            self.store.last_commit = self.commit
        self._close_manifest()

    def _refuse_hand_edits(self, changed: list[Path], rels: list[str], state: Inspection) -> None:
        """Refuse to fold uncommitted edits of a file into this command's commit.

        A file this command rewrote must have been exactly as committed in HEAD before it touched
        it; otherwise the commit (and a later ``crm undo``) would swallow the hand edit.
        """
        for path, rel_top in zip(changed, rels, strict=True):
            head = state.in_head[rel_top]
            original = self.originals[path]
            if (None if original is None else git.blob_id(original)) == head:
                continue
            rel = self.store.rel(path)
            what = "is not committed" if head is None else "has uncommitted changes"
            raise GitError(f"{rel} {what}; crm will not fold them into its own commit: review them with "
                           f"git diff -- {rel} (or git status), commit them (git add {rel} && git commit) "
                           f"or discard them (git checkout -- {rel}), then retry")
        # The work tree is as committed; the index must be too, or refreshing it would drop a staged edit.
        for path, rel_top in zip(changed, rels, strict=True):
            if rel_top in state.staged:
                rel = self.store.rel(path)
                raise GitError(f"{rel} has staged changes (git add); crm will not fold them into its own commit "
                               f"nor drop them: review them with git diff --cached -- {rel}, commit them (git "
                               f"commit) or unstage them (git restore --staged -- {rel}), then retry")

    def _close_manifest(self) -> None:
        if self._manifest is not None:
            self._manifest.close()
            self._manifest = None
            _remove_tree(self._backups)

    def rollback(self) -> None:
        for path, original in reversed(list(self.originals.items())):
            with contextlib.suppress(OSError):
                if original is None:
                    path.unlink(missing_ok=True)
                else:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    atomic_write(path, original, sync=False)
        for d in reversed(self.created_dirs):
            with contextlib.suppress(OSError):
                d.rmdir()
        if self.originals and self.store.top is not None and self.commit is None:
            # put index entries back too, in case git got as far as staging them
            with contextlib.suppress(CrmError):
                git.run(["update-index", "-q", "--refresh"], cwd=self.store.top, check=False)
        self._close_manifest()


def recover(store: Store) -> bool:
    """Undo a transaction that a crash cut short; True when one was found.

    The manifest lives in the git dir, where no clone, pull or push puts it; even so each of its
    paths must be store-relative and resolve inside the store with no symlink on the way, and each
    backup a plain file of the transaction folder: anything else is skipped, never followed.
    """
    folder = store.state_dir / "txn"
    manifest = folder / "manifest.jsonl"
    if not manifest.exists():
        return False
    lines = manifest.read_text(encoding="utf-8").splitlines()
    records = []
    for line in lines:
        with contextlib.suppress(ValueError):
            records.append(json.loads(line))
    # the first line says where the transaction started; a later {"base": ...} the commit it followed
    bases = [r["base"] for r in records if isinstance(r, dict) and "base" in r and "path" not in r]
    base = bases[-1] if bases and isinstance(bases[-1], str) else None
    paths: list[tuple[Path, str]] = []
    for rec in records[1:]:
        path = _recoverable(store, rec)
        if path is not None:
            backup = rec.get("backup") or ""
            paths.append((path, backup if isinstance(backup, str) and backup.isdigit() else ""))
    for path, _ in paths:
        _remove_debris(path)  # a kill between a temp file's write and its rename
    committed = False
    if base and store.top is not None:
        with contextlib.suppress(CrmError):
            committed = git.head_state(store.top)[1] != base
    if committed and store.top is not None:
        # the crash may have come between the commit and the refresh of its paths in the index
        rels = [os.path.relpath(path, store.top) for path, _ in paths]
        with contextlib.suppress(CrmError, OSError):
            git.refresh_index_if_committed(store.top, rels)
    if not committed:
        for path, backup in reversed(paths):
            with contextlib.suppress(OSError, CrmError):
                if backup:
                    source = folder / backup
                    if not stat.S_ISREG(os.lstat(source).st_mode):
                        continue
                    path.parent.mkdir(parents=True, exist_ok=True)
                    store.check_path(path)
                    atomic_write(path, source.read_bytes(), sync=True)
                else:
                    path.unlink(missing_ok=True)
                    _prune_empty(path.parent, store.root)
    _remove_tree(folder)
    return True


def _recoverable(store: Store, rec: Any) -> Path | None:
    """The store path a manifest record names, or None when it is not a safe store-relative path."""
    if not isinstance(rec, dict) or not isinstance(rec.get("path"), str):
        return None
    rel = rec["path"]
    if not rel or "\0" in rel or rel.startswith("/") or os.path.isabs(rel) or "\\" in rel:
        return None
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts) or parts[0] == ".git":
        return None
    path = store.root.joinpath(*parts)
    try:
        store.check_path(path)
    except CrmError:
        return None
    return path


def _remove_debris(path: Path) -> None:
    """Temp files of atomic writes to ``path`` that a kill left behind (``.NAME.PID.tmp``)."""
    prefix = f".{path.name}."
    with contextlib.suppress(OSError):
        for entry in os.scandir(path.parent):
            name = entry.name
            if name.startswith(prefix) and name.endswith(".tmp") and name[len(prefix):-4].isdigit() \
                    and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _prune_empty(folder: Path, stop: Path) -> None:
    if stop not in folder.parents:
        return
    while folder != stop and folder.is_dir():
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _remove_tree(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


