"""crmcli.domain.tasks: due values, folding task events, the task.* kinds. No git, no disk."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from crmcli.domain import kinds, tasks
from crmcli.errors import Input, InputError, InvalidRecord

NOW = datetime.fromisoformat("2026-11-20T14:30:00+08:00")  # a Friday


def test_parse_due_keeps_what_was_typed() -> None:
    assert tasks.parse_due("friday", base=NOW) == date(2026, 11, 27)
    assert tasks.parse_due("2026-11-25", base=NOW) == date(2026, 11, 25)
    assert tasks.parse_due("in 3 days", base=NOW) == date(2026, 11, 23)
    assert tasks.parse_due("tomorrow 9am", base=NOW) == datetime.fromisoformat("2026-11-21T09:00:00+08:00")
    assert tasks.parse_due("in 2h", base=NOW) == datetime.fromisoformat("2026-11-20T16:30:00+08:00")
    assert tasks.due_text(date(2026, 11, 25)) == "2026-11-25"


def test_a_bad_due_names_the_input_not_an_option() -> None:
    with pytest.raises(InputError) as caught:
        tasks.parse_due("someday", "follow_up", base=NOW)
    assert str(caught.value).startswith("follow up: cannot read date 'someday'")
    assert caught.value.worded(lambda i: f"--{i.name.replace('_', '-')}").startswith("--follow-up: cannot read")
    assert Input("follow_up") in caught.value.parts


def test_read_due_and_show_due() -> None:
    assert tasks.read_due("2026-11-25") == date(2026, 11, 25)
    assert tasks.read_due("2026-11-25T09:00:00+08:00") == datetime.fromisoformat("2026-11-25T09:00:00+08:00")
    assert tasks.read_due("soon") is None and tasks.read_due(None) is None
    assert tasks.show_due(None) == "" and tasks.show_due(date(2026, 11, 25)) == "2026-11-25"


def test_fold_tasks_applies_done_from_a_clone_with_a_slow_clock() -> None:
    add = {"at": "2026-11-20T10:00:00+08:00", "kind": "task.add", "id": "task-9x2m", "text": "Send quote"}
    done = {"at": "2026-11-20T09:59:00+08:00", "kind": "task.done", "task": "task-9x2m"}
    [task] = tasks.fold_tasks("acme", [add, done]).values()
    assert task.done and task.done_at == done["at"]
    reopen = {"at": "2026-11-20T11:00:00+08:00", "kind": "task.reopen", "task": "task-9x2m"}
    assert not tasks.fold_tasks("acme", [reopen, add, done])["task-9x2m"].done


def test_tasks_sort_by_due_then_created_and_know_when_they_are_overdue() -> None:
    entries = [tasks.task_entry(tid, "x", due, by="alice", owner=None, now=NOW)
               for tid, due in [("task-aaaa", None), ("task-bbbb", date(2026, 11, 25)),
                                ("task-cccc", datetime.fromisoformat("2026-11-19T09:00:00+08:00"))]]
    folded = tasks.fold_tasks("acme", entries, "Acme")
    assert [t.id for t in sorted(folded.values(), key=tasks.Task.sort_key)] == ["task-cccc", "task-bbbb",
                                                                               "task-aaaa"]
    assert [t.id for t in folded.values() if t.is_overdue(NOW)] == ["task-cccc"]
    assert folded["task-aaaa"].owner == "alice" and folded["task-aaaa"].ref == "acme/task-aaaa"


def test_change_entry_refuses_what_is_already_so() -> None:
    [task] = tasks.fold_tasks("acme", [tasks.task_entry("task-9x2m", "Send", None, by="bob", owner=None,
                                                        now=NOW)], "Acme").values()
    with pytest.raises(InvalidRecord, match="is open; nothing to reopen"):
        tasks.change_entry(task, "task.reopen", by="bob", now=NOW)
    entry = tasks.change_entry(task, "task.done", by="bob", now=NOW)
    assert entry == {"at": "2026-11-20T14:30:00+08:00", "kind": "task.done", "task": "task-9x2m", "by": "bob"}
    task.done, task.done_at = True, entry["at"]
    with pytest.raises(InvalidRecord, match=r"already done \(since 2026-11-20\); reopen it with: crm task reopen"):
        tasks.change_entry(task, "task.done", by="bob", now=NOW)


def test_task_kinds_validate_and_describe() -> None:
    by_kind = {k.kind: k for k in tasks.EVENT_KINDS}
    assert set(by_kind) == {"task.add", "task.done", "task.reopen"}
    add = by_kind["task.add"]
    assert add.validate({"id": "task-9x2m", "text": "Send", "due": "2026-11-25"}, None) == []
    problems = add.validate({"id": "T1", "text": " ", "due": "2026-13-45", "owner": 3}, None)
    assert [path for path, _ in problems] == [("id",), ("text",), ("due",), ("owner",)]
    assert by_kind["task.done"].validate({"task": "nope"}, None) == [
        (("task",), "task 'nope' must name a task (task: task-9x2m)")]
    assert add.describe({"id": "task-9x2m", "text": "Send quote\nmore", "due": "2026-11-25", "owner": "Bob",
                         "by": "Alice"}) == "Send quote (due 2026-11-25, for Bob) [task-9x2m]"
    assert kinds.KINDS["task.add"] is add
