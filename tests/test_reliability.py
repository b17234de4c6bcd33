"""Reliability: crash safety, concurrent commands, YAML round trips, hostile input.

No timing assertions: subprocess timeouts here only keep a hang from stalling the suite.
"""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from crmcli import yamlio
from crmcli.actions import customer as lib
from crmcli.domain import dates, durations
from crmcli.errors import CrmError, GitError
from crmcli.store import git
from crmcli.store import transaction as tx_mod
from crmcli.store.location import open_store
from crmcli.store.store import Store
from tests.conftest import commits
from tests.conftest import git as run_git


def hyp(examples: int) -> settings:
    return settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.filter_too_much], deadline=None, max_examples=examples)


NOW = "2026-11-20T14:30:00+08:00"


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NOW", NOW)


def snapshot(root: Path) -> tuple:
    """Every file and folder outside .git/.crm with its bytes, HEAD, the index and git status."""
    files: dict[str, bytes | None] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts[0] in (".git", ".crm"):
            continue
        files[rel.as_posix()] = p.read_bytes() if p.is_file() else None
    return (files, run_git(root, "rev-parse", "HEAD"), run_git(root, "ls-files", "-s"),
            run_git(root, "status", "--porcelain", "--untracked-files=all"))


def entry(at: str, summary: str = "Discussed the renewal") -> dict:
    return {"at": at, "kind": "call", "by": "Alice Example", "summary": summary}


@pytest.fixture
def seeded(store_dir: Path) -> tuple[Store, str, str]:
    """A store with two customers, one of them with a journal of two years."""
    store = open_store(str(store_dir))
    a = lib.add_customer(store, "Acme Corp", fields={"tier": "B"}).id
    b = lib.add_customer(store, "深圳市基石协作科技有限公司").id
    with store.transaction("Log", action="interaction.add", customer=a) as tx:
        tx.append_entry(a, entry("2025-03-01T10:00:00+08:00"))
        tx.append_entry(a, entry("2026-02-01T10:00:00+08:00"))
    return store, a, b


def multi_file_change(store: Store, a: str, b: str) -> None:
    """One transaction that rewrites, appends to, creates and deletes files in several folders."""
    customer = store.load_customer(a)
    customer.data["tier"] = "A"
    with store.transaction("Many files", action="test.many", customer=a) as tx:
        tx.write_customer(customer)  # existing file rewritten
        tx.append_entry(a, entry("2026-05-01T10:00:00+08:00"))  # existing journal appended to
        tx.append_entry(a, entry("2024-05-01T10:00:00+08:00"))  # new journal file
        tx.append_entry(b, entry("2026-06-01T09:00:00+08:00", "新的一年"))  # new journal folder
        tx.write(store.customer_file("zz-new-0000"), yamlio.dumps({"name": "Ghost Co"}))  # new customer folder
        tx.delete(store.journal_file(a, 2025))  # deletion


# -- crash safety ---------------------------------------------------------------------------------------
def _count_writes(monkeypatch: pytest.MonkeyPatch, seeded: tuple[Store, str, str]) -> int:
    """Writes the transaction makes before it commits; the commit is made to fail, so nothing changes."""
    store, a, b = seeded
    calls: list[Path] = []
    before_commit: list[int] = []
    real = tx_mod.atomic_write

    def counting(path: Path, data: bytes, *, sync: bool) -> None:
        calls.append(path)
        real(path, data, sync=sync)

    def failing_commit(*args: object, **kwargs: object) -> None:
        before_commit.append(len(calls))
        raise GitError("injected: git failed")

    before = snapshot(store.root)
    with monkeypatch.context() as m:
        m.setattr(tx_mod, "atomic_write", counting)
        m.setattr(git, "commit_paths", failing_commit)
        with pytest.raises(GitError, match="injected"):
            multi_file_change(store, a, b)
    assert snapshot(store.root) == before, "a failed commit left changes behind"
    assert not (store.state_dir / "txn").exists()
    return before_commit[0]


