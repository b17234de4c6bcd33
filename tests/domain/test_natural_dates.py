"""Natural WHEN forms (issue 18): a fixed base, Wednesday 2026-11-18 10:15 in Shanghai; pure, no I/O."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crmcli.domain.dates import DateError, parse_when

SH = ZoneInfo("Asia/Shanghai")
BASE = datetime(2026, 11, 18, 10, 15, tzinfo=SH)
TODAY = BASE.date()
MONDAY = TODAY - timedelta(days=TODAY.weekday())  # computed from the calendar, not from crm


@pytest.fixture(autouse=True)
def shanghai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_TZ", "Asia/Shanghai")


def at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


@pytest.mark.parametrize(("text", "expected"), [
    ("3pm yesterday", at(TODAY - timedelta(days=1), 15)),
    ("3 pm yesterday", at(TODAY - timedelta(days=1), 15)),
    ("tomorrow noon", at(TODAY + timedelta(days=1), 12)),
    ("noon tomorrow", at(TODAY + timedelta(days=1), 12)),
    ("noon", at(TODAY, 12)),
    ("midnight", at(TODAY, 0)),
    ("Dec 5", at(date(2026, 12, 5))),
    ("dec. 5th", at(date(2026, 12, 5))),
    ("5 December", at(date(2026, 12, 5))),
    ("Dec 5 2027", at(date(2027, 12, 5))),
    ("Dec 5, 2026 at 9am", at(date(2026, 12, 5), 9)),
    ("Dec 5 3pm", at(date(2026, 12, 5), 15)),
    ("next week", at(MONDAY + timedelta(days=7))),
    ("last week", at(MONDAY - timedelta(days=7))),
    ("this week", at(MONDAY)),
    ("下周五", at(MONDAY + timedelta(days=7 + 4))),
    ("本周五", at(MONDAY + timedelta(days=4))),
    ("这周三", at(TODAY)),
    ("上周五", at(MONDAY - timedelta(days=7 - 4))),
    ("下周", at(MONDAY + timedelta(days=7))),
    ("下周五 下午3点", at(MONDAY + timedelta(days=11), 15)),
    ("月底", at(date(2026, 12, 1) - timedelta(days=1))),
    ("本月底", at(date(2026, 11, 30))),
    ("月初", at(date(2026, 11, 1))),
    ("下月底", at(date(2027, 1, 1) - timedelta(days=1))),
    ("下个月初", at(date(2026, 12, 1))),
    ("end of month", at(date(2026, 11, 30))),
    ("end of next month", at(date(2026, 12, 31))),
])
def test_natural_forms(text: str, expected: datetime) -> None:
    assert parse_when(text, base=BASE) == expected


def test_a_month_day_without_a_year_points_the_way_prefer_says() -> None:
    assert parse_when("Dec 5", base=BASE, prefer="past").date() == date(2025, 12, 5)
    assert parse_when("Dec 5", base=BASE, prefer="future").date() == date(2026, 12, 5)
    assert parse_when("Jan 1", base=BASE).date() == date(2027, 1, 1)  # 44 days ahead is nearer than 321 back
    assert parse_when("Nov 10", base=BASE).date() == date(2026, 11, 10)
    assert parse_when("Nov 18", base=BASE, prefer="past").date() == TODAY


def test_month_end_in_december_rolls_into_the_next_year() -> None:
    december = datetime(2026, 12, 20, 9, 0, tzinfo=SH)
    assert parse_when("月底", base=december).date() == date(2026, 12, 31)
    assert parse_when("下月底", base=december).date() == date(2027, 1, 31)
    assert parse_when("下周五", base=december).date() == date(2026, 12, 25)  # Sunday: next week's Friday


@pytest.mark.parametrize(("text", "spellings"), [
    ("12/05/2026", "write 2026-05-12 or 2026-12-05 (YYYY-MM-DD)"),
    ("25/12/2026", "write 2026-12-25 (YYYY-MM-DD)"),
    ("5.12.26", "write 2026-12-05 or 2026-05-12 (YYYY-MM-DD)"),
])
def test_slashed_dates_are_refused_with_why_and_what_to_type(text: str, spellings: str) -> None:
    with pytest.raises(DateError) as exc:
        parse_when(text, base=BASE)
    message = str(exc.value)
    assert "day/month order differs between countries" in message and spellings in message
    assert "\n" not in message


@pytest.mark.parametrize("text", ["Dec 32", "Feb 30", "next month", "tomorrow morning", "下下周五", "week"])
def test_still_unreadable(text: str) -> None:
    with pytest.raises(DateError):
        parse_when(text, base=BASE)
