"""Durations (how long a call took) and periods (a cadence, a look-back window): read and written.

In durations ``m`` means minutes and a plain number is minutes; in periods ``m`` means months of 30 days
and units are required. Bad input raises ``DateError`` naming the accepted forms.
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, cast

from crmcli.errors import DateError

DURATION_FORMS = "15m, 1h30m, 1h 30m, 90 (minutes), 1:30, 1.5h, 30min, 2 hours, 3 days, 2w, 45s"
PERIOD_FORMS = "12h, 30d, 2w, 6m (months of 30 days), 1y (365 days), 30min"
_MAX_DURATION = 3650 * 86400
_MAX_PERIOD = 36500 * 86400
_DAY = 86400

_F = TypeVar("_F", bound=Callable[..., Any])


def range_guard(fn: _F) -> _F:
    """Turn stray range errors from datetime arithmetic into DateError."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DateError:
            raise
        except (OverflowError, OSError, ValueError) as exc:
            where = f" in {args[0]!r}" if args and isinstance(args[0], str) else ""
            msg = " ".join(str(exc).split()) or type(exc).__name__
            raise DateError(f"date out of range{where}: {msg}") from None
    return cast(_F, wrapper)


_NUM = r"\d+(?:\.\d+)?"
_NUM_RE = re.compile(_NUM, re.ASCII)
_PART_RE = re.compile(rf"({_NUM})\s*([a-z]+)", re.ASCII)
_PARTS_RE = re.compile(rf"(?:{_NUM}\s*[a-z]+\s*)+", re.ASCII)
_HMS_RE = re.compile(r"(\d+):([0-5]\d)(?::([0-5]\d))?", re.ASCII)


def unit_names(value: int, *names: str) -> dict[str, int]:
    return dict.fromkeys(names, value)


_MINUTES = unit_names(60, "min", "mins", "minute", "minutes")
_LONG = {**unit_names(3600, "h", "hr", "hrs", "hour", "hours"),
         **unit_names(_DAY, "d", "day", "days"),
         **unit_names(7 * _DAY, "w", "wk", "wks", "week", "weeks")}
CLOCK_UNITS = {**unit_names(1, "s", "sec", "secs", "second", "seconds"), "m": 60,
                **_MINUTES, **_LONG}
PERIOD_UNITS = {**_MINUTES, **_LONG,
                 **unit_names(30 * _DAY, "m", "mo", "mos", "month", "months"),
                 **unit_names(365 * _DAY, "y", "yr", "yrs", "year", "years")}


def split_units(s: str, table: dict[str, int]) -> tuple[float, float] | None:
    """Split '1d 2h' text into (calendar days, elapsed seconds); None if not that shape."""
    if not _PARTS_RE.fullmatch(s):
        return None
    days = secs = 0.0
    for num, unit in _PART_RE.findall(s):
        if unit not in table:
            return None
        size = table[unit]
        if size >= _DAY:
            days += float(num) * size / _DAY
        else:
            secs += float(num) * size
    return days, secs


def normalize_text(text: object) -> str:
    if not isinstance(text, str):
        return ""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


@range_guard
def parse_duration(text: str) -> timedelta:
    """How long something took; a plain number is minutes because that is what people log."""
    s = normalize_text(text)
    if s.startswith("-"):
        raise DateError(f"duration cannot be negative: {text!r}")
    s = s.removeprefix("+").strip()
    if _NUM_RE.fullmatch(s):
        secs = float(s) * 60
    elif m := _HMS_RE.fullmatch(s):
        secs = int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3] or 0)
    elif (parts := split_units(s, CLOCK_UNITS)) is not None:
        secs = parts[0] * _DAY + parts[1]
    else:
        raise DateError(f"cannot read duration {text!r}; use one of: {DURATION_FORMS}")
    if not math.isfinite(secs) or secs > _MAX_DURATION:
        raise DateError(f"duration too long: {text!r} (limit is 3650 days)")
    return timedelta(seconds=round(secs))


@range_guard
def parse_period(text: str) -> timedelta:
    """Cadences and look-back windows; units are required because '30' could mean anything."""
    s = normalize_text(text)
    if s.startswith("-"):
        raise DateError(f"period must be greater than zero: {text!r}")
    parts = split_units(s, PERIOD_UNITS)
    if parts is None:
        raise DateError(f"cannot read period {text!r}; use one of: {PERIOD_FORMS}")
    secs = parts[0] * _DAY + parts[1]
    if not math.isfinite(secs) or secs > _MAX_PERIOD:
        raise DateError(f"period too long: {text!r} (limit is 100 years)")
    td = timedelta(seconds=round(secs))
    if td <= timedelta(0):
        raise DateError(f"period must be greater than zero: {text!r}")
    return td


def format_duration(td: timedelta) -> str:
    """Compact form that parse_duration reads back."""
    sign = "-" if td < timedelta(0) else ""
    total = abs(td) // timedelta(seconds=1)
    days, rem = divmod(total, _DAY)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    parts = [f"{v}{u}" for v, u in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")) if v]
    return sign + ("".join(parts) or "0m")
