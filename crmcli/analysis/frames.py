"""The one loader reports use: the store's rows as pandas DataFrames, read from the index's facts.

The rows are those of ``crmcli.analysis.rows`` (built by ``crmcli.domain.records``); the index
(``crmcli.store.index``, caught up with the files before every read) keeps them in its facts tables
(``crmcli.store.index_facts``), so a report reads only the kinds and columns it asks for, in SQL, and parses no YAML
unless something changed. Customers the index cannot stand in for (an unreadable profile, an odd or
refused journal) are read from their files here, as before. ``from_files=True`` reads every customer's
files instead: the slow way, kept to check the index against.

Values that depend on ``crm.yaml`` (a deal's probability, a ticket's SLA due times) or on "now" (SLA
breaches) are worked out on every load; nothing else is.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crmcli.analysis import rows as tables
from crmcli.domain import dates
from crmcli.errors import CrmError
from crmcli.store import index_facts as facts
from crmcli.store.index import index_path, open_index  # noqa: F401 - index_path: where the facts live
from crmcli.store.store import Store

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

_TIMES = {kind: {tables.COLUMNS[kind].index(c) for c in cols} for kind, cols in tables.TIME_COLUMNS.items()}
_HIST = tables.COLUMNS["opps"].index("stage_history"), tables.COLUMNS["opps"].index("close_history")


def _cacheable(kind: str, row: dict) -> tuple:
    """A row as a tuple in COLUMNS order, times as epoch seconds (vectorised to datetimes later), histories as lists
    of ``[at, ...]`` lists (as the facts' JSON gives them)."""
    values = list(row.values())
    for i in _TIMES.get(kind, ()):
        values[i] = facts.epoch(values[i])
    if kind == "opps":
        values[_HIST[0]] = [[facts.epoch(at), a, b] for at, a, b in values[_HIST[0]]]
        values[_HIST[1]] = [[facts.epoch(at), c] for at, c in values[_HIST[1]]]
    return tuple(values)


def _from_files(store: Store, cids: Iterable[str], wanted: list[str], problems: list[str] | None,
                now: Any) -> dict[str, list[tuple]]:
    """(customer, position, *row) per kind of these customers, read from their files; unreadable ones named in
    ``problems`` and left out (every kind is read, so a journal that cannot be read leaves the customer out)."""
    out: dict[str, list[tuple]] = {k: [] for k in wanted}
    for cid in cids:
        try:
            rows = tables.customer_tables(store, cid, now=now)
        except (CrmError, OSError) as exc:
            if problems is not None:
                problems.append(tables.problem_text(store, cid, exc))
            continue
        for kind in wanted:
            out[kind] += [(cid, i, *_cacheable(kind, r)) for i, r in enumerate(rows[kind])]
    return out


# The columns the reports read where a kind has many more (``load(columns=REPORT_COLUMNS)``): less to read and keep.
REPORT_COLUMNS: dict[str, list[str]] = {"interactions": ["customer", "at", "kind", "by"]}


def _names(kind: str, columns: Mapping[str, Sequence[str]] | None) -> list[str]:
    keep = (columns or {}).get(kind) if kind not in ("opps", "tickets") else None  # those two are always whole
    return [c for c in tables.COLUMNS[kind] if keep is None or c in keep]


def _from_index(store: Store, wanted: list[str], problems: list[str] | None, now: Any,
                columns: Mapping[str, Sequence[str]] | None = None) -> dict[str, list[list]]:
    """Per kind, the columns (customer, position, *COLUMNS) of every row: from the facts, and from the odd
    customers' files."""
    import json

    config = facts.WithConfig(store.config)
    out: dict[str, list[list]] = {}
    with open_index(store) as index:
        odd = facts.fallback_ids(index.db)
        disk = _from_files(store, odd, wanted, problems, now)
        facts.skip(index.db, odd)
        for kind in wanted:
            names = _names(kind, columns)
            times = set(tables.TIME_COLUMNS.get(kind, []))
            rows = facts.scan(index.db, kind, [f"{c}__s" if c in times else c for c in names]).fetchall()
            cols = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(len(names) + 2)]
            del rows
            col = {c: 2 + i for i, c in enumerate(names)}
            if kind == "opps":
                cols[col["probability"]] = [config.probability(s) for s in cols[col["stage"]]]
                for c in tables.LIST_COLUMNS["opps"]:
                    cols[col[c]] = json.loads("[" + ",".join(cols[col[c]]) + "]")
            elif kind == "tickets":
                hours = [config.hours(p, c) for p, c in zip(cols[col["priority"]], cols[col["category"]],
                                                             strict=True)]
                for c, i in (("response_due", 0), ("resolution_due", 1)):
                    cols[col[c]] = [config.due_seconds(o, h[i]) for o, h in zip(cols[col["opened_at"]], hours,
                                                                                 strict=True)]
            if disk[kind]:  # the odd customers' rows, in their place
                at = [0, 1, *(2 + tables.COLUMNS[kind].index(c) for c in names)]
                odd_rows = [tuple(r[i] for i in at) for r in disk[kind]]
                merged = sorted([*zip(*cols, strict=True), *odd_rows], key=lambda r: (r[0], r[1]))
                cols = [list(c) for c in zip(*merged, strict=True)]
            out[kind] = cols
    return out


