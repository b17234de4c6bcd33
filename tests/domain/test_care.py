"""The care calendar's pure part: rules from crm.yaml, items by day, holidays by the lunar calendar."""
from __future__ import annotations

from datetime import date

import pytest

from crmcli.config import Config
from crmcli.domain import care
from crmcli.errors import InvalidRecord


def rules(**data) -> care.Rules:
    return care.Rules.from_config(Config(data={"care": data}))


@pytest.mark.parametrize("year, spring, mid_autumn", [
    (2026, date(2026, 2, 17), date(2026, 9, 25)),  # published dates of 春节 and 中秋节
    (2027, date(2027, 2, 6), date(2027, 9, 15)),
])
def test_chinese_festivals_follow_the_lunar_calendar(year: int, spring: date, mid_autumn: date) -> None:
    found = {i.text: i.day for i in care.holiday_items(rules(holidays="CN"), date(year, 1, 1), date(year + 1, 1, 1))}
    assert found["holiday: 春节"] == spring
    assert found["holiday: 中秋节"] == mid_autumn
    assert not any("补假" in text for text in found)


def test_rules_are_checked_with_the_key_named() -> None:
    for bad, message in (({"revisit": [7]}, "unknown key 'revisit'"),
                         ({"checkins": [{"tier": "A"}]}, "{tier: A, every: 3m}"),
                         ({"checkins": [{"tier": "A", "every": "often"}]}, "check-in every 'often'"),
                         ({"greetings": {"wedding": "x"}}, "greetings maps a kind"),
                         ({"clear_days": -1}, "clear_days")):
        with pytest.raises(InvalidRecord, match=f"^crm.yaml: care: .*{message}"):
            rules(**bad)
    with pytest.raises(InvalidRecord, match="no such country"):
        care.holiday_items(rules(holidays="XX"), date(2026, 1, 1), date(2026, 2, 1))


def test_items_clear_on_a_later_interaction() -> None:
    r = rules(revisit_after_order=[7], clear_days=2, greetings={"birthday": "Happy {years}th, {name} {unknown}"})
    f = care.Facts("c1", "Acme", people=[("Li Na", date(1990, 3, 10))], orders=[date(2026, 3, 1)],
                   contacted=[date(2026, 3, 1)])
    items = care.customer_items(f, r, date(2026, 3, 1), date(2026, 3, 15))
    assert [(i.kind, i.day, i.done) for i in items] == [("birthday", date(2026, 3, 10), False),
                                                         ("revisit", date(2026, 3, 8), False)]
    assert items[0].greeting == "Happy 36th, Li Na " and items[0].text == "birthday: Li Na of Acme (turns 36)"
    f.contacted.append(date(2026, 3, 6))  # two days before the revisit: clears it, not the birthday
    items = care.customer_items(f, r, date(2026, 3, 1), date(2026, 3, 15))
    assert [(i.kind, i.done) for i in items] == [("birthday", False), ("revisit", True)]
