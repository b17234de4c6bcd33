"""``crm site build``: the static site, written incrementally into a folder.

``.crm-site.json`` in the output folder is the manifest: what the site was built from (the commit, each
customer's file stamps and topic digests as the store's index read them: ``crmcli.web.changes``), the
agenda items per customer, the home page's numbers, and a digest of every page. A build asks the index what
changed since then, and makes again only:

- the pages of the customers whose files changed (or whose page is missing);
- the agenda items of those customers (``crm agenda``'s own action, for those customers alone);
- each page about the whole store whose topics changed (``changes.PAGE_TOPICS``), or all of them when a
  customer came or went or a file outside ``customers/`` changed. The home page costs no frames.

A customer whose records name a time that has come since (an SLA or task due: a breach, an overdue task;
an event dated ahead; ``clock`` in the manifest) counts as changed, with its tickets and tasks.

A page whose text comes out the same is not rewritten. A change of crm.yaml, the language, the crm version
or the day (health and "days since" depend on it) makes every page again.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from crmcli import __version__
from crmcli.actions.agenda import AgendaItem, sort_items
from crmcli.actions.agenda import agenda as agenda_action
from crmcli.analysis.overview import build_overview, referral_map, referrals_of
from crmcli.domain import dates
from crmcli.errors import CrmError, UsageError
from crmcli.store import git
from crmcli.store.files import atomic_write
from crmcli.store.index import Index, open_index
from crmcli.store.paths import CUSTOMERS
from crmcli.store.store import Store
from crmcli.web import changes as changes_
from crmcli.web import labels, pages

MANIFEST = ".crm-site.json"
SITE_VERSION = 4  # bump when the page layout changes: every page is made again
_PARALLEL_MIN = 2000
EVENTS = 20
AGGREGATES = ["index.html", "customers/index.html", "pipeline.html", "tickets.html",
              *(f"reports/{name}.html" for name in pages.REPORTS)]


@dataclass
class Built:
    """What a build did: pages written, pages left as they were, customer pages made, pages removed."""

    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    customers_made: int = 0
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _head(store: Store) -> str | None:
    """The commit the site is built from (HEAD), for the record; None outside git."""
    if store.top is None:
        return None
    proc = git.run(["rev-parse", "-q", "--verify", "HEAD"], cwd=store.top, check=False)
    return proc.stdout.decode().strip() or None


def _site_key(store: Store, lang: str, now: datetime) -> str:
    try:
        config = (store.root / "crm.yaml").read_bytes()
    except OSError:
        config = b""
    return _digest(f"{SITE_VERSION}|{__version__}|{lang}|{now.date()}|{dates.local_tz()}|") + \
        hashlib.sha1(config).hexdigest()[:12]


def _render_customer(store: Store, cid: str, now: datetime, lang: str, built: str,
                     referrals: dict[str, list] | None = None) -> str:
    customer = store.load_customer(cid, validate=False)
    mine = referrals.get(cid, []) if referrals is not None else referrals_of(store, cid)
    data = build_overview(store.config, customer, store.load_journal(cid), now, EVENTS, mine)
    return pages.customer_page(data, tr=labels.translator(lang), lang=lang, built=built)


def _render_many(root: str, cids: list[str], now: datetime, lang: str, built: str,
                 referrals: dict[str, list] | None = None) -> list[tuple[str, str | None]]:
    store = Store(Path(root))
    out: list[tuple[str, str | None]] = []
    for cid in cids:
        try:
            out.append((cid, _render_customer(store, cid, now, lang, built, referrals)))
        except (CrmError, OSError) as exc:
            out.append((cid, f"!{cid}: {exc}"))
    return out


def _render_all(store: Store, cids: list[str], now: datetime, lang: str, built: str,
                jobs: int, refs: dict[str, list]) -> Iterator[tuple[str, str | None]]:
    """``refs``: who referred whom (``referral_map``), read once (the health score's loyalty part)."""
    if len(cids) >= _PARALLEL_MIN and jobs > 1:
        import concurrent.futures as cf
        import multiprocessing as mp

        parts = [cids[i:i + 250] for i in range(0, len(cids), 250)]
        with cf.ProcessPoolExecutor(jobs, mp_context=mp.get_context("fork")) as pool:
            futures = [pool.submit(_render_many, str(store.root), p, now, lang, built, refs) for p in parts]
            for f in futures:
                yield from f.result()
        return
    yield from _render_many(str(store.root), cids, now, lang, built, refs)


class _Writer:
    """Writes a page only when its text differs from the manifest's (and the file is there)."""

    def __init__(self, out: Path, old: dict[str, str], result: Built):
        self.out, self.old, self.result = out, old, result
        self.pages: dict[str, str] = {}

    def put(self, rel: str, text: str) -> None:
        digest = _digest(text)
        self.pages[rel] = digest
        path = self.out / rel
        if self.old.get(rel) == digest and path.is_file():
            self.result.unchanged += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text.encode("utf-8"), sync=False)
        self.result.written.append(rel)

    def keep(self, rel: str) -> None:
        if rel in self.old:
            self.pages[rel] = self.old[rel]
            self.result.unchanged += 1


