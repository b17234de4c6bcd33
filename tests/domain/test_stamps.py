"""The quick reader of stored moments gives what the strict reader gives, for every text it takes."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcli.domain import dates, stamps

offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(lambda m: dt.timedelta(minutes=m))


def strict(text: str) -> dt.datetime | type:
    """``parse_iso`` with the quick reader and its memory out of the way."""
    saved = stamps._STORED
    stamps._STORED = stamps.re.compile(r"(?!)")
    stamps._SEEN.clear()
    try:
        return dates.parse_iso(text)
    except dates.DateError:
        return dates.DateError
    finally:
        stamps._STORED = saved
        stamps._SEEN.clear()


@settings(max_examples=500, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)), offsets,
       st.sampled_from(["iso", "Z", "day 31", "month 13", "minute 60"]))
def test_the_quick_reader_agrees_with_the_strict_one(when: dt.datetime, offset: dt.timedelta, form: str) -> None:
    text = when.replace(microsecond=0, tzinfo=dt.timezone(offset)).isoformat()
    if form == "Z":
        text = when.replace(microsecond=0).isoformat() + "Z"
    elif form == "day 31":
        text = text[:8] + "31" + text[10:]
    elif form == "month 13":
        text = text[:5] + "13" + text[7:]
    elif form == "minute 60":
        text = text[:14] + "60" + text[16:]
    expected = strict(text)
    stamps._SEEN.clear()
    quick = stamps.known(text)
    if quick is None:  # left to the strict reader
        if expected is dates.DateError:
            with pytest.raises(dates.DateError):
                dates.parse_iso(text)
        else:
            assert dates.parse_iso(text) == expected
        return
    assert expected is not dates.DateError
    assert isinstance(expected, dt.datetime)
    assert (quick, quick.utcoffset(), quick.tzinfo) == (expected, expected.utcoffset(), expected.tzinfo)


def test_naive_texts_are_never_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text without an offset means another moment in another zone."""
    stamps._SEEN.clear()
    monkeypatch.setenv("CRM_TZ", "Asia/Shanghai")
    shanghai = dates.parse_iso("2026-01-01T09:00:00")
    monkeypatch.setenv("CRM_TZ", "Europe/Berlin")
    assert dates.parse_iso("2026-01-01T09:00:00") - shanghai == dt.timedelta(hours=7)
    assert "2026-01-01T09:00:00" not in stamps._SEEN
