"""Tests for crmcli.domain.dates: a fixed base (Wednesday 2026-11-18 10:15 Asia/Shanghai)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcli.domain import dates
from crmcli.domain.dates import (
    ACCEPTED_FORMS,
    DateError,
    format_local,
    iso,
    iso_week_range,
    local_tz,
    now,
    parse_date,
    parse_iso,
    parse_since,
    parse_when,
    to_local,
)
from crmcli.domain.durations import format_duration, parse_duration, parse_period

SH = ZoneInfo("Asia/Shanghai")
BER = ZoneInfo("Europe/Berlin")
BASE = datetime(2026, 11, 18, 10, 15, 0, tzinfo=SH)  # a Wednesday
HYP = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


def L(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture(autouse=True)
def shanghai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_TZ", "Asia/Shanghai")
    monkeypatch.delenv("CRM_NOW", raising=False)


def same(actual: datetime, expected: datetime) -> None:
    """Same wall clock and same offset, not merely the same instant."""
    assert actual.replace(tzinfo=None) == expected.replace(tzinfo=None)
    assert actual.utcoffset() == expected.utcoffset()
    assert actual.microsecond == 0


WHEN_CASES = [
    # now / named days
    ("now", "nearest", L(2026, 11, 18, 10, 15)),
    ("  NOW ", "nearest", L(2026, 11, 18, 10, 15)),
    ("现在", "nearest", L(2026, 11, 18, 10, 15)),
    ("today", "nearest", L(2026, 11, 18)),
    ("Tomorrow", "nearest", L(2026, 11, 19)),
    ("yesterday", "nearest", L(2026, 11, 17)),
    ("tmrw", "nearest", L(2026, 11, 19)),
    ("今天", "nearest", L(2026, 11, 18)),
    ("明天", "nearest", L(2026, 11, 19)),
    ("昨天", "nearest", L(2026, 11, 17)),
    ("后天", "nearest", L(2026, 11, 20)),
    ("前天", "nearest", L(2026, 11, 16)),
    # ISO and friends
    ("2026-11-20", "nearest", L(2026, 11, 20)),
    ("2026-11-20 14:30", "nearest", L(2026, 11, 20, 14, 30)),
    ("2026-11-20T14:30", "nearest", L(2026, 11, 20, 14, 30)),
    ("2026-11-20t14:30:15", "nearest", L(2026, 11, 20, 14, 30, 15)),
    ("2026-11-20T14:30:15.987", "nearest", L(2026, 11, 20, 14, 30, 15)),
    ("2026-1-5", "nearest", L(2026, 1, 5)),
    ("2026-11-20 3pm", "nearest", L(2026, 11, 20, 15)),
    ("2026/11/20", "nearest", L(2026, 11, 20)),
    ("2026/11/20 9:30pm", "nearest", L(2026, 11, 20, 21, 30)),
    ("2026年11月20日", "nearest", L(2026, 11, 20)),
    ("2026年11月20日 14:30", "nearest", L(2026, 11, 20, 14, 30)),
    ("2026年11月20日14:30", "nearest", L(2026, 11, 20, 14, 30)),
    ("2026年11月20日下午3点", "nearest", L(2026, 11, 20, 15)),
    ("2026年11月20日 上午9点半", "nearest", L(2026, 11, 20, 9, 30)),
    ("2026年11月20日 晚上8点15分", "nearest", L(2026, 11, 20, 20, 15)),
    ("２０２６年１１月２０日", "nearest", L(2026, 11, 20)),  # full-width digits
    # bare weekdays (today is Wednesday)
    ("fri", "nearest", L(2026, 11, 20)),
    ("Friday", "future", L(2026, 11, 20)),
    ("fri", "past", L(2026, 11, 13)),
    ("mon", "nearest", L(2026, 11, 23)),
    ("mon", "future", L(2026, 11, 23)),
    ("mon", "past", L(2026, 11, 16)),
    ("wed", "nearest", L(2026, 11, 25)),
    ("wednesday", "future", L(2026, 11, 25)),
    ("wed", "past", L(2026, 11, 11)),
    ("thu", "nearest", L(2026, 11, 19)),
    ("tue", "past", L(2026, 11, 17)),
    ("sunday", "nearest", L(2026, 11, 22)),
    ("周五", "nearest", L(2026, 11, 20)),
    ("星期三", "past", L(2026, 11, 11)),
    ("礼拜天", "nearest", L(2026, 11, 22)),
    # next / last / this, independent of prefer
    ("next wed", "past", L(2026, 11, 25)),
    ("last wed", "future", L(2026, 11, 11)),
    ("this wed", "nearest", L(2026, 11, 18)),
    ("next friday", "nearest", L(2026, 11, 20)),
    ("last friday", "nearest", L(2026, 11, 13)),
    ("this friday", "past", L(2026, 11, 20)),
    ("next monday", "nearest", L(2026, 11, 23)),
    ("last monday", "nearest", L(2026, 11, 16)),
    ("this monday", "future", L(2026, 11, 16)),
    ("next tuesday", "nearest", L(2026, 11, 24)),
    ("last thursday", "nearest", L(2026, 11, 12)),
    ("this sun", "nearest", L(2026, 11, 22)),
    # day followed by a time
    ("yesterday 15:00", "nearest", L(2026, 11, 17, 15)),
    ("tomorrow 9am", "nearest", L(2026, 11, 19, 9)),
    ("tomorrow at 9 am", "nearest", L(2026, 11, 19, 9)),
    ("tomorrow @ 9am", "nearest", L(2026, 11, 19, 9)),
    ("fri 15:00", "nearest", L(2026, 11, 20, 15)),
    ("next monday 10:30", "nearest", L(2026, 11, 23, 10, 30)),
    ("today 5pm", "nearest", L(2026, 11, 18, 17)),
    ("today 5 P.M.", "nearest", L(2026, 11, 18, 17)),
    ("tomorrow 9:30pm", "nearest", L(2026, 11, 19, 21, 30)),
    ("today 12am", "nearest", L(2026, 11, 18, 0)),
    ("today 12pm", "nearest", L(2026, 11, 18, 12)),
    ("today 12:30am", "nearest", L(2026, 11, 18, 0, 30)),
    ("today 12:30pm", "nearest", L(2026, 11, 18, 12, 30)),
    ("today 11:59:59", "nearest", L(2026, 11, 18, 11, 59, 59)),
    ("明天 14:00", "nearest", L(2026, 11, 19, 14)),
    ("明天下午3点", "nearest", L(2026, 11, 19, 15)),
    ("wed 8am", "past", L(2026, 11, 11, 8)),
    # bare times = today
    ("15:00", "nearest", L(2026, 11, 18, 15)),
    ("09:05:07", "nearest", L(2026, 11, 18, 9, 5, 7)),
    ("0:00", "nearest", L(2026, 11, 18)),
    ("23:59", "nearest", L(2026, 11, 18, 23, 59)),
    ("3pm", "nearest", L(2026, 11, 18, 15)),
    ("3 PM", "nearest", L(2026, 11, 18, 15)),
    ("12am", "nearest", L(2026, 11, 18, 0)),
    ("12pm", "nearest", L(2026, 11, 18, 12)),
    ("下午3点", "nearest", L(2026, 11, 18, 15)),
    ("１５：００", "nearest", L(2026, 11, 18, 15)),  # full-width
    # relative
    ("in 3 days", "nearest", L(2026, 11, 21, 10, 15)),
    ("in 2h", "nearest", L(2026, 11, 18, 12, 15)),
    ("IN 2 HOURS", "nearest", L(2026, 11, 18, 12, 15)),
    ("in 30 minutes", "nearest", L(2026, 11, 18, 10, 45)),
    ("in 1 week", "nearest", L(2026, 11, 25, 10, 15)),
    ("in 1h30m", "nearest", L(2026, 11, 18, 11, 45)),
    ("in 1h 30m", "nearest", L(2026, 11, 18, 11, 45)),
    ("in 1.5 days", "nearest", L(2026, 11, 19, 22, 15)),
    ("in 45s", "nearest", L(2026, 11, 18, 10, 15, 45)),
    ("in 0 days", "nearest", L(2026, 11, 18, 10, 15)),
    ("2h ago", "nearest", L(2026, 11, 18, 8, 15)),
    ("3 days ago", "nearest", L(2026, 11, 15, 10, 15)),
    ("30m ago", "nearest", L(2026, 11, 18, 9, 45)),
    ("1 week ago", "nearest", L(2026, 11, 11, 10, 15)),
    ("2 weeks ago", "nearest", L(2026, 11, 4, 10, 15)),
    ("+3d", "nearest", L(2026, 11, 21, 10, 15)),
    ("-2h", "nearest", L(2026, 11, 18, 8, 15)),
    ("+ 90min", "nearest", L(2026, 11, 18, 11, 45)),
    ("-1w", "nearest", L(2026, 11, 11, 10, 15)),
    ("-1d12h", "nearest", L(2026, 11, 16, 22, 15)),
]


@pytest.mark.parametrize(("text", "prefer", "expected"), WHEN_CASES)
def test_parse_when_table(text: str, prefer: str, expected: datetime) -> None:
    same(parse_when(text, base=BASE, prefer=prefer), expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-20T14:30:15+08:00", datetime(2026, 11, 20, 14, 30, 15, tzinfo=timezone(timedelta(hours=8)))),
    ("2026-11-20T14:30-05:00", datetime(2026, 11, 20, 14, 30, tzinfo=timezone(timedelta(hours=-5)))),
    ("2026-11-20 14:30 +0530", datetime(2026, 11, 20, 14, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))),
    ("2026-11-20T14:30Z", datetime(2026, 11, 20, 14, 30, tzinfo=UTC)),
    ("2026-11-20t14:30z", datetime(2026, 11, 20, 14, 30, tzinfo=UTC)),
    ("2026-11-20T14:30+00:00", datetime(2026, 11, 20, 14, 30, tzinfo=UTC)),
    ("tomorrow 15:00-05:00", datetime(2026, 11, 19, 15, tzinfo=timezone(timedelta(hours=-5)))),
])
def test_input_offset_preserved(text: str, expected: datetime) -> None:
    got = parse_when(text, base=BASE)
    same(got, expected)
    assert got.tzinfo != SH
    assert iso(got) == expected.isoformat()


def test_result_is_local_and_aware_without_offset() -> None:
    got = parse_when("2026-11-20 14:30", base=BASE)
    assert got.tzinfo == SH


def test_date_only_time() -> None:
    nine = time(9, 0)
    same(parse_when("tomorrow", base=BASE, date_only_time=nine), L(2026, 11, 19, 9))
    same(parse_when("2026-11-20", base=BASE, date_only_time=nine), L(2026, 11, 20, 9))
    same(parse_when("fri", base=BASE, date_only_time=nine), L(2026, 11, 20, 9))
    # explicit times, now, and relative forms ignore it
    same(parse_when("tomorrow 15:00", base=BASE, date_only_time=nine), L(2026, 11, 19, 15))
    same(parse_when("now", base=BASE, date_only_time=nine), BASE)
    same(parse_when("in 3 days", base=BASE, date_only_time=nine), L(2026, 11, 21, 10, 15))
    same(parse_when("3pm", base=BASE, date_only_time=nine), L(2026, 11, 18, 15))


def test_base_microseconds_dropped_and_naive_base_is_local() -> None:
    same(parse_when("now", base=BASE.replace(microsecond=123456)), BASE)
    same(parse_when("in 2h", base=datetime(2026, 11, 18, 10, 15, 0, 999)), L(2026, 11, 18, 12, 15))


def test_base_in_other_zone_uses_local_calendar() -> None:
    utc_base = datetime(2026, 11, 18, 20, 0, tzinfo=UTC)  # 11-19 04:00 in Shanghai
    same(parse_when("today", base=utc_base), L(2026, 11, 19))
    same(parse_when("now", base=utc_base), L(2026, 11, 19, 4))


@pytest.mark.parametrize(("base", "text", "expected"), [
    (L(2026, 12, 30, 10, 15), "in 3 days", L(2027, 1, 2, 10, 15)),
    (L(2026, 12, 31, 23, 0), "tomorrow", L(2027, 1, 1)),
    (L(2026, 12, 31, 23, 0), "in 2h", L(2027, 1, 1, 1, 0)),
    (L(2026, 12, 30, 10, 15), "next mon", L(2027, 1, 4)),
    (L(2027, 1, 1, 8, 0), "yesterday", L(2026, 12, 31)),
    (L(2027, 1, 1, 8, 0), "3 days ago", L(2026, 12, 29, 8)),
    (L(2026, 2, 27, 12, 0), "in 2 days", L(2026, 3, 1, 12)),
    (L(2028, 2, 28, 12, 0), "tomorrow", L(2028, 2, 29)),
    (L(2026, 11, 30, 9, 0), "last fri", L(2026, 11, 27)),
])
def test_rollover(base: datetime, text: str, expected: datetime) -> None:
    same(parse_when(text, base=base), expected)


def test_dst_relative_days_are_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_TZ", "Europe/Berlin")
    base = datetime(2026, 10, 24, 10, 0, tzinfo=BER)  # CEST, +02:00; DST ends 2026-10-25
    assert base.utcoffset() == timedelta(hours=2)
    day = parse_when("in 1 day", base=base)
    assert (day.hour, day.minute, day.date()) == (10, 0, date(2026, 10, 25))
    assert day.utcoffset() == timedelta(hours=1)
    assert day.timestamp() - base.timestamp() == 25 * 3600
    # hours are elapsed time, not wall clock
    hrs = parse_when("in 24h", base=base)
    assert (hrs.hour, hrs.utcoffset()) == (9, timedelta(hours=1))
    assert hrs.timestamp() - base.timestamp() == 24 * 3600
    assert iso(parse_when("tomorrow 10:00", base=base)) == "2026-10-25T10:00:00+01:00"
    assert iso(parse_when("1 day ago", base=day)) == "2026-10-24T10:00:00+02:00"
    # a wall time in the spring-forward gap moves to a real instant
    assert iso(parse_when("2026-03-29 02:30", base=base)) == "2026-03-29T03:30:00+02:00"
    assert iso(parse_iso("2026-07-01T12:00:00")) == "2026-07-01T12:00:00+02:00"
    assert iso(parse_iso("2026-01-01")) == "2026-01-01T00:00:00+01:00"


@pytest.mark.parametrize("text", [
    "", "   ", "garbage", "tomorrow morning", "next", "15", "2h", "today 9", "fri fri",
    "11/20", "20/11/2026", "2026-11", "2026-11-20+08:00", "in 3 days ago", "+3d ago",
    "in -3d", "3 days", "in 3 fortnights", "todayx", "monday2",
])
def test_parse_when_unreadable(text: str) -> None:
    with pytest.raises(DateError) as exc:
        parse_when(text, base=BASE)
    msg = str(exc.value)
    assert "\n" not in msg
    assert ACCEPTED_FORMS in msg


@pytest.mark.parametrize(("text", "needle"), [
    ("25:00", "hour"),
    ("today 25:00", "hour"),
    ("24:00", "hour"),
    ("12:60", "minute"),
    ("12:30:61", "second"),
    ("13pm", "1-12"),
    ("0am", "1-12"),
    ("2026-02-30", "day is out of range"),
    ("2026-13-01", "month"),
    ("2026/02/29", "day is out of range"),
    ("2026年2月30日", "day is out of range"),
    ("2026-11-20T14:30+25:00", "offset"),
    ("in 99999999999 days", "out of range"),
    ("in 3000000 days", "out of range"),
    ("3000000 days ago", "out of range"),
])
def test_parse_when_impossible(text: str, needle: str) -> None:
    with pytest.raises(DateError) as exc:
        parse_when(text, base=BASE)
    assert needle in str(exc.value)
    assert "\n" not in str(exc.value)


def test_bad_prefer_and_non_string() -> None:
    with pytest.raises(DateError):
        parse_when("fri", base=BASE, prefer="sideways")
    with pytest.raises(DateError):
        parse_when(None, base=BASE)  # type: ignore[arg-type]
    assert issubclass(DateError, ValueError)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-20", date(2026, 11, 20)),
    ("tomorrow", date(2026, 11, 19)),
    ("tomorrow 23:30", date(2026, 11, 19)),
    ("fri", date(2026, 11, 20)),
    ("2026年2月28日", date(2026, 2, 28)),
    ("in 3 days", date(2026, 11, 21)),
    ("2026-11-20T23:30-05:00", date(2026, 11, 20)),  # the date as written
])
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text, base=BASE) == expected


def test_parse_date_error() -> None:
    with pytest.raises(DateError):
        parse_date("2026-02-30", base=BASE)


@pytest.mark.parametrize(("text", "expected"), [
    ("15m", timedelta(minutes=15)),
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("1h 30m", timedelta(hours=1, minutes=30)),
    ("1h30m15s", timedelta(hours=1, minutes=30, seconds=15)),
    ("90", timedelta(minutes=90)),
    ("1.5", timedelta(seconds=90)),
    ("0", timedelta(0)),
    ("0m", timedelta(0)),
    ("2h", timedelta(hours=2)),
    (" 2H ", timedelta(hours=2)),
    ("45s", timedelta(seconds=45)),
    ("1d", timedelta(days=1)),
    ("1.5h", timedelta(minutes=90)),
    ("30min", timedelta(minutes=30)),
    ("30 mins", timedelta(minutes=30)),
    ("2 hours", timedelta(hours=2)),
    ("1 hour 15 minutes", timedelta(hours=1, minutes=15)),
    ("3 days", timedelta(days=3)),
    ("2w", timedelta(weeks=2)),
    ("1:30", timedelta(minutes=90)),
    ("0:45:10", timedelta(minutes=45, seconds=10)),
    ("+15m", timedelta(minutes=15)),
    ("3650d", timedelta(days=3650)),
])
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(("text", "needle"), [
    ("", "cannot read duration"),
    ("abc", "cannot read duration"),
    ("15x", "cannot read duration"),
    ("1e5", "cannot read duration"),
    ("1y", "cannot read duration"),
    ("1:75", "cannot read duration"),
    ("-15m", "negative"),
    ("-1", "negative"),
    ("3651d", "too long"),
    ("9" * 400 + "d", "too long"),
    ("99999999999", "too long"),
])
def test_parse_duration_errors(text: str, needle: str) -> None:
    with pytest.raises(DateError) as exc:
        parse_duration(text)
    assert needle in str(exc.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("30d", timedelta(days=30)),
    ("2w", timedelta(weeks=2)),
    ("6m", timedelta(days=180)),
    ("1 month", timedelta(days=30)),
    ("1y", timedelta(days=365)),
    ("2 years", timedelta(days=730)),
    ("12h", timedelta(hours=12)),
    ("30min", timedelta(minutes=30)),
    ("1y6m", timedelta(days=545)),
])
def test_parse_period(text: str, expected: timedelta) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize("text", ["", "0d", "-3d", "abc", "30", "200y", "5s"])
def test_parse_period_errors(text: str) -> None:
    with pytest.raises(DateError):
        parse_period(text)


@pytest.mark.parametrize(("td", "expected"), [
    (timedelta(hours=1, minutes=30), "1h30m"),
    (timedelta(minutes=15), "15m"),
    (timedelta(days=2, hours=3), "2d3h"),
    (timedelta(seconds=45), "45s"),
    (timedelta(0), "0m"),
    (timedelta(seconds=90), "1m30s"),
    (timedelta(days=1), "1d"),
    (timedelta(weeks=2), "14d"),
    (timedelta(seconds=59, microseconds=999999), "59s"),
    (timedelta(microseconds=10), "0m"),
    (timedelta(minutes=-15), "-15m"),
])
def test_format_duration(td: timedelta, expected: str) -> None:
    assert format_duration(td) == expected


@given(st.integers(min_value=0, max_value=3650 * 86400))
def test_format_duration_round_trip(seconds: int) -> None:
    td = timedelta(seconds=seconds)
    assert parse_duration(format_duration(td)) == td


@pytest.mark.parametrize(("dt", "expected"), [
    (L(2026, 11, 20, 14, 30), "2026-11-20T14:30:00+08:00"),
    (L(2026, 11, 20, 14, 30, 5, 123456), "2026-11-20T14:30:05+08:00"),
    (datetime(2026, 11, 20, 6, 30, tzinfo=UTC), "2026-11-20T06:30:00+00:00"),
    (datetime(2026, 11, 20, 6, 30, tzinfo=ZoneInfo("UTC")), "2026-11-20T06:30:00+00:00"),
    (datetime(2026, 11, 20, 6, 30, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
     "2026-11-20T06:30:00-03:30"),
    (datetime(2026, 7, 1, 12, tzinfo=BER), "2026-07-01T12:00:00+02:00"),
    (datetime(2026, 11, 20, 14, 30), "2026-11-20T14:30:00+08:00"),  # naive => local
])
def test_iso(dt: datetime, expected: str) -> None:
    assert iso(dt) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-20T14:30:00+08:00", L(2026, 11, 20, 14, 30)),
    ("2026-11-20T06:30:00+00:00", datetime(2026, 11, 20, 6, 30, tzinfo=UTC)),
    ("2026-11-20T06:30:00Z", datetime(2026, 11, 20, 6, 30, tzinfo=UTC)),
    ("2026-11-20T14:30:00", L(2026, 11, 20, 14, 30)),
    ("2026-11-20 14:30", L(2026, 11, 20, 14, 30)),
    ("2026-11-20T14:30:00.123456+08:00", L(2026, 11, 20, 14, 30)),
    ("2026-11-20", L(2026, 11, 20)),
    ("  2026-11-20T14:30:00-05:00 ", datetime(2026, 11, 20, 14, 30, tzinfo=timezone(timedelta(hours=-5)))),
])
def test_parse_iso(text: str, expected: datetime) -> None:
    same(parse_iso(text), expected)


@pytest.mark.parametrize("text", [
    "", "tomorrow", "2026/11/20", "2026-11-20T25:00:00", "2026-02-30", "2026-11-20T14:30:00+24:00",
    "20261120", "2026-11-20T14:30:00 junk", "2026-11-20T14", "10000-01-01",
])
def test_parse_iso_errors(text: str) -> None:
    with pytest.raises(DateError):
        parse_iso(text)


@pytest.mark.parametrize("dt", [
    L(2026, 11, 20, 14, 30), datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BER),
    datetime(2100, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-11))),
])
def test_iso_round_trip(dt: datetime) -> None:
    back = parse_iso(iso(dt))
    assert back.utcoffset() == dt.utcoffset()
    assert back.timestamp() == dt.replace(microsecond=0).timestamp()
    assert iso(back) == iso(dt)


_FIXED = st.integers(min_value=-1439, max_value=1439).map(lambda m: timezone(timedelta(minutes=m)))


@HYP
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 12, 31, 23, 59, 59),
                    timezones=st.one_of(st.timezones(), _FIXED)))
def test_iso_round_trip_property(dt: datetime) -> None:
    expected = dt.replace(microsecond=0)
    back = parse_iso(iso(dt))
    # wall clock + offset equal <=> same instant written the same way (robust to folds/gaps)
    assert back.replace(tzinfo=None) == expected.replace(tzinfo=None)
    assert back.utcoffset() == expected.utcoffset()
    assert back.timestamp() == expected.timestamp()
    if expected.utcoffset() == dt.replace(fold=1 - dt.fold).utcoffset():
        assert back == expected


@HYP
@given(st.text(), st.sampled_from(["past", "future", "nearest"]))
def test_parse_when_only_raises_date_error(text: str, prefer: str) -> None:
    try:
        got = parse_when(text, base=BASE, prefer=prefer)
    except DateError:
        return
    assert got.tzinfo is not None and got.microsecond == 0


@HYP
@given(st.text(alphabet=st.sampled_from(list("0123456789:-+/. amptdhwsyinogxlr年月日点T")), max_size=25))
def test_date_like_text_only_raises_date_error(text: str) -> None:
    for fn in (parse_when, parse_since):
        try:
            fn(text, base=BASE)
        except DateError:
            pass
    for fn2 in (parse_duration, parse_period, parse_iso, iso_week_range):
        try:
            fn2(text)
        except DateError:
            pass


def test_to_local_and_format_local() -> None:
    utc = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
    assert to_local(utc).tzinfo == SH
    same(to_local(utc), L(2026, 11, 20, 14, 30))
    same(to_local(datetime(2026, 11, 20, 14, 30)), L(2026, 11, 20, 14, 30))
    assert format_local(utc) == "2026-11-20 14:30"
    assert format_local(utc, with_time=False) == "2026-11-20"
    assert format_local(datetime(2026, 11, 20, 20, 0, tzinfo=UTC)) == "2026-11-21 04:00"
    assert format_local(date(2026, 1, 2)) == "2026-01-02"
    assert format_local(datetime(999, 1, 2, 3, 4, tzinfo=UTC), with_time=False) == "0999-01-02"


@pytest.mark.parametrize(("text", "expected"), [
    ("7d", L(2026, 11, 11, 10, 15)),
    ("2w", L(2026, 11, 4, 10, 15)),
    ("3m", L(2026, 8, 20, 10, 15)),  # months of 30 days
    ("1y", L(2025, 11, 18, 10, 15)),
    ("12h", L(2026, 11, 17, 22, 15)),
    ("30min", L(2026, 11, 18, 9, 45)),
    ("1 month", L(2026, 10, 19, 10, 15)),
    ("30m ago", L(2026, 11, 18, 9, 45)),  # relative WHEN: m = minutes
    ("yesterday", L(2026, 11, 17)),
    ("mon", L(2026, 11, 16)),
    ("wed", L(2026, 11, 11)),
    ("2026-11-01", L(2026, 11, 1)),
    ("next fri", L(2026, 11, 20)),
    ("-7d", L(2026, 11, 11, 10, 15)),  # a WHEN: 7 days ago
])
def test_parse_since(text: str, expected: datetime) -> None:
    same(parse_since(text, base=BASE), expected)


def test_parse_since_dst_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_TZ", "Europe/Berlin")
    base = datetime(2026, 10, 26, 10, 0, tzinfo=BER)
    assert iso(parse_since("7d", base=base)) == "2026-10-19T10:00:00+02:00"


@pytest.mark.parametrize("text", ["", "garbage", "0d", "7"])
def test_parse_since_errors(text: str) -> None:
    with pytest.raises(DateError):
        parse_since(text, base=BASE)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("2026-W47", L(2026, 11, 16), L(2026, 11, 23)),
    ("2026-w47", L(2026, 11, 16), L(2026, 11, 23)),
    ("2026W47", L(2026, 11, 16), L(2026, 11, 23)),
    (" 2026-W01 ", L(2025, 12, 29), L(2026, 1, 5)),
    ("2026-W1", L(2025, 12, 29), L(2026, 1, 5)),
    ("2026-W53", L(2026, 12, 28), L(2027, 1, 4)),  # 2026 has 53 ISO weeks
])
def test_iso_week_range(text: str, start: datetime, end: datetime) -> None:
    got = iso_week_range(text)
    same(got[0], start)
    same(got[1], end)
    assert got[0].weekday() == 0


def test_iso_week_range_dst(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_TZ", "Europe/Berlin")
    start, end = iso_week_range("2026-W43")
    assert iso(start) == "2026-10-19T00:00:00+02:00"
    assert iso(end) == "2026-10-26T00:00:00+01:00"


@pytest.mark.parametrize("text", ["2026-W54", "2027-W53", "2026-W00", "garbage", "2026-47", "", "W47"])
def test_iso_week_range_errors(text: str) -> None:
    with pytest.raises(DateError):
        iso_week_range(text)


def test_now_honours_crm_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NOW", "2026-11-18T10:15:00")
    same(now(), BASE)
    monkeypatch.setenv("CRM_NOW", "2026-11-18T02:15:00Z")
    got = now()
    same(got, BASE)
    assert got.tzinfo == SH
    monkeypatch.setenv("CRM_NOW", "2026-11-18T10:15:00.5+08:00")
    same(now(), BASE)
    # parse_when, parse_since and parse_date default to it
    same(parse_when("tomorrow 9am"), L(2026, 11, 19, 9))
    same(parse_since("7d"), L(2026, 11, 11, 10, 15))
    assert parse_date("fri") == date(2026, 11, 20)


def test_now_bad_crm_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NOW", "next tuesday")
    with pytest.raises(DateError, match="CRM_NOW"):
        now()


def test_now_real_clock() -> None:
    got = now()
    assert got.tzinfo == SH and got.microsecond == 0
    assert abs(got - datetime.now(UTC)) < timedelta(minutes=1)


def test_local_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    assert local_tz() == SH
    monkeypatch.setenv("CRM_TZ", "Europe/Berlin")
    assert local_tz() == BER
    monkeypatch.delenv("CRM_TZ")
    assert local_tz() is not None
    got = now()
    assert got.tzinfo is not None and got.utcoffset() is not None
    assert parse_when("2026-11-20 14:30").hour == 14
    assert iso(parse_iso("2026-11-20T14:30:00+08:00")) == "2026-11-20T14:30:00+08:00"
    monkeypatch.setenv("CRM_TZ", "Not/AZone")
    with pytest.raises(DateError, match="CRM_TZ"):
        local_tz()


def test_module_docstring_documents_policy() -> None:
    doc = dates.__doc__ or ""
    for needle in ("CRM_TZ", "CRM_NOW", "wall-clock", "00:00", "next 7 days"):
        assert needle in doc
