"""Dates and times for crmcli: the stored form, local time, and the WHEN language people type.

Timezone policy
---------------
* Stored values are ISO 8601 with an explicit UTC offset at second precision,
  e.g. ``2026-11-20T14:30:00+08:00`` (UTC is written ``+00:00``, never ``Z``).
  An offset rather than a zone name keeps files unambiguous on every machine.
* Input without an offset is local time.  "Local" is the IANA zone named by
  ``CRM_TZ`` (e.g. ``Asia/Shanghai``) when set, else the store's ``timezone``
  in crm.yaml (``set_store_zone``), else the system zone
  (``datetime.now().astimezone().tzinfo``).  With the system zone, conversions
  go through the OS rules so DST is still honoured for other dates.
* Display is in local time.  ``CRM_NOW`` (ISO, offset optional => local) pins
  "now" so tests and reports are reproducible.

The WHEN language (``parse_when``), case-insensitive
-----------------------------------------------------
* ``2026-11-20``, ``2026/11/20``, ``2026年11月20日``, optionally followed by a
  time; ISO ``2026-11-20T14:30[:15]`` with an optional ``+08:00``/``Z`` offset.
  Ambiguous ``11/20`` style dates are rejected on purpose.
* ``now``; ``today``/``tomorrow``/``yesterday``; ``今天 明天 昨天 后天 前天``.
* Weekdays ``mon``..``sunday`` (also ``周五``/``星期五``):
  bare weekday with prefer ``future``/``nearest`` = next occurrence strictly
  after today, with ``past`` = most recent strictly before today;
  ``next X`` = the X within the next 7 days strictly after today (so from a
  Wednesday ``next friday`` is two days away); ``last X`` = most recent X
  strictly before today; ``this X`` = the X of the current Monday-Sunday week
  (may be today or already past).
* ``Dec 5``, ``5 December``, ``Dec 5 2026`` (without a year: the Dec 5 nearest today, or the next/last one
  as prefer says); ``next week``/``last week``/``this week`` (that week's Monday); ``下周五``/``本周五``/
  ``上周五`` (Friday of next/this/last Monday-Sunday week; ``下周`` alone is its Monday); ``月底``/``月初``,
  ``下月底``, ``end of month``.  ``12/05/2026`` is refused with the reason (day and month order differ
  between countries) and the YYYY-MM-DD spellings to type.
* Relative: ``in 3 days``, ``in 1h30m``, ``2h ago``, ``+3d``, ``-2h``.  Days and
  weeks are calendar (wall-clock) offsets: ``in 1 day`` across a DST change
  keeps the clock time.  Hours, minutes and seconds are elapsed time.
* Times: ``15:00``, ``15:00:30``, ``9am``, ``9 am``, ``9:30pm``, ``12am`` (00:00),
  ``12pm`` (12:00), ``noon``, ``midnight``, ``中午``, ``下午3点``; a day form may be followed by one (``at``
  optional) or come after it (``3pm yesterday``).  A bare time means today at that time.
* A day without a time means the start of that day (00:00) unless the caller
  passes ``date_only_time``; ``now`` and relative forms keep base's time.
* The result is aware with microsecond=0: in the input's offset when one was
  given (preserved, not converted), else in the local zone.

Units (``crmcli.domain.durations``): in relative WHEN forms ``m`` means minutes; in periods
(``parse_since('3m')``) ``m`` means months of 30 days.
"""
from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import cast

from crmcli.domain import stamps, zones
from crmcli.domain.durations import (
    CLOCK_UNITS,
    PERIOD_UNITS,
    normalize_text,
    parse_period,
    range_guard,
    split_units,
    unit_names,
)
from crmcli.errors import DateError, quote

__all__ = ["ACCEPTED_FORMS", "DateError", "format_local", "iso", "iso_week_range", "local_tz", "now", "parse_date",
           "parse_iso", "parse_since", "parse_when", "to_local"]

ACCEPTED_FORMS = (
    "2026-11-20 [14:30], 2026/11/20, 2026年11月20日, ISO with +08:00 or Z, now, "
    "today/tomorrow/yesterday (今天/明天/昨天/后天/前天), mon..sun, next/last/this friday, "
    "Dec 5, next week, 下周五, 本周五, 月底, in 3 days, in 2h, 2h ago, +3d, -2h; a day may be followed by a time "
    "(15:00, 9am, 9:30pm, noon) or follow one (3pm yesterday); a bare time (15:00, 3pm, noon) means today"
)

