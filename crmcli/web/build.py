"""``crm site build``: the static site, written incrementally into a folder.

Customer pages are the bulk of the work, so each one is made again only when that customer's files
changed since the last build (their ``mtime:size`` stamps, as the query index keeps them), when
crm.yaml, the language or the day changed (health and "days since" depend on the day), or when the page
is missing. A page whose text comes out the same is not rewritten. The aggregate pages (home, pipeline,
tickets, customer list, the four reports) come from the report frames (``crmcli.analysis.frames``) on every
build that has anything to do, and are written only when they differ. ``.crm-site.json`` in the output
folder is the manifest. When no customer changed (and crm.yaml, the language and the day did not), the
aggregate pages are kept as they are too, so a build with nothing to do costs one ``stat`` per file.
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
from datetime import datetime
from pathlib import Path
from typing import Any

from crmcli import __version__
from crmcli.analysis.overview import build_overview, referral_map, referrals_of
from crmcli.domain import dates
from crmcli.errors import CrmError, UsageError
from crmcli.store.files import atomic_write
from crmcli.store.paths import CUSTOMERS
from crmcli.store.store import Store
from crmcli.web import aggregate, labels, pages

MANIFEST = ".crm-site.json"
SITE_VERSION = 1  # bump when the page layout changes: every page is made again
_RACY_NS = 2_000_000_000
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


def _stamp(folder: str, racy_after: int) -> str | None:
    """``mtime_ns:size`` of customer.yaml and of each journal file; "racy" when one changed a moment ago."""
    try:
        st = os.stat(folder + "/customer.yaml")
    except OSError:
        return None
    parts, newest = [f"{st.st_mtime_ns}:{st.st_size}"], st.st_mtime_ns
    with contextlib.suppress(OSError):
        for entry in sorted(os.scandir(folder + "/journal"), key=lambda e: e.name):
            if entry.name.endswith(".yaml") and not entry.name.startswith("."):
                js = entry.stat()
                newest = max(newest, js.st_mtime_ns)
                parts.append(f"{entry.name}:{js.st_mtime_ns}:{js.st_size}")
    if newest >= racy_after:
        parts.append("racy")
    return "|".join(parts)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


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
                jobs: int) -> Iterator[tuple[str, str | None]]:
    refs = referral_map(store)  # who referred whom, read once (the health score's loyalty part)
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
    built = dates.format_local(now)
    key = _site_key(store, lang, now)
    manifest = _load_manifest(out)
    same_site = manifest.get("key") == key
    old_stamps: dict[str, str] = manifest.get("stamps", {}) if same_site else {}
    result = Built()
    writer = _Writer(out, manifest.get("pages", {}), result)

    base = str(store.root / CUSTOMERS)
    racy_after = time.time_ns() - _RACY_NS
    stamps: dict[str, str] = {}
    for cid in store.customer_ids():
        stamp = _stamp(f"{base}/{cid[:2]}/{cid}", racy_after)
        if stamp is not None:
            stamps[cid] = stamp
    stale = [cid for cid, s in stamps.items()
             if old_stamps.get(cid) != s or s.endswith("racy") or not (out / f"customers/{cid}.html").is_file()]
    for cid in stamps:
        if cid not in stale:
            writer.keep(f"customers/{cid}.html")
    total = len(stale)
    for i, (cid, text) in enumerate(_render_all(store, stale, now, lang, built, jobs or min(os.cpu_count() or 1, 8)),
                                    1):
        if text is None or text.startswith("!"):
            result.problems.append((text or cid)[1:])
            stamps.pop(cid, None)
        else:
            writer.put(f"customers/{cid}.html", text)
            result.customers_made += 1
        if progress is not None and (i % 500 == 0 or i == total):
            progress("customers", i, total)

    unchanged = same_site and not stale and set(stamps) == set(old_stamps) and not result.problems
    if unchanged and all((out / rel).is_file() for rel in AGGREGATES):
        for rel in AGGREGATES:
            writer.keep(rel)
    else:
        for rel, text in aggregate.site_pages(store, now=now, lang=lang, built=built).items():
            writer.put(rel, text)
    for rel in sorted(set(writer.old) - set(writer.pages)):
        with contextlib.suppress(OSError):
            (out / rel).unlink()
            result.removed.append(rel)
    payload = {"version": SITE_VERSION, "key": key, "built": dates.iso(now), "stamps": stamps,
               "pages": writer.pages}
    atomic_write(out / MANIFEST, json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8"), sync=False)
    result.seconds = time.perf_counter() - started
    return result


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
