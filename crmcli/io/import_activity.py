"""Rows of behaviour events (page views, downloads, trial use, logins): summed per customer, local day and
activity into compact ``activity.day`` events (``crmcli.domain.activity``).

A row is one event (or ``count`` of them) of one customer at one moment. Rows are only counted while the file
is read; once it is read, each (customer, day) gets one new line holding the activities whose count in the file
is larger than the store's: a day the store already has as the file has it writes nothing, so importing the
same file again (or an export overlapping an earlier one) changes nothing.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time
from typing import Any

from crmcli.domain import activity, dates
from crmcli.io.import_plan import Source
from crmcli.io.import_planner import PlannerBase
from crmcli.io.import_values import BadValue, moment_cell, text_cell


class ActivityRows(PlannerBase):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._activity: dict[tuple[str, date], Counter[str]] = {}  # (customer, local day) -> activity -> count
        self._activity_rows: Counter[tuple[str, date, str]] = Counter()  # rows behind each count

    def row_problems(self, source: Source, v: dict[str, Any]) -> list[tuple[str, str]]:
        out = super().row_problems(source, v)
        if source.kind != "events":
            return out
        for fld in ("event", "count"):
            try:
                (_name if fld == "event" else _count)(v)
            except BadValue as exc:
                out.append((exc.field, exc.message))
        return out

    def row_events(self, v: dict[str, Any], source: Source, number: int) -> str:
        cid = self._customer_ref(v)
        at = moment_cell("at", v.get("at"))
        if at is None:
            raise BadValue("at", "no date; say when it happened (like 2026-11-20 14:30)")
        name, count = _name(v), _count(v)
        day = dates.to_local(datetime.fromisoformat(at)).date()  # at: as dates.iso wrote it, checked already
        self._activity.setdefault((cid, day), Counter())[name] += count
        self._activity_rows[(cid, day, name)] += 1
        return "counted"

    def run(self, source: Source) -> None:
        super().run(source)
        if source.kind == "events":
            self._plan_activity(source)

    def _plan_activity(self, source: Source) -> None:
        cells, rows = self._activity, self._activity_rows
        self._activity, self._activity_rows = {}, Counter()
        counts = self.plan.count(source.kind)
        held: dict[str, dict[date, dict[str, int]]] = {}
        planned: dict[str, list[dict]] = {}
        for cid, e in self.plan.events:
            if e.get("kind") == activity.KIND:
                planned.setdefault(cid, []).append(e)
        unchanged: Counter[str] = Counter()
        for (cid, day), file_counts in sorted(cells.items()):
            if cid not in held:
                stored = [e.data for e in self.pool.journal(cid) if e.kind == activity.KIND]
                held[cid] = activity.daily(stored + planned.get(cid, []))
            have = held[cid].get(day, {})
            new = {}
            for name, n in sorted(file_counts.items()):
                used = rows[(cid, day, name)]
                if n <= have.get(name, 0):
                    counts.skipped += used
                    unchanged[cid] += used
                    continue
                new[name] = n
                if name in have:
                    counts.updated += used
                else:
                    counts.created += used
            if new:
                at = dates.iso(datetime.combine(day, time(0)))
                entry = {"at": at, "kind": activity.KIND, "counts": new}
                self._validate_event(entry)
                self.plan.events.append((cid, entry))
                held[cid].setdefault(day, {}).update(new)
        for cid, n in sorted(unchanged.items()):
            self.plan.skipped.append(f"{source.label}: {n:,} event rows of {cid} already in its journal")


def _name(v: dict[str, Any]) -> str:
    raw = text_cell(v.get("event"))
    if not raw:
        raise BadValue("event", "no event; say what the customer did (page_view, download, login, trial_use)")
    name = activity.activity_name(raw)
    if name is None:
        raise BadValue("event", f"{raw[:40]!r} is not an activity name; use letters, digits and _ (like "
                                "page_view), or map it with --map-value")
    return name


def _count(v: dict[str, Any]) -> int:
    if v.get("count") is None:
        return 1
    text = str(v["count"]).strip()
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not (number.is_integer() and number >= 1):
        raise BadValue("count", f"{text[:40]!r} is not a count (a whole number of at least 1)")
    return int(number)
