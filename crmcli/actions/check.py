"""`crm check`: every problem in the store, each located as ``path:line``.

Checks are plain functions in two lists. ``CUSTOMER_CHECKS`` look at one
customer's folder (its profile and journals) and ``STORE_CHECKS`` across
customers (duplicate emails). Nothing here stops at the first problem: one run
lists them all.

Incremental (``crmcli.actions.check_state``): only the customers git says changed since the last check
(commits, hand edits), and those with a problem then, are read again; ``--all`` reads everything. The
folders read are read with both cores, and the index's rows of those customers are compared with their
files (``crmcli.actions.check_index``).
"""
from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmcli import yamlio
from crmcli.actions import check_index, check_state
from crmcli.actions.campaign import check_campaign_files
from crmcli.actions.kb import check_articles
from crmcli.domain import ids
from crmcli.domain.customer import check_timestamp, oversized, validate_customer
from crmcli.domain.kinds import KINDS
from crmcli.errors import CrmError, Problem
from crmcli.store import index_build
from crmcli.store.paths import CUSTOMERS, STATE_DIR, not_regular
from crmcli.store.store import Store

CONFLICT_RE = yamlio.CONFLICT_RE
TEMP_RE = re.compile(r"^\..+\.\d+\.tmp$")  # what an atomic write leaves when killed before its rename


@dataclass
class Loaded:
    path: Path
    text: str
    data: Any


@dataclass
class Folder:
    """What one customer's folder holds, read once and shared by the per-customer checks."""

    cid: str
    path: Path
    customer: Loaded | None = None
    journals: list[Loaded] = field(default_factory=list)


@dataclass
class CustomerResult:
    """The outcome of checking one folder: what is wrong, and the emails it holds (for store-wide checks)."""

    problems: list[Problem]
    emails: list[tuple[str, str, tuple]]  # (email, rel path, keys): the line is found only when shown


def _read(store: Store, path: Path, problems: list[Problem]) -> Loaded | None:
    rel = store.rel(path)
    try:
        text = store.read_text(path)
    except CrmError as exc:
        problems.append(Problem(rel, None, str(exc).split(": ", 1)[-1]))
        return None
    except OSError as exc:
        problems.append(Problem(rel, None, f"cannot read: {exc.strerror}"))
        return None
    conflict = CONFLICT_RE.search(text)
    if conflict:
        line = text.count("\n", 0, conflict.start()) + 1
        problems.append(Problem(rel, line, "unmerged git conflict markers; resolve the conflict "
                                           "(keep the right lines, delete the markers) and commit"))
        return None
    try:
        data = yamlio.loads(text, rel)
    except yamlio.YamlSyntaxError as exc:
        problems.append(Problem(rel, exc.line, str(exc).split(": ", 1)[-1]))
        return None
    except CrmError as exc:
        problems.append(Problem(rel, None, str(exc)))
        return None
    return Loaded(path, text, data)


def check_profile(store: Store, f: Folder) -> Iterator[Problem]:
    loaded = f.customer
    if loaded is None:
        return
    for keys, message in validate_customer(loaded.data, store.config):
        yield Problem(store.rel(loaded.path), yamlio.key_line(loaded.text, keys), message)
    for keys, message in oversized(loaded.data):
        yield Problem(store.rel(loaded.path), yamlio.key_line(loaded.text, keys), message)


def check_journals(store: Store, f: Folder) -> Iterator[Problem]:
    kinds = KINDS
    types = set(store.config.interaction_types)
    for loaded in f.journals:
        rel = store.rel(loaded.path)
        if loaded.data is None:
            continue
        if not isinstance(loaded.data, list):
            yield Problem(rel, 1, "a journal must be a list of events (- at: ...)")
            continue
        year = loaded.path.stem
        for i, entry in enumerate(loaded.data):
            def at(*keys: Any, text: str = loaded.text, index: int = i) -> int | None:
                return yamlio.key_line(text, (index, *keys))
            if not isinstance(entry, dict):
                yield Problem(rel, at(), "each journal event must be a mapping (at: ..., kind: ...)")
                continue
            for keys, too_big in oversized(entry):
                yield Problem(rel, at(*keys), too_big)
            message = check_timestamp(entry.get("at"), "at")
            if message:
                yield Problem(rel, at("at"), message)
            elif not str(entry["at"]).startswith(year):
                yield Problem(rel, at("at"), f"event of {str(entry['at'])[:4]} filed in {year}.yaml; "
                                             f"move it to journal/{str(entry['at'])[:4]}.yaml")
            kind = entry.get("kind")
            if kind in kinds:
                for keys, msg in kinds[kind].validate(entry, store.config):
                    yield Problem(rel, at(*keys), msg)
            elif kind not in types:
                known = sorted(types) + sorted(kinds)
                yield Problem(rel, at("kind"), f"kind {kind!r} is not an interaction type or event "
                                               f"(one of: {', '.join(known)})")


