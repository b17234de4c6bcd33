"""Finding a customer from what a person types, through the index: names, pinyin, initials, id suffixes.

``Store.resolve`` answers an exact id or a unique id prefix from the folder names alone; anything else
comes here and is looked up in the index's ``customers`` table (``crmcli.store.index``), tier by tier.
The first tier that matches decides: one customer is the answer, several are "ambiguous" (exit 3,
naming them):

1. the exact name (NFKC, case and spaces ignored);
2. the whole name in pinyin or initials (``jishixiezuo``, ``jsxz``);
3. anything else that fits: part of the name (``基石``, ``北京``), pinyin from a syllable start
   (``jishi``), part of the initials, the 4-character id suffix (``945d``), or an id prefix several ids
   share. The suffix is not a tier of its own: at 100,000 customers one 4-letter word in ten (``wang``)
   is some customer's random suffix, and must not hide the customers named so.

Nothing found: the closest names and ids are suggested. Customers are shown as their name and short id
(``ids.short_id``: the shortest unique id prefix, at least the id's first word), which every command
accepts because it is a unique id prefix.
"""
from __future__ import annotations

import contextlib
import difflib
import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from crmcli.domain import ids, pinyin
from crmcli.domain.customer import normalize_name
from crmcli.errors import NotFound
from crmcli.store.index import Index, open_index
from crmcli.store.paths import CUSTOMERS

if TYPE_CHECKING:
    from crmcli.store.store import Store

SHOWN = 5  # candidates named in an error message
_SUFFIX = re.compile(f"[{ids.ALPHABET}]{{{ids.SUFFIX_LEN}}}")


def resolve(store: Store, ref: str, prefix_hits: list[str]) -> str:
    """The one customer ``ref`` names (``prefix_hits``: the ids it is a prefix of, when more than one)."""
    if "\0" in ref or len(ref) > 400:
        raise NotFound(f"no customer {ref!r}; see crm customer list")
    with open_index(store) as index:
        for tier, found in enumerate(_tiers(index, ref, prefix_hits)):
            if len(found) == 1:
                return found[0]
            if found:
                named = _described(index, store, found)
                if tier == 0:
                    raise NotFound(f"several customers are named {ref!r}: {named}; use the id in brackets")
                raise NotFound(f"customer {ref!r} is ambiguous: {named}; give more of the name or use the id "
                               "in brackets")
        raise NotFound(f"no customer {ref!r}{_suggest(index, store, ref)}")


def _tiers(index: Index, ref: str, prefix_hits: list[str]) -> Iterable[list[str]]:
    db = index.db
    wanted = normalize_name(ref)
    yield [cid for (cid,) in db.execute("SELECT id FROM customers WHERE name_key = ? ORDER BY id", (wanted,))]
    key = pinyin.typed(ref)
    if key:
        yield [cid for (cid,) in db.execute("SELECT id FROM customers WHERE name_initials = ? OR "
                                            "replace(name_pinyin, ' ', '') = ?", (key, key))]
    found = set(prefix_hits)
    lowered = ref.strip().lower()
    if _SUFFIX.fullmatch(lowered):  # with the rest: at 100,000 customers one word in ten is somebody's suffix
        found.update(cid for (cid,) in db.execute("SELECT id FROM customers WHERE substr(id, -5) = ? "
                                                  "AND name_key IS NOT NULL", ("-" + lowered,)))
    if wanted:
        found.update(cid for (cid,) in db.execute("SELECT id FROM customers WHERE instr(name_key, ?) > 0",
                                                  (wanted,)))
    if key:
        found.update(pinyin_matches(index, key))
    yield sorted(found)


def pinyin_matches(index: Index, key: str) -> set[str]:
    """Ids of customers whose name's pinyin (from a syllable start) or initials contain ``key`` (``typed``)."""
    rows = index.db.execute("SELECT id, name_pinyin, name_initials FROM customers WHERE "
                            "instr(replace(name_pinyin, ' ', ''), ?) > 0 OR instr(name_initials, ?) > 0",
                            (key, key))
    return {cid for cid, spelled, initials in rows
            if pinyin.pinyin_hit(key, spelled) or pinyin.initials_hit(key, initials)}