def test_failure_at_each_write_rolls_everything_back(monkeypatch: pytest.MonkeyPatch, seeded) -> None:
    store, a, b = seeded
    n = _count_writes(monkeypatch, seeded)
    assert n >= 6  # six files, plus the backups of the ones that existed
    before = snapshot(store.root)
    real = tx_mod.atomic_write
    for k in range(1, n + 1):
        calls = 0

        def flaky(path: Path, data: bytes, *, sync: bool, k: int = k) -> None:
            nonlocal calls
            calls += 1
            if calls == k:
                raise OSError(errno.ENOSPC, "No space left on device (injected)")
            real(path, data, sync=sync)

        with monkeypatch.context() as m:
            m.setattr(tx_mod, "atomic_write", flaky)
            with pytest.raises(OSError, match="injected"):
                multi_file_change(store, a, b)
        assert snapshot(store.root) == before, f"failure at write {k} of {n} left changes behind"
        assert not (store.state_dir / "txn").exists()
    multi_file_change(store, a, b)  # and without a failure it goes through, in one commit
    assert commits(store.root)[0] == "Many files"
    assert run_git(store.root, "status", "--porcelain", "--untracked-files=all") == ""


def test_failing_fsync_leaves_no_temporary_files(monkeypatch: pytest.MonkeyPatch, seeded) -> None:
    """A disk error after the temporary file exists (at fsync) must not leave it behind."""
    store, a, b = seeded
    before = snapshot(store.root)
    real_fsync = os.fsync
    k = 0
    while True:
        k += 1
        calls = 0

        def flaky_fsync(fd: int, k: int = k) -> None:
            nonlocal calls
            calls += 1
            if calls == k:
                raise OSError(errno.EIO, "Input/output error (injected)")
            real_fsync(fd)

        with monkeypatch.context() as m:
            m.setattr(os, "fsync", flaky_fsync)
            try:
                multi_file_change(store, a, b)
            except OSError as exc:
                assert "injected" in str(exc)
            else:
                break  # k is past the last fsync: the change went through
        assert snapshot(store.root) == before, f"failure at fsync {k} left files behind"
        assert not (store.state_dir / "txn").exists()
    assert k > 6


@pytest.mark.parametrize("step", ["fast-import", "update-index"])
def test_git_failure_rolls_back_head_index_and_files(monkeypatch: pytest.MonkeyPatch, seeded, step: str) -> None:
    store, a, b = seeded
    before = snapshot(store.root)
    real = git.run

    def flaky(args, *rest, **kwargs):  # noqa: ANN001, ANN202
        if args[0] == step:
            if step == "update-index":
                real(args, *rest, **kwargs)  # git got this far; fail right after
            raise GitError(f"git {step} failed: injected")
        return real(args, *rest, **kwargs)

    monkeypatch.setattr(git, "run", flaky)
    with pytest.raises(GitError, match="injected"):
        multi_file_change(store, a, b)
    monkeypatch.setattr(git, "run", real)
    assert snapshot(store.root) == before


KILL_SCRIPT = textwrap.dedent("""
    import os, sys
    from crmcli import yamlio
    from crmcli.store import git
    from crmcli.store.location import open_store

    root, a, b, where = sys.argv[1:5]
    store = open_store(root)
    real = git.run

    def run(args, *rest, **kwargs):
        if where == "before-fast-import" and args[0] == "fast-import":
            os._exit(1)
        result = real(args, *rest, **kwargs)
        if where == "after-fast-import" and args[0] == "fast-import":
            os._exit(1)
        return result

    git.run = run
    customer = store.load_customer(a)
    customer.data["tier"] = "A"
    with store.transaction("Killed", action="test.kill", customer=a) as tx:
        tx.write_customer(customer)
        tx.append_entry(a, {"at": "2026-05-01T10:00:00+08:00", "kind": "call", "by": "Alice Example",
                            "summary": "half written"})
        tx.append_entry(b, {"at": "2024-05-01T10:00:00+08:00", "kind": "note", "by": "Alice Example",
                            "summary": "new folder"})
        tx.write(store.customer_file("zz-ghost-0000"), yamlio.dumps({"name": "Ghost Co"}))
        tx.delete(store.journal_file(a, 2025))
        if where == "files":
            os._exit(1)
""")