def _emails(store: Store, f: Folder) -> list[tuple[str, str, tuple]]:
    """Every email of the profile and its contacts, with where it stands (keys, not lines: most are never shown)."""
    loaded = f.customer
    if loaded is None or not isinstance(loaded.data, dict):
        return []
    data = loaded.data
    rel = store.rel(loaded.path)
    found: list[tuple[str, str, tuple]] = []
    if isinstance(data.get("email"), str):
        found.append((data["email"].strip().lower(), rel, ("email",)))
    contacts = data.get("contacts")
    for i, c in enumerate(contacts if isinstance(contacts, list) else []):
        if isinstance(c, dict) and isinstance(c.get("email"), str):
            found.append((c["email"].strip().lower(), rel, ("contacts", i, "email")))
    return found


CUSTOMER_CHECKS: list[Callable[[Store, Folder], Iterator[Problem]]] = [check_profile, check_journals]


def _journal_files(store: Store, folder: Path, problems: list[Problem]) -> list[Path]:
    """The journals of the folder as it stands on disk (even misfiled), and any debris of a write cut short.

    A ``journal`` that is not a real folder is reported, never followed, and the other checks go on.
    """
    journal = folder / "journal"
    for where in (folder, journal):
        try:
            names = sorted(os.listdir(where)) if where == folder or stat.S_ISDIR(os.lstat(where).st_mode) else []
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name in names:
            if TEMP_RE.match(name):
                rel = store.rel(where / name)
                problems.append(Problem(rel, None, f"temporary file left by an interrupted write; the record "
                                                   f"beside it is intact: delete it (rm {rel})"))
    try:
        mode = os.lstat(journal).st_mode
    except FileNotFoundError:
        return []
    if not stat.S_ISDIR(mode):
        problems.append(Problem(store.rel(journal), None, not_regular(store.rel(journal), mode, folder=True)
                                .split(": ", 1)[-1]))
        return []
    return sorted(journal / n for n in os.listdir(journal) if n.endswith(".yaml"))


def check_customer(store: Store, cid: str, folder: Path) -> CustomerResult:
    """Read one customer's folder and run every per-customer check on it."""
    problems: list[Problem] = []
    f = Folder(cid, folder)
    path = folder / "customer.yaml"
    if not os.path.lexists(path):  # a symlink, folder or FIFO there is read (and refused) by _read
        problems.append(Problem(store.rel(folder), None, "customer.yaml is missing; restore it with git "
                                "or remove the folder"))
        return CustomerResult(problems, [])
    f.customer = _read(store, path, problems)
    for jpath in _journal_files(store, folder, problems):
        loaded = _read(store, jpath, problems)
        if loaded is not None:
            f.journals.append(loaded)
    for check in CUSTOMER_CHECKS:
        problems.extend(check(store, f))
    return CustomerResult(problems, _emails(store, f))


def _key_line(store: Store, rel: str, keys: tuple) -> int | None:
    try:
        return yamlio.key_line(store.read_text(Path(rel)), keys)  # rel: relative to the current directory
    except (CrmError, OSError):
        return None


def check_duplicate_emails(store: Store, results: dict[str, CustomerResult]) -> Iterator[Problem]:
    first: dict[str, tuple[str, str]] = {}  # email -> (cid, rel path) of the first customer holding it
    for cid, result in results.items():
        for email, rel, keys in result.emails:
            holder = first.setdefault(email, (cid, rel))
            if holder[0] != cid:
                yield Problem(rel, _key_line(store, rel, keys),
                              f"duplicate email {email} (also in {holder[1]}); keep it on one customer")


