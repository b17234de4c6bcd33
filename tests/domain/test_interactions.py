"""crmcli.domain.interactions: values of an interaction and one-line descriptions. No git, no disk."""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from crmcli.domain import interactions, kinds
from crmcli.domain.customer import Customer
from crmcli.domain.text import first_line
from crmcli.errors import EXIT_INVALID, InputError, InvalidRecord, NotFound

NOW = datetime.fromisoformat("2026-11-20T14:30:00+08:00")
CONFIG = SimpleNamespace(interaction_types=["call", "email", "meeting", "chat", "note"])


def test_describe_event_defaults() -> None:
    assert kinds.describe_event({"kind": "call", "direction": "in", "duration": "15m", "contact": "Li Na",
                                        "summary": "Renewal\nmore", "outcome": "yes"}) == \
        "call (in, 15m, with Li Na): Renewal [outcome: yes]"
    assert kinds.describe_event({"kind": "note"}) == "note"
    assert kinds.describe_event({"kind": "x.y", "comment": "Hi"}) == "x.y: Hi"
    assert kinds.describe_event({"kind": "task.add", "id": "task-9x2m", "text": "Send quote",
                                        "due": "2026-11-25", "owner": "Bob", "by": "Alice"}) == \
        "task.add: Send quote (due 2026-11-25, for Bob) [task-9x2m]"


def test_event_parts_names_the_task_a_done_event_closes() -> None:
    done = {"kind": "task.done", "task": "task-9x2m"}
    assert kinds.event_parts(done, {"task-9x2m": "Send quote"}) == ("task.done", "Send quote [task-9x2m]")
    assert kinds.event_parts(done) == ("task.done", "task-9x2m")


def test_first_line() -> None:
    assert first_line("  one\ntwo ") == "one"
    assert first_line(None) == ""
    assert first_line("abcdef", 4) == "abc…"


def test_interaction_type_by_prefix_and_case() -> None:
    assert interactions.interaction_type(CONFIG, "Call") == "call"
    assert interactions.interaction_type(CONFIG, "me") == "meeting"
    with pytest.raises(InvalidRecord, match="unknown interaction type 'c'") as caught:
        interactions.interaction_type(CONFIG, "c")
    assert caught.value.exit_code == EXIT_INVALID  # a bad value, not a bad command line


def test_durations_and_moments_name_their_input() -> None:
    assert interactions.parse_duration("1h30m") == timedelta(minutes=90)
    for text, words in [("0", "duration 0: must be more than zero"), ("25h", "duration 25h is longer than 24")]:
        with pytest.raises(InputError) as caught:
            interactions.parse_duration(text)
        assert str(caught.value).startswith(words)
    assert interactions.happened_at(None, NOW) == NOW
    with pytest.raises(InputError) as caught:
        interactions.happened_at("in 3 days", NOW)
    assert caught.value.worded(lambda i: f"--{i.name.replace('_', '-')} {i.metavar}".strip()) == (
        "--at 2026-11-23 14:30 is in the future; log what happened, and plan what comes next with --follow-up WHEN")


def test_interaction_entry_leaves_out_what_is_absent() -> None:
    entry = interactions.interaction_entry("call", NOW, "alice", direction="out", duration=timedelta(minutes=15),
                                           outcome=" quote \n", tags=[" renewal ", " "])
    assert entry == {"at": "2026-11-20T14:30:00+08:00", "kind": "call", "by": "alice", "direction": "out",
                     "duration": "15m", "outcome": "quote", "tags": ["renewal"]}
    with pytest.raises(InputError, match="direction 'up': use in or out"):
        interactions.interaction_entry("call", NOW, "alice", direction="up")


def test_match_contact() -> None:
    acme = Customer("acme", {"name": "Acme", "contacts": [{"name": "Jane Roe", "email": "jane@acme.test"},
                                                   {"name": "John Doe"}]})
    assert interactions.match_contact(acme, "jane@ACME.test") == "Jane Roe"
    assert interactions.match_contact(acme, "jo") == "John Doe"
    with pytest.raises(NotFound, match="is ambiguous at Acme"):
        interactions.match_contact(acme, "j")


def test_check_types() -> None:
    assert kinds.check_types(CONFIG, ["call", "task", "interaction", "x.y"]) == (
        "call", "task", "interaction", "x.y")
    with pytest.raises(InputError, match="type 'fax': use an interaction type"):
        kinds.check_types(CONFIG, ["fax"])
    assert kinds.type_matches("task.done", ("task",)) and kinds.type_matches("call", ("interaction",))
    assert not kinds.type_matches("opp.won", ("task",))
