"""What changed in the store since the site was last built, and so which of its pages are out of date.

Read through the store's query index (``crmcli.store.index``), which has just caught up with the files (a
``stat`` of each, as every crm command does): no second walk of the customer folders. For each customer the
manifest keeps the stamp of its files as the index read them, and a digest of each *topic* of its records:

- ``profile``: customer.yaml; ``deals``: ``opp.*`` events; ``tickets``: ``ticket.*``; ``tasks``: ``task.*``;
  ``revenue``: ``order.*`` and ``contract.*``; ``surveys``: ``survey.*``;
- ``contact_past`` and ``contact_new``: interactions (the ``interaction_types`` of crm.yaml) before, and from,
  the start of this week (the weekly report is about the weeks before it);
- ``other``: every other event.

Only customers whose stamp changed have their digests made again (their rows come from the index), so the
work is proportional to what changed. A page about the whole store is made again only when a topic it
reads changed for some customer (``PAGE_TOPICS``), when a customer came or went, or when anything outside
``customers/`` changed (``outside_stamp``: the knowledge base, campaigns; crm.yaml changes the whole site).
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from crmcli.domain import dates
from crmcli.store.index import Index
from crmcli.store.paths import CUSTOMERS
from crmcli.store.store import Store

TOPICS = ("profile", "deals", "tickets", "tasks", "revenue", "surveys", "contact_past", "contact_new", "other")
_PREFIXES = {"opp.": "deals", "ticket.": "tickets", "task.": "tasks", "order.": "revenue", "contract.": "revenue",
             "survey.": "surveys"}
ALL = frozenset(TOPICS)
# The topics each page about the whole store reads; "other" (an event kind these pages do not know) counts
# for every page, and so does a customer added or removed.
PAGE_TOPICS: dict[str, frozenset[str]] = {
    "customers/index.html": frozenset({"profile"}),
    "pipeline.html": frozenset({"profile", "deals"}),
    "reports/pipeline.html": frozenset({"profile", "deals"}),
    "tickets.html": frozenset({"profile", "tickets"}),
    "reports/service.html": frozenset({"profile", "tickets", "surveys"}),
    "reports/weekly.html": frozenset({"profile", "deals", "tickets", "tasks", "revenue", "contact_past"}),
    "reports/customers.html": ALL,
    "index.html": ALL,
}


def last_week(now: datetime) -> tuple[str, datetime, datetime]:
    """The week ``crm report weekly`` shows by default (the last whole ISO week): its name, start and end."""
    iso = (now - timedelta(days=7)).isocalendar()
    week = f"{iso.year}-W{iso.week:02d}"
    start, end = dates.iso_week_range(week)
    return week, start, end


def digest(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def topic_of(event: dict, interactions: set[str], week_start: datetime) -> str:
    """The topic of one journal event (an interaction without a readable time counts as a past one)."""
    kind = str(event.get("kind") or "")
    for prefix, topic in _PREFIXES.items():
        if kind.startswith(prefix):
            return topic
    if kind in interactions:
        try:
            return "contact_new" if dates.parse_iso(str(event.get("at"))) >= week_start else "contact_past"
        except (dates.DateError, TypeError, ValueError):
            return "contact_past"
    return "other"


def _racy(stamp: str) -> bool:
    """A stamp the index marked to read again (``-1``): its file changed a moment ago."""
    return stamp.startswith("-1:") or ":-1:" in stamp


def digests(index: Index, cids: Iterable[str], interactions: set[str], week_start: datetime) -> dict[str, str]:
    """Per customer, a digest of each topic (see the module docstring), from the index's rows, joined by commas
    in the order of ``TOPICS``.

    A customer the index cannot stand in for (an odd or refused journal file, an unreadable profile) gets
    ``?``: every topic counts as changed."""
    cids = sorted(set(cids))
    profiles: dict[str, Any] = {c.id: c.data for c in index.customers(only=cids, problems=[])}
    rows = index.journal_rows(cids)
    out: dict[str, str] = {}
    for cid in cids:
        if cid not in profiles or any(r.odd or r.refused or r.data is None for r in rows.get(cid, [])):
            out[cid] = "?"
            continue
        parts: dict[str, list] = {t: [] for t in TOPICS}
        for r in rows.get(cid, []):
            for i, event in enumerate(json.loads(r.data or "[]")):
                if isinstance(event, dict):
                    parts[topic_of(event, interactions, week_start)].append((r.name, i, event))
                else:
                    parts["other"].append((r.name, i, event))
        parts["profile"] = [profiles[cid]]
        out[cid] = ",".join(digest(parts[t]) for t in TOPICS)
    return out


def outside_stamp(store: Store) -> str:
    """Size and time of every file of the records outside ``customers/`` (crm.yaml is in the site's key)."""
    root = str(store.root)
    parts = []
    for top, dirs, files in os.walk(root):
        rel = os.path.relpath(top, root)
        if rel == ".":
            dirs[:] = [d for d in dirs if d not in (CUSTOMERS, ".git")]
        dirs.sort()
        for name in sorted(files):
            try:
                st = os.stat(os.path.join(top, name))
            except OSError:
                continue
            parts.append(f"{rel}/{name}:{st.st_mtime_ns}:{st.st_size}")
    return digest(parts)


@dataclass
class Changes:
    """What a build must make again: customers' pages and the topics that changed."""

    stamps: dict[str, str] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    customers: list[str] = field(default_factory=list)  # pages to make again
    topics: set[str] = field(default_factory=set)

    def stale(self, page: str) -> bool:
        return bool(self.topics & (PAGE_TOPICS.get(page, ALL) | {"other"}))


def changes(index: Index, old_stamps: dict[str, str], old_digests: dict[str, str], interactions: set[str],
            week_start: datetime, outside_moved: bool) -> Changes:
    """Compare the index's stamps with the manifest's: which customers and topics changed."""
    stamps = index.file_stamps()
    moved = sorted(cid for cid, s in stamps.items() if old_stamps.get(cid) != s or _racy(s))
    fresh = digests(index, moved, interactions, week_start)
    result = Changes(stamps=stamps, customers=moved)
    result.digests = {cid: old_digests[cid] for cid in stamps if cid not in fresh and cid in old_digests}
    result.digests.update(fresh)
    if outside_moved or set(stamps) != set(old_stamps) or set(result.digests) != set(stamps):
        result.topics = set(ALL)
    for cid, new in fresh.items():
        old = old_digests.get(cid, "?")
        if new == "?" or old == "?":
            result.topics = set(ALL)
            break
        result.topics |= {t for t, a, b in zip(TOPICS, old.split(","), new.split(","), strict=True) if a != b}
    return result
