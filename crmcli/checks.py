"""`crm check`: every problem in the store, each located as ``path:line``.

Checks are plain functions in ``CHECKS``; each takes the store and a shared
``Scan`` and yields ``Problem`` values. Nothing here stops at the first
problem: one run lists them all.
"""
from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmcli import ids, yamlio
from crmcli.errors import CrmError, Problem
from crmcli.model import check_timestamp, validate_customer
from crmcli.store import CUSTOMERS, Store

CONFLICT_RE = re.compile(r"^(<{7}|={7}|>{7})(\s|$)", re.MULTILINE)

@dataclass
class Loaded:
    path: Path
    text: str
    data: Any


@dataclass
class Scan:
    """Files read once and shared by the checks."""

    customers: dict[str, Loaded] = field(default_factory=dict)
    journals: dict[str, list[Loaded]] = field(default_factory=dict)


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


def scan(store: Store, problems: list[Problem], progress: Callable[[int], None] | None = None) -> Scan:
    result = Scan()
    base = store.root / CUSTOMERS
    seen: dict[str, str] = {}
    try:
        shards = sorted(e.name for e in os.scandir(base) if e.is_dir() and not e.name.startswith("."))
    except FileNotFoundError:
        problems.append(Problem(store.rel(base), None, "customers/ folder is missing; create it (mkdir customers)"))
        return result
    for shard in shards:
        for entry in sorted(os.scandir(base / shard), key=lambda e: e.name):
            if not entry.is_dir() or entry.name.startswith("."):
                continue
            cid = entry.name
            folder = Path(entry.path)
            if not ids.is_valid_customer_id(cid):
                problems.append(Problem(store.rel(folder), None, f"folder name {cid!r} is not a valid id "
                                        "(lowercase letters, digits and single hyphens)"))
                continue
            if ids.shard_of(cid) != shard:
                problems.append(Problem(store.rel(folder), None, f"customer {cid} is filed under {shard}/; "
                                        f"move it to customers/{ids.shard_of(cid)}/"))
            if cid in seen:
                problems.append(Problem(store.rel(folder), None, f"duplicate id {cid} (also {seen[cid]})"))
            seen[cid] = store.rel(folder)
            path = folder / "customer.yaml"
            if not path.is_file():
                problems.append(Problem(store.rel(folder), None, "customer.yaml is missing; restore it with git "
                                        "or remove the folder"))
                continue
            loaded = _read(store, path, problems)
            if loaded is not None:
                result.customers[cid] = loaded
            journals = []
            for jpath in store.journal_files(cid):
                jl = _read(store, jpath, problems)
                if jl is not None:
                    journals.append(jl)
            result.journals[cid] = journals
            if progress:
                progress(1)
    return result


def check_customers(store: Store, s: Scan) -> Iterator[Problem]:
    for loaded in s.customers.values():
        for keys, message in validate_customer(loaded.data, store.config):
            yield Problem(store.rel(loaded.path), yamlio.key_line(loaded.text, keys), message)


def check_duplicate_emails(store: Store, s: Scan) -> Iterator[Problem]:
    places: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for cid, loaded in s.customers.items():
        data = loaded.data if isinstance(loaded.data, dict) else {}
        if isinstance(data.get("email"), str):
            places[data["email"].strip().lower()].append((cid, -1))
        contacts = data.get("contacts")
        for i, c in enumerate(contacts if isinstance(contacts, list) else []):
            if isinstance(c, dict) and isinstance(c.get("email"), str):
                places[c["email"].strip().lower()].append((cid, i))
    for email, found in places.items():
        first_cid = found[0][0]
        first = store.rel(s.customers[first_cid].path)
        for cid, i in found[1:]:
            if cid == first_cid:
                continue
            loaded = s.customers[cid]
            keys = ("email",) if i < 0 else ("contacts", i, "email")
            yield Problem(store.rel(loaded.path), yamlio.key_line(loaded.text, keys),
                          f"duplicate email {email} (also in {first}); keep it on one customer")


def check_journals(store: Store, s: Scan) -> Iterator[Problem]:
    from crmcli.events import load_all

    kinds = load_all()
    types = set(store.config.interaction_types)
    for journals in s.journals.values():
        for loaded in journals:
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
                message = check_timestamp(entry.get("at"), "at")
                if message:
                    yield Problem(rel, at("at"), message)
                elif not str(entry["at"]).startswith(year):
                    yield Problem(rel, at("at"), f"event of {str(entry['at'])[:4]} filed in {year}.yaml; "
                                                 f"move it to journal/{str(entry['at'])[:4]}.yaml")
                kind = entry.get("kind")
                if kind in kinds:
                    for keys, msg in kinds[kind].validate(entry, store):
                        yield Problem(rel, at(*keys), msg)
                elif kind not in types:
                    known = sorted(types) + sorted(kinds)
                    yield Problem(rel, at("kind"), f"kind {kind!r} is not an interaction type or event "
                                                   f"(one of: {', '.join(known)})")


CHECKS = [check_customers, check_duplicate_emails, check_journals]


def run_checks(store: Store, progress: Callable[[int], None] | None = None) -> list[Problem]:
    problems: list[Problem] = []
    s = scan(store, problems, progress)
    for check in CHECKS:
        problems.extend(check(store, s))
    return sorted(problems, key=lambda p: (p.path, p.line or 0))
