"""Survey answers without git or disk: scores, the event, validation and description."""
from __future__ import annotations

import pytest

from crmcli.config import Config
from crmcli.domain import surveys
from crmcli.errors import InvalidRecord


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), (" 4 ", 4), (1, 1), (5, 5)])
def test_parse_csat(value, expected) -> None:
    assert surveys.parse_csat(value) == expected


@pytest.mark.parametrize("value", ["0", "6", "4.5", "good", True])
def test_csat_out_of_range(value) -> None:
    with pytest.raises(InvalidRecord, match="give a whole number from 1 to 5"):
        surveys.parse_csat(value)


def test_nps_range() -> None:
    assert surveys.parse_nps("0") == 0 and surveys.parse_nps(10) == 10
    with pytest.raises(InvalidRecord, match="NPS '11' is out of range"):
        surveys.parse_nps("11")


def test_answer_leaves_out_empty_fields_and_is_valid() -> None:
    entry = surveys.answer("2026-11-20T09:00:00+08:00", "Ann", ticket=None, csat=None, nps=9, comment=None)
    assert entry == {"at": "2026-11-20T09:00:00+08:00", "kind": "survey.answer", "by": "Ann", "nps": 9}
    assert surveys.validate(entry, Config()) == []
    assert surveys.describe(entry) == "survey NPS 9"


def test_validate_survey() -> None:
    bad = {"kind": "survey.answer", "by": "A", "ticket": "abcd", "csat": 7, "comment": ["x"]}
    assert [m for _, m in surveys.validate(bad, Config())] == [
        "ticket 'abcd' is not a ticket id (like tkt-3f9a)", "csat 7 must be a whole number from 1 to 5",
        "comment must be text"]
    assert [m for _, m in surveys.validate({"kind": "survey.answer"}, Config())] == [
        "survey.answer needs csat or nps"]


def test_score_needed_names_no_flag() -> None:
    assert "--" not in str(surveys.ScoreNeeded())
    assert surveys.scores_text(4, None) == "CSAT 4" and surveys.scores_text(None, None) == ""