_PREFS = ("past", "future", "nearest")
_DAY = 86400
_crm_zone = zones.crm_zone


def local_tz() -> tzinfo:
    """The zone naive input and display use; CRM_TZ makes it machine-independent."""
    zone = _crm_zone()
    return zone if zone is not None else cast(tzinfo, datetime.now().astimezone().tzinfo)


def _localize(naive: datetime) -> datetime:
    """Read wall-clock time as local; a time inside a DST gap moves to a real instant."""
    zone = _crm_zone()
    if zone is None:
        return naive.astimezone()
    return naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def _aware(dt: datetime) -> datetime:
    return _localize(dt) if dt.tzinfo is None or dt.utcoffset() is None else dt


@range_guard
def to_local(dt: datetime) -> datetime:
    """Convert for display and day arithmetic; naive input is taken as local already."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        return _localize(dt)
    zone = _crm_zone()
    return dt.astimezone(zone) if zone is not None else dt.astimezone()


@range_guard
def now() -> datetime:
    """The single source of "now"; CRM_NOW pins it for tests and reproducible reports."""
    raw = os.environ.get("CRM_NOW", "").strip()
    if raw:
        try:
            dt = parse_iso(raw)
        except DateError as exc:
            raise DateError(f"bad CRM_NOW: {exc}") from None
    else:
        dt = datetime.now(UTC)
    return to_local(dt).replace(microsecond=0)


_OFFSET = r"z|[+-]\d{2}(?::\d{2}(?::\d{2})?|\d{2})?"
_ISO_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[t ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?"
    rf"\s*({_OFFSET})?)?", re.ASCII | re.IGNORECASE)


@range_guard
def iso(dt: datetime) -> str:
    """The one stored spelling; naive input is taken as local. Refuses a moment readers cannot convert."""
    text = _aware(dt).replace(microsecond=0).isoformat(timespec="seconds")
    parse_iso(text)  # round-trip through the reader: what is stored must read back
    return text



@range_guard
def parse_iso(text: str) -> datetime:
    """Strict reader for stored values, so typos in data files are not guessed at."""
    s = text.strip() if isinstance(text, str) else ""
    known = stamps.known(s)
    if known is not None:
        return known
    m = _ISO_RE.fullmatch(s)
    if not m:
        raise DateError(f"not a stored timestamp {text!r}; expected YYYY-MM-DDTHH:MM:SS+HH:MM")
    y, mo, d, hh, mi, ss, off = m.groups()
    day = _mkdate(int(y), int(mo), int(d), text)
    clock = _mktime(int(hh or 0), int(mi or 0), int(ss or 0), text)
    moment = _readable(_attach(datetime.combine(day, clock), off, text), text)
    if off is not None:
        stamps.remember(s, moment)
    return moment


def _readable(dt: datetime, text: object) -> datetime:
    """Refuse a moment that every reader cannot show: it must convert to UTC and to local time.

    ``0001-01-01T00:00:00+14:00`` is a valid ISO text whose instant is before year 1 in UTC, so
    converting it overflows; stored, it would break ``show`` and ``timeline`` for good.
    """
    if 1000 <= dt.year <= 8999 and dt.utcoffset() is not None:
        return dt  # a day away from the ends of the calendar: no offset or zone takes it out
    try:
        dt.astimezone(UTC)
        local = to_local(dt)
        local.astimezone(UTC)
    except (OverflowError, OSError, ValueError):
        raise DateError(f"date out of range in {quote(text)}: its moment in UTC or in local time "
                        "is outside years 1-9999; give a real date") from None
    return dt


def _mkdate(y: int, m: int, d: int, text: str) -> date:
    try:
        return date(y, m, d)
    except ValueError as exc:
        raise DateError(f"impossible date in {text!r}: {exc}") from None


def _mktime(h: int, m: int, s: int, text: str) -> time:
    for value, limit, name in ((h, 23, "hour"), (m, 59, "minute"), (s, 59, "second")):
        if value > limit:
            raise DateError(f"impossible time in {text!r}: {name} must be 0-{limit}")
    return time(h, m, s)


def _attach(naive: datetime, off: str | None, text: str) -> datetime:
    """Give wall time its offset: the one written in the input, else local."""
    if off is None:
        return _localize(naive)
    if off.lower() == "z":
        return naive.replace(tzinfo=UTC)
    digits = off[1:].replace(":", "")
    h, m, s = int(digits[:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
    if h > 23 or m > 59 or s > 59:
        raise DateError(f"impossible UTC offset {off!r} in {text!r}")
    delta = timedelta(hours=h, minutes=m, seconds=s) * (-1 if off[0] == "-" else 1)
    return naive.replace(tzinfo=timezone(delta) if delta else UTC)


_WEEKDAYS = {**unit_names(0, "mon", "monday"), **unit_names(1, "tue", "tues", "tuesday"),
             **unit_names(2, "wed", "weds", "wednesday"),
             **unit_names(3, "thu", "thur", "thurs", "thursday"), **unit_names(4, "fri", "friday"),
             **unit_names(5, "sat", "saturday"), **unit_names(6, "sun", "sunday")}
_CN_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_RELDAYS = {"today": 0, "tomorrow": 1, "tmr": 1, "tmrw": 1, "yesterday": -1,
            "今天": 0, "明天": 1, "昨天": -1, "后天": 2, "前天": -2}
_WD_ALT = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_REL_ALT = "|".join(sorted(_RELDAYS, key=len, reverse=True))

_DAY_RE = re.compile(
    r"(?P<y>\d{4})(?P<sep>[-/])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\d)"
    r"|(?P<cy>\d{4})年(?P<cm>\d{1,2})月(?P<cd>\d{1,2})[日号]?"
    rf"|(?P<rel>{_REL_ALT})(?![a-z])"
    rf"|(?:(?P<mod>next|last|this)\s+)?(?P<wd>{_WD_ALT})(?![a-z])"
    r"|(?:周|星期|礼拜)(?P<cwd>[一二三四五六日天])", re.ASCII)
_TIME_RE = re.compile(
    r"(?P<h>\d{1,2})(?::(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,]\d+)?)?)?"
    rf"\s*(?P<ap>am|pm|a\.m\.|p\.m\.)?\s*(?P<off>{_OFFSET})?", re.ASCII)
_CN_TIME_RE = re.compile(
    r"(?P<pre>凌晨|早上|上午|中午|下午|晚上)?\s*(?P<h>\d{1,2})[点时]"
    r"(?:(?P<half>半)|(?P<m>\d{1,2})分?)?", re.ASCII)
_REL_RE = re.compile(r"(?:(?P<in>in)\s+|(?P<sign>[+-])\s*)?(?P<amt>.+?)(?:\s+(?P<ago>ago))?",
                     re.ASCII)
_LEAD_RE = re.compile(r"^(?:at\s+|@\s*|,\s*)")
_TIME_WORDS = {"noon": time(12), "midday": time(12), "中午": time(12), "midnight": time(0)}
_MONTHS = {name: i + 1 for i, names in enumerate(
    ("jan january", "feb february", "mar march", "apr april", "may", "jun june", "jul july", "aug august",
     "sep sept september", "oct october", "nov november", "dec december")) for name in names.split()}
_MON_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_MORE_DAY_RE = re.compile(
    rf"(?P<mon>{_MON_ALT})\.?\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?(?![\d:])(?:,?\s+(?P<my>\d{{4}})(?![\d:]))?"
    rf"|(?P<dm>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon2>{_MON_ALT})\.?(?![a-z])(?:,?\s+(?P<my2>\d{{4}})(?![\d:]))?"
    r"|(?P<wkmod>next|last|this)\s+week(?![a-z])"
    r"|(?P<cwk>下|上|本|这)个?(?:周|星期|礼拜)(?P<cwkd>[一二三四五六日天])?"
    r"|(?P<mrel>本|这个|下个?|上个?)?月(?P<edge>底|末|初)"
    r"|end\s+of\s+(?:the\s+)?(?P<eom>next\s+)?month", re.ASCII)
_SLASHED_RE = re.compile(r"(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?(?:\s.*)?", re.ASCII)


def _time_of_day(s: str, text: str) -> tuple[time, str | None] | None:
    """Read a clock time (and optional offset); None if s is not shaped like one."""
    if s in _TIME_WORDS:
        return _TIME_WORDS[s], None
    m = _TIME_RE.fullmatch(s)
    if m and (m["m"] or m["ap"]):
        h, mi, sec = int(m["h"]), int(m["m"] or 0), int(m["s"] or 0)
        if m["ap"]:
            if not 1 <= h <= 12:
                raise DateError(f"impossible time in {text!r}: hour must be 1-12 with am/pm")
            h = h % 12 + (12 if m["ap"].startswith("p") else 0)
        return _mktime(h, mi, sec, text), m["off"]
    c = _CN_TIME_RE.fullmatch(s)
    if c:
        h, mi = int(c["h"]), 30 if c["half"] else int(c["m"] or 0)
        if c["pre"] in ("下午", "晚上") and 1 <= h < 12 or c["pre"] == "中午" and 1 <= h < 6:
            h += 12
        return _mktime(h, mi, 0, text), None
    return None


def _shift(base: datetime, days: float, seconds: float) -> datetime:
    """Calendar days on the wall clock, then seconds as elapsed time."""
    moved = _localize(base.replace(tzinfo=None) + timedelta(days=days)) if days else base
    if seconds:
        moved = to_local(moved.astimezone(UTC) + timedelta(seconds=seconds))
    return moved


def _relative(s: str, base: datetime) -> datetime | None:
    m = _REL_RE.fullmatch(s)
    if not m or [bool(m["in"]), bool(m["sign"]), bool(m["ago"])].count(True) != 1:
        return None
    parts = split_units(m["amt"], CLOCK_UNITS)
    if parts is None:
        return None
    sign = -1 if m["ago"] or m["sign"] == "-" else 1
    return _shift(base, sign * parts[0], sign * parts[1])


def _day(m: re.Match[str], base: datetime, prefer: str, text: str) -> date:
    today = base.date()
    if m["y"]:
        return _mkdate(int(m["y"]), int(m["m"]), int(m["d"]), text)
    if m["cy"]:
        return _mkdate(int(m["cy"]), int(m["cm"]), int(m["cd"]), text)
    if m["rel"]:
        return today + timedelta(days=_RELDAYS[m["rel"]])
    wd = _WEEKDAYS[m["wd"]] if m["wd"] else _CN_WEEKDAYS[m["cwd"]]
    mod = m["mod"] or ("last" if prefer == "past" else "next")
    if mod == "next":
        return today + timedelta(days=(wd - today.weekday()) % 7 or 7)
    if mod == "last":
        return today - timedelta(days=(today.weekday() - wd) % 7 or 7)
    return today + timedelta(days=wd - today.weekday())


def _month_day(month: int, day: int, year: str | None, today: date, prefer: str, text: str) -> date:
    if year:
        return _mkdate(int(year), month, day, text)
    years = [y for y in (today.year - 1, today.year, today.year + 1) if month != 2 or day != 29 or y % 4 == 0]
    days = [_mkdate(y, month, day, text) for y in years or [today.year]]
    if prefer == "past":
        return max(d for d in days if d <= today)
    if prefer == "future":
        return min(d for d in days if d >= today)
    return min(days, key=lambda d: (abs((d - today).days), d < today))


def _more_day(m: re.Match[str], base: datetime, prefer: str, text: str) -> date:
    """Month names, weeks and month ends (see the module docstring)."""
    today = base.date()
    monday = today - timedelta(days=today.weekday())
    if m["mon"] or m["mon2"]:
        month = _MONTHS[m["mon"] or m["mon2"]]
        return _month_day(month, int(m["md"] or m["dm"]), m["my"] or m["my2"], today, prefer, text)
    if m["wkmod"]:
        return monday + timedelta(days={"next": 7, "last": -7, "this": 0}[m["wkmod"]])
    if m["cwk"]:
        week = monday + timedelta(days={"下": 7, "上": -7}.get(m["cwk"], 0))
        return week + timedelta(days=_CN_WEEKDAYS[m["cwkd"]] if m["cwkd"] else 0)
    ahead = 1 if m["eom"] or (m["mrel"] or "").startswith("下") else -1 if (m["mrel"] or "").startswith("上") else 0
    first = date(today.year + (today.month - 1 + ahead) // 12, (today.month - 1 + ahead) % 12 + 1, 1)
    if m["edge"] == "初":
        return first
    return date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1)


def _time_first(s: str, base: datetime, prefer: str, text: str) -> datetime | None:
    """``3pm yesterday``, ``noon tomorrow``: a time, then a day."""
    words = s.split(" ")
    for k in (1, 2):
        if len(words) <= k:
            break
        clock = _time_of_day(" ".join(words[:k]), text)
        if clock is None:
            continue
        rest = " ".join(words[k:])
        m = _DAY_RE.match(rest) or _MORE_DAY_RE.match(rest)
        if m and m.end() == len(rest):
            day = _day(m, base, prefer, text) if m.re is _DAY_RE else _more_day(m, base, prefer, text)
            return _attach(datetime.combine(day, clock[0]), clock[1], text)
    return None


def _slashed(s: str, text: str) -> None:
    """``12/05/2026``: refuse with the reason and the spellings to type."""
    m = _SLASHED_RE.fullmatch(s)
    if not m:
        return
    a, b, y = int(m[1]), int(m[2]), m[3] or "YYYY"
    if y != "YYYY" and len(y) == 2:
        y = "20" + y
    options = [f"{y}-{mo:02d}-{d:02d}" for mo, d in ((b, a), (a, b)) if 1 <= mo <= 12 and 1 <= d <= 31]
    spell = " or ".join(dict.fromkeys(options)) or "YYYY-MM-DD"
    raise DateError(f"cannot read date {text!r}: day/month order differs between countries, so "
                    f"{m[1]}/{m[2]} is not guessed; write {spell} (YYYY-MM-DD), or Dec 5 style with the month's "
                    f"name; use one of: {ACCEPTED_FORMS}")


def _parse(s: str, base: datetime, prefer: str, date_only_time: time | None,
           text: str) -> datetime | None:
    if s in ("now", "现在"):
        return base
    rel = _relative(s, base)
    if rel is not None:
        return rel
    bare = _time_of_day(s, text)
    if bare is not None:
        return _attach(datetime.combine(base.date(), bare[0]), bare[1], text)
    m = _DAY_RE.match(s) or _MORE_DAY_RE.match(s)
    if m is None:
        _slashed(s, text)
        return _time_first(s, base, prefer, text)
    day = _day(m, base, prefer, text) if m.re is _DAY_RE else _more_day(m, base, prefer, text)
    rest = s[m.end():]
    if m.re is _DAY_RE and m["y"] and rest[:1] == "t":
        rest = rest[1:]
    rest = _LEAD_RE.sub("", rest.strip(), count=1) if rest.strip() else ""
    if not rest:
        clock = (date_only_time or time(0)).replace(tzinfo=None)
        return _localize(datetime.combine(day, clock))
    parsed = _time_of_day(rest, text)
    if parsed is None:
        return None
    return _attach(datetime.combine(day, parsed[0]), parsed[1], text)


@range_guard
def parse_when(text: str, *, base: datetime | None = None, prefer: str = "nearest",
               date_only_time: time | None = None) -> datetime:
    """Read a human WHEN; prefer only decides which way a bare weekday points."""
    if prefer not in _PREFS:
        raise DateError(f"prefer must be one of {', '.join(_PREFS)}, not {prefer!r}")
    s = normalize_text(text)
    if not s:
        raise DateError(f"empty date; use one of: {ACCEPTED_FORMS}")
    b = (to_local(base) if base is not None else now()).replace(microsecond=0)
    result = _parse(s, b, prefer, date_only_time, text)
    if result is None:
        raise DateError(f"cannot read date {text!r}; use one of: {ACCEPTED_FORMS}")
    return _readable(result.replace(microsecond=0), text)


def parse_date(text: str, *, base: datetime | None = None) -> date:
    """Due dates, birthdays and contract terms want a day; the date is taken as written."""
    return parse_when(text, base=base).date()


@range_guard
def parse_since(text: str, *, base: datetime | None = None) -> datetime:
    """Look-back filters: a bare period ('7d', '3m' = 90 days) counts back from base."""
    s = normalize_text(text)
    b = (to_local(base) if base is not None else now()).replace(microsecond=0)
    if s and split_units(s, PERIOD_UNITS) is not None:
        td = parse_period(s)
        return _shift(b, -td.days, -td.seconds)
    return parse_when(text, base=b, prefer="past")


def format_local(dt: datetime | date, *, with_time: bool = True) -> str:
    """Human display in the local zone; plain dates pass through unchanged."""
    if not isinstance(dt, datetime):
        return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"
    d = to_local(dt)
    day = f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    return f"{day} {d.hour:02d}:{d.minute:02d}" if with_time else day


_WEEK_RE = re.compile(r"(\d{4})-?w(\d{1,2})", re.ASCII)


@range_guard
def iso_week_range(text: str) -> tuple[datetime, datetime]:
    """Weekly reports: half-open [Monday 00:00, next Monday 00:00) in local time."""
    m = _WEEK_RE.fullmatch(normalize_text(text))
    if not m:
        raise DateError(f"cannot read week {text!r}; use YYYY-Www, e.g. 2026-W47")
    try:
        monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
    except ValueError:
        raise DateError(f"no week {int(m[2])} in ISO year {m[1]}: {text!r}") from None
    start = _localize(datetime.combine(monday, time(0)))
    return start, _localize(datetime.combine(monday + timedelta(days=7), time(0)))