def _kill_mid_transaction(root: Path, a: str, b: str, where: str) -> None:
    proc = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(root), a, b, where], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert (root / ".git" / "crm" / "txn" / "manifest.jsonl").exists()


@pytest.mark.parametrize("where", ["files", "before-fast-import"])
def test_hard_kill_before_the_commit_is_undone_by_the_next_command(seeded, crm, where: str) -> None:
    store, a, b = seeded
    before = snapshot(store.root)
    _kill_mid_transaction(store.root, a, b, where)
    assert snapshot(store.root) != before  # half-done work is on disk
    r = crm("customer", "list", "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert "Ghost Co" not in r.stdout
    assert snapshot(store.root) == before
    assert not (store.root / ".git" / "crm" / "txn").exists()
    r = crm("check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "No problems found" in r.stderr


def test_hard_kill_after_the_commit_keeps_it_and_leaves_a_clean_tree(seeded, crm) -> None:
    store, a, b = seeded
    head = run_git(store.root, "rev-parse", "HEAD")
    _kill_mid_transaction(store.root, a, b, "after-fast-import")
    r = crm("customer", "show", a, "--format", "json")
    assert r.returncode == 0, r.stderr
    assert not (store.root / ".git" / "crm" / "txn").exists()
    assert run_git(store.root, "rev-parse", "HEAD^") == head  # the commit was made: keep it
    assert commits(store.root)[0] == "Killed"
    assert run_git(store.root, "status", "--porcelain", "--untracked-files=all") == ""
    assert crm("check").returncode == 0


# -- concurrency ------------------------------------------------------------------------------------------
def _all_at_once(root: Path, argvs: list[list[str]]) -> list[subprocess.CompletedProcess]:
    procs = [subprocess.Popen([sys.executable, "-m", "crmcli", *argv], cwd=root, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for argv in argvs]
    out = []
    for argv, p in zip(argvs, procs, strict=True):
        stdout, stderr = p.communicate(timeout=180)
        out.append(subprocess.CompletedProcess(argv, p.returncode, stdout, stderr))
    return out


def test_six_concurrent_customer_adds(store_dir: Path, crm) -> None:
    names = [f"Parallel Co {i}" for i in range(6)]
    results = _all_at_once(store_dir, [["customer", "add", n] for n in names])
    for r in results:
        assert r.returncode == 0, r.stderr
    ids = [r.stdout.strip() for r in results]
    assert len(set(ids)) == 6
    store = open_store(str(store_dir))
    assert sorted(store.load_customer(cid).name for cid in ids) == names
    log = commits(store_dir)
    assert sum(1 for s in log if s.startswith("Add customer Parallel Co")) == 6
    assert run_git(store_dir, "status", "--porcelain", "--untracked-files=all") == ""
    r = crm("check")
    assert r.returncode == 0, r.stdout + r.stderr


def test_six_concurrent_logs_on_one_customer(store_dir: Path, crm) -> None:
    r = crm("customer", "add", "Busy Corp")
    cid = r.stdout.strip()
    results = _all_at_once(store_dir, [["log", cid, "call", f"parallel call {i}"] for i in range(6)])
    for r in results:
        assert r.returncode == 0, r.stderr
    store = open_store(str(store_dir))
    summaries = sorted(str(e.data.get("summary")) for e in store.load_journal(cid))
    assert summaries == [f"parallel call {i}" for i in range(6)]
    assert len(commits(store_dir)) == 2 + 6  # init, add, one per log
    assert run_git(store_dir, "status", "--porcelain", "--untracked-files=all") == ""
    r = crm("check")
    assert r.returncode == 0, r.stdout + r.stderr


# -- YAML round trips (hypothesis) ----------------------------------------------------------------------------
TRICKY = ["yes", "no", "on", "off", "Yes", "NO", "~", "null", "true", "0012", "007", "1e3", "0x1F", "1_000",
          "2026-11-20", "2026-11-20 14:30", "14:30", "12:30:45", "- item", "key: value", "a # not a comment",
          "#hash", "'quoted'", '"dq"', "|", ">", "*alias", "&anchor", "!tag", "%percent", "@at", "`tick`",
          "{a: 1}", "[1, 2]", "  leading", "trailing  ", "two\nlines", "trailing newline\n", "tab\there",
          "深圳市基石协作科技有限公司", "李娜", "emoji 🚀🎉", "Ünïcödé", "\u00a0nbsp", "=SUM(A1)", "...", "---"]
texts = st.one_of(st.sampled_from(TRICKY), st.text(min_size=1, max_size=60),
                  st.lists(st.sampled_from(TRICKY), min_size=1, max_size=4).map(" ".join))


@pytest.fixture
def quiet_store(store_dir: Path) -> Store:
    """The store without commits: these tests are about YAML, not git."""
    return Store(store_dir, autocommit=False)


@hyp(150)
@given(name=texts, value=texts)
@example(name="yes", value="0012")
@example(name="Acme: the #1 company", value="2026-11-20")
def test_names_and_extra_fields_round_trip(quiet_store: Store, name: str, value: str) -> None:
    try:
        added = lib.add_customer(quiet_store, name, fields={"extra": {"note": value, "code": value}}, force=True)
    except CrmError:
        assume(False)  # refused as a name (empty, control characters, too long, path-like): fine
        return
    loaded = quiet_store.load_customer(added.id)
    assert loaded.name == name.strip()
    assert loaded.data["extra"] == {"note": value, "code": value}
    assert isinstance(loaded.data["extra"]["note"], str)


@hyp(150)
@given(summary=texts, contact=texts)
@example(summary="ok", contact="\n")
@example(summary=" indented\nsecond line", contact="x")
def test_journal_events_round_trip_one_line_each(quiet_store: Store, summary: str, contact: str) -> None:
    event = {"at": "2026-11-20T14:30:00+08:00", "kind": "call", "by": "Alice Example", "contact": contact,
             "summary": summary}
    line = yamlio.dump_entry(event)
    assert line.endswith("\n") and line.count("\n") == 1, "an event must be one line (union merge)"
    twice = yamlio.loads(line + line)
    assert twice == [event, event]


@hyp(400)
@given(text=st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(["next", "last", "this", "in", "ago", "+", "-", "at", "@", "fri", "周五", "下午",
                              "3点", "半", "today", "明天", "9am", "12pm", "13pm", "0:00", "25:61", "2026-02-30",
                              "2026/11/20", "2026年11月20日", "99999999999", "1e309", "nan", "inf", "days", "d", "h",
                              "m", "w", "y", "mo", "T", "Z", "+14:00", "+99:99", "9999-12-31", "0001-01-01",
                              " ", ":", ".", "1", "12", "123456789012345678901234567890"]),
             max_size=6).map(lambda parts: " ".join(parts)),
    st.lists(st.sampled_from(["in", "99999999", "days", "ago", "+", "9999", "-", "12", "31", "23:59", "w"]),
             max_size=5).map("".join),
))
def test_parse_when_raises_nothing_but_date_error(text: str) -> None:
    base = datetime(2026, 11, 18, 10, 15, tzinfo=ZoneInfo("Asia/Shanghai"))
    for prefer in ("past", "future", "nearest"):
        try:
            result = dates.parse_when(text, base=base, prefer=prefer)
        except dates.DateError:
            continue
        assert result.tzinfo is not None
    for parse in (dates.parse_date, dates.parse_since, durations.parse_duration, durations.parse_period):
        try:
            parse(text) if parse in (durations.parse_duration, durations.parse_period) else parse(text, base=base)
        except dates.DateError:
            pass


# -- hostile input ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../escape", "../../../../tmp/crm-escape", "/etc/passwd", "a/../../b", "..",
                                  "x" * 10_000])
