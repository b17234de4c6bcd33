"""The derived SQLite index: `customer list` and `crm search` always equal a full parse of the files.

Every check compares the answer through the (incrementally caught-up) index with two references: the
files parsed here with PyYAML, independently of crmcli, and the same command after the index file was
deleted (a full rebuild).
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Crm

WORDS = ("acme", "li", "example.com", "北京", "北京基石", "13800138000")


def index_file(root: Path) -> Path:
    return root / ".git" / "crm" / "cache" / "index.sqlite"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def from_files(root: Path) -> dict[str, dict]:
    """Every profile, parsed here with PyYAML (strings only), by id."""
    out = {}
    for path in sorted((root / "customers").glob("*/*/customer.yaml")):
        out[path.parent.name] = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    return out


def listed(crm: Crm, *args: str) -> str:
    r = crm("customer", "list", "--format", "json", *args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def searched(crm: Crm, word: str) -> str:
    r = crm("search", word, "--type", "customer", "--type", "contact", "--format", "json")
    assert r.returncode == 0, r.stderr
    return r.stdout


def expected_hits(profiles: dict[str, dict], word: str) -> set[str]:
    """Customers whose name, email, phone or a contact's name, email or phone contains ``word``."""
    digits = "".join(ch for ch in word if ch.isdigit())
    found = set()
    for cid, data in profiles.items():
        texts = [cid, data.get("name", ""), data.get("email", ""), data.get("phone", "")]
        for person in data.get("contacts") or []:
            texts += [person.get("name", ""), person.get("email", ""), person.get("phone", "")]
        for text in texts:
            if word.casefold() in str(text).casefold() or (
                    digits and len(digits) == len(word) and digits in "".join(c for c in str(text) if c.isdigit())):
                found.add(cid)
    return found


def assert_index_agrees(crm: Crm) -> None:
    """List and search through the index equal the files and a rebuilt index."""
    root = crm.cwd
    profiles = from_files(root)
    through_index = {"list": listed(crm), "tier": listed(crm, "--tier", "a"),
                     **{w: searched(crm, w) for w in WORDS}}
    rows = json.loads(through_index["list"])
    assert {r["id"]: (r["name"], r.get("tier")) for r in rows} == \
        {cid: (d["name"], d.get("tier")) for cid, d in profiles.items()}
    assert {r["id"] for r in json.loads(through_index["tier"])} == \
        {cid for cid, d in profiles.items() if str(d.get("tier", "")).casefold() == "a"}
    for word in WORDS:
        assert {h["customer"] for h in json.loads(through_index[word])} == expected_hits(profiles, word), word
    index_file(root).unlink()
    rebuilt = {"list": listed(crm), "tier": listed(crm, "--tier", "a"), **{w: searched(crm, w) for w in WORDS}}
    assert through_index == rebuilt


def seed(crm: Crm) -> dict[str, str]:
    ids = {}
    for name, extra in [("Acme Corp", ["--tier", "A", "--contact", "Li Na <li.na@example.com>, 138 0013 8000"]),
                        ("北京基石协作科技有限公司", ["--tier", "B", "--email", "info@jishi.cn"]),
                        ("Globex", ["--tier", "C", "--phone", "+86 21 5555 0100"])]:
        r = crm("customer", "add", name, *extra, "--format", "json")
        assert r.returncode == 0, r.stderr
        ids[name] = json.loads(r.stdout)["id"]
    return ids


def test_list_and_search_follow_crm_writes(crm: Crm) -> None:
    ids = seed(crm)
    assert_index_agrees(crm)  # builds the index, then compares with a rebuild
    assert crm("customer", "edit", ids["Globex"], "--set", "tier=A", "--set", "name=Globex Beijing").returncode == 0
    assert crm("contact", "add", ids["Globex"], "李北京", "--email", "bj@globex.example.com").returncode == 0
    assert crm("customer", "rm", ids["Acme Corp"], "--yes").returncode == 0
    with sqlite3.connect(index_file(crm.cwd)) as db:  # the writes updated the rows right after their commits
        head = db.execute("SELECT value FROM meta WHERE key = 'head'").fetchone()[0]
        names = {r[0] for r in db.execute("SELECT name FROM customers")}
    assert head == git(crm.cwd, "rev-parse", "HEAD").strip()
    assert names == {"Globex Beijing", "北京基石协作科技有限公司"}
    assert_index_agrees(crm)


