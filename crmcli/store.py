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
import difflib
import errno
import json
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmcli import dates, git, ids, yamlio
from crmcli.config import CONFIG_NAME, Config, default_config_text, load_config
from crmcli.errors import CrmError, GitError, InvalidRecord, LockTimeout, NotFound, StoreError
from crmcli.model import Customer, normalize_name, oversized, validate_customer

STATE_DIR = ".crm"  # legacy place of the local state; now refused when tracked or a symlink
CUSTOMERS = "customers"
GITIGNORE = "# Derived, rebuildable, never shared (crmcli)\n.crm/\n"
GITATTRIBUTES = (
    "# Journals are append-only lists: concurrent appends merge by keeping both (crmcli)\n"
    "customers/*/*/journal/*.yaml merge=union\n"
)
LOCK_TIMEOUT = float(os.environ.get("CRM_LOCK_TIMEOUT", "60"))


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


def init_store(path: Path, *, name: str | None = None, author: str | None = None,
               commit: bool = True, private: bool = False) -> Store:
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
            _restrict(path)
        if git.find_top(path) is None:
            git.init(path)
        return _init_files(path, name, author, commit, private)
    except BaseException:
        if created:
            import shutil

            shutil.rmtree(path, ignore_errors=True)
        raise


def make_private() -> None:
    """Owner-only permissions for every file and folder this process (and the git it runs) creates.

    git follows the umask as long as ``core.sharedRepository`` is left at its default.
    """
    os.umask(0o077)


def _restrict(folder: Path) -> None:
    """The store folder itself owner-only: nothing below it can be reached by others."""
    mode = folder.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(folder, mode & 0o700)


def _init_files(path: Path, name: str | None, author: str | None, commit: bool, private: bool = False) -> Store:
    store_name = name or path.resolve().name
    files = {
        CONFIG_NAME: default_config_text(store_name, private=private),
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


@dataclass
class Entry:
    """One journal event with where it came from."""

    data: dict
    path: str
    index: int

    @property
    def at(self) -> str:
        return str(self.data.get("at", ""))

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))


def _refuse_oversized(data: Any, where: str) -> None:
    for _keys, message in oversized(data):
        raise InvalidRecord(f"{where}: {message}")


def _instant_key(entry: Entry) -> tuple[float, str]:
    """Sort key of an event: seconds since the epoch of its ``at``; unreadable ones sort first by text."""
    try:
        return dates.parse_iso(entry.at).timestamp(), ""
    except (dates.DateError, OverflowError, ValueError):
        return float("-inf"), entry.at


