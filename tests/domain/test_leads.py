"""crmcli.domain.leads without a store: rules, the plan, funnel days."""
from __future__ import annotations

import pytest

from crmcli.domain import leads
from crmcli.errors import InvalidRecord


def rules(*raw: dict) -> list[leads.Rule]:
    return leads.settings({"assign": list(raw)}).rules


def test_round_robin_goes_on_after_the_last_owner_and_load_picks_the_fewest() -> None:
    rr = rules({"team": ["A", "B", "C"]})
    done, missed = leads.plan([(f"c{i}", {"name": f"c{i}"}) for i in range(4)], rr, last={rr[0].label: "B"}, load={})
    assert [a.owner for a in done] == ["C", "A", "B", "C"] and missed == []
    by_load = rules({"team": ["A", "B"], "method": "load"})
    load = {"a": 2, "b": 0}
    done, _ = leads.plan([(f"c{i}", {}) for i in range(3)], by_load, last={}, load=load)
    assert [a.owner for a in done] == ["B", "B", "A"] and load == {"a": 3, "b": 2}


def test_match_reads_extra_fields_lists_and_ignores_case() -> None:
    rs = rules({"match": {"territory": "North", "source": ["web", "fair"]}, "owner": "Ann"}, {"owner": "Bo"})
    north = {"source": "WEB", "extra": {"territory": "north"}}
    done, _ = leads.plan([("x", north), ("y", {"source": "web"})], rs, last={}, load={})
    assert [(a.customer, a.owner) for a in done] == [("x", "Ann"), ("y", "Bo")]


@pytest.mark.parametrize("raw, message", [
    ({"assign": [{"owner": "A", "team": ["B"]}]}, "give either owner"),
    ({"assign": [{"team": []}]}, "team must be a non-empty list"),
    ({"assign": [{"team": ["A"], "method": "random"}]}, "method 'random'"),
    ({"assign": [{"team": ["A"], "when": {}}]}, "unknown key 'when'"),
    ({"first_touch_days": 0}, "first_touch_days"),
])
def test_bad_settings_say_what_and_where(raw: dict, message: str) -> None:
    with pytest.raises(InvalidRecord, match=message):
        leads.settings(raw)


def test_first_touch_clock_restarts_at_assignment() -> None:
    events = [{"at": "2026-03-01T10:00:00+08:00", "kind": "call"},
              {"at": "2026-03-05T10:00:00+08:00", "kind": "lead.assign", "owner": "A", "rule": "rule 1 (any lead)"}]
    start, touched = leads.first_touch_start("2026-02-01T10:00:00+08:00", events)
    assert start is not None and start.day == 5 and touched is False


def test_without_an_assignment_any_interaction_is_a_touch() -> None:
    imported = [{"at": "2025-01-01T10:00:00+08:00", "kind": "meeting"}]
    assert leads.first_touch_start("2026-02-01T10:00:00+08:00", imported)[1] is True
    assert leads.first_touch_start("2026-02-01T10:00:00+08:00", [])[1] is False