def test_hand_edits_and_hand_made_folders_are_seen(crm: Crm) -> None:
    ids = seed(crm)
    listed(crm)  # the index exists and is warm
    path = next((crm.cwd / "customers").glob(f"*/{ids['Globex']}/customer.yaml"))
    path.write_text(path.read_text(encoding="utf-8").replace("tier: C", "tier: A"), encoding="utf-8")
    folder = crm.cwd / "customers" / "ha" / "hand-made-ab12"
    folder.mkdir(parents=True)
    (folder / "customer.yaml").write_text("name: Hand Made Acme\ntier: a\n", encoding="utf-8")
    assert '"Hand Made Acme"' in listed(crm, "--tier", "A")
    assert_index_agrees(crm)
    subprocess.run(["rm", "-r", str(folder)], check=True)
    assert "Hand Made" not in listed(crm)
    assert_index_agrees(crm)


def test_git_pull_from_a_second_clone(crm: Crm, tmp_path: Path) -> None:
    ids = seed(crm)
    listed(crm)
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(crm.cwd), str(other))
    them = Crm(other)
    assert them("customer", "add", "Initech Beijing", "--tier", "A").returncode == 0
    assert them("customer", "edit", ids["Acme Corp"], "--set", "name=Acme Holdings").returncode == 0
    git(crm.cwd, "pull", "-q", "--no-rebase", str(other), "main")
    out = listed(crm)
    assert "Initech Beijing" in out and "Acme Holdings" in out and '"Acme Corp"' not in out
    assert_index_agrees(crm)


def test_reset_hard_takes_rows_back(crm: Crm) -> None:
    ids = seed(crm)
    assert crm("customer", "add", "Temporary Acme", "--tier", "A").returncode == 0
    assert crm("customer", "edit", ids["Globex"], "--set", "name=Globex Acme").returncode == 0
    assert "Temporary Acme" in searched(crm, "acme")
    git(crm.cwd, "reset", "-q", "--hard", "HEAD~2")
    assert "Temporary Acme" not in searched(crm, "acme") and "Globex Acme" not in listed(crm)
    assert_index_agrees(crm)


def test_a_missing_corrupt_or_old_index_is_rebuilt(crm: Crm) -> None:
    seed(crm)
    reference = listed(crm), searched(crm, "acme")
    path = index_file(crm.cwd)
    path.unlink()
    assert (listed(crm), searched(crm, "acme")) == reference
    for name in os.listdir(path.parent):
        os.unlink(path.parent / name)
    path.write_bytes(os.urandom(4096))  # garbage: not a database
    assert (listed(crm), searched(crm, "acme")) == reference
    with sqlite3.connect(path) as db:  # an older schema with a wrong row in it must not be trusted
        db.execute("UPDATE customers SET name = 'Wrong', profile = '{\"name\": \"Wrong\"}'")
        db.execute("PRAGMA user_version = 0")
    assert (listed(crm), searched(crm, "acme")) == reference
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 1
        assert "Wrong" not in {r[0] for r in db.execute("SELECT name FROM customers")}


def test_an_unusable_index_never_fails_a_command(crm: Crm) -> None:
    seed(crm)
    reference = listed(crm)
    path = index_file(crm.cwd)
    for name in os.listdir(path.parent):
        os.unlink(path.parent / name)
    path.mkdir()  # the index file cannot be opened, nor removed, nor replaced
    r = crm("customer", "add", "Still Works", "--tier", "A")
    assert r.returncode == 0, r.stderr
    now = {r["id"] for r in json.loads(listed(crm))}
    assert len(now) == 4 and now > {r["id"] for r in json.loads(reference)} and "Still Works" in listed(crm)
    path.rmdir()
    assert_index_agrees(crm)


def test_reindex_says_what_it_did(crm: Crm) -> None:
    seed(crm)
    (crm.cwd / "customers" / "br" / "broken-zz99").mkdir(parents=True)
    (crm.cwd / "customers" / "br" / "broken-zz99" / "customer.yaml").write_text("name: [unclosed\n")
    r = crm("reindex")
    assert r.returncode == 0, r.stderr
    tokenizer = "trigram" if _has_trigram() else "unicode61"
    assert r.stdout.startswith("Indexed 3 customers and 1 contact, 1 unreadable (see crm check) in ")
    assert r.stdout.endswith(f"s (search: FTS5 {tokenizer}) into .git/crm/cache/index.sqlite\n")
    r = crm("customer", "list", "--format", "json")
    assert r.returncode == 4 and "broken-zz99/customer.yaml" in r.stderr  # a problem row is still reported


def _has_trigram() -> bool:
    try:
        sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='trigram')")
        return True
    except sqlite3.OperationalError:
        return False


