"""The one loader reports use: the store's rows (``crmcli.analysis.rows``) as pandas DataFrames, through a cache.

The cache (``.git/crm/cache/tables.marshal``, outside the work tree, deletable at any time) keeps each customer's rows
keyed by the (name, mtime_ns, size) of its ``customer.yaml`` and journal files, like ``crmcli.store.index`` does
for profiles. On load every customer folder is stat-ed and only customers whose files changed (or that
are new) are read again, so the YAML stays the truth. A file changed within the last two seconds is never
trusted on the next run (git's "racily clean" case), and a change to ``crm.yaml`` drops the whole cache.
Stores under ``CACHE_MIN`` customers get no cache file (reading them is cheap), so a report on a small
store writes nothing.

Values that depend on "now" (SLA breaches) are recomputed on every load; nothing else is.
"""
from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmcli.analysis import rows as tables
from crmcli.domain import dates
from crmcli.errors import CrmError
from crmcli.store.files import atomic_write
from crmcli.store.paths import CUSTOMERS
from crmcli.store.store import Store
from crmcli.store.store import Store as _Store

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

_VERSION = (5, sys.version_info[:2])
_RACY_NS = 2_000_000_000
_PARALLEL_MIN = 4000  # customers to (re)read before worker processes pay off
CACHE_MIN = 200  # smaller stores parse in well under a second: no cache file is written for them


def cache_path(store: Store) -> Path:
    return store.state_dir / "cache" / "tables.marshal"


def _fingerprint(store: Store) -> str:
    try:
        text = (store.root / "crm.yaml").read_bytes()
    except OSError:
        text = b""
    return hashlib.sha1(text + repr(tables.COLUMNS).encode()).hexdigest()


def _stamp(folder: str, racy_after: int) -> str | None:
    """``mtime_ns:size`` of customer.yaml and ``name:mtime_ns:size`` of each journal file, joined by ``|``;
    None when there is no profile. A file changed too recently (see _RACY_NS) gives a stamp that never
    matches a later one, so the customer is read again next time."""
    try:
        st = os.stat(folder + "/customer.yaml")
    except OSError:
        return None
    newest = st.st_mtime_ns
    parts = [f"{st.st_mtime_ns}:{st.st_size}"]
    try:
        names = sorted(os.listdir(folder + "/journal"))
    except OSError:
        names = []
    for name in names:
        if name.endswith(".yaml") and not name.startswith("."):
            try:
                js = os.stat(f"{folder}/journal/{name}")
            except OSError:
                continue
            newest = max(newest, js.st_mtime_ns)
            parts.append(f"{name}:{js.st_mtime_ns}:{js.st_size}")
    if newest >= racy_after:
        parts.append("racy")
    return "|".join(parts)


def _load_cache(path: Path, fingerprint: str) -> tuple[dict, dict]:
    """(customer id -> (stamp, counts per kind), {kind: {column: encoded}}), or empty when unusable."""
    try:
        with open(path, "rb") as fh:
            version, fp, cids, stamps, counts, columns = marshal.loads(fh.read())
        if tuple(version[:1]) != _VERSION[:1] or tuple(version[1]) != _VERSION[1] or fp != fingerprint:
            return {}, {}
        import numpy as np

        per = np.frombuffer(counts, dtype=np.int64).reshape(len(cids), len(tables.KINDS))
        return {"cids": cids, "stamps": stamps, "counts": per}, columns
    except Exception:  # noqa: BLE001 - a broken cache is only a slower run
        return {}, {}


def _save_cache(path: Path, fingerprint: str, cids: list[str], stamps: list[str], counts: Any,
                columns: dict) -> None:
    with contextlib.suppress(OSError, ValueError):
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, marshal.dumps((_VERSION, fingerprint, cids, stamps, counts.tobytes(), columns)),
                     sync=False)