def _named(index: Index, cids: Iterable[str]) -> list[tuple[str, str, str | None]]:
    """(id, name, pinyin) of customers, in name order."""
    out = []
    for cid in cids:
        row = index.db.execute("SELECT name, name_pinyin FROM customers WHERE id = ?", (cid,)).fetchone()
        out.append((cid, row[0] or "" if row else "", row[1] if row else None))
    return sorted(out, key=lambda r: (pinyin.sort_key(r[2], r[1]), r[0]))


def _described(index: Index, store: Store, cids: list[str]) -> str:
    shown = _named(index, cids)[:SHOWN]
    short = short_ids(store, [cid for cid, _, _ in shown])
    parts = [f"{name} ({short[cid]})" if name else short[cid] for cid, name, _ in shown]
    more = f" and {len(cids) - SHOWN} more" if len(cids) > SHOWN else ""
    return ", ".join(parts) + more


def _suggest(index: Index, store: Store, ref: str) -> str:
    """``; did you mean: ...?`` naming up to three customers close to ``ref``, or where to look."""
    wanted = normalize_name(ref)
    key = pinyin.typed(ref) or ""
    slug = ids.slugify(ref) if not ids.is_valid_customer_id(ref.lower()) else ref.lower()
    pool: dict[str, tuple[str, str]] = {}
    queries = [("substr(id, 1, 3) = ?", slug[:3])] if slug else []
    chinese = "".join(ch for ch in wanted if ids.is_cjk(ch))
    grams = [chinese[i:i + 2] for i in range(len(chinese) - 1)] if len(chinese) >= 3 else list(chinese)
    queries += [("instr(name_key, ?) > 0", gram) for gram in dict.fromkeys(grams)]
    spoken_query = key or slug.replace("-", "")  # what was typed, or the pinyin of the Chinese typed
    if len(spoken_query) >= 3:
        queries.append(("instr(replace(name_pinyin, ' ', ''), ?) > 0", spoken_query[:3]))
    for condition, value in queries:
        for cid, name, spelled in index.db.execute(
                f"SELECT id, name_key, name_pinyin FROM customers WHERE {condition} AND name_key IS NOT NULL "
                "LIMIT 500", (value,)):
            pool[cid] = (name or "", (spelled or "").replace(" ", ""))

    def closeness(cid: str) -> float:
        name, spelled = pool[cid]
        pairs = [(slug, cid.rsplit("-", 1)[0]), (wanted, name), (spoken_query, spelled)]
        best = 0.0
        for a, b in pairs:
            if a and b:
                matcher = difflib.SequenceMatcher(None, a, b[:len(a) + 1])
                if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
                    best = max(best, matcher.ratio())
        return best

    scored = sorted(((closeness(cid), cid) for cid in pool), key=lambda s: (-s[0], s[1]))
    close = [cid for score, cid in scored if score >= 0.6][:3]
    return f"; did you mean: {_described(index, store, close)}?" if close else "; see crm customer list"


def short_ids(store: Store, cids: Iterable[str]) -> dict[str, str]:
    """The short id (``ids.short_id``) of each customer, from the ids in its shard folder."""
    base = store.root / CUSTOMERS
    shards: dict[str, list[str]] = {}
    out = {}
    for cid in cids:
        shard = ids.shard_of(cid)
        if shard not in shards:
            names: list[str] = []
            with contextlib.suppress(OSError):
                names = sorted(n for n in os.listdir(base / shard) if not n.startswith("."))
            shards[shard] = names
        out[cid] = ids.short_id(cid, shards[shard])
    return out


def short_ref(ref: str, short: dict[str, str]) -> str:
    """``CUSTOMER/ID`` (or a bare customer id) with the customer's short id."""
    cid, sep, rest = ref.partition("/")
    return short.get(cid, cid) + sep + rest


def name_order(index: Index) -> dict[str, tuple[str, str]]:
    """Each customer's place in name order (``pinyin.sort_key``), from the index."""
    return {cid: pinyin.sort_key(spelled, name or "") for cid, name, spelled in
            index.db.execute("SELECT id, name, name_pinyin FROM customers WHERE problem IS NULL")}