# -- a property: after any sequence of steps, the index answers as a full parse does ------------------------------
NAMES = ("Acme", "Acme Beijing", "北京基石", "Globex", "Li Na Trading")
STEPS = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(NAMES), st.sampled_from("ABC")),
    st.tuples(st.just("edit"), st.integers(0, 9), st.sampled_from("ABC")),
    st.tuples(st.just("hand"), st.integers(0, 9), st.sampled_from(NAMES)),
    st.tuples(st.just("reset"), st.integers(1, 2), st.just("")),
    st.tuples(st.just("drop"), st.sampled_from(["delete", "garbage"]), st.just("")),
)


def _run(root: Path, *args: str) -> str:
    from click.testing import CliRunner

    from tests.conftest import _Main

    r = CliRunner().invoke(_Main(), ["--records", str(root), *args])  # type: ignore[arg-type]
    assert r.exit_code == 0, (args, r.output)
    return r.stdout


def _step(root: Path, step: tuple) -> None:
    kind, a, b = step
    ids = sorted(from_files(root))
    if kind == "add":
        _run(root, "customer", "add", a, "--tier", b, "--force")
    elif kind == "edit" and ids:
        if git(root, "status", "--porcelain"):  # crm refuses to write over a hand edit: the user commits it first
            git(root, "add", "-A")
            git(root, "-c", "user.name=Hand", "-c", "user.email=hand@example.com", "commit", "-qm", "by hand")
        _run(root, "customer", "edit", ids[a % len(ids)], "--set", f"tier={b}")
    elif kind == "hand" and ids:
        path = next((root / "customers").glob(f"*/{ids[a % len(ids)]}/customer.yaml"))
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join(f"name: {b}" if ln.startswith("name:") else ln for ln in lines) + "\n",
                        encoding="utf-8")
    elif kind == "reset":
        count = int(git(root, "rev-list", "--count", "HEAD"))
        git(root, "checkout", "-q", "--", ".")  # a reset --hard drops hand edits too
        git(root, "reset", "-q", "--hard", f"HEAD~{min(a, count - 1)}")
    elif kind == "drop" and index_file(root).exists():
        if a == "delete":
            index_file(root).unlink()
        else:
            index_file(root).write_bytes(b"SQLite format 3\0" + os.urandom(2000))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEPS, min_size=1, max_size=6))
def test_index_equals_a_full_parse_after_any_steps(tmp_path_factory: pytest.TempPathFactory, steps: list) -> None:
    root = tmp_path_factory.mktemp("prop") / "crm"
    _run(root.parent, "init", str(root))
    for step in steps:
        _step(root, step)
        profiles = from_files(root)
        rows = json.loads(_run(root, "customer", "list", "--format", "json"))
        assert {r["id"]: (r["name"], r.get("tier")) for r in rows} == \
            {cid: (d["name"], d.get("tier")) for cid, d in profiles.items()}, step
        for word in ("acme", "北京"):
            hits = json.loads(_run(root, "search", word, "-t", "customer", "-t", "contact", "--format", "json"))
            assert {h["customer"] for h in hits} == expected_hits(profiles, word), (step, word)


# -- the journal side: deals, tickets, tasks and events, after any sequence of steps -----------------------------
QUERIES = (("agenda", "--days", "30", "--format", "json"), ("task", "list", "--all", "--format", "json"),
           ("task", "list", "--format", "json"), ("opp", "list", "--format", "json"),
           ("opp", "list", "--open", "--format", "json"), ("pipeline", "--format", "json"),
           ("pipeline", "--as-of", "today", "--format", "json"), ("ticket", "list", "--format", "json"),
           ("ticket", "list", "--open", "--format", "json"),
           ("timeline", "--all", "--since", "30d", "--format", "json"))
JOURNAL_STEPS = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(NAMES), st.just("")),
    st.tuples(st.just("task"), st.integers(0, 9), st.sampled_from(["today", "tomorrow", "in 3 days", ""])),
    st.tuples(st.just("done"), st.integers(0, 9), st.just("")),
    st.tuples(st.just("opp"), st.integers(0, 9), st.sampled_from(["1000", "2500"])),
    st.tuples(st.just("advance"), st.integers(0, 9), st.sampled_from(["", "won"])),
    st.tuples(st.just("ticket"), st.integers(0, 9), st.sampled_from(["normal", "high"])),
    st.tuples(st.just("close"), st.integers(0, 9), st.just("")),
    st.tuples(st.just("log"), st.integers(0, 9), st.just("")),
    st.tuples(st.just("hand"), st.integers(0, 9), st.sampled_from(["task", "opp", "done", "commit"])),
    st.tuples(st.just("reset"), st.integers(1, 2), st.just("")),
    st.tuples(st.just("checkout"), st.integers(1, 3), st.just("")),
    st.tuples(st.just("drop"), st.sampled_from(["delete", "garbage"]), st.just("")),
)