def test_path_like_or_huge_names_are_refused_and_nothing_is_written(store_dir: Path, crm, name: str) -> None:
    before = snapshot(store_dir)
    r = crm("customer", "add", name)
    assert r.returncode != 0
    assert r.stderr.startswith("crm: error:"), r.stderr
    assert "Traceback" not in r.stderr
    assert snapshot(store_dir) == before
    assert not Path("/tmp/crm-escape").exists()


def test_nul_in_a_name_is_refused_and_nothing_is_written(store_dir: Path, invoke) -> None:
    before = snapshot(store_dir)
    r = invoke("customer", "add", "Acme\0Corp")
    assert r.exit_code != 0
    assert "crm: error:" in r.output and "Traceback" not in r.output
    assert snapshot(store_dir) == before


def test_slash_inside_a_name_stays_inside_the_store(store_dir: Path, crm) -> None:
    r = crm("customer", "add", "AT&T/Bell Labs")
    if r.returncode != 0:  # refusing is fine too, as long as it is clean and writes nothing
        assert r.stderr.startswith("crm: error:")
        return
    cid = r.stdout.strip()
    assert "/" not in cid and ".." not in cid
    assert (store_dir / "customers" / cid[:2] / cid / "customer.yaml").is_file()
    assert open_store(str(store_dir)).load_customer(cid).name == "AT&T/Bell Labs"