# A column is kept as ("n", float64 bytes) for numbers, ("c", uniques, int32 codes) for text and other
# plain values (-1: missing), or ("o", list) for list-valued columns: few Python objects to load.
def _encode(values: Any) -> tuple:
    import numpy as np
    import pandas as pd

    arr = values if isinstance(values, np.ndarray) else np.array(values, dtype=object)
    if arr.dtype == object and len(arr) and any(isinstance(v, list) for v in arr[:50]):
        return ("o", list(arr))
    kinds = {type(v) for v in arr if v is not None}
    if arr.dtype != object or (kinds and kinds <= {int, float}):
        nums = pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce").to_numpy(dtype=np.float64)
        return ("n", nums.tobytes())
    codes, uniques = pd.factorize(pd.Series(arr, dtype=object), use_na_sentinel=True)
    return ("c", list(uniques), codes.astype(np.int32).tobytes())


def _decode(enc: tuple) -> Any:
    import numpy as np

    if enc[0] == "n":
        return np.frombuffer(enc[1], dtype=np.float64)
    if enc[0] == "o":
        out = np.empty(len(enc[1]), dtype=object)
        out[:] = enc[1]
        return out
    uniques = np.empty(len(enc[1]) + 1, dtype=object)
    uniques[:-1] = enc[1]
    uniques[-1] = None
    return uniques[np.frombuffer(enc[2], dtype=np.int32)]


def _epoch(value: Any) -> int | None:
    """Seconds since 1970 of a stored ISO time (None when absent or unreadable)."""
    if not value:
        return None
    try:
        return int(dates.parse_iso(str(value)).timestamp())
    except (dates.DateError, ValueError, OverflowError):
        return None


_TIMES = {kind: {tables.COLUMNS[kind].index(c) for c in cols} for kind, cols in tables.TIME_COLUMNS.items()}
_HIST = tables.COLUMNS["opps"].index("stage_history"), tables.COLUMNS["opps"].index("close_history")


def _cacheable(kind: str, row: dict) -> tuple:
    """A row as a tuple in COLUMNS order, times as epoch seconds (vectorised to datetimes later)."""
    values = list(row.values())
    for i in _TIMES.get(kind, ()):
        values[i] = _epoch(values[i])
    if kind == "opps":
        values[_HIST[0]] = [(_epoch(at), a, b) for at, a, b in values[_HIST[0]]]
        values[_HIST[1]] = [(_epoch(at), c) for at, c in values[_HIST[1]]]
    return tuple(values)


def _read_one(store: Store, cid: str) -> dict[str, list[tuple]] | str:
    """One customer's rows as tuples in COLUMNS order; the problem (``path:line: ...``) when unreadable."""
    try:
        rows = tables.customer_tables(store, cid)
    except (CrmError, OSError) as exc:
        return tables.problem_text(store, cid, exc)
    return {kind: [_cacheable(kind, r) for r in items] for kind, items in rows.items()}


def _read_many(root: str, cids: list[str]) -> list[tuple[str, dict | str]]:
    store = _Store(Path(root))
    return [(cid, _read_one(store, cid)) for cid in cids]


def _read_changed(store: Store, cids: list[str], progress: Callable[[int], Any] | None) -> dict[str, dict | str]:
    out: dict[str, dict | str] = {}
    jobs = min(os.cpu_count() or 1, 8)
    if len(cids) >= _PARALLEL_MIN and jobs > 1:
        import concurrent.futures as cf
        import multiprocessing as mp

        chunk = 500
        parts = [cids[i:i + chunk] for i in range(0, len(cids), chunk)]
        try:
            ctx = mp.get_context("fork")
            with cf.ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
                for result in pool.map(_read_many, [str(store.root)] * len(parts), parts):
                    out.update(result)
                    if progress is not None:
                        progress(len(out))
            return out
        except (OSError, ValueError, cf.process.BrokenProcessPool):
            out.clear()  # fall back to reading here
    for i, cid in enumerate(cids, 1):
        out[cid] = _read_one(store, cid)
        if progress is not None and i % 500 == 0:
            progress(i)
    return out


