"""Money values: parsing what people type, and showing amounts back. Pure: no git, no disk."""
from __future__ import annotations

import pytest

from crmcli.config import Config
from crmcli.domain.money import format_money, normalize_amount, parse_amount, parse_currency
from crmcli.errors import InvalidRecord


@pytest.mark.parametrize(("text", "currency", "expected"), [
    ("120000", None, 120000),
    ("120,000", None, 120000),
    ("1 234 567.891", None, 1234567.89),
    ("99.50", None, 99.5),
    ("$5", "USD", 5),
    ("¥5", "JPY", 5),
    (7, None, 7),
    (2.005, None, 2.01),
])
def test_parse_amount_reads_what_people_type(text: object, currency: str | None, expected: float) -> None:
    assert parse_amount(text, currency=currency) == expected


@pytest.mark.parametrize(("text", "currency", "message"), [
    ("lots", None, "is not a number"),
    ("-5", None, "is negative"),
    ("1,2,3", None, "digit groups that are not of three"),
    ("$5", "EUR", "$ means USD but the currency is EUR"),
    ("$5", None, "give the number alone and the currency as a code"),
    ("1e16", None, "is not a number"),
    (float("nan"), None, "is not a number"),
    (True, None, "is not a number"),
])
def test_parse_amount_refuses_with_a_reason(text: object, currency: str | None, message: str) -> None:
    with pytest.raises(InvalidRecord, match=None) as err:
        parse_amount(text, currency=currency)
    assert message in str(err.value)


def test_normalize_amount_keeps_whole_numbers_whole() -> None:
    assert normalize_amount(100.0) == 100 and isinstance(normalize_amount(100.0), int)
    assert normalize_amount(0.125) == 0.13


def test_parse_currency_defaults_to_the_store_currency() -> None:
    config = Config()
    assert parse_currency(None, config) == "CNY"
    assert parse_currency(" usd ", config) == "USD"
    with pytest.raises(InvalidRecord, match="three-letter code"):
        parse_currency("yuan", config)


@pytest.mark.parametrize(("amount", "currency", "text"), [
    (120000, "CNY", "¥120,000"),
    (99.5, "USD", "$99.50"),
    (1000, "CHF", "1,000 CHF"),
    (1000, None, "1,000"),
    ("n/a", "USD", "n/a"),
])
def test_format_money(amount: object, currency: str | None, text: str) -> None:
    assert format_money(amount, currency) == text
