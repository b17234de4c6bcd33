"""Orders and contracts: folding them from the journal, renewals, the order.add / contract.add kinds.

Pure: no git, no disk.
"""
from __future__ import annotations

from datetime import date

import pytest

from crmcli.config import Config
from crmcli.domain import contracts, orders
from crmcli.errors import FieldError
from tests.domain.test_deals import Entry

CONFIG = Config()


def contract(start: str, end: str, notice: str | None = None, **extra: object) -> Entry:
    data = {"at": f"{start}T09:00:00+08:00", "kind": "contract.add", "by": "alice", "value": 100000,
            "currency": "CNY", "start": start, "end": end, **extra}
    if notice:
        data["renew_notice"] = notice
    return Entry(data)


def test_contracts_fold_with_their_notice_date() -> None:
    [c] = contracts.customer_contracts([contract("2026-01-01", "2026-12-31", "60d"), Entry({"kind": "call"})])
    assert (c["end"], c["notice"], c["renew_notice"]) == ("2026-12-31", "2026-11-01", "60d")
    [d] = contracts.customer_contracts([contract("2026-01-01", "2026-12-31")])
    assert d["notice"] == "2026-12-01"  # 30 days by default
    assert contracts.customer_contracts([contract("2026-01-01", "someday")]) == []  # crm check reports it


def test_a_later_contract_renews_an_earlier_one() -> None:
    rows = contracts.customer_contracts([contract("2026-01-01", "2026-12-31"), contract("2027-01-01", "2027-12-31")])
    assert contracts.renewed(rows[0], rows) and not contracts.renewed(rows[1], rows)
    due = contracts.due_for_renewal(rows, date(2026, 12, 1), date(2026, 12, 10))
    assert due == []
    alone = rows[:1]
    assert contracts.due_for_renewal(alone, date(2026, 12, 1), date(2026, 12, 10)) == alone
    assert contracts.due_for_renewal(alone, date(2027, 1, 1), date(2027, 1, 31)) == []  # ended


def test_contract_kind_validates_and_describes() -> None:
    [kind] = contracts.EVENT_KINDS
    good = contract("2026-01-01", "2026-12-31", "60d").data
    assert kind.validate(good, CONFIG) == []
    assert kind.describe(good) == "contract ¥100,000, 2026-01-01 to 2026-12-31"
    bad = contract("2026-12-31", "2026-01-01", "soon").data
    assert [p for p, _ in kind.validate(bad, CONFIG)] == [("end",), ("renew_notice",)]


def test_orders_fold_by_date_and_validate() -> None:
    first = {"at": "2026-11-20T10:00:00+08:00", "kind": "order.add", "by": "a", "date": "2026-11-02",
             "amount": 50000, "currency": "CNY", "product": "licences", "opp": "opp-9x2m"}
    second = dict(first, date="2026-10-01", opp=None, product=None)
    assert [o["date"] for o in orders.customer_orders([Entry(first), Entry(second)])] == ["2026-10-01", "2026-11-02"]
    [kind] = orders.EVENT_KINDS
    assert kind.validate(first, CONFIG) == []
    assert kind.describe(first) == "order ¥50,000: licences (from opp-9x2m)"
    assert [p for p, _ in kind.validate(dict(first, amount="x", opp="deal"), CONFIG)] == [("amount",), ("opp",)]


def test_parse_notice_names_the_field_not_the_option() -> None:
    assert contracts.parse_notice(" 60 D ") == "60d"
    assert contracts.parse_notice(None) == contracts.DEFAULT_NOTICE
    with pytest.raises(FieldError) as err:
        contracts.parse_notice("soon")
    assert str(err.value).startswith("renew_notice: cannot read period")
    assert str(err.value.as_options()).startswith("--renew-notice: cannot read period")
