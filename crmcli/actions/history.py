"""A customer's history from git, told field by field in words.

``git log`` of the customer's folder gives the commits; for each, the old and
new versions of the files it touched are read in one ``git cat-file --batch``
and compared as data, so the story reads ``tier: B -> A`` rather than as a
diff of YAML lines.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from crmcli import yamlio
from crmcli.crypto import is_sealed
from crmcli.domain.kinds import KINDS
from crmcli.errors import CrmError, GitError
from crmcli.store import git
from crmcli.store.refs import resolve_entity
from crmcli.store.store import Store


def _show(value: Any) -> str:
    if is_sealed(value):
        return "••••"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "(none)"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _contact_label(c: Any) -> str:
    if isinstance(c, dict):
        name = c.get("name", "?")
        return f"{name} <{c['email']}>" if c.get("email") else str(name)
    return _show(c)


def describe_changes(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Differences between two records as short phrases."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [] if old == new else [f"{prefix or 'record'}: {_show(old)} -> {_show(new)}"]
    changes: list[str] = []
    for key in list(old) + [k for k in new if k not in old]:
        name = f"{prefix}{key}"
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if is_sealed(a) or is_sealed(b):
            changes.append(f"{name}: changed (encrypted)")
        elif key == "contacts" and isinstance(a or [], list) and isinstance(b or [], list):
            changes += _describe_contacts(a or [], b or [], name)
        elif isinstance(a, list) and isinstance(b, list) and all(isinstance(x, (str, int)) for x in a + b):
            added = [x for x in b if x not in a]
            removed = [x for x in a if x not in b]
            changes += [f"{name}: + {x}" for x in added] + [f"{name}: - {x}" for x in removed]
        elif isinstance(a, dict) and isinstance(b, dict):
            changes += describe_changes(a, b, prefix=f"{name}.")
        elif a is None:
            changes.append(f"{name}: set to {_show(b)}")
        elif b is None:
            changes.append(f"{name}: cleared (was {_show(a)})")
        else:
            changes.append(f"{name}: {_show(a)} -> {_show(b)}")
    return changes


def _describe_contacts(old: list, new: list, name: str) -> list[str]:
    def key(c: Any) -> str:
        return str(c.get("name")) if isinstance(c, dict) else str(c)

    old_by = {key(c): c for c in old}
    new_by = {key(c): c for c in new}
    out = [f"{name}: + {_contact_label(c)}" for k, c in new_by.items() if k not in old_by]
    out += [f"{name}: - {_contact_label(c)}" for k, c in old_by.items() if k not in new_by]
    for k in old_by:
        if k in new_by and old_by[k] != new_by[k]:
            out += describe_changes(old_by[k], new_by[k], prefix=f"{name}[{k}].")
    return out


def describe_entry(entry: dict) -> str:
    """One line for a journal event: the domain's own words when it registered the kind."""

    kind = str(entry.get("kind", "event"))
    registered = KINDS.get(kind)
    if registered is not None:
        try:
            return f"{kind}: {registered.describe(entry)}"
        except Exception:  # noqa: BLE001 - a malformed event still gets the plain line below
            pass
    text = entry.get("summary") or entry.get("title") or entry.get("text") or ""
    first = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return f"{kind}: {first}" if first else kind


def _mentions(entry: Any, entity: str | None) -> bool:
    return entity is None or (isinstance(entry, dict) and entity in entry.values())


def describe_journal(old: Any, new: Any, entity: str | None = None) -> list[str]:
    """Events added and removed; with ``entity``, only those of that deal, ticket or task."""
    old_list = [e for e in (old if isinstance(old, list) else []) if _mentions(e, entity)]
    new_list = [e for e in (new if isinstance(new, list) else []) if _mentions(e, entity)]
    out = [f"+ {describe_entry(e)}" for e in new_list if isinstance(e, dict) and e not in old_list]
    out += [f"- {describe_entry(e)}" for e in old_list if isinstance(e, dict) and e not in new_list]
    return out


@dataclass
class Change:
    commit: str
    author: str
    email: str
    date: str
    subject: str
    details: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"commit": self.commit, "author": self.author, "email": self.email, "date": self.date,
                "subject": self.subject, "changes": self.details}


def _parse(data: bytes | None, path: str) -> Any:
    if data is None:
        return None
    try:
        return yamlio.loads(data.decode("utf-8", "replace"), path)
    except CrmError:
        return {"(unreadable)": path}


def customer_history(store: Store, cid: str, *, limit: int | None = None,
                     entity: str | None = None) -> list[Change]:
    """Commits touching the customer's folder, newest first, with field-level changes.

    With ``entity`` (``opp-9x2m``), only the commits and events of that record.
    """
    top = store.top
    if top is None:
        raise GitError(f"{store.rel(store.root)} is not in a git repository, so it has no history")
    folder = os.path.relpath(store.customer_dir(cid), top)
    args = ["--format=%x1e%H%x1f%an%x1f%ae%x1f%aI%x1f%s", "--name-status", "--no-renames", "-z"]
    if limit and entity is None:
        args.append(f"-n{limit}")
    raw = git.log(top, [*args, "--", folder])
    changes: list[Change] = []
    wanted: list[tuple[Change, str, str]] = []
    for block in raw.split("\x1e"):
        if not block.strip("\0\n"):
            continue
        header, _, rest = block.partition("\n")
        commit, author, email, date, subject = header.rstrip("\0").split("\x1f")
        change = Change(commit, author, email, date, subject.strip())
        changes.append(change)
        fields = [f for f in rest.strip("\0\n").split("\0") if f]
        for status, path in zip(fields[::2], fields[1::2], strict=False):
            wanted.append((change, status.strip(), path))
    specs: list[str] = []
    for change, _status, path in wanted:
        specs += [f"{change.commit}^:{path}", f"{change.commit}:{path}"]
    blobs = git.read_blobs(top, specs) if specs else []
    for i, (change, status, path) in enumerate(wanted):
        before, after = _parse(blobs[2 * i], path), _parse(blobs[2 * i + 1], path)
        if entity is not None:
            if "/journal/" in path:
                change.details += describe_journal(before, after, entity)
        elif path.endswith("customer.yaml"):
            if before is None:
                change.details.append("created")
            elif after is None:
                change.details.append("removed")
            else:
                change.details += describe_changes(before, after)
        elif "/journal/" in path:
            change.details += describe_journal(before, after)
        else:
            change.details.append(f"{status} {os.path.relpath(path, folder)}")
    if entity is not None:
        changes = [c for c in changes if c.details][:limit]
    return changes


ENTITY_RE = re.compile(r"(?:^|/)(opp|tkt|task)-[0-9a-z]*$")


def record_history(store: Store, ref: str, *, limit: int | None = None) -> tuple[str, list[Change]]:
    """History of a customer, or of one deal, ticket or task (``opp-9x2m``, ``acme/tkt-3f9a``)."""

    m = ENTITY_RE.search(ref.strip().lower())
    if m:
        cid, local, _ = resolve_entity(store, ref, m.group(1))
        return f"{cid}/{local}", customer_history(store, cid, limit=limit, entity=local)
    cid = store.resolve(ref)
    return cid, customer_history(store, cid, limit=limit)