def load_columns(store: Store, kinds: Iterable[str] | None = None, *,
                 progress: Callable[[int], Any] | None = None, use_cache: bool = True,
                 problems: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """The wanted kinds as numpy columns (``tables.COLUMNS``), customers in id order; times as epoch seconds.

    Customers whose files cannot be read are left out; each one's problem (``path:line: ...``) is appended
    to ``problems`` when given.
    """
    import numpy as np

    wanted = list(kinds) if kinds is not None else list(tables.KINDS)
    path = cache_path(store)
    fingerprint = _fingerprint(store)
    old, old_cols = _load_cache(path, fingerprint) if use_cache else ({}, {})
    old_pos = {cid: i for i, cid in enumerate(old.get("cids", []))}
    old_stamps = old.get("stamps", [])
    base = str(store.root / CUSTOMERS)
    racy_after = time.time_ns() - _RACY_NS
    order: list[str] = []
    stamps: dict[str, str] = {}
    stale: list[str] = []
    for cid in store.customer_ids():
        stamp = _stamp(f"{base}/{cid[:2]}/{cid}", racy_after)
        if stamp is None:
            continue
        order.append(cid)
        stamps[cid] = stamp
        i = old_pos.get(cid)
        if i is None or old_stamps[i] != stamp or stamp.endswith("racy"):
            stale.append(cid)
    if not stale and order == old.get("cids") and old_cols:
        return {k: {c: _decode(marshal.loads(old_cols[k][c])) for c in tables.COLUMNS[k]} for k in wanted}
    fresh = _read_changed(store, stale, progress) if stale else {}
    # splice: runs of unchanged customers are slices of the old columns, changed ones their new rows
    counts_old = old.get("counts")
    starts_old = (np.vstack([np.zeros((1, len(tables.KINDS)), dtype=np.int64), np.cumsum(counts_old, axis=0)])
                  if counts_old is not None else None)
    decoded = ({k: {c: _decode(marshal.loads(old_cols[k][c])) for c in tables.COLUMNS[k]} for k in tables.KINDS}
               if old_cols else {})
    pieces: dict[str, dict[str, list]] = {k: {c: [] for c in tables.COLUMNS[k]} for k in tables.KINDS}
    keep_cids: list[str] = []
    keep_stamps: list[str] = []
    counts: list[list[int]] = []
    run: list[int] = []  # [first, last] old positions of the current run of unchanged customers
    pending: dict[str, list[list]] = {k: [[] for _ in tables.COLUMNS[k]] for k in tables.KINDS}

    def flush_pending() -> None:
        for kind in tables.KINDS:
            for i, c in enumerate(tables.COLUMNS[kind]):
                values = pending[kind][i]
                if values:
                    col = np.empty(len(values), dtype=object)
                    col[:] = values
                    pieces[kind][c].append(col)
                    pending[kind][i] = []

    def flush() -> None:
        if run and starts_old is not None:
            for j, kind in enumerate(tables.KINDS):
                lo, hi = int(starts_old[run[0], j]), int(starts_old[run[1] + 1, j])
                if hi > lo:
                    for c in tables.COLUMNS[kind]:
                        pieces[kind][c].append(decoded[kind][c][lo:hi])
        run.clear()

    for cid in order:
        if cid in fresh:
            flush()
            data = fresh[cid]
            if isinstance(data, str):  # unreadable: left out, and said
                if problems is not None:
                    problems.append(data)
                continue
            row_counts = []
            for kind in tables.KINDS:
                rows = data.get(kind, [])
                row_counts.append(len(rows))
                for i in range(len(tables.COLUMNS[kind]) if rows else 0):
                    pending[kind][i].extend(r[i] for r in rows)
            keep_stamps.append(stamps[cid])
            counts.append(row_counts)
        else:
            flush_pending()
            i = old_pos[cid]
            if run and i == run[1] + 1:
                run[1] = i
            else:
                flush()
                run.extend([i, i])
            keep_stamps.append(old_stamps[i])
            counts.append([int(x) for x in counts_old[i]]) if counts_old is not None else counts.append([])
        keep_cids.append(cid)
    flush()
    flush_pending()
    columns = {k: {c: (np.concatenate([p.astype(object) for p in pieces[k][c]]) if pieces[k][c]
                       else np.empty(0, dtype=object)) for c in tables.COLUMNS[k]} for k in tables.KINDS}
    if use_cache and (len(order) >= CACHE_MIN or old_cols):
        encoded = {k: {c: marshal.dumps(_encode(columns[k][c])) for c in tables.COLUMNS[k]} for k in tables.KINDS}
        count_arr = np.array(counts, dtype=np.int64).reshape(len(keep_cids), len(tables.KINDS))
        _save_cache(path, fingerprint, keep_cids, keep_stamps, count_arr, encoded)
    return {k: columns[k] for k in wanted}


# -- DataFrames --------------------------------------------------------------------------------------------

def _to_time(series: pd.Series, tz: Any) -> pd.Series:
    """Epoch seconds (NaN: missing) as local datetimes."""
    import numpy as np
    import pandas as pd

    secs = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    ns = np.where(np.isnan(secs), np.iinfo(np.int64).min, np.nan_to_num(secs) * 1e9).astype(np.int64)
    index = pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC").tz_convert(tz)
    return pd.Series(index, index=series.index)


def _iso_time(series: pd.Series, tz: Any) -> pd.Series:
    import pandas as pd

    return pd.to_datetime(series, utc=True, format="ISO8601", errors="coerce").dt.tz_convert(tz)


def _frame(kind: str, columns: dict[str, Any], tz: Any) -> pd.DataFrame:
    import pandas as pd

    cols = tables.COLUMNS[kind]
    df = pd.DataFrame({c: pd.Series(columns[c]) if c in columns else pd.Series([], dtype=object) for c in cols})
    for col in tables.TIME_COLUMNS.get(kind, []):
        df[col] = _to_time(df[col], tz)
    for col in tables.DATE_COLUMNS.get(kind, []):
        df[col] = pd.to_datetime(df[col], format="%Y-%m-%d", errors="coerce")
    for col in ("amount", "value", "probability", "duration_min", "csat", "nps"):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col], errors="coerce")
    for col in ("response_breached", "resolution_breached", "primary"):
        if col in df.columns:
            df[col] = df[col].eq(True)
    if kind == "tasks":
        df["due_at"] = _task_due(df["due"], tz)
    return df