def load_columns(store: Store, kinds: Iterable[str] | None = None, *, from_files: bool = False,
                 problems: list[str] | None = None, now: Any = None,
                 columns: Mapping[str, Sequence[str]] | None = None) -> dict[str, dict[str, Any]]:
    """The wanted kinds as numpy object columns (``tables.COLUMNS``), customers in id order; times as epoch seconds.

    Customers whose files cannot be read are left out; each one's problem (``path:line: ...``) is appended
    to ``problems`` when given.
    """
    import numpy as np

    wanted = list(kinds) if kinds is not None else list(tables.KINDS)
    now = now or dates.now()
    if from_files:
        rows = _from_files(store, store.customer_ids(), wanted, problems, now)
        got = {}
        for k in wanted:
            every = [list(c) for c in zip(*rows.pop(k), strict=True)] or [[] for _ in range(len(tables.COLUMNS[k]) + 2)]
            got[k] = every[:2] + [every[2 + tables.COLUMNS[k].index(c)] for c in _names(k, columns)]
    else:
        got = _from_index(store, wanted, problems, now, columns)
    out: dict[str, dict[str, Any]] = {}
    for kind in wanted:
        cols = got.pop(kind)  # let each kind's lists go as soon as its columns are made
        out[kind] = {}
        for i, c in enumerate(_names(kind, columns)):
            col = np.empty(len(cols[i + 2]), dtype=object)
            col[:] = cols[i + 2]
            out[kind][c] = col
    return out


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

    cols = [c for c in tables.COLUMNS[kind] if c in columns]
    df = pd.DataFrame({c: pd.Series(columns[c]) for c in cols})
    for col in tables.TIME_COLUMNS.get(kind, []):
        if col in df.columns:
            df[col] = _to_time(df[col], tz)
    for col in tables.DATE_COLUMNS.get(kind, []):
        if col in df.columns:
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
         from_files: bool = False, now: Any = None, problems: list[str] | None = None,
         columns: Mapping[str, Sequence[str]] | None = None) -> dict[str, pd.DataFrame]:
    """DataFrames per kind (all of ``tables.KINDS`` unless narrowed), times in local time (CRM_TZ).

    Unreadable customers are left out, their problems appended to ``problems`` (see ``load_columns``).
    ``progress`` is accepted for callers that show one; the index's catch-up shows its own. ``columns`` narrows a
    kind to those columns (``REPORT_COLUMNS``: what the reports read; deals and tickets are always whole).

    Ticket ``response_breached`` / ``resolution_breached`` are judged at ``now`` (default: dates.now()).
    """
    wanted = list(kinds) if kinds is not None else tables.KINDS
    data = load_columns(store, wanted, from_files=from_files, problems=problems, now=now, columns=columns)
    import pandas as pd

    tz = _tz_name()
    frames = {kind: _frame(kind, data[kind], tz) for kind in wanted}
    if "tickets" in frames:
        t = frames["tickets"]
        at = pd.Timestamp(now or dates.now()).tz_convert(tz)
        t["response_breached"] = t["response_due"].notna() & (t["first_response_at"].fillna(at) > t["response_due"])
        t["resolution_breached"] = t["resolution_due"].notna() & (t["resolved_at"].fillna(at) > t["resolution_due"])
    return frames
