"""Behaviour from a website or app: daily counts per customer (``activity.day`` events) and the churn warning.

On disk, one journal line per customer and local day that an import saw activity on::

    - {at: '2026-11-20T00:00:00+08:00', kind: activity.day, counts: {login: 3, page_view: 41}}

``at`` is the start of that day in the store's zone (its first ten characters are the day); ``counts`` maps an
activity (lower-case letters, digits, ``_``, ``.``, ``-``) to how many times it happened that day. Lines are
only ever appended. Reading folds them: for each (day, activity) the **largest** count of any line wins. The
fold is order-free and a repeated line changes nothing, so a re-run import, two clones importing the same
export, or git's union merge of two clones' lines all fold to the same figures.

Churn rule (``usage_change``): usage is the sum of every activity's counts per day. Compare the last 30 days
(today and the 29 before) with the 30 days before them; warn when the earlier window had at least
``MIN_BEFORE`` events and the last one fell by ``DROP_PERCENT`` or more.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from crmcli.domain.journal import EventKind, Issues

KIND = "activity.day"
WINDOW_DAYS = 30
DROP_PERCENT = 50
MIN_BEFORE = 10
ACTIVITY = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,39}$")
ALIASES = {"pageview": "page_view", "page view": "page_view", "view": "page_view", "visit": "page_view",
           "浏览": "page_view", "访问": "page_view", "download": "download", "下载": "download",
           "login": "login", "log in": "login", "sign in": "login", "signin": "login", "登录": "login",
           "trial": "trial_use", "trial use": "trial_use", "试用": "trial_use"}


def activity_name(text: str) -> str | None:
    """The stored name of an activity as an export writes it (``Page View`` -> page_view); None if unusable."""
    key = " ".join(str(text).strip().casefold().replace("_", " ").replace("-", " ").split())
    name = ALIASES.get(key) or key.replace(" ", "_")
    return name if ACTIVITY.match(name) else None


def day_of(entry: dict) -> date | None:
    try:
        return date.fromisoformat(str(entry.get("at", ""))[:10])
    except ValueError:
        return None


def daily(entries: Iterable[dict]) -> dict[date, dict[str, int]]:
    """The fold: day -> activity -> count, the largest count of any ``activity.day`` line for each pair."""
    out: dict[date, dict[str, int]] = {}
    for e in entries:
        counts = e.get("counts")
        if e.get("kind") != KIND or not isinstance(counts, dict) or (day := day_of(e)) is None:
            continue
        held = out.setdefault(day, {})
        for name, n in counts.items():
            if isinstance(n, int) and not isinstance(n, bool) and n > 0:
                held[str(name)] = max(held.get(str(name), 0), n)
    return out


def in_window(days: dict[date, dict[str, int]], first: date, last: date) -> int:
    """Events of every activity on the days first..last (both included)."""
    return sum(sum(c.values()) for d, c in days.items() if first <= d <= last)


def usage_change(days: dict[date, dict[str, int]], today: date) -> dict[str, Any] | None:
    """The churn rule (module docstring): the two windows, the change in percent and the warning, if any.
    None when there is no activity in either window."""
    recent_first = today - timedelta(days=WINDOW_DAYS - 1)
    before_first = recent_first - timedelta(days=WINDOW_DAYS)
    recent = in_window(days, recent_first, today)
    before = in_window(days, before_first, recent_first - timedelta(days=1))
    if not recent and not before:
        return None
    change = None if before == 0 else round((recent - before) * 100 / before)
    warning = None
    if before >= MIN_BEFORE and recent * 100 <= before * (100 - DROP_PERCENT):
        warning = (f"usage fell {-change if change is not None else 100}%: {recent:,} events in the last "
                   f"{WINDOW_DAYS} days against {before:,} in the {WINDOW_DAYS} before")
    return {"recent": recent, "before": before, "change_percent": change, "warning": warning,
            "recent_from": recent_first.isoformat(), "before_from": before_first.isoformat()}


def recent_days(days: dict[date, dict[str, int]], today: date, limit: int = 7) -> list[dict]:
    """The latest ``limit`` days with activity up to ``today``, newest first: day, total, counts."""
    kept = sorted((d for d in days if d <= today), reverse=True)[:limit]
    return [{"day": d.isoformat(), "total": sum(days[d].values()), "counts": dict(sorted(days[d].items()))}
            for d in kept]


def _validate(entry: dict, config: Any) -> Issues:
    if day_of(entry) is None:
        return [(("at",), "activity.day needs the day in at (like '2026-11-20T00:00:00+08:00')")]
    counts = entry.get("counts")
    if not isinstance(counts, dict) or not counts:
        return [(("counts",), "activity.day needs counts: {ACTIVITY: NUMBER, ...}")]
    for name, n in counts.items():
        if not isinstance(name, str) or not ACTIVITY.match(name):
            return [(("counts", name), f"{str(name)[:40]!r} is not an activity name (lower-case letters, digits, "
                                       "_ . -; like page_view)")]
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            return [(("counts", name), f"{name}: {n!r} is not a count (a whole number of at least 1)")]
    return []


def _describe(entry: dict) -> str:
    counts = entry.get("counts")
    if not isinstance(counts, dict):
        return ""
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))


EVENT_KINDS = (EventKind(KIND, _validate, _describe),)