class Store:
    def __init__(self, root: Path, *, author: str | None = None, autocommit: bool | None = None,
                 config: Config | None = None):
        self.root = root
        self.config = config if config is not None else load_config(root)
        if self.config.private:
            make_private()
            _restrict(root)
        self.top = git.find_top(root)
        self.author = author or os.environ.get("CRM_AUTHOR") or None
        self._autocommit = autocommit
        self.state_dir = state_dir_for(root, self.top)
        self.last_commit: str | None = None
        self._user: str | None = None

    # -- who -------------------------------------------------------------------
    def user(self) -> str:
        """Name of the acting user, for ``by:`` and default owners (``--author``, else git's)."""
        if self._user is None:
            if self.author:
                self._user = git.parse_ident(self.author).name
            elif self.top is not None:
                self._user = git.identities(self.top, None)[0].name
            else:
                self._user = os.environ.get("USER", "me")
        return self._user

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

    def check_path(self, path: Path) -> None:
        """Refuse a record path that leaves the store or goes through a symlink or a special file.

        Every folder from the store root down must be a real folder (never a symlink), and the file
        itself, when it exists, a regular file.
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
            try:
                st = os.lstat(here)
            except FileNotFoundError:
                return
            last = i == len(rel.parts) - 1
            if (last and not stat.S_ISREG(st.st_mode)) or (not last and not stat.S_ISDIR(st.st_mode)):
                raise InvalidRecord(_not_regular(self.rel(here), st.st_mode, folder=not last))

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
                raise InvalidRecord(_not_regular(self.rel(path), stat.S_IFLNK)) from None
            if exc.errno in (errno.ENXIO, errno.EISDIR):
                raise InvalidRecord(_not_regular(self.rel(path), os.lstat(path).st_mode)) from None
            raise
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                raise InvalidRecord(_not_regular(self.rel(path), mode))
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
                    raise InvalidRecord(_not_regular(self.rel(folder), mode, folder=True))
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
                raise InvalidRecord(_not_regular(self.rel(folder), mode, folder=True))
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
        entries.sort(key=_instant_key)
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
        """Customer id from an id, a unique id prefix, or an exact name."""
        ref = ref.strip()
        if not ref:
            raise NotFound("no customer given; pass an id, an id prefix or the exact name")
        lowered = ref.lower()
        if ids.is_valid_customer_id(lowered):
            if self.customer_file(lowered).is_file():
                return lowered
            matches = self._shard_candidates(lowered)
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                by_name = self._by_name(ref)  # "Acme" names one customer even when "Acme Corp" exists too
                if len(by_name) == 1:
                    return by_name[0]
                raise NotFound(f"customer {ref!r} is ambiguous: {self._describe(matches)}; give more of the id")
        by_name = self._by_name(ref)
        if len(by_name) == 1:
            return by_name[0]
        if len(by_name) > 1:
            raise NotFound(f"several customers are named {ref!r}: {self._describe(by_name)}; use the id")
        raise NotFound(f"no customer {ref!r}{self._suggest(ref)}")

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

    def _describe(self, cids: list[str], limit: int = 5) -> str:
        parts = []
        for cid in cids[:limit]:
            try:
                parts.append(f"{cid} ({self.load_customer(cid, validate=False).name})")
            except CrmError:
                parts.append(cid)
        more = f" and {len(cids) - limit} more" if len(cids) > limit else ""
        return ", ".join(parts) + more

    def _suggest(self, ref: str) -> str:
        slug = ids.slugify(ref) if not ids.is_valid_customer_id(ref.lower()) else ref.lower()
        pool = self._shard_candidates(slug[:1]) if slug else []
        close = difflib.get_close_matches(slug, pool, n=3, cutoff=0.5)
        if not close:
            close = [c for c in pool if c.startswith(slug[:3])][:3]
        return f"; did you mean: {self._describe(close)}?" if close else "; see crm customer list"

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


class Transaction:
    """Files changed by one command; all of them or none of them."""

    def __init__(self, store: Store, *, bulk: bool = False):
        self.store = store
        self.bulk = bulk
        self.originals: dict[Path, bytes | None] = {}
        # what this transaction wrote, so appends and the commit never re-read files
        self.contents: dict[Path, bytes | None] = {}
        self._dirs: set[Path] = set()
        self.created_dirs: list[Path] = []
        self.commit: str | None = None
        self._manifest: Any = None
        self._backups = store.state_dir / "txn"
        self._base: str | None = None

    # The manifest lets the next command undo a transaction a crash cut short.
    def _remember(self, path: Path) -> None:
        if path in self.originals:
            return
        self.store.check_path(path)  # never through a symlink, never over a folder, FIFO or device
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
            _atomic_write(self._backups / backup, original, sync=not self.bulk)
        rel = path.relative_to(self.store.root).as_posix()  # store-relative: recovery resolves it again
        self._manifest.write(json.dumps({"path": rel, "backup": backup}) + "\n")
        self._manifest.flush()
        if not self.bulk:
            os.fsync(self._manifest.fileno())

    def _start_manifest(self) -> None:
        if self.store.top is not None and self.store.autocommit:
            with contextlib.suppress(CrmError):
                self._base = git.head_state(self.store.top)[1]
        self._backups.mkdir(parents=True, exist_ok=True)
        self._manifest = open(self._backups / "manifest.jsonl", "w", encoding="utf-8")
        self._manifest.write(json.dumps({"base": self._base}) + "\n")

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
        self._mkdirs(path.parent)
        data = text.encode("utf-8")
        _atomic_write(path, data, sync=not self.bulk)
        self.contents[path] = data

    def append(self, path: Path, text: str) -> None:
        self._remember(path)
        current = self.contents.get(path, self.originals[path]) or b""
        if current and not current.endswith(b"\n"):
            current += b"\n"
        self._mkdirs(path.parent)
        data = current + text.encode("utf-8")
        _atomic_write(path, data, sync=not self.bulk)
        self.contents[path] = data

    def delete(self, path: Path) -> None:
        self._remember(path)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self.contents[path] = None
        self._dirs.clear()  # pruning may have removed folders we knew
        _prune_empty(path.parent, self.store.root / CUSTOMERS)

    def write_customer(self, customer: Customer) -> None:
        data = customer.to_dict()
        _refuse_oversized(data, self.store.rel(self.store.customer_file(customer.id)))
        if self.store.config.get("sensitive_fields"):  # encrypt before anything touches the disk
            from crmcli import crypto

            data = crypto.seal_customer(self.store.config, data)
        self.write(self.store.customer_file(customer.id), yamlio.dumps(data))

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
            if action != "store.init":
                self._refuse_hand_edits(top, changed, rels)
            data = {rel: self.contents[p] for rel, p in zip(rels, changed, strict=True)}
            self.commit = git.commit_paths(top, rels, full, author=self.store.author, contents=data)
            self.store.last_commit = self.commit
        self._close_manifest()

    def _refuse_hand_edits(self, top: Path, changed: list[Path], rels: list[str]) -> None:
        """Refuse to fold uncommitted edits of a file into this command's commit (two git calls).

        A file this command rewrote must have been exactly as committed in HEAD before it touched
        it; otherwise the commit (and a later ``crm undo``) would swallow the hand edit.
        """
        heads = git.head_blob_ids(top, rels)
        for path, head in zip(changed, heads, strict=True):
            original = self.originals[path]
            if (None if original is None else git.blob_id(original)) == head:
                continue
            rel = self.store.rel(path)
            what = "is not committed" if head is None else "has uncommitted changes"
            raise GitError(f"{rel} {what}; crm will not fold them into its own commit: review them with "
                           f"git diff -- {rel} (or git status), commit them (git add {rel} && git commit) "
                           f"or discard them (git checkout -- {rel}), then retry")
        # The work tree is as committed; the index must be too, or refreshing it would drop a staged edit.
        staged = git.staged_paths(top, rels)
        for path, rel_top in zip(changed, rels, strict=True):
            if rel_top in staged:
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
                    _atomic_write(path, original, sync=False)
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
    base = records[0].get("base") if records and isinstance(records[0], dict) else None
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
                    _atomic_write(path, source.read_bytes(), sync=True)
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


def _not_regular(rel: str, mode: int, *, folder: bool = False) -> str:
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
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _atomic_write(path: Path, data: bytes, *, sync: bool) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()  # a failed write leaves nothing behind
        raise