def _load_manifest(out: Path) -> dict:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) and data.get("version") == SITE_VERSION else {}
    except (OSError, ValueError):
        return {}


def _check_out(out: Path, store: Store, owned: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"-o {out}: is a file; give a folder for the site")
    if not owned and out.exists() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise UsageError(f"-o {out}: the folder is not empty and holds no site made by crm; give an empty or new "
                         "folder (crm never overwrites other files)")
    with contextlib.suppress(ValueError):
        out.resolve().relative_to(store.root.resolve() / CUSTOMERS)
        raise UsageError(f"-o {out}: inside the store's customers folder; write the site elsewhere")


def _agenda_of(store: Store, index: Index, now: datetime, only: list[str] | None) -> dict[str, list[dict]]:
    """``crm agenda``'s items (default 7 days, everyone's), by customer ("" for items about none)."""
    out: dict[str, list[dict]] = {cid: [] for cid in only or []}
    for item in agenda_action(store, today=now.date(), problems=[], only=only, index=index):
        out.setdefault(item.customer or "", []).append(item.row())
    return out


def _items(rows: dict[str, list[dict]]) -> list[AgendaItem]:
    items = [AgendaItem(day=date.fromisoformat(r["date"]), **{k: v for k, v in r.items() if k != "date"})
             for group in rows.values() for r in group]
    return sort_items(items)


def build_site(store: Store, out: Path, *, now: datetime | None = None, jobs: int | None = None,
               progress: Callable[[str, int, int], Any] | None = None, owned: bool = False) -> Built:
    """Build (or bring up to date) the site of ``store`` in ``out``; see the module docstring.

    ``owned``: ``out`` is crm's own folder (crm serve's cache), so files in it without a manifest (a build
    that was interrupted) may be overwritten; otherwise such a folder is refused.
    """
    started = time.perf_counter()
    _check_out(out, store, owned)
    out.mkdir(parents=True, exist_ok=True)
    now = now or dates.now()
    lang = labels.language(store.config)
    tr = labels.translator(lang)
    built = dates.format_local(now)
    key = _site_key(store, lang, now)
    manifest = _load_manifest(out)
    same = manifest.get("key") == key  # else a new day, crm.yaml, language or version: start afresh
    old = manifest if same else {}
    clock: dict[str, str] = old.get("clock", {})
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    due = {cid for cid, at in clock.items() if at <= stamp}  # a due their records name has come
    result = Built()
    writer = _Writer(out, manifest.get("pages", {}), result)
    outside = changes_.outside_stamp(store)
    _, _, week_start = changes_.last_week(now)
    with open_index(store) as index:
        ch = changes_.changes(index, old.get("stamps", {}), old.get("digests", {}),
                              set(store.config.interaction_types), week_start, outside != old.get("outside"))
        if due:
            ch.customers = sorted(set(ch.customers) | (due & set(ch.stamps)))
            ch.topics |= {"tickets", "tasks", "contact_past"}
        agenda_rows: dict[str, list[dict]] = {k: v for k, v in old.get("agenda", {}).items()
                                              if k == "" or k in ch.stamps}
        if "agenda" not in old:
            agenda_rows = _agenda_of(store, index, now, None)
        elif ch.customers:
            agenda_rows.update(_agenda_of(store, index, now, ch.customers))
        customers_count = index.readable_count()
        # a customer's page and health count the customers it referred (their referred_by): remade when those change
        refs = referral_map(store, index.customers(only=index.profiles_with("referred_by")))
        referrals = {cid: changes_.digest(v) for cid, v in refs.items()}
        old_refs = old.get("referrals", {})
        touched = {c for c in set(referrals) | set(old_refs) if referrals.get(c) != old_refs.get(c)} & set(ch.stamps)
        if touched - set(ch.customers):
            ch.customers = sorted(set(ch.customers) | touched)
            ch.topics |= {"profile"}
            agenda_rows.update(_agenda_of(store, index, now, sorted(touched)))

    moved = set(ch.customers)
    try:
        have = {e.name for e in os.scandir(out / "customers")}
    except OSError:
        have = set()
    stale = [cid for cid in ch.stamps if cid in moved or f"{cid}.html" not in have]
    stale_set = set(stale)
    for cid in ch.stamps:
        if cid not in stale_set:
            writer.keep(f"customers/{cid}.html")
    total = len(stale)
    for i, (cid, text) in enumerate(_render_all(store, stale, now, lang, built, jobs or min(os.cpu_count() or 1, 8),
                                                refs), 1):
        if text is None or text.startswith("!"):
            result.problems.append((text or cid)[1:])  # no page: tried again (and named) next time
        else:
            writer.put(f"customers/{cid}.html", text)
            result.customers_made += 1
        if progress is not None and (i % 500 == 0 or i == total):
            progress("customers", i, total)

    facts = dict(old.get("facts", {}))
    todo = [rel for rel in AGGREGATES if ch.stale(rel) or not (out / rel).is_file()]
    if "index.html" in todo:  # its numbers come from the board and the queue: made now when not kept
        todo += [rel for rel, need in (("pipeline.html", "open_deals"), ("tickets.html", "open_tickets"))
                 if rel not in todo and need not in facts]
    for rel in AGGREGATES:
        if rel not in todo:
            writer.keep(rel)
    health = old.get("health") or {}
    if todo != ["index.html"] and todo:
        health, clock = _store_pages(store, todo, writer, facts, health, ch, now=now, lang=lang, built=built)
    if "index.html" in todo:
        facts["customers"] = customers_count
        writer.put("index.html", pages.home(
            _items(agenda_rows), facts, currency=str(store.config.get("currency", "CNY")),
            title=str(store.config.get("name") or "crm"), tr=tr, lang=lang, built=built))

    for rel in sorted(set(writer.old) - set(writer.pages)):
        with contextlib.suppress(OSError):
            (out / rel).unlink()
            result.removed.append(rel)
    if result.written or result.removed or ch.customers or not same or outside != old.get("outside"):
        payload = {"version": SITE_VERSION, "key": key, "built": dates.iso(now), "head": _head(store),
                   "stamps": ch.stamps, "digests": ch.digests, "outside": outside, "agenda": agenda_rows,
                   "facts": facts, "health": health, "clock": clock, "referrals": referrals, "pages": writer.pages}
        atomic_write(out / MANIFEST, json.dumps(payload, ensure_ascii=False).encode("utf-8"), sync=False)
    result.seconds = time.perf_counter() - started
    return result