def _task_due(due: pd.Series, tz: Any) -> pd.Series:
    """When a task becomes overdue: a day's end (the next local midnight) or the moment itself."""
    import pandas as pd

    text = due.fillna("").astype(str)
    day_only = text.str.len() == 10
    out = pd.Series(pd.NaT, index=due.index, dtype=f"datetime64[ns, {tz}]") if len(due) else \
        pd.Series([], dtype=f"datetime64[ns, {tz}]")
    if day_only.any():
        days = pd.to_datetime(text[day_only], format="%Y-%m-%d", errors="coerce") + pd.Timedelta(days=1)
        out[day_only] = days.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    moment = ~day_only & (text != "")
    if moment.any():
        out[moment] = _iso_time(text[moment], tz)
    return out


def _tz_name() -> Any:
    tz = dates.local_tz()
    key = getattr(tz, "key", None)
    return key or tz


def load(store: Store, kinds: Iterable[str] | None = None, *, progress: Callable[[int], Any] | None = None,
         use_cache: bool = True, now: Any = None, problems: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """DataFrames per kind (all of ``tables.KINDS`` unless narrowed), times in local time (CRM_TZ).

    Unreadable customers are left out, their problems appended to ``problems`` (see ``load_columns``).

    Ticket ``response_breached`` / ``resolution_breached`` are judged at ``now`` (default: dates.now()).
    """
    wanted = list(kinds) if kinds is not None else tables.KINDS
    columns = load_columns(store, wanted, progress=progress, use_cache=use_cache, problems=problems)
    import pandas as pd

    tz = _tz_name()
    frames = {kind: _frame(kind, columns[kind], tz) for kind in wanted}
    if "tickets" in frames:
        t = frames["tickets"]
        at = pd.Timestamp(now or dates.now()).tz_convert(tz)
        t["response_breached"] = t["response_due"].notna() & (t["first_response_at"].fillna(at) > t["response_due"])
        t["resolution_breached"] = t["resolution_due"].notna() & (t["resolved_at"].fillna(at) > t["resolution_due"])
    return frames
