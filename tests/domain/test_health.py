"""The shared rules that both `crm show` and `crm report customers` feed the health score with."""
from __future__ import annotations

from datetime import date

from crmcli.domain.health import counts_as_breach, ratings_of

TODAY = date(2026, 11, 23)


def test_breach_counts_while_open_or_recent() -> None:
    missed = ["resolution"]
    assert counts_as_breach(missed, True, date(2025, 1, 1), TODAY, 30)         # open: always
    assert counts_as_breach(missed, False, date(2026, 10, 25), TODAY, 30)      # closed, 29 days old
    assert not counts_as_breach(missed, False, date(2026, 10, 24), TODAY, 30)  # closed, 30 days old
    assert not counts_as_breach(missed, False, None, TODAY, 30)
    assert not counts_as_breach([], True, TODAY, TODAY, 30)                    # met its SLA


def test_later_answer_about_a_ticket_replaces_the_earlier() -> None:
    answers = [(date(2026, 11, 1), 2, None, "tkt-a"), (date(2026, 11, 2), 5, 10, None),
               (date(2026, 11, 3), 1, None, "tkt-a"), (date(2026, 11, 4), None, None, None)]
    assert ratings_of(answers) == [(date(2026, 11, 2), 100.0), (date(2026, 11, 3), 0.0)]
