"""`crm history` (field-by-field words from git) and `crm undo` (a crm commit reverted as a new one)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from crmcli.actions.history import describe_changes, describe_journal
from tests.conftest import commits, git, snapshot

NAME = "深圳市基石协作科技有限公司"


def add(invoke, name: str, *args: str) -> str:
    r = invoke("customer", "add", name, *args)
    assert r.exit_code == 0, r.output
    return r.stdout.strip()


def ok(invoke, *args: str):
    r = invoke(*args)
    assert r.exit_code == 0, (args, r.output)
    return r


def cdir(root: Path, cid: str) -> Path:
    return root / "customers" / cid[:2] / cid


def headers(root: Path, cid: str) -> list[str]:
    """The header line `crm history` prints for each commit of the customer, newest first."""
    import datetime as _dt
    import os
    from zoneinfo import ZoneInfo

    out = git(root, "log", "--format=%H%x1f%aI%x1f%an%x1f%s", "--", f"customers/{cid[:2]}/{cid}")
    lines = []
    for row in out.splitlines():
        sha, date, author, subject = row.split("\x1f")
        local = _dt.datetime.fromisoformat(date).astimezone(ZoneInfo(os.environ["CRM_TZ"]))  # in crm's zone
        lines.append(f"{sha[:8]}  {local:%Y-%m-%d %H:%M}  {author}  {subject}")
    return lines




# -- history -------------------------------------------------------------------------------------------------


def test_history_tells_each_change_in_words(invoke, store_dir: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    cid = add(invoke, NAME, "--tier", "B")
    ok(invoke, "customer", "edit", cid, "--set", "tier=A")
    ok(invoke, "contact", "add", cid, "李娜", "--email", "li.na@example.cn")
    monkeypatch.setenv("CRM_AUTHOR", "王芳 <wang.fang@example.cn>")
    ok(invoke, "customer", "edit", cid, "--set", "tags=saas,vip", "--set", "owner=王芳", "--set", "extra.erp=7")
    monkeypatch.delenv("CRM_AUTHOR")
    ok(invoke, "customer", "edit", cid, "--set", "owner=", "--set", "tags=vip")
    edited = tmp_path / "edited.yaml"
    path = cdir(store_dir, cid) / "customer.yaml"
    edited.write_text(path.read_text().replace("li.na@example.cn", "na.li@example.cn"))
    ok(invoke, "customer", "edit", cid, "--from-file", str(edited))
    journal = cdir(store_dir, cid) / "journal"
    journal.mkdir()
    (journal / "2026.yaml").write_text("- at: 2026-11-20T14:30:00+08:00\n  kind: call\n  by: Alice Example\n"
                                       "  summary: |-\n    Discussed the renewal\n    and more\n")
    (cdir(store_dir, cid) / "notes.txt").write_text("free notes\n")
    git(store_dir, "add", "-A")
    git(store_dir, "commit", "-qm", "Log a call by hand")

    r = invoke("history", cid)
    assert r.exit_code == 0, r.output
    h = headers(store_dir, cid)
    assert len(h) == 7
    assert r.stdout.splitlines() == [
        h[0], "    + call: Discussed the renewal", "    A notes.txt",
        h[1], "    contacts[李娜].email: li.na@example.cn -> na.li@example.cn",
        h[2], "    owner: cleared (was 王芳)", "    tags: - saas",
        h[3], "    owner: set to 王芳", "    tags: set to [saas, vip]", "    extra: set to {erp: 7}",
        h[4], "    contacts: + 李娜 <li.na@example.cn>",
        h[5], "    tier: B -> A",
        h[6], "    created",
    ]
    assert h[3].split("  ")[2] == "王芳"
    assert h[4].endswith(f"Add contact 李娜 <li.na@example.cn> to {NAME} ({cid})")
    assert "\0" not in r.stdout and "\x1b" not in r.stdout
    assert r.stderr == ""

    r = invoke("history", NAME, "-n", "2", "--format", "json")
    data = json.loads(r.stdout)
    assert [c["changes"] for c in data] == [["+ call: Discussed the renewal", "A notes.txt"],
                                            ["contacts[李娜].email: li.na@example.cn -> na.li@example.cn"]]
    assert list(data[0]) == ["commit", "author", "email", "date", "subject", "changes"]
    assert data[1]["subject"] == f"Edit customer {NAME} ({cid}): contacts[李娜].email: li.na@example.cn -> " \
                                 "na.li@example.cn"
    assert (data[1]["author"], data[1]["email"]) == ("Alice Example", "alice@example.com")
    assert data[0]["commit"] == git(store_dir, "rev-parse", "HEAD").strip()


def test_history_of_an_uncommitted_customer(invoke, store_dir: Path) -> None:
    cid = add(invoke, "Acme Corp", "--no-commit")
    r = invoke("history", cid)
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "No commits touch this customer yet.\n")
    assert json.loads(invoke("history", cid, "-f", "json").stdout) == []


def test_describe_changes_words() -> None:
    old = {"name": "A", "tier": "B", "tags": ["x"], "extra": {"a": "1", "b": "2"},
           "contacts": [{"name": "Jane", "email": "j@x.io"}, {"name": "Bob"}], "size": 10}
    new = {"name": "A", "tier": "A", "tags": ["x", "y"], "extra": {"a": "1", "b": "3", "c": "4"},
           "contacts": [{"name": "Jane", "email": "jane@x.io", "primary": True}], "legacy": 1}
    assert describe_changes(old, new) == [
        "tier: B -> A",
        "tags: + y",
        "extra.b: 2 -> 3",
        "extra.c: set to 4",
        "contacts: - Bob",
        "contacts[Jane].email: j@x.io -> jane@x.io",
        "contacts[Jane].primary: set to True",
        "size: cleared (was 10)",
        "legacy: set to 1",
    ]
    assert describe_changes(old, old) == []
    assert describe_changes(None, {"a": 1}) == ["record: (none) -> {a: 1}"]
    long = "x" * 80
    assert describe_changes({"note": "a"}, {"note": long}) == [f"note: a -> {'x' * 57}..."]
    assert describe_journal([{"kind": "call", "summary": "Hi"}],
                            [{"kind": "call", "summary": "Hi"},
                             {"kind": "task.add", "id": "task-9x2m", "due": "2026-11-27", "text": "Send offer\nsoon"},
                             {"kind": "note"}]) == ["+ task.add: Send offer (due 2026-11-27) [task-9x2m]", "+ note"]


# -- undo ----------------------------------------------------------------------------------------------------------


def test_undo_reverts_the_last_crm_commit_as_a_new_commit(invoke, store_dir: Path) -> None:
    cid = add(invoke, "Acme Corp", "--tier", "B")
    path = cdir(store_dir, cid) / "customer.yaml"
    original = path.read_bytes()
    ok(invoke, "customer", "edit", cid, "--set", "tier=A", "--set", "owner=bob")
    edit_sha = git(store_dir, "rev-parse", "HEAD").strip()
    count = len(commits(store_dir))
    r = ok(invoke, "undo", "--yes")
    new_sha = git(store_dir, "rev-parse", "HEAD").strip()
    subject = f"Edit customer Acme Corp ({cid}): tier: B -> A; owner: set to bob"
    assert r.stderr == f'Undid "{subject}" ({edit_sha[:8]}) [{new_sha[:8]}]\n'
    assert path.read_bytes() == original
    assert len(commits(store_dir)) == count + 1
    assert git(store_dir, "log", "-1", "--format=%B").rstrip("\n") == (
        f'Undo "{subject}"\n\nThis reverts commit {edit_sha}.\n\nCrm-Action: undo\nCrm-Customer: {cid}')
    assert git(store_dir, "show", "--name-only", "--format=", "HEAD").split() == [f"customers/ac/{cid}/customer.yaml"]
    assert git(store_dir, "status", "--porcelain") == ""
    r = invoke("history", cid, "-n", "1")
    assert r.stdout.splitlines()[1:] == ["    tier: A -> B", "    owner: cleared (was bob)"]


def test_undo_add_and_rm(invoke, store_dir: Path) -> None:
    keep = add(invoke, "Acme Corp")
    cid = add(invoke, "Beta")
    ok(invoke, "undo", "--yes")
    assert not (store_dir / "customers" / "be").exists()
    assert (cdir(store_dir, keep) / "customer.yaml").is_file()
    assert git(store_dir, "status", "--porcelain", "--untracked-files=all") == ""

    journal = cdir(store_dir, keep) / "journal" / "2026.yaml"
    journal.parent.mkdir()
    journal.write_text("- at: 2026-11-20T14:30:00+08:00\n  kind: note\n")
    git(store_dir, "add", "-A")
    git(store_dir, "commit", "-qm", "journal")
    before = snapshot(store_dir)[0]
    ok(invoke, "customer", "rm", keep, "--yes")
    assert not (store_dir / "customers" / "ac").exists()
    ok(invoke, "undo", "--yes")
    assert snapshot(store_dir)[0] == before
    assert git(store_dir, "status", "--porcelain", "--untracked-files=all") == ""
    assert commits(store_dir)[0] == f'Undo "Remove customer Acme Corp ({keep})"'
    assert cid not in git(store_dir, "ls-files")


def test_undo_refuses_what_it_must_not_touch(invoke, store_dir: Path) -> None:
    r = invoke("undo", "--yes")
    assert (r.exit_code, r.stderr) == (6, "crm: error: nothing to undo: the last commit created the store\n")

    cid = add(invoke, "Acme Corp")
    ok(invoke, "customer", "edit", cid, "--set", "tier=A")
    subject = f"Edit customer Acme Corp ({cid}): tier: set to A"
    before = snapshot(store_dir)
    r = invoke("undo")
    assert r.exit_code == 8  # declined: nobody to ask
    assert r.stderr == f'crm: error: Undo "{subject}"? Pass --yes to confirm when not on a terminal.\n'
    assert snapshot(store_dir) == before

    path = cdir(store_dir, cid) / "customer.yaml"
    path.write_text(path.read_text() + "legacy_id: 12\n")
    before = snapshot(store_dir)
    r = invoke("undo", "--yes")
    assert r.exit_code == 6
    assert r.stderr == (f"crm: error: customers/ac/{cid}/customer.yaml has uncommitted changes; commit or discard "
                        "them (git status) before undo\n")
    assert snapshot(store_dir) == before

    git(store_dir, "commit", "-qam", "manual")
    sha = git(store_dir, "rev-parse", "HEAD").strip()
    before = snapshot(store_dir)
    r = invoke("undo", "--yes")
    assert r.exit_code == 6
    assert r.stderr == (f"crm: error: the last commit ({sha[:8]} 'manual') was not made by crm; undo it with git "
                        "(git revert) if you mean to\n")
    assert snapshot(store_dir) == before


def test_undo_refuses_a_commit_of_another_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from tests.conftest import _Main

    def run(*args: str):
        return CliRunner().invoke(_Main(), list(args))  # type: ignore[arg-type]

    git(tmp_path, "init", "-q")
    monkeypatch.chdir(tmp_path)
    assert run("init", "a").exit_code == 0
    assert run("init", "b").exit_code == 0
    assert run("--records", "a", "customer", "add", "Acme Corp").exit_code == 0
    r = run("--records", "b", "undo", "--yes")
    assert r.exit_code == 6
    assert r.stderr.startswith("crm: error: the last commit touches files outside the store (a/customers/ac/acme-")
    assert r.stderr.endswith("); undo it with git\n")


def test_store_without_git(invoke, store_dir: Path) -> None:
    shutil.rmtree(store_dir / ".git")
    r = invoke("customer", "add", "Acme Corp")
    assert r.exit_code == 0, r.output
    cid = r.stdout.strip()
    assert r.stderr == f"Added Acme Corp ({cid}) (not committed)\n"
    r = invoke("undo", "--yes")
    assert (r.exit_code, r.stderr) == (6, "crm: error: this store is not in a git repository; there is nothing "
                                          "to undo\n")
    r = invoke("history", cid)
    assert (r.exit_code, r.stderr) == (6, "crm: error: . is not in a git repository, so it has no history\n")


def test_history_and_undo_through_the_real_entry_point(crm, store_dir: Path) -> None:
    cid = crm("customer", "add", NAME, "--tier", "B").stdout.strip()
    assert crm("customer", "edit", cid, "--set", "tier=A").returncode == 0
    p = crm("history", cid)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[1::2] == ["    tier: B -> A", "    created"]
    p = crm("undo", "--yes")
    assert p.returncode == 0, p.stderr
    assert "tier: B\n" in (cdir(store_dir, cid) / "customer.yaml").read_text()
    assert commits(store_dir)[0] == f'Undo "Edit customer {NAME} ({cid}): tier: B -> A"'
    assert git(store_dir, "status", "--porcelain") == ""
