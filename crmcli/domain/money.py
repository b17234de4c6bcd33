"""Money: amounts typed by people (``120,000``, ``$5``, ``99.50``), currency codes, and amounts shown back.

Amounts are stored as int when whole and as float rounded to cents otherwise (``normalize_amount``).
A currency symbol typed in front of an amount is checked against the currency, never silently dropped.
"""
from __future__ import annotations

import math
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from crmcli.config import Config
from crmcli.errors import InvalidRecord, quote

SYMBOLS = {"CNY": "¥", "RMB": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$"}
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
MAX_AMOUNT = Decimal("1e15")
# currency symbols people type in front of an amount, and the codes each may stand for
SYMBOL_CODES = {"HK$": ("HKD",), "US$": ("USD",), "$": ("USD",), "€": ("EUR",), "£": ("GBP",),
                "¥": ("CNY", "RMB", "JPY")}
_SYMBOL_RE = re.compile(r"(HK\$|US\$|\$|€|£|¥)")
_GROUP_SEPARATOR = re.compile(r"[, _]")
_GROUPED_RE = re.compile(r"^[+-]?\d{1,3}(?:([, _])\d{3})(?:\1\d{3})*(?:\.\d+)?$")
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")


def normalize_amount(value: Decimal | float | int) -> int | float:
    """Whole numbers as int, others as float rounded to cents."""
    d = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return int(d) if d == d.to_integral_value() else float(d)


def parse_amount(value: Any, what: str = "amount", currency: str | None = None) -> int | float:
    """A non-negative money amount from text (``120000``, ``120,000``, ``99.50``) or a number.

    A currency symbol in front (``$5``, ``¥5``) must agree with ``currency``: it is checked, never
    silently dropped. Digit groups (``,``, space or ``_``) must be groups of three: ``1,2,3`` is refused.
    """
    if isinstance(value, bool) or value is None:
        raise InvalidRecord(f"{what} {quote(value)} is not a number (like 120000 or 99.50)")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise InvalidRecord(f"{what} {quote(value)} is not a number (like 120000 or 99.50)")
        number = Decimal(str(value))
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        symbol = _SYMBOL_RE.match(text)
        if symbol:
            _check_symbol(symbol[1], value, what, currency)
            text = text[symbol.end():].strip()
        if _GROUP_SEPARATOR.search(text):
            if not _GROUPED_RE.match(text):
                raise InvalidRecord(f"{what} {quote(value)} has digit groups that are not of three; "
                                    "write 1234567.89 or 1,234,567.89")
            text = _GROUP_SEPARATOR.sub("", text)
        if not _NUMBER_RE.match(text):
            raise InvalidRecord(f"{what} {quote(value)} is not a number (like 120000 or 99.50)")
        try:
            number = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern already checked
            raise InvalidRecord(f"{what} {quote(value)} is not a number (like 120000 or 99.50)") from None
    if number < 0:
        raise InvalidRecord(f"{what} {quote(value)} is negative; give 0 or more")
    if number > MAX_AMOUNT:
        raise InvalidRecord(f"{what} {quote(value)} is too large (limit 10^15)")
    return normalize_amount(number)


def _check_symbol(symbol: str, value: Any, what: str, currency: str | None) -> None:
    codes = SYMBOL_CODES[symbol]
    if currency is not None and currency.upper() in codes:
        return
    means = " or ".join(codes)
    if currency is None:
        raise InvalidRecord(f"{what} {quote(value)}: {symbol} means {means}; give the number alone "
                            f"and the currency as a code (--currency {codes[0]})")
    raise InvalidRecord(f"{what} {quote(value)}: {symbol} means {means} but the currency is {currency}; "
                        f"give the number alone, or --currency {codes[0]}")


def parse_currency(value: str | None, config: Config) -> str:
    """A three-letter currency code, upper case; the store's currency when none is given."""
    if value is None or not str(value).strip():
        return str(config.get("currency", "CNY"))
    code = str(value).strip().upper()
    if not CURRENCY_RE.match(code):
        raise InvalidRecord(f"currency {value!r} is not a three-letter code (like CNY, USD, EUR)")
    return code


def format_money(amount: Any, currency: str | None = None) -> str:
    """``¥120,000``, ``$99.50``, ``1,000 CHF``; anything not a number as its text."""
    if not isinstance(amount, (int, float)) or isinstance(amount, bool):
        return str(amount)
    text = f"{amount:,.2f}" if isinstance(amount, float) and not amount.is_integer() else f"{int(amount):,}"
    symbol = SYMBOLS.get(str(currency or "").upper())
    if symbol:
        return symbol + text
    return f"{text} {currency}" if currency else text
