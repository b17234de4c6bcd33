"""Reading one spreadsheet cell as a value: text, day, moment, phone, tags, yes/no; a bad one raises BadValue."""
from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import functools
import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from crmcli.domain import dates
from crmcli.io.csvio import cell_text, unneutralize
from crmcli.io.mapping import Mapping

SPLIT_TAGS = re.compile(r"[,;，；、|]")
CJK = re.compile(r"[\u3400-\u9fff]")
CRM_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*-[0-9a-z]{4}$")
LOCAL_ID = {"opp": re.compile(r"^opp-[0-9a-z]{4,}$"), "tkt": re.compile(r"^tkt-[0-9a-z]{4,}$"),
            "task": re.compile(r"^task-[0-9a-z]{4,}$")}
DAY_FORMS = [re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")]


# -- values ----------------------------------------------------------------------------------------
class BadValue(Exception):
    """A bad value of a row (``others``: more problems of the same row, each (field, message))."""

    def __init__(self, fld: str, message: str, others: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.field = fld
        self.message = message
        self.others = others or []

    def all(self) -> list[tuple[str, str]]:
        return [(self.field, self.message), *self.others]


# what a row says when a field its kind needs has a column but the row's cell is empty: by (kind, field), or field
MISSING: dict[str | tuple[str, str], str] = {
    "customer": "no customer; every row needs one (id, exact name or email)",
    "amount": "no amount; give a number (like 120000)", "value": "no value; give a number (like 120000)",
    "start": "no date; a contract has a start and an end day",
    "end": "no date; a contract has a start and an end day",
    ("opps", "title"): "no title; name the deal",
    ("tickets", "title"): "no title; say what the ticket is about",
    ("interactions", "at"): "no date; say when it happened (like 2026-11-20 14:30)",
    ("interactions", "summary"): "no summary; say what happened",
    ("tasks", "text"): "no text; say what is to be done",
    ("surveys", "at"): "no date; say when it was answered (like 2026-11-20 14:30)"}


def missing(kind: str, fld: str) -> str | None:
    return MISSING.get((kind, fld)) or MISSING.get(fld)


def clean_cell(value: Any, guarded: bool = True) -> Any:
    """A cell's value; ``guarded`` cells (csv, xlsx) lose the ' that export put before formula text."""
    if isinstance(value, str):
        value = value.strip()  # a CRLF inside a quoted cell is kept as it is (issue 18)
        if guarded:
            value = unneutralize(value)
        return value or None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def text_cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return cell_text(value).strip() or None


def day_cell(fld: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    text = str(value).strip()
    for form in DAY_FORMS:
        m = form.match(text)
        if m:
            try:
                return _dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
            except ValueError:
                raise BadValue(fld, f"{text!r} is not a real date") from None
    try:
        return dates.parse_date(text).isoformat()
    except dates.DateError:
        raise BadValue(fld, f"{text!r} is not a date (like 2026-11-20)") from None


def is_day_cell(value: Any) -> bool:
    if isinstance(value, _dt.datetime):
        return value.tzinfo is None and value.time() == _dt.time(0)
    return isinstance(value, _dt.date) or (isinstance(value, str) and len(value.strip()) <= 10)


_NAIVE_ZONE: contextvars.ContextVar[ZoneInfo | None] = contextvars.ContextVar("naive_zone", default=None)


@contextlib.contextmanager
def naive_times_in(zone: str | None) -> Iterator[None]:
    """Read naive date-time cells in ``zone`` (a crm-written workbook's ``crm.timezone``); None: local time."""
    token = _NAIVE_ZONE.set(ZoneInfo(zone) if zone else None)
    try:
        yield
    finally:
        _NAIVE_ZONE.reset(token)


_parse_iso = functools.lru_cache(maxsize=1 << 16)(dates.parse_iso)  # a file repeats its times: read each once
_MOMENTS: dict[str, str] = {}  # cell text -> stored moment, for the texts read already


def reset_caches() -> None:
    """Forget the times read: naive and relative texts depend on CRM_TZ and "now" (one import = one reading)."""
    _parse_iso.cache_clear()
    _MOMENTS.clear()


def moment_cell(fld: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value in _MOMENTS:
        return _MOMENTS[value]
    moment = _moment_cell(fld, value)
    if isinstance(value, str) and moment is not None and len(_MOMENTS) < 1 << 17:
        _MOMENTS[value] = moment
    return moment


def _moment_cell(fld: str, value: Any) -> str | None:
    if isinstance(value, _dt.datetime):
        zone = _NAIVE_ZONE.get()
        if value.tzinfo is None and zone is not None:  # a gap time moves on as dates.iso does for local
            value = value.replace(tzinfo=zone).astimezone(_dt.UTC).astimezone(zone)
        return dates.iso(value)  # naive: local time
    if isinstance(value, _dt.date):
        return dates.iso(_dt.datetime.combine(value, _dt.time(0)))
    text = str(value).strip()
    try:
        return dates.iso(dates.parse_iso(text))
    except dates.DateError:
        pass
    m = DAY_FORMS[0].match(text)
    if m:
        return moment_cell(fld, day_cell(fld, text))
    try:
        return dates.iso(dates.parse_when(text))
    except dates.DateError:
        raise BadValue(fld, f"{text!r} is not a date and time (like 2026-11-20 14:30)") from None


_CODED = re.compile(r"^\s*(?:([A-Za-z]{3})\s+(?=[\d.,\s]+$)(.+)|([\d.,\s]+?)\s*([A-Za-z]{3}))\s*$")


def money_text(fld: str, value: Any, currency: str) -> Any:
    """An amount cell without its currency code (``1,000 USD``, ``USD 1000``); a code or symbol other than the
    row's currency is refused, never relabelled."""
    if not isinstance(value, str):
        return value
    m = _CODED.match(value)
    if m is None:
        return value
    code = (m[1] or m[4]).upper()
    if code != currency:
        raise BadValue(fld, currency_message(value, code, currency))
    return (m[2] or m[3]).strip()


def currency_message(value: Any, code: str, currency: str) -> str:
    return (f"{value!r} is in {code}, the row's currency is {currency}; give a currency column, or put "
            f"currency: {code} under constants in the mapping file (amounts are never relabelled)")


def amount_message(fld: str, value: Any, message: str, currency: str) -> str:
    """The money error of the domain, with the import's way out for an amount in another currency."""
    m = re.search(r"means ([A-Z]{3}) but", message)
    return currency_message(value, m[1], currency) if m else strip_field(message, fld)


def phone_cell(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return text_cell(value)


def tags_cell(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return [str(t).strip() for t in value if str(t).strip()] or None
    return [t.strip() for t in SPLIT_TAGS.split(str(value)) if t.strip()] or None


def bool_cell(value: Any) -> bool:
    return str(value).strip().casefold() in ("1", "true", "yes", "y", "x", "是", "√", "primary")


def person_name(first: str | None, last: str | None) -> str | None:
    if not first and not last:
        return None
    if CJK.search(f"{first or ''}{last or ''}"):
        return f"{last or ''}{first or ''}"
    return " ".join(p for p in (first, last) if p)


def strip_field(message: str, *names: str) -> str:
    for name in names:
        if message.startswith(name + " "):
            return message[len(name) + 1:]
    return message


def dates_key(value: Any) -> str:
    """A stored time compared by its instant (``+08:00`` and ``Z`` spellings of one moment are equal)."""
    try:
        return _parse_iso(str(value)).astimezone(_dt.UTC).isoformat()
    except dates.DateError:
        return str(value)


def instant(value: Any) -> float:
    """A stored time as seconds since the epoch, for ordering (an unreadable one sorts first)."""
    try:
        return _parse_iso(str(value)).timestamp()
    except dates.DateError:
        return float("-inf")


def in_time_order(rows: list[tuple[int, list[Any]]], mapping: Mapping) -> list[tuple[int, list[Any]]]:
    """History rows oldest first (file order among equal times); rows without a readable time stay first,
    so that their problem is reported."""
    column = next((i for i, f in mapping.fields.items() if f == "at"), None)
    if column is None:
        return rows

    def key(row: tuple[int, list[Any]]) -> float:
        cells = row[1]
        try:
            at = moment_cell("at", clean_cell(cells[column]) if column < len(cells) else None)
            return dates.parse_iso(at).timestamp() if at else float("-inf")
        except (BadValue, dates.DateError):
            return float("-inf")

    return sorted(rows, key=key)
