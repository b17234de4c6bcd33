"""Team work: real clones of one store sharing a bare remote."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git


def crm(cwd: Path, *args: str, author: str = "Alice <alice@example.com>", now: str | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ, CRM_AUTHOR=author)
    if now:
        env["CRM_NOW"] = now
    proc = subprocess.run([sys.executable, "-m", "crmcli", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def team(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(remote, alice's clone, bob's clone) of a store with one customer, Acme Corp."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    alice = tmp_path / "alice"
    crm(tmp_path, "init", str(alice))
    git(alice, "branch", "-M", "main")
    git(alice, "remote", "add", "origin", str(remote))
    crm(alice, "customer", "add", "Acme Corp", "--tier", "B", "--contact", "Jane Doe <jane@acme.example>")
    assert crm(alice, "sync").stdout == "Synced with origin/main: 0 commits in, 2 commits out.\n"
    bob = tmp_path / "bob"
    subprocess.run(["git", "clone", "-q", str(remote), str(bob)], check=True)
    return remote, alice, bob


def acme(clone: Path) -> str:
    return next((clone / "customers" / "ac").iterdir()).name


def test_sync_without_a_remote_says_how_to_add_one(store_dir: Path) -> None:
    """Issue 18: with no remote, sync is harmless (exit 0, a note; silent with -q) so a cron line can run it."""
    proc = crm(store_dir, "sync", check=False)
    assert proc.returncode == 0
    assert proc.stdout == ""
    assert proc.stderr == ("crm: note: no git remote to sync with; offline work is fine, share it later after "
                           "git remote add origin URL; nothing to sync\n")
    quiet = crm(store_dir, "sync", "-q", check=False)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_sync_refuses_uncommitted_record_changes(team: tuple[Path, Path, Path]) -> None:
    _, alice, _ = team
    crm(alice, "--no-commit", "customer", "edit", "acme", "--set", "tier=A")
    proc = crm(alice, "sync", check=False)
    assert proc.returncode == 2
    assert "commits nothing by surprise" in proc.stderr


def test_up_to_date(team: tuple[Path, Path, Path]) -> None:
    _, alice, bob = team
    assert crm(bob, "sync").stdout == "Up to date with origin/main.\n"
    assert crm(alice, "sync").stdout == "Up to date with origin/main.\n"


CASES = {
    "both log calls": (
        ["log", "acme", "call", "alice's call", "--at", "2026-11-20 10:00"],
        ["log", "acme", "call", "bob's call", "--at", "2026-11-20 10:00"],
    ),
    "both add tasks": (
        ["task", "add", "acme", "Send quote", "--due", "2026-11-27"],
        ["task", "add", "acme", "Book demo", "--due", "2026-11-27"],
    ),
    "different customers": (
        ["customer", "add", "Beta Ltd"],
        ["customer", "add", "Gamma GmbH"],
    ),
    "different profile fields": (
        ["customer", "edit", "acme", "--set", "tier=A"],
        ["customer", "edit", "acme", "--set", "owner=bob"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("mode", ["rebase", "merge"])
def test_concurrent_work_merges_without_conflict(team: tuple[Path, Path, Path], case: str, mode: str) -> None:
    _, alice, bob = team
    first, second = CASES[case]
    crm(alice, *first, now="2026-11-20T10:00:00+08:00")
    crm(bob, *second, author="Bob <bob@example.com>", now="2026-11-20T10:00:00+08:00")
    flag = ["--merge"] if mode == "merge" else []
    crm(alice, "sync", *flag)
    out = crm(bob, "sync", *flag).stdout
    assert out.startswith("Synced with origin/main: 1 commit in, ")
    crm(alice, "sync", *flag)
    for clone in (alice, bob):
        assert git(clone, "status", "--porcelain") == ""
        assert crm(clone, "check").returncode == 0
    files_a = sorted(p.relative_to(alice).as_posix() for p in (alice / "customers").rglob("*.yaml"))
    files_b = sorted(p.relative_to(bob).as_posix() for p in (bob / "customers").rglob("*.yaml"))
    assert files_a == files_b
    for rel in files_a:
        assert (alice / rel).read_text(encoding="utf-8") == (bob / rel).read_text(encoding="utf-8")
    if case == "both log calls":
        timeline = crm(alice, "timeline", "acme", "--format", "json").stdout
        assert "alice's call" in timeline and "bob's call" in timeline
    if case == "different profile fields":
        show = crm(bob, "customer", "show", "acme", "--format", "json").stdout
        assert '"tier": "A"' in show and '"owner": "bob"' in show


def test_ticket_comments_and_different_deals_merge(team: tuple[Path, Path, Path]) -> None:
    _, alice, bob = team
    ticket = crm(alice, "ticket", "open", "acme", "Login fails").stdout.split()[0]
    opp1 = crm(alice, "opp", "add", "acme", "ERP", "--amount", "1000").stdout.split()[0]
    opp2 = crm(alice, "opp", "add", "acme", "CRM", "--amount", "2000").stdout.split()[0]
    crm(alice, "sync")
    crm(bob, "sync")
    crm(alice, "ticket", "comment", ticket, "Looking into it")
    crm(alice, "opp", "advance", opp1)
    crm(bob, "ticket", "comment", ticket, "Customer sent logs", author="Bob <bob@example.com>")
    crm(bob, "opp", "advance", opp2, "proposal", author="Bob <bob@example.com>")
    crm(alice, "sync")
    crm(bob, "sync")
    crm(alice, "sync")
    shown = crm(alice, "ticket", "show", ticket, "--format", "json").stdout
    assert "Looking into it" in shown and "Customer sent logs" in shown
    listing = crm(bob, "opp", "list", "--format", "json").stdout
    assert '"qualified"' in listing and '"proposal"' in listing
    assert crm(bob, "check").returncode == 0


def test_true_conflict_is_named_and_nothing_is_left_half_merged(team: tuple[Path, Path, Path]) -> None:
    _, alice, bob = team
    crm(alice, "customer", "edit", "acme", "--set", "tier=C")
    crm(bob, "customer", "edit", "acme", "--set", "tier=D", author="Bob <bob@example.com>")
    crm(alice, "sync")
    head = git(bob, "rev-parse", "HEAD")
    proc = crm(bob, "sync", check=False)
    cid = acme(bob)
    assert proc.returncode == 6
    assert proc.stderr == (
        f"crm: error: conflict: Acme Corp ({cid}): field tier (D here, C there) changed on both sides; nothing was "
        f"changed here. Resolve it by hand: git pull --rebase, edit customers/ac/{cid}/customer.yaml, git add it, "
        "git rebase --continue, then crm sync\n")
    assert git(bob, "rev-parse", "HEAD") == head
    assert git(bob, "status", "--porcelain") == ""
    assert not (bob / ".git" / "rebase-merge").exists()


def test_diff_summarizes_by_customer_in_words(team: tuple[Path, Path, Path]) -> None:
    _, alice, _ = team
    base = git(alice, "rev-parse", "HEAD").strip()
    crm(alice, "log", "acme", "call", "one")
    crm(alice, "log", "acme", "call", "two")
    crm(alice, "log", "acme", "email", "three")
    crm(alice, "customer", "edit", "acme", "--set", "tier=A")
    crm(alice, "customer", "add", "Beta Ltd")
    out = crm(alice, "diff", base).stdout.splitlines()
    cid = acme(alice)
    assert out[0] == f"Acme Corp ({cid}): tier: B -> A, 2 calls logged, 1 email logged"
    assert out[1].startswith("Beta Ltd (beta-ltd-") and out[1].endswith("): added")


def test_history_of_one_deal(team: tuple[Path, Path, Path]) -> None:
    _, alice, _ = team
    opp = crm(alice, "opp", "add", "acme", "ERP", "--amount", "1000", "--stage", "lead").stdout.split()[0]
    crm(alice, "log", "acme", "call", "unrelated")
    crm(alice, "opp", "advance", opp, author="Bob <bob@example.com>")
    out = crm(alice, "history", opp).stdout.splitlines()
    assert len([line for line in out if not line.startswith("    ")]) == 2
    assert "Bob" in out[0]
    assert out[1] == "    + opp.stage: opp ERP: lead -> qualified"
    assert out[3].startswith("    + opp.open: ")
    trailers = git(alice, "log", "-1", "--format=%(trailers)", "--grep", "Crm-Action: opp.stage")
    assert f"Crm-Customer: {acme(alice)}" in trailers


def test_new_event_kinds_merge_without_conflict(team: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """Issue 20: behaviour (activity.day), needs and feedback written in two clones at once merge line by line."""
    import json

    _, alice, bob = team
    now = "2026-11-23T10:00:00+08:00"
    (tmp_path / "web.csv").write_text("customer,timestamp,event,count\nAcme Corp,2026-11-20 09:00,login,2\n"
                                      "Acme Corp,2026-11-21 09:00,page_view,5\n", encoding="utf-8")
    (tmp_path / "app.csv").write_text("customer,timestamp,event,count\nAcme Corp,2026-11-20 18:00,login,3\n"
                                      "Acme Corp,2026-11-21 10:00,download,1\nAcme Corp,2026-11-22 10:00,login,1\n",
                                      encoding="utf-8")
    crm(alice, "import", str(tmp_path / "web.csv"), "--kind", "events", now=now)
    crm(alice, "need", "add", "acme", "Export to PDF", "--product", "Analytics", now=now)
    crm(bob, "import", str(tmp_path / "app.csv"), "--kind", "events", author="Bob <bob@example.com>", now=now)
    crm(bob, "feedback", "add", "acme", "Love the new dashboard", "--type", "praise", author="Bob <bob@example.com>",
        now=now)
    for clone in (alice, bob, alice):
        crm(clone, "sync")
    for clone in (alice, bob):
        assert git(clone, "status", "--porcelain") == ""
        assert crm(clone, "check").returncode == 0
    journal = next((alice / "customers" / "ac").glob("*/journal/2026.yaml"))
    assert journal.read_text(encoding="utf-8") == (bob / journal.relative_to(alice)).read_text(encoding="utf-8")
    # by hand: each day and activity keeps the larger count the two exports saw
    recent = json.loads(crm(bob, "show", "acme", "--format", "json", now=now).stdout)["activity"]["recent"]
    assert [(r["day"], r["counts"]) for r in recent] == [
        ("2026-11-22", {"login": 1}), ("2026-11-21", {"download": 1, "page_view": 5}), ("2026-11-20", {"login": 3})]
    assert "Export to PDF" in crm(bob, "need", "list", "--format", "json").stdout
    assert "Love the new dashboard" in crm(alice, "feedback", "list", "--format", "json").stdout
