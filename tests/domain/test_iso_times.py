"""``dates.parse_iso`` reads the form crm writes through ``datetime.fromisoformat``: the same moment, offset and
errors as the strict reader, checked against a reading done here field by field."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcli.domain import dates


def by_fields(text: str) -> datetime:
    day, clock = text[:10], text[11:19]
    y, m, d = (int(x) for x in day.split("-"))
    hh, mi, ss = (int(x) for x in clock.split(":"))
    off = text[19:]
    if off == "Z":
        zone = UTC
    else:
        sign = -1 if off[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=int(off[1:3]), minutes=int(off[4:6])))
    return datetime(y, m, d, hh, mi, ss, tzinfo=zone)


@given(moment=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 12, 31)),
       minutes=st.integers(-23 * 60 - 59, 23 * 60 + 59), zulu=st.booleans())
def test_the_written_form_reads_as_its_fields_say(moment: datetime, minutes: int, zulu: bool) -> None:
    sign = "-" if minutes < 0 else "+"
    off = "Z" if zulu else f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + off
    got = dates.parse_iso(text)
    want = by_fields(text)
    assert got == want and got.utcoffset() == want.utcoffset() and got.isoformat() == want.isoformat()


@pytest.mark.parametrize("text", ["2026-02-30T09:30:00+08:00", "2026-01-05T24:00:00+08:00",
                                  "2026-13-05T09:30:00+08:00", "2026-01-05T09:60:00+08:00"])
def test_an_impossible_written_form_is_refused_with_its_reason(text: str) -> None:
    with pytest.raises(dates.DateError, match="impossible"):
        dates.parse_iso(text)
