"""The records store: finding it, reading records, and changing them safely.

Layout (see README "Records format")::

    crm.yaml                         settings and format version
    customers/<sh>/<id>/customer.yaml   profile; <sh> = first two characters of the id
    customers/<sh>/<id>/journal/<year>.yaml   append-only events of that customer
    <git-dir>/crm/                   lock, transaction journal, caches (never in the work tree:
                                     no clone, pull or push carries them)

Every change goes through ``Store.transaction()``: it takes the store lock,
writes each file atomically (temp file + rename), remembers what each file was
so that a failure (or a crash, on the next run) puts everything back, and ends
with exactly one commit of exactly the paths it touched.
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from crmcli import yamlio
from crmcli.config import Config, load_config
from crmcli.domain import ids, zones
from crmcli.domain.customer import Customer, normalize_name, validate_customer
from crmcli.domain.journal import Entry, instant_key
from crmcli.errors import CrmError, GitError, InvalidRecord, LockTimeout, NotFound
from crmcli.store import git
from crmcli.store.files import make_private, restrict
from crmcli.store.index import after_commit
from crmcli.store.paths import CUSTOMERS, LOCK_TIMEOUT, STATE_DIR, not_regular, state_dir_for
from crmcli.store.transaction import Transaction, recover


class Store:
    def __init__(self, root: Path, *, author: str | None = None, autocommit: bool | None = None,
                 config: Config | None = None):
        self.root = root
        self.config = config if config is not None else load_config(root)
        zones.set_store_zone(self.config.get("timezone"))
        if self.config.private:
            make_private()
            restrict(root)
        self.top = git.find_top(root)
        self.author = author or os.environ.get("CRM_AUTHOR") or None
        self._autocommit = autocommit
        self.state_dir = state_dir_for(root, self.top)
        self.last_commit: str | None = None
        self._user: str | None = None
        self._idents: tuple[git.Ident, git.Ident] | None = None

    # -- who -------------------------------------------------------------------
    def user(self) -> str:
        """Name of the acting user, for ``by:`` and default owners (``--author``, else git's)."""
        if self._user is None:
            if self.author:
                self._user = git.parse_ident(self.author).name
            elif self.top is not None:
                self._user = self.identities()[0].name
            else:
                self._user = os.environ.get("USER", "me")
        return self._user

    def identities(self) -> tuple[git.Ident, git.Ident]:
        """(author, committer) of this store's commits, asked of git once per command."""
        if self._idents is None:
            if self.top is None:
                raise GitError("the store is not in a git repository; run git init there, or use --no-commit")
            self._idents = git.identities(self.top, self.author)
        return self._idents

    # -- paths -----------------------------------------------------------------
    @property
    def autocommit(self) -> bool:
        if self._autocommit is not None:
            return self._autocommit
        return self.config.autocommit

    def rel(self, path: Path) -> str:
        """Path for messages: relative to the current directory when below it."""
        try:
            return os.path.relpath(path)
        except ValueError:
            return str(path)

    def customer_dir(self, cid: str) -> Path:
        return self.root / CUSTOMERS / ids.shard_of(cid) / cid

    def customer_file(self, cid: str) -> Path:
        return self.customer_dir(cid) / "customer.yaml"

    def journal_file(self, cid: str, year: int | str) -> Path:
        return self.customer_dir(cid) / "journal" / f"{year}.yaml"

    def legacy_state_issue(self) -> str | None:
        """"symlink" or "tracked" when ``.crm`` in the work tree makes the store unsafe, else None.

        crm keeps its local state in the git dir; a ``.crm`` that came with a commit, or points
        elsewhere, is someone else's data and must never be taken for crm's own.
        """
        legacy = self.root / STATE_DIR
        try:
            st = os.lstat(legacy)
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(st.st_mode):
            return "symlink"
        if self.top is None:
            return None
        spec = os.path.relpath(legacy, self.top)
        proc = git.run(["--literal-pathspecs", "ls-files", "-z", "--", spec], cwd=self.top, check=False)
        return "tracked" if proc.stdout else None

    def legacy_state_problem(self) -> str | None:
        """The one-line refusal for :meth:`legacy_state_issue`, or None."""
        issue = self.legacy_state_issue()
        rel = self.rel(self.root / STATE_DIR)
        if issue == "symlink":
            return f"{rel} is a symlink (crm never follows it); remove it (rm {rel}) and retry"
        if issue == "tracked":
            return (f"{rel}/ is tracked by git (it came with a commit); crm keeps its local state out of "
                    f"git: untrack it with: git rm -r --cached {rel} && git commit -m 'Untrack {rel}', "
                    "then retry")
        return None

    def check_path(self, path: Path, folders: set[Path] | None = None) -> None:
        """Refuse a record path that leaves the store or goes through a symlink or a special file.

        Every folder from the store root down must be a real folder (never a symlink), and the file
        itself, when it exists, a regular file. ``folders``: ones already found real by this command (a
        transaction of many files), not looked at again; those found now are added.
        """
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            raise InvalidRecord(f"{path}: outside the records store {self.rel(self.root)}") from None
        if not rel.parts or ".." in rel.parts:
            raise InvalidRecord(f"{self.rel(path)}: not a file inside the records store")
        here = self.root
        for i, part in enumerate(rel.parts):
            here = here / part
            last = i == len(rel.parts) - 1
            if not last and folders is not None and here in folders:
                continue
            try:
                st = os.lstat(here)
            except FileNotFoundError:
                return
            if (last and not stat.S_ISREG(st.st_mode)) or (not last and not stat.S_ISDIR(st.st_mode)):
                raise InvalidRecord(not_regular(self.rel(here), st.st_mode, folder=not last))
            if not last and folders is not None:
                folders.add(here)

    # -- reading -----------------------------------------------------------------
    def customer_ids(self) -> Iterator[str]:
        base = self.root / CUSTOMERS
        try:
            shards = sorted(e.name for e in os.scandir(base)
                            if e.is_dir(follow_symlinks=False) and not e.name.startswith("."))
        except FileNotFoundError:
            return
        for shard in shards:
            for entry in sorted(os.scandir(base / shard), key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
                    yield entry.name

    def exists(self, cid: str) -> bool:
        return ids.is_valid_customer_id(cid) and self.customer_file(cid).is_file()

    def read_bytes(self, path: Path) -> bytes:
        """A record file's bytes; never through a symlink, never from a folder, FIFO or device."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EMLINK):
                raise InvalidRecord(not_regular(self.rel(path), stat.S_IFLNK)) from None
            if exc.errno in (errno.ENXIO, errno.EISDIR):
                raise InvalidRecord(not_regular(self.rel(path), os.lstat(path).st_mode)) from None
            raise
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                raise InvalidRecord(not_regular(self.rel(path), mode))
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def read_text(self, path: Path) -> str:
        try:
            return self.read_bytes(path).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRecord(f"{self.rel(path)}: not UTF-8 text; re-save it as UTF-8") from None

    def load_customer(self, cid: str, *, validate: bool = True) -> Customer:
        path = self.customer_file(cid)
        for folder in (path.parent.parent, path.parent):
            with contextlib.suppress(FileNotFoundError):
                mode = os.lstat(folder).st_mode
                if not stat.S_ISDIR(mode):
                    raise InvalidRecord(not_regular(self.rel(folder), mode, folder=True))
        try:
            text = self.read_text(path)
        except FileNotFoundError:
            raise NotFound(f"customer {cid!r} not found") from None
        data = yamlio.loads(text, self.rel(path))
        if validate:
            issues = validate_customer(data, self.config)
            if issues:
                keys, message = issues[0]
                line = yamlio.key_line(text, keys)
                where = f"{self.rel(path)}:{line}" if line else self.rel(path)
                raise InvalidRecord(f"{where}: {message}; fix the file (crm customer edit {cid}) and retry")
        return Customer(cid, data if isinstance(data, dict) else {}, str(path))

    def iter_customers(self, *, validate: bool = False) -> Iterator[Customer]:
        for cid in self.customer_ids():
            yield self.load_customer(cid, validate=validate)

    def journal_files(self, cid: str) -> list[Path]:
        folder = self.customer_dir(cid) / "journal"
        with contextlib.suppress(FileNotFoundError):
            mode = os.lstat(folder).st_mode
            if not stat.S_ISDIR(mode):
                raise InvalidRecord(not_regular(self.rel(folder), mode, folder=True))
        try:
            return sorted(folder / n for n in os.listdir(folder) if n.endswith(".yaml"))
        except FileNotFoundError:
            return []

    def load_journal(self, cid: str) -> list[Entry]:
        """All events of a customer, oldest first (by time, then file order)."""
        entries: list[Entry] = []
        for path in self.journal_files(cid):
            data = self._parse_journal(path, self.read_text(path)) or []
            for i, item in enumerate(data):
                if isinstance(item, dict):
                    entries.append(Entry(item, str(path), i))
        # By the real instant (09:00+08:00 is before 05:00+00:00), never by the text; the sort is
        # stable, so events of one instant keep file order: the later-written one is the newer.
        entries.sort(key=instant_key)
        return entries

    def check_journal(self, path: Path) -> None:
        """Raise ``InvalidRecord`` (path:line) unless the journal file is absent or a readable list of events."""
        try:
            text = self.read_text(path)
        except FileNotFoundError:
            return
        self._parse_journal(path, text)

    def _parse_journal(self, path: Path, text: str) -> list | None:
        rel = self.rel(path)
        conflict = yamlio.CONFLICT_RE.search(text) if "=======" in text else None
        if conflict:
            line = text.count("\n", 0, conflict.start()) + 1
            raise InvalidRecord(f"{rel}:{line}: unmerged git conflict markers; resolve the conflict "
                                "(keep the right lines, delete the markers), commit, and retry")
        data = yamlio.loads(text, rel)
        if data is not None and not isinstance(data, list):
            raise InvalidRecord(f"{rel}:1: a journal must be a list of events (- at: ...); "
                                "fix the file or restore it with git, then retry")
        return data

    # -- finding customers ---------------------------------------------------------
    def _shard_candidates(self, prefix: str) -> list[str]:
        base = self.root / CUSTOMERS
        if len(prefix) >= 2:
            shards = [ids.shard_of(prefix)]
        else:
            try:
                shards = [n for n in os.listdir(base) if n.startswith(prefix)]
            except FileNotFoundError:
                return []
        found = []
        for shard in shards:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                found += [n for n in os.listdir(base / shard) if n.startswith(prefix)]
        return sorted(found)

    def resolve(self, ref: str) -> str:
        """Customer id from an id or a unique id prefix (from the folder names), else from what
        ``crmcli.store.lookup`` finds: the name, part of it, its pinyin or initials, the id's suffix."""
        ref = ref.strip()
        if not ref:
            raise NotFound("no customer given; pass an id, an id prefix, the name or part of it")
        lowered = ref.lower()
        matches: list[str] = []
        if ids.is_valid_customer_id(lowered):
            if self.customer_file(lowered).is_file():
                return lowered
            matches = self._shard_candidates(lowered)
            if len(matches) == 1:
                return matches[0]
        if not ids.is_cjk(ref):  # an exact Latin name, from the folder its id was made from (no index);
            by_name = self._by_name(ref)  # Chinese needs pypinyin for that (0.3 s): the index is quicker
            if len(by_name) == 1:
                return by_name[0]
        from crmcli.store import lookup  # opens the index: only for what the folder names cannot answer

        return lookup.resolve(self, ref, matches)

    def _by_name(self, name: str) -> list[str]:
        if "\0" in name or len(name) > 400:
            return []
        wanted = normalize_name(name)
        slug = ids.slugify(name)
        hits = []
        for cid in self._shard_candidates(slug):
            if cid.rsplit("-", 1)[0] != slug:
                continue
            with contextlib.suppress(CrmError, OSError):
                if normalize_name(self.load_customer(cid, validate=False).name) == wanted:
                    hits.append(cid)
        return hits

    # -- changing ------------------------------------------------------------------
    def recover_pending(self) -> None:
        """Undo a transaction a crash cut short, before anything reads its half-written files.

        Skipped while another process holds the lock: its transaction is alive, not crashed.
        """
        if not (self.state_dir / "txn" / "manifest.jsonl").exists():
            return
        with contextlib.suppress(LockTimeout), self.lock(timeout=0):
            recover(self)

    @contextlib.contextmanager
    def lock(self, timeout: float | None = None) -> Iterator[None]:
        import fcntl

        limit = LOCK_TIMEOUT if timeout is None else timeout
        self.state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state_dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + limit
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() > deadline:
                        raise LockTimeout(f"another crm command has held {self.rel(self.state_dir / 'lock')} "
                                          f"for {limit:g}s; wait for it to finish and retry") from None
                    time.sleep(0.02)
            yield
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def transaction(self, message: str, *, action: str, customer: str | None = None,
                    bulk: bool = False) -> Iterator[Transaction]:
        with self.lock():
            recover(self)
            tx = Transaction(self, bulk=bulk)
            try:
                yield tx
                tx.finish(message, action=action, customer=customer)
            except BaseException:
                tx.rollback()
                raise
            after_commit(self, tx.commit, tx.changed_paths(), tx.parsed)  # never fails: the next read catches up