def _query(root: Path, *args: str) -> tuple[int, str]:
    from click.testing import CliRunner

    from tests.conftest import _Main

    r = CliRunner().invoke(_Main(), ["--records", str(root), *args])  # type: ignore[arg-type]
    return r.exit_code, r.output


def journals_from_files(root: Path) -> dict[str, list[dict]]:
    """Every customer's events, parsed here with PyYAML (strings only), oldest first."""
    from datetime import datetime

    out: dict[str, list[dict]] = {}
    for folder in sorted((root / "customers").glob("*/*")):
        events: list[dict] = []
        for path in sorted(folder.glob("journal/*.yaml")):
            events += yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader) or []
        out[folder.name] = sorted(events, key=lambda e: datetime.fromisoformat(e["at"]))
    return out


def expected_records(root: Path) -> dict[str, dict]:
    """Deals (stage), tasks (status) and tickets (open or not), folded here from the files."""
    opps: dict = {}
    tasks: dict = {}
    tickets: dict = {}
    for cid, events in journals_from_files(root).items():
        for e in events:
            kind, ref = e["kind"], (cid, e.get("id") or e.get("opp") or e.get("task") or e.get("ticket"))
            if kind == "opp.open":
                opps[ref] = e["stage"]
            elif kind in ("opp.stage", "opp.won", "opp.lost") and ref in opps:
                opps[ref] = e.get("to") or kind[4:]
            elif kind == "task.add":
                tasks[ref] = "open"
            elif kind in ("task.done", "task.reopen") and ref in tasks:
                tasks[ref] = "done" if kind == "task.done" else "open"
            elif kind == "ticket.open":
                tickets[ref] = True
            elif kind == "ticket.close" and ref in tickets:
                tickets[ref] = False
    return {"opps": opps, "tasks": tasks, "tickets": tickets}


def _journal_step(root: Path, step: tuple, n: int) -> None:
    kind, a, b = step
    ids = sorted(from_files(root))
    cid = ids[a % len(ids)] if ids and isinstance(a, int) else None
    records = expected_records(root)
    opps = sorted(k for k, v in records["opps"].items() if k[0] == cid and v not in ("won", "lost"))
    tasks = sorted(k for k, v in records["tasks"].items() if k[0] == cid and v == "open")
    tickets = sorted(k for k, v in records["tickets"].items() if k[0] == cid and v)
    if kind not in ("hand", "reset", "checkout", "drop") and git(root, "status", "--porcelain"):
        git(root, "add", "-A")  # crm refuses to write over a hand edit: the user commits it first
        git(root, "-c", "user.name=Hand", "-c", "user.email=hand@example.com", "commit", "-qm", "by hand")
    if kind == "add":
        _run(root, "customer", "add", a, "--force", "--touch-every", "2w")
    elif kind == "task" and cid:
        _run(root, "task", "add", cid, f"call back {n}", *(["--due", b] if b else []))
    elif kind == "done" and tasks:
        _run(root, "task", "done", "/".join(tasks[0]))
    elif kind == "opp" and cid:
        _run(root, "opp", "add", cid, f"deal {n}", "--amount", b, "--currency", "USD")
    elif kind == "advance" and opps:
        _run(root, "opp", "advance", "/".join(opps[0]), *([b] if b else []))
    elif kind == "ticket" and cid:
        _run(root, "ticket", "open", cid, f"broken {n}", "--priority", b)
    elif kind == "close" and tickets:
        _run(root, "ticket", "close", "/".join(tickets[0]), "--resolution", "fixed")
    elif kind == "log" and cid:
        _run(root, "log", cid, "call", f"talked {n}")
    elif kind == "hand" and cid:  # a line appended by hand to this year's journal, left uncommitted or committed
        from datetime import datetime, timedelta, timezone

        now = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0)
        path = next(iter((root / "customers").glob(f"*/{cid}"))) / "journal" / f"{now.year}.yaml"
        path.parent.mkdir(exist_ok=True)
        line = {"task": f"kind: task.add, id: task-hand{n}, by: Hand, owner: Hand, due: '{now.date()}', text: by hand",
                "opp": f"kind: opp.open, id: opp-hand{n}, by: Hand, title: by hand, amount: 5, currency: USD, "
                       "stage: lead, owner: Hand",
                "done": f"kind: task.done, task: {tasks[0][1] if tasks else 'task-none'}, by: Hand",
                "commit": "kind: note, by: Hand, summary: by hand"}[b]
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"- {{at: '{now.isoformat()}', {line}}}\n")
        if b == "commit":
            git(root, "add", "-A")
            git(root, "-c", "user.name=Hand", "-c", "user.email=hand@example.com", "commit", "-qm", "by hand")
    elif kind in ("reset", "checkout"):
        count = int(git(root, "rev-list", "--count", "HEAD"))
        git(root, "checkout", "-q", "--", ".")
        git(root, "clean", "-qfd", "customers")
        if kind == "reset":
            git(root, "reset", "-q", "--hard", f"HEAD~{min(a, count - 1)}")
        else:  # look at an old commit, check, and come back
            git(root, "checkout", "-q", f"HEAD~{min(a, count - 1)}")
            assert_journal_queries_agree(root)
            git(root, "checkout", "-q", "main")
    elif kind == "drop" and index_file(root).exists():
        if a == "delete":
            index_file(root).unlink()
        else:
            index_file(root).write_bytes(b"SQLite format 3\0" + os.urandom(2000))