def _store_pages(store: Store, todo: list[str], writer: _Writer, facts: dict, health: dict, ch: changes_.Changes,
                 *, now: datetime, lang: str, built: str) -> tuple[dict, dict[str, str]]:
    """The pages about the whole store that need the report frames (all but home); updates ``facts``.

    Returns the health scores the customers report made (or ``health`` kept) and each customer's next due."""
    from crmcli.web import aggregate  # pandas: only when such a page is made

    tr = labels.translator(lang)
    src = aggregate.Sources(store, now)
    if "customers/index.html" in todo:
        writer.put("customers/index.html", aggregate.customer_list(src, tr=tr, lang=lang, built=built))
    if "pipeline.html" in todo:
        text, numbers = aggregate.pipeline_board(src, tr=tr, lang=lang, built=built)
        writer.put("pipeline.html", text)
        facts.update(numbers)
    if "tickets.html" in todo:
        text, numbers = aggregate.ticket_queue(src, tr=tr, lang=lang, built=built)
        writer.put("tickets.html", text)
        facts.update(numbers)
    # the customers report reuses the health of customers whose records did not change today
    moved = set(ch.customers)
    keep = {cid for cid, d in ch.digests.items() if cid not in moved and d != "?"}
    memo: dict[str, Any] = {"keep": keep, "scores": health}
    reports = [rel.split("/")[1][:-5] for rel in todo if rel.startswith("reports/")]
    for rel, text in aggregate.report_pages(src, reports, lang=lang, built=built, health_memo=memo).items():
        writer.put(rel, text)
    kept = {cid: v for cid, v in health.items() if cid in ch.digests} if "customers" not in reports else memo["scores"]
    return kept or {}, src.next_changes()


def main(argv: list[str]) -> int:
    """``python -m crmcli.web.build STORE FOLDER``: how crm serve rebuilds its own folder, in a process of its own
    (so the server, whose threads keep answering, never forks the build's worker processes)."""
    try:
        result = build_site(Store(Path(argv[0])), Path(argv[1]), owned=True)
    except CrmError as exc:
        print(f"crm: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(len(result.written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
