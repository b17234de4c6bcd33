"""The ticket domain without git or disk: checks, the fold, the next event, SLA, validation, descriptions."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crmcli.config import Config
from crmcli.domain import tickets
from crmcli.domain.journal import entity_events
from crmcli.errors import InvalidRecord

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def ev(minutes: int, kind: str, **fields) -> dict:
    key = "id" if kind == "ticket.open" else "ticket"
    at = (T0 + timedelta(minutes=minutes)).isoformat()
    return {"at": at, "kind": kind, key: "tkt-abcd", "by": "Bob", **fields}


OPENED = ev(0, "ticket.open", title="Login fails", priority="high", category="bug")


def test_new_ticket_defaults_and_case_insensitive_choices() -> None:
    new = tickets.NewTicket.check(Config(), "  Login fails ", priority="HIGH", channel="Email")
    assert (new.title, new.priority, new.category, new.channel) == ("Login fails", "high", "question", "email")
    assert tickets.NewTicket.check(Config(), "X").priority == "normal"
    entry = new.event("tkt-abcd", T0, "Bob", None)
    assert list(entry) == ["at", "kind", "id", "by", "title", "priority", "category", "channel"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"priority": "critical"}, "unknown priority 'critical'; use one of: low, normal, high, urgent"),
    ({"category": "rant"}, "unknown category 'rant'"),
    ({"assignee": "a\nb"}, "must be one line without control characters"),
])
def test_new_ticket_refuses_bad_values(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidRecord, match=message):
        tickets.NewTicket.check(Config(), "X", **kwargs)


def test_closing_by_status_needs_a_resolution() -> None:
    assert tickets.status_choice("In-Progress") == "in-progress"
    with pytest.raises(tickets.ResolutionNeeded) as raised:
        tickets.status_choice("closed")
    assert "--" not in str(raised.value)


def test_fold_close_survey_reopen() -> None:
    t = tickets.Ticket.from_events([
        ev(90, "survey.answer", csat=2),
        ev(60, "ticket.close", resolution="Fixed", csat=5),
        OPENED,
    ], "acme")
    assert (t.status, t.csat, t.resolution, t.ref) == ("closed", 2, "Fixed", "acme/tkt-abcd")
    assert t.resolved_at == t.closed_at == T0 + timedelta(minutes=60)
    assert t.first_response_at is None  # closed without any reply: no first response
    assert [h["what"] for h in t.history] == ["opened (high, bug): Login fails", "closed (CSAT 5): Fixed",
                                              "survey CSAT 2 (tkt-abcd)"]
    again = tickets.Ticket.from_events([OPENED, ev(60, "ticket.close", resolution="Fixed"), ev(70, "ticket.reopen")])
    assert (again.status, again.is_open, again.resolved_at, again.resolution) == ("open", True, None, None)


def test_next_events_are_checked_against_the_state() -> None:
    t = tickets.Ticket.from_events([OPENED])
    assert t.assign(T0, "Ann", "bob") == {"at": "2026-11-20T01:00:00+00:00", "kind": "ticket.assign",
                                          "ticket": "tkt-abcd", "by": "Ann", "to": "bob"}
    assert t.comment(T0, "Ann", "hi", internal=True)["internal"] is True
    assert "internal" not in t.comment(T0, "Ann", "hi")
    with pytest.raises(InvalidRecord, match="is already open; nothing to change"):
        t.move(T0, "Ann", "open")
    with pytest.raises(InvalidRecord, match="not resolved or closed; nothing to reopen"):
        t.reopen(T0, "Ann")
    closed = tickets.Ticket.from_events([OPENED, ev(5, "ticket.close", resolution="ok")])
    with pytest.raises(InvalidRecord, match="is closed; reopen it first"):
        closed.move(T0, "Ann", "waiting")


def test_sla_met_on_the_deadline_is_met() -> None:
    t = tickets.Ticket.from_events([OPENED, ev(4 * 60, "ticket.comment", text="on it")])  # high: 4h response
    sla = t.sla(Config(), now=T0 + timedelta(hours=30))
    assert sla.first_response.state == "met" and not sla.first_response.breached
    assert sla.resolution.state == "breached" and sla.breaches() == ["resolution"]


def test_ticket_events_and_complaints() -> None:
    other = {"at": T0.isoformat(), "kind": "ticket.open", "id": "tkt-zzzz", "title": "Rude", "priority": "low",
             "category": "complaint"}
    events = [OPENED, {"at": T0.isoformat(), "kind": "call"}, other, ev(1, "ticket.comment", text="x")]
    assert {k: len(v) for k, v in entity_events(events, "tkt").items()} == {"tkt-abcd": 2, "tkt-zzzz": 1}
    assert [t.id for t in tickets.complaints_since(events, None)] == ["tkt-zzzz"]
    assert tickets.complaints_since(events, T0 + timedelta(seconds=1)) == []


def test_validate_reports_each_problem() -> None:
    bad = {"kind": "ticket.status", "ticket": "abcd", "by": 3, "to": "done"}
    assert [path for path, _ in tickets.validate(bad, Config())] == [("ticket",), ("by",), ("to",)]
    close = {"kind": "ticket.close", "ticket": "tkt-abcd", "csat": 9}
    assert [m for _, m in tickets.validate(close, Config())] == [
        "ticket.close needs resolution", "csat 9 must be a whole number from 1 to 5"]
    assert tickets.validate(OPENED, Config()) == []


def test_event_kinds_describe_in_one_line() -> None:
    kinds = {k.kind: k for k in tickets.EVENT_KINDS}
    assert set(kinds) == {k for k in tickets.KINDS if k.startswith("ticket.")}
    assert kinds["ticket.open"].describe(OPENED) == "ticket tkt-abcd opened (high, bug): Login fails"
    assert kinds["ticket.comment"].describe({}) == "ticket ? None"
