"""crm log, crm timeline, crm task, crm agenda: through the real entry point."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crmcli import yamlio
from crmcli.domain import kinds as events
from crmcli.domain.journal import EventKind
from tests.conftest import Crm, commits, git

NOW = "2026-11-20T14:30:00+08:00"  # a Friday


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NOW", NOW)


def ok(result):  # noqa: ANN001, ANN201 - CliRunner result
    assert result.exit_code == 0, result.output
    return result


def add_customer(invoke, name: str, *args: str) -> str:  # noqa: ANN001
    return ok(invoke("customer", "add", name, *args)).stdout.strip()


def journal(root: Path, cid: str, year: int = 2026) -> list[dict]:
    path = root / "customers" / cid[:2] / cid / "journal" / f"{year}.yaml"
    return yamlio.loads(path.read_text(encoding="utf-8"))


def status(root: Path) -> str:
    return git(root, "status", "--porcelain")


@pytest.fixture
def acme(invoke, store_dir: Path) -> str:  # noqa: ANN001
    cid = add_customer(invoke, "Acme Corp", "--owner", "alice", "--contact", "Jane Doe <jane@acme.example>")
    ok(invoke("contact", "add", cid, "Li Na", "--email", "li.na@example.cn"))
    return cid


# -- logging ------------------------------------------------------------------------------
def test_log_writes_one_ordered_event_in_one_commit(crm: Crm, acme: str, store_dir: Path) -> None:
    before = commits(store_dir)
    r = crm("log", "acme", "call", "Discussed", "the", "renewal", "--at", "2026-11-20 10:00", "--duration", "1h30m",
            "--direction", "out", "--contact", "jane", "--outcome", "quote requested", "--tag", "renewal",
            "--tag", "q4")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{acme}  2026-11-20 10:00  call: Discussed the renewal\n"
    assert r.stderr.startswith(f"Logged call with Acme Corp ({acme}) [")
    [entry] = journal(store_dir, acme)
    assert list(entry.items()) == [
        ("at", "2026-11-20T10:00:00+08:00"), ("kind", "call"), ("by", "Alice Example"), ("contact", "Jane Doe"),
        ("direction", "out"), ("duration", "1h30m"), ("outcome", "quote requested"), ("tags", ["renewal", "q4"]),
        ("summary", "Discussed the renewal")]
    after = commits(store_dir)
    assert after[1:] == before and after[0] == f"Log call with Acme Corp ({acme})"
    body = git(store_dir, "log", "-1", "--format=%B")
    assert "Crm-Action: interaction.add" in body and f"Crm-Customer: {acme}" in body
    assert git(store_dir, "show", "--stat", "--format=", "HEAD").count("|") == 1
    assert status(store_dir) == ""


@pytest.mark.parametrize("typed, stored", [("90", "1h30m"), ("15m", "15m"), ("1h 30m", "1h30m"), ("1:05", "1h5m"),
                                           ("45s", "45s"), ("24h", "1d")])
def test_duration_forms(invoke, acme: str, store_dir: Path, typed: str, stored: str) -> None:  # noqa: ANN001
    ok(invoke("log", acme, "call", "hi", "--duration", typed))
    assert journal(store_dir, acme)[-1]["duration"] == stored


def test_summary_from_message_stdin_and_type_prefix(invoke, crm: Crm, acme: str, store_dir: Path) -> None:  # noqa: ANN001
    ok(invoke("log", acme, "meet", "-m", "Kick-off\n\nagenda: scope  "))
    r = crm("log", "Acme Corp", "NOTE", "-", input="line one\nline two\n")
    assert r.returncode == 0, r.stderr
    first, second = journal(store_dir, acme)
    assert (first["kind"], first["summary"]) == ("meeting", "Kick-off\n\nagenda: scope")
    assert (second["kind"], second["summary"]) == ("note", "line one\nline two")


def test_editor_is_used_on_a_terminal(invoke, acme: str, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    import click

    import crmcli.cli.log as cli_mod

    monkeypatch.setattr(cli_mod, "is_interactive", lambda: True)
    monkeypatch.setattr(click, "edit", lambda text, **kw: "# a comment\nCalled back\n")
    ok(invoke("log", acme, "call"))
    assert journal(store_dir, acme)[-1]["summary"] == "Called back"
    count = len(commits(store_dir))
    monkeypatch.setattr(click, "edit", lambda text, **kw: "# only a comment\n")
    r = invoke("log", acme, "call")
    assert r.exit_code == 8 and "nothing logged" in r.output
    assert len(commits(store_dir)) == count


def test_follow_up_task_lands_in_the_same_commit(crm: Crm, acme: str, store_dir: Path) -> None:
    before = len(commits(store_dir))
    r = crm("log", acme, "call", "Wants a quote", "--follow-up", "friday", "--task", "Send quote")
    assert r.returncode == 0, r.stderr
    call, task = journal(store_dir, acme)
    assert call["kind"] == "call"
    assert list(task) == ["at", "kind", "id", "by", "owner", "due", "text"]
    assert task["kind"] == "task.add" and task["id"].startswith("task-") and task["at"] == NOW
    assert (task["due"], task["text"], task["owner"]) == ("2026-11-27", "Send quote", "Alice Example")
    assert f"{acme}/{task['id']}  due 2026-11-27  Send quote" in r.stdout
    assert len(commits(store_dir)) == before + 1
    r = crm("log", acme, "email", "Sent the deck", "--follow-up", "monday 9am")
    assert r.returncode == 0, r.stderr
    task = journal(store_dir, acme)[-1]
    assert task["due"] == "2026-11-23T09:00:00+08:00"
    assert task["text"] == "Follow up on the email: Sent the deck"


BAD = [
    (["log", "acmee", "call", "hi"], 3, "did you mean: "),
    (["log", "acme", "fax", "hi"],4, "use one of: call, email, meeting, visit, chat, sms, note"),
    (["log", "acme", "call", "hi", "--at", "blursday"],4, "use one of: 2026-11-20"),
    (["log", "acme", "call", "hi", "--at", "in 3 days"],4, "in the future"),
    (["log", "acme", "call", "hi", "--duration", "-5m"],4, "negative"),
    (["log", "acme", "call", "hi", "--duration", "25h"],4, "longer than 24 hours"),
    (["log", "acme", "call", "hi", "--duration", "0"],4, "more than zero"),
    (["log", "acme", "call", "hi", "--contact", "Bob"], 3, "one of: Jane Doe, Li Na"),
    (["log", "acme", "call", "hi", "--follow-up", "someday"],4, "--follow-up: cannot read date"),
    (["log", "acme", "call"], 2, "no summary"),
    (["log", "acme", "call", "-m", "   "], 2, "empty summary"),
    (["log", "acme", "call", "-"], 2, "empty summary"),
    (["task", "add", "acme", "Call back", "--due", "whenever"],4, "cannot read date"),
]


@pytest.mark.parametrize("args, code, message", BAD, ids=[" ".join(a[1:]) for a, _, _ in BAD])
def test_bad_input_is_one_line_and_writes_nothing(crm: Crm, acme: str, store_dir: Path, args: list[str],
                                                  code: int, message: str) -> None:
    before = commits(store_dir)
    r = crm(*args, input="")
    assert r.returncode == code, r.stderr
    assert r.stderr.startswith("crm: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert message in r.stderr
    assert commits(store_dir) == before and status(store_dir) == ""
    assert not (store_dir / "customers" / acme[:2] / acme / "journal").exists()


# -- cost of crm log ----------------------------------------------------------------------
def test_log_imports_no_report_machinery(crm: Crm, acme: str, store_dir: Path) -> None:
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "crmcli", "log", acme, "call", "quick"],
                       cwd=store_dir, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    modules = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert "crmcli.actions.log" in modules
    assert not {m for m in modules if m.split(".")[0] in ("pandas", "openpyxl", "tabulate", "numpy")}


def test_log_reads_only_its_own_customer(invoke, acme: str, store_dir: Path,  # noqa: ANN001
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    others = [add_customer(invoke, name) for name in ("Acme Labs", "Beta Ltd", "Zeta")]
    for cid in others:
        ok(invoke("log", cid, "call", "hello"))
    customers = store_dir / "customers"
    mine = customers / acme[:2] / acme
    touched: list[tuple[str, Path]] = []

    def spy(name: str, real):  # noqa: ANN001, ANN202
        def wrapper(path=".", *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            if isinstance(path, (str, os.PathLike)):
                touched.append((name, Path(os.path.abspath(path))))
            return real(path, *args, **kwargs)
        return wrapper

    import builtins

    monkeypatch.setattr(builtins, "open", spy("open", builtins.open))
    monkeypatch.setattr(io, "open", spy("open", io.open))
    monkeypatch.setattr(os, "listdir", spy("listdir", os.listdir))
    monkeypatch.setattr(os, "scandir", spy("scandir", os.scandir))
    for ref in (acme, "Acme Corp"):
        ok(invoke("log", ref, "call", "Quick one", "--contact", "li", "--follow-up", "tomorrow"))
    monkeypatch.undo()
    assert ("listdir", customers) not in touched and ("scandir", customers) not in touched
    inside = [p for _, p in touched if customers in p.parents]
    assert inside and all(p == mine or mine in p.parents or p == customers / acme[:2] for p in inside), inside


# -- timeline -----------------------------------------------------------------------------
def test_timeline_newest_first_in_local_time(invoke, acme: str, store_dir: Path,  # noqa: ANN001
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ok(invoke("log", acme, "email", "Sent the deck", "--at", "2026-11-19 09:00"))
    ok(invoke("log", acme, "call", "Went through it", "--at", "2026-11-20T03:00:00Z", "--direction", "in"))
    monkeypatch.setenv("CRM_NOW", "2026-11-20T15:00:00+08:00")
    tid = ok(invoke("task", "add", acme, "Send", "quote", "--due", "2026-11-25")).stdout.strip()
    monkeypatch.setenv("CRM_NOW", "2026-11-20T16:00:00+08:00")
    ok(invoke("task", "done", tid))
    rows = json.loads(ok(invoke("timeline", "acme", "--format", "json")).stdout)
    assert [r["kind"] for r in rows] == ["task.done", "task.add", "customer.add", "call", "email"]
    assert rows[3]["at"] == "2026-11-20T03:00:00+00:00" and rows[3]["what"] == "call (in)"
    assert rows[0]["summary"] == f"Send quote [{tid.split('/')[1]}]"
    assert rows[1]["summary"] == f"Send quote (due 2026-11-25) [{tid.split('/')[1]}]"
    assert rows[4]["event"]["summary"] == "Sent the deck"
    table = ok(invoke("timeline", "acme")).stdout.splitlines()
    assert table[0].split() == ["when", "what", "who", "summary"]
    assert table[5].startswith("2026-11-20 11:00  call (in)")  # shown in local time (CRM_TZ)
    assert table[-1].startswith("2026-11-19 09:00  email")
    kinds = [r["kind"] for r in json.loads(ok(invoke("timeline", "acme", "--type", "call", "--type", "task",
                                                     "--format", "json")).stdout)]
    assert kinds == ["task.done", "task.add", "call"]
    since = json.loads(ok(invoke("timeline", "acme", "--since", "2026-11-20", "--until", "2026-11-20",
                                 "--type", "interaction", "-f", "json")).stdout)
    assert [r["kind"] for r in since] == ["call"]
    limited = json.loads(ok(invoke("timeline", "acme", "--limit", "2", "--reverse", "-f", "json")).stdout)
    assert [r["kind"] for r in limited] == ["task.add", "task.done"]
    csv_out = ok(invoke("timeline", "acme", "-f", "csv")).stdout
    assert csv_out.splitlines()[0] == "at,customer,name,kind,who,what,summary"
    r = invoke("timeline", "acme", "--type", "fax")
    assert r.exit_code == 4 and "--type 'fax'" in r.output  # a bad value (exit 4), not a bad command line


def test_timeline_describes_registered_kinds(invoke, acme: str, store_dir: Path,  # noqa: ANN001
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(events.KINDS, "demo.stage", EventKind(
        "demo.stage", lambda e, s: [], lambda e: f"stage {e['from']} -> {e['to']}"))
    from crmcli.store.location import open_store

    store = open_store(str(store_dir))
    with store.transaction("demo", action="demo", customer=acme) as tx:
        tx.append_entry(acme, {"at": "2026-11-20T12:00:00+08:00", "kind": "demo.stage", "by": "Bob",
                               "from": "proposal", "to": "negotiation"})
        tx.append_entry(acme, {"at": "2026-11-20T12:05:00+08:00", "kind": "other.thing", "title": "Untitled"})
    rows = json.loads(ok(invoke("timeline", acme, "-f", "json", "--type", "demo", "--type", "other.thing")).stdout)
    assert [(r["what"], r["summary"], r["who"]) for r in rows] == [
        ("other.thing", "Untitled", None), ("demo.stage", "stage proposal -> negotiation", "Bob")]
    assert events.describe_event(rows[1]["event"]) == "demo.stage: stage proposal -> negotiation"


def test_team_feed(invoke, acme: str, store_dir: Path) -> None:  # noqa: ANN001
    beta = add_customer(invoke, "Beta Ltd", "--owner", "bob")
    ok(invoke("log", acme, "call", "Old news", "--at", "2026-10-01"))
    ok(invoke("log", acme, "call", "Recent", "--at", "2026-11-18 10:00"))
    ok(invoke("log", beta, "visit", "On site", "--at", "2026-11-19 10:00", "--author", "Bob <bob@example.com>"))
    rows = json.loads(ok(invoke("timeline", "--all", "--since", "7d", "--type", "interaction", "-f", "json")).stdout)
    assert [(r["name"], r["summary"], r["who"]) for r in rows] == [("Beta Ltd", "On site", "Bob"),
                                                                 ("Acme Corp", "Recent", "Alice Example")]
    rows = json.loads(ok(invoke("timeline", "--all", "--owner", "alice", "-f", "json")).stdout)
    assert {r["customer"] for r in rows} == {acme}
    rows = json.loads(ok(invoke("timeline", "--all", "--by", "bob", "-f", "json")).stdout)
    assert [r["summary"] for r in rows] == ["On site"]
    table = ok(invoke("timeline", "--all")).stdout
    assert "Beta Ltd" in table and table.splitlines()[0].split() == ["when", "customer", "what", "who", "summary"]
    assert invoke("timeline").exit_code == 2
    assert invoke("timeline", "acme", "--all").exit_code == 2


# -- tasks --------------------------------------------------------------------------------
def test_task_lifecycle(crm: Crm, invoke, acme: str, store_dir: Path) -> None:  # noqa: ANN001
    r = crm("task", "add", "acme", "Send", "quote", "--due", "2026-11-25")
    assert r.returncode == 0, r.stderr
    ref = r.stdout.strip()
    cid, tid = ref.split("/")
    assert cid == acme
    [entry] = journal(store_dir, acme)
    assert entry == {"at": NOW, "kind": "task.add", "id": tid, "by": "Alice Example", "owner": "Alice Example",
                     "due": "2026-11-25", "text": "Send quote"}
    assert commits(store_dir)[0] == f"Add task {tid} for Acme Corp: Send quote"
    r = crm("task", "done", tid)
    assert r.returncode == 0, r.stderr
    assert journal(store_dir, acme)[-1] == {"at": NOW, "kind": "task.done", "task": tid, "by": "Alice Example"}
    assert commits(store_dir)[0] == f"Complete task {tid} of Acme Corp"
    assert "Crm-Action: task.done" in git(store_dir, "log", "-1", "--format=%B")
    r = crm("task", "done", ref)
    assert r.returncode == 4 and "already done" in r.stderr  # a state conflict, like closing a closed ticket
    assert ok(invoke("task", "list")).stdout.strip() == "No tasks match." or "No tasks" in invoke("task", "list").output
    ok(invoke("task", "reopen", f"acme/{tid[5:7]}"))
    assert commits(store_dir)[0] == f"Reopen task {tid} of Acme Corp"
    rows = json.loads(ok(invoke("task", "list", "-f", "json")).stdout)
    assert [(r["ref"], r["status"], r["due"]) for r in rows] == [(ref, "open", "2026-11-25")]
    r = invoke("task", "done", "task-zzzz")
    assert r.exit_code == 3 and "no task" in r.output
    assert status(store_dir) == ""


def test_task_list_filters(invoke, acme: str, store_dir: Path) -> None:  # noqa: ANN001
    beta = add_customer(invoke, "Beta Ltd")

    def add(cid: str, text: str, *args: str) -> str:
        return ok(invoke("task", "add", cid, text, *args)).stdout.strip()

    late = add(acme, "late", "--due", "yesterday")
    morning = add(acme, "this morning", "--due", "today 9:00")
    evening = add(beta, "tonight", "--due", "today 18:00", "--owner", "bob")
    soon = add(beta, "soon", "--due", "2026-11-24")
    later = add(acme, "later", "--due", "2026-12-15")
    undated = add(acme, "someday")

    def refs(*args: str) -> list[str]:
        return [r["ref"] for r in json.loads(ok(invoke("task", "list", *args, "-f", "json")).stdout)]

    assert refs() == [late, morning, evening, soon, later, undated]
    assert refs("--overdue") == [late, morning]
    assert refs("--due", "today") == [morning, evening]
    assert refs("--due", "week") == [morning, evening, soon]
    assert refs("--overdue", "--due", "today") == [late, morning, evening]
    assert refs("--owner", "BOB") == [evening]
    assert refs("--mine", "--due", "week") == [morning, soon]
    assert refs("--customer", "beta") == [evening, soon]
    ok(invoke("task", "done", late))
    assert refs("--overdue") == [morning] and refs("--done") == [late]
    table = ok(invoke("task", "list", "--customer", "acme")).stdout.splitlines()
    assert table[0].split() == ["due", "task", "customer", "owner", "text"]
    assert table[2].startswith("2026-11-20 09:00")


def test_check_validates_task_events(invoke, acme: str, store_dir: Path) -> None:  # noqa: ANN001
    ok(invoke("task", "add", acme, "Fine", "--due", "friday"))
    ok(invoke("log", acme, "call", "fine too"))
    ok(invoke("check"))
    path = store_dir / "customers" / acme[:2] / acme / "journal" / "2026.yaml"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("- at: 2026-11-20T15:00:00+08:00\n  kind: task.add\n  id: task-x\n  due: 2026-13-01\n"
                 "- {at: '2026-11-20T15:00:00+08:00', kind: task.done}\n")
    r = invoke("check")
    assert r.exit_code == 1
    for message in ("must look like task-9x2m", "task text is empty", "not a real date", "must name a task"):
        assert message in r.output


# -- agenda -------------------------------------------------------------------------------
def test_agenda_groups_by_day(invoke, acme: str, store_dir: Path) -> None:  # noqa: ANN001
    ok(invoke("customer", "edit", acme, "--set", "touch_every=30d"))
    ok(invoke("log", acme, "call", "Last time", "--at", "2026-10-01 10:00"))
    beta = add_customer(invoke, "Beta Ltd", "--owner", "bob", "--touch-every", "14d", "--birthday", "1980-11-22")
    ok(invoke("log", beta, "call", "Recently", "--at", "2026-11-15 10:00"))
    ok(invoke("contact", "add", beta, "Wang Fang"))
    path = store_dir / "customers" / beta[:2] / beta / "customer.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("- name: Wang Fang\n",
                                                             "- name: Wang Fang\n  birthday: 1990-11-21\n"))
    from crmcli.store.location import open_store

    store = open_store(str(store_dir))
    with store.transaction("contract", action="contract.add", customer=beta) as tx:
        tx.append_entry(beta, {"at": "2026-01-01T00:00:00+08:00", "kind": "contract.add", "value": 100,
                               "currency": "CNY", "start": "2026-01-01", "end": "2026-11-26", "renew_notice": "5d"})
    ok(invoke("task", "add", acme, "Overdue thing", "--due", "2026-11-18"))
    ok(invoke("task", "add", beta, "Call at ten", "--due", "today 10:00", "--owner", "bob"))
    ok(invoke("task", "add", acme, "Monday thing", "--due", "monday"))
    ok(invoke("task", "add", acme, "Far away", "--due", "2026-12-24"))

    rows = json.loads(ok(invoke("agenda", "-f", "json")).stdout)
    assert [(r["date"], r["overdue"], r["kind"], r["name"]) for r in rows] == [
        ("2026-10-31", True, "touch", "Acme Corp"),
        ("2026-11-18", True, "task", "Acme Corp"),
        ("2026-11-20", False, "task", "Beta Ltd"),
        ("2026-11-21", False, "renewal", "Beta Ltd"),
        ("2026-11-21", False, "birthday", "Beta Ltd"),
        ("2026-11-22", False, "birthday", "Beta Ltd"),
        ("2026-11-23", False, "task", "Acme Corp"),
    ]
    texts = [r["text"] for r in rows]
    assert texts[0] == "keep in touch: last contact 2026-10-01 (50 days ago; every 30d)"
    assert texts[4] == "birthday: Wang Fang of Beta Ltd (turns 36)" and texts[5] == "birthday: Beta Ltd (turns 46)"
    assert texts[3] == "renewal: contract ends 2026-11-26 (¥100)"
    assert rows[2]["time"] == "10:00" and rows[2]["ref"].endswith(rows[2]["ref"].split("/")[1])
    bob = json.loads(ok(invoke("agenda", "--owner", "bob", "--days", "3", "-f", "json")).stdout)
    assert [(r["date"], r["kind"]) for r in bob] == [("2026-11-20", "task"), ("2026-11-21", "renewal"),
                                                     ("2026-11-21", "birthday"), ("2026-11-22", "birthday")]
    longer = json.loads(ok(invoke("agenda", "--owner", "bob", "--days", "10", "-f", "json")).stdout)
    assert ("2026-11-29", "touch") in [(r["date"], r["kind"]) for r in longer]
    text = ok(invoke("agenda")).stdout
    heads = [line for line in text.splitlines() if line and not line.startswith(" ")]
    assert heads == ["Overdue", "Today, 2026-11-20", "Tomorrow, 2026-11-21", "Sunday, 2026-11-22",
                     "Monday, 2026-11-23"]
    assert "Call at ten" in text and "Far away" not in text


def test_empty_agenda(invoke, store_dir: Path) -> None:  # noqa: ANN001
    r = ok(invoke("agenda"))
    assert r.stdout == "" and "Nothing on the agenda" in r.output


# -- two clones ----------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["--no-rebase", "--rebase"])
@pytest.mark.parametrize("existing", [False, True], ids=["new-journal", "existing-journal"])
def test_two_clones_logging_at_once_merge_cleanly(crm: Crm, acme: str, store_dir: Path, tmp_path: Path,
                                                  mode: str, existing: bool) -> None:
    if existing:
        assert crm("log", acme, "call", "Before the clones").returncode == 0
    a, b = tmp_path / "a", tmp_path / "b"
    for clone in (a, b):
        subprocess.run(["git", "clone", "-q", str(store_dir), str(clone)], check=True, capture_output=True)
    same = ["--at", "2026-11-20 11:00", "--direction", "out", "--duration", "15m", "--contact", "Jane",
            "--outcome", "follow up", "--tag", "renewal"]  # many equal lines: the hard case for union merge
    for clone, who in ((a, "from clone a"), (b, "from clone b")):
        r = crm("log", acme, "call", who, *same, "--follow-up", "monday", cwd=clone)
        assert r.returncode == 0, r.stderr
    pulled = subprocess.run(["git", "pull", "-q", mode, "--no-edit", str(b), "main"], cwd=a,
                            capture_output=True, text=True)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert git(a, "status", "--porcelain") == ""
    entries = journal(a, acme)
    summaries = [e.get("summary") for e in entries if e["kind"] == "call"]
    assert sorted(summaries) == sorted((["Before the clones"] if existing else []) + ["from clone a", "from clone b"])
    assert len([e for e in entries if e["kind"] == "task.add"]) == 2
    assert all(set(e) >= {"at", "kind", "by"} for e in entries)
    check = crm("check", cwd=a)
    assert check.returncode == 0, check.stdout + check.stderr
    tasks = json.loads(crm("task", "list", "-f", "json", cwd=a).stdout)
    assert len(tasks) == 2


# -- help and library ----------------------------------------------------------------------
@pytest.mark.parametrize("cmd", [["log"], ["timeline"], ["task"], ["task", "add"], ["task", "done"],
                                 ["task", "reopen"], ["task", "list"], ["agenda"]])
def test_help(invoke, cmd: list[str]) -> None:  # noqa: ANN001
    r = ok(invoke(*cmd, "-h"))
    assert "Examples:" in r.stdout


def test_multi_line_summaries_stay_one_line_per_event(invoke, acme: str, store_dir: Path) -> None:  # noqa: ANN001
    text = " indented first\n  second line \n\tthird: with 'quotes' and \"double\" \u2028 # not a comment"
    ok(invoke("log", acme, "note", "-", input=text))
    ok(invoke("log", acme, "call", "plain"))
    path = store_dir / "customers" / acme[:2] / acme / "journal" / "2026.yaml"
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2
    assert [e["summary"] for e in journal(store_dir, acme)] == [
        "indented first\n  second line\n\tthird: with 'quotes' and \"double\" \u2028 # not a comment", "plain"]