STORE_CHECKS: list[Callable[[Store, dict[str, CustomerResult]], Iterator[Problem]]] = [check_duplicate_emails,
                                                                                         check_articles,
                                                                                         check_campaign_files]


# -- the folders ----------------------------------------------------------------------------------------------------
def _symlinks(store: Store, entries: list[os.DirEntry], problems: list[Problem]) -> None:
    """Symlinked folders under customers/: never followed, each reported with its path."""
    for entry in entries:
        if entry.is_symlink() and not entry.name.startswith("."):
            problems.append(Problem(store.rel(Path(entry.path)), None,
                                    "is a symlink, not a folder; crm never reads or writes through it: "
                                    "remove it (git rm) and retry"))


def check_local_state(store: Store) -> Iterator[Problem]:
    """A ``.crm`` that is tracked by git or a symlink: crm refuses to run until it is fixed."""
    issue = store.legacy_state_issue()
    rel = store.rel(store.root / STATE_DIR)
    if issue == "tracked":
        yield Problem(rel, None, f"tracked by git (it came with a commit); crm refuses to run until it is "
                                 f"untracked: git rm -r --cached {rel} && git commit -m 'Untrack {rel}'")
    elif issue == "symlink":
        yield Problem(rel, None, f"is a symlink; crm refuses to run until it is removed: rm {rel}")


def _folders(store: Store, problems: list[Problem]) -> dict[str, str] | None:
    """Every customer folder (its path) by id, after the checks of the folder names and places themselves."""
    base = store.root / CUSTOMERS
    found: dict[str, str] = {}
    try:
        top = sorted(os.scandir(base), key=lambda e: e.name)
    except FileNotFoundError:
        problems.append(Problem(store.rel(base), None, "customers/ folder is missing; create it (mkdir customers)"))
        return None
    _symlinks(store, top, problems)
    shards = [e.name for e in top if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")]
    for shard in shards:
        entries = sorted(os.scandir(base / shard), key=lambda e: e.name)
        _symlinks(store, entries, problems)
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False) or entry.name.startswith("."):
                continue
            cid = entry.name
            folder = entry.path  # a Path for each of 100,000 folders costs a second
            if not ids.is_valid_customer_id(cid):
                problems.append(Problem(store.rel(Path(folder)), None, f"folder name {cid!r} is not a valid id "
                                        "(lowercase letters, digits and single hyphens)"))
                continue
            if ids.shard_of(cid) != shard:
                problems.append(Problem(store.rel(Path(folder)), None, f"customer {cid} is filed under {shard}/; "
                                        f"move it to customers/{ids.shard_of(cid)}/"))
            if cid in found:
                problems.append(Problem(store.rel(Path(folder)), None,
                                        f"duplicate id {cid} (also {store.rel(Path(found[cid]))})"))
                continue
            found[cid] = folder
    return found


def run_checks(store: Store, progress: Callable[[int], None] | None = None, *, full: bool = False,
               jobs: int | None = None) -> list[Problem]:
    """Every problem in the store, sorted by place; re-reads only customers changed since the last check unless
    ``full``, and checks the index against the files of those it re-reads (and rebuilds rows that disagree)."""
    problems: list[Problem] = list(check_local_state(store))
    folders = _folders(store, problems)
    if folders is None:
        return problems
    key, state, skip = check_state.skippable(store, full)
    results: dict[str, CustomerResult] = {}
    todo: list[tuple[str, Path]] = []
    for cid, folder in folders.items():
        emails = skip.get(cid)
        if emails is not None:
            results[cid] = CustomerResult([], [tuple(e) for e in emails])  # type: ignore[misc]
            if progress:
                progress(1)
        else:
            todo.append((cid, Path(folder)))
    with check_index.opened(store) as index:
        fresh, digests = check_index.check_many(store, index, todo, jobs or index_build.jobs(), progress,
                                                check_customer)
        if index is not None:
            problems.extend(check_index.verify(store, index, digests, full))
    results.update(fresh)
    results = {cid: results[cid] for cid in folders}  # folder order: "the first holder" stays stable
    if state is not None:
        state.clean = {cid: result.emails for cid, result in results.items() if not result.problems}
        check_state.save(store, key, state)
    for result in results.values():
        problems.extend(result.problems)
    for check in STORE_CHECKS:
        problems.extend(check(store, results))
    return sorted(problems, key=lambda p: (p.path, p.line or 0))