BILLION_LAUGHS = textwrap.dedent("""\
    name: Laughs Inc
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
    extra: {bomb: *i}
    """)


def test_alias_bomb_is_refused(store_dir: Path, crm) -> None:
    cid = crm("customer", "add", "Laughs Inc").stdout.strip()
    (store_dir / "customers" / cid[:2] / cid / "customer.yaml").write_text(BILLION_LAUGHS, encoding="utf-8")
    for args in (["customer", "show", cid], ["customer", "show", cid, "--format", "json"], ["check"]):
        r = crm(*args)  # a 120 s timeout guards against a hang; no timing assertion
        assert r.returncode != 0, args
        assert "alias" in (r.stdout + r.stderr).lower(), (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr
    r = crm("customer", "list", "--format", "csv")  # a listing skips the broken file instead of exploding
    assert "Traceback" not in r.stderr


def test_alias_bomb_in_a_journal_is_refused(store_dir: Path, crm) -> None:
    cid = crm("customer", "add", "Laughs Journal Inc").stdout.strip()
    journal = store_dir / "customers" / cid[:2] / cid / "journal" / "2026.yaml"
    journal.parent.mkdir(parents=True)
    bomb = BILLION_LAUGHS.replace("name: Laughs Inc\n", "").replace("extra: {bomb: *i}", "z: *i")
    journal.write_text("- at: 2026-11-20T14:30:00+08:00\n  kind: note\n  by: x\n  summary: hi\n"
                       + textwrap.indent(bomb, "  ").replace("  a:", "- a:", 1), encoding="utf-8")
    r = crm("check")
    assert r.returncode != 0
    assert "alias" in (r.stdout + r.stderr).lower()


@pytest.mark.parametrize("template", ["$(touch {marker})", "; touch {marker}", "`touch {marker}`",
                                      "| touch {marker} &", "x' && touch {marker} && echo '"])
def test_no_shell_between_user_text_and_git(store_dir: Path, crm, tmp_path: Path, template: str) -> None:
    marker = tmp_path / "pwned"
    name = template.format(marker=marker)
    r = crm("customer", "add", name, "--force")
    assert r.returncode == 0, r.stderr
    cid = r.stdout.strip()
    assert open_store(str(store_dir)).load_customer(cid).name == name
    assert name in run_git(store_dir, "log", "-1", "--format=%s")
    from crmcli.cli.main import COMMANDS

    if "log" in COMMANDS:
        r = crm("log", cid, "note", name)
        assert r.returncode == 0, r.stderr
    assert not marker.exists(), "user text reached a shell"
    assert run_git(store_dir, "status", "--porcelain", "--untracked-files=all") == ""