def assert_journal_queries_agree(root: Path) -> None:
    """Every store-wide query through the (caught-up) index equals the files, and equals a rebuilt index."""
    answers = {q: _query(root, *q) for q in QUERIES}
    for q, (code, _) in answers.items():
        assert code == 0, (q, answers[q])
    records = expected_records(root)
    listed_tasks = json.loads(answers[QUERIES[1]][1])
    assert {(t["customer"], t["id"]): t["status"] for t in listed_tasks} == records["tasks"]
    assert {(t["customer"], t["id"]) for t in json.loads(answers[QUERIES[2]][1])} == \
        {k for k, v in records["tasks"].items() if v == "open"}
    assert {(o["customer"], o["id"]): o["stage"] for o in json.loads(answers[QUERIES[3]][1])} == records["opps"]
    assert {(o["customer"], o["id"]) for o in json.loads(answers[QUERIES[4]][1])} == \
        {k for k, v in records["opps"].items() if v not in ("won", "lost")}
    assert {(t["customer"], t["id"]) for t in json.loads(answers[QUERIES[7]][1])} == set(records["tickets"])
    assert {(t["customer"], t["id"]) for t in json.loads(answers[QUERIES[8]][1])} == \
        {k for k, v in records["tickets"].items() if v}
    feed = json.loads(answers[QUERIES[9]][1])
    expected_feed = sorted([(cid, e["kind"]) for cid, events in journals_from_files(root).items() for e in events]
                           + [(cid, "customer.add") for cid in from_files(root)])
    assert sorted((r["customer"], r["kind"]) for r in feed) == expected_feed
    index_file(root).unlink()
    assert {q: _query(root, *q) for q in QUERIES} == answers


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(JOURNAL_STEPS, min_size=3, max_size=6))
def test_journal_queries_equal_a_full_parse_after_any_steps(tmp_path_factory: pytest.TempPathFactory,
                                                            steps: list) -> None:
    root = tmp_path_factory.mktemp("prop") / "crm"
    _run(root.parent, "init", str(root))
    _run(root, "customer", "add", "Acme", "--touch-every", "1w")
    for n, step in enumerate(steps):
        _journal_step(root, step, n)
        assert_journal_queries_agree(root)


def test_journal_queries_follow_every_kind_of_step(tmp_path: Path) -> None:
    """The property's steps in one fixed order, so each kind is taken at least once on every run."""
    root = tmp_path / "crm"
    _run(tmp_path, "init", str(root))
    _run(root, "customer", "add", "Acme", "--touch-every", "1w")
    steps = [("task", 0, "today"), ("opp", 0, "1000"), ("ticket", 0, "high"), ("hand", 0, "task"),
             ("hand", 0, "opp"), ("add", "Globex", ""), ("log", 1, ""), ("hand", 1, "done"), ("done", 0, ""),
             ("advance", 0, "won"), ("close", 0, ""), ("hand", 1, "commit"), ("checkout", 2, ""),
             ("drop", "garbage", ""), ("reset", 2, ""), ("drop", "delete", ""), ("task", 1, "")]
    for n, step in enumerate(steps):
        _journal_step(root, step, n)
        assert_journal_queries_agree(root)
