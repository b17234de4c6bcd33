"""Issue 13: what a sync, a hand edit or a careless user does must never lose or corrupt records."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import commits, git, snapshot

# -- point 11: small ones (CSV row numbers, undo twice, sync's reason, mid-rebase advice) --


def _add(crm, name: str, *args: str) -> str:
    p = crm("customer", "add", name, *args)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_csv_error_rows_are_spreadsheet_rows_even_after_blank_rows(crm, store_dir: Path) -> None:
    # Before: blank rows were dropped before numbering, so the bad row (row 6 in any spreadsheet) was "row 3".
    (store_dir.parent / "c.csv").write_text("\nname,email,tier\n\nGood Co,good@x.example,A\n\n"
                                            "Bad Co,bad@,B\n,,\nWorse Co,,Z\n", encoding="utf-8")
    before = snapshot(store_dir)
    p = crm("import", "../c.csv")
    assert p.returncode == 4
    assert "c.csv:row 6, column email: 'bad@' is not an email address" in p.stderr
    assert "c.csv:row 8, column tier: 'Z' is not one of: A, B, C, D" in p.stderr
    assert snapshot(store_dir) == before


def test_csv_row_numbers_count_a_multiline_cell_as_one_row(crm, store_dir: Path) -> None:
    (store_dir.parent / "m.csv").write_text('name,notes,tier\nGood Co,"two\nlines",A\nBad Co,,Z\n',
                                            encoding="utf-8")
    p = crm("import", "../m.csv")
    assert p.returncode == 4
    assert "m.csv:row 3, column tier: 'Z' is not one of: A, B, C, D" in p.stderr


def test_undo_twice_steps_further_back(crm, store_dir: Path) -> None:
    cid = _add(crm, "Acme Corp", "--tier", "B")
    path = store_dir / "customers" / cid[:2] / cid / "customer.yaml"
    assert crm("customer", "edit", cid, "--set", "tier=A").returncode == 0
    assert crm("customer", "edit", cid, "--set", "owner=bob").returncode == 0
    p = crm("undo", "--yes")
    assert p.returncode == 0, p.stderr
    assert p.stderr.startswith(f'Undid "Edit customer Acme Corp ({cid}): owner: set to bob"')
    # Before: the second undo reverted the first one (owner back to bob); now it steps one change further back.
    p = crm("undo")
    assert p.returncode == 2
    assert p.stderr == (f'crm: error: Undo "Edit customer Acme Corp ({cid}): tier: B -> A"? Pass --yes to confirm '
                        "when not on a terminal.\n")
    p = crm("undo", "--yes")
    assert p.returncode == 0, p.stderr
    assert p.stderr.startswith(f'Undid "Edit customer Acme Corp ({cid}): tier: B -> A"')
    text = path.read_text(encoding="utf-8")
    assert "tier: B\n" in text and "owner" not in text
    p = crm("undo", "--yes")
    assert p.returncode == 0, p.stderr
    assert not path.exists()
    before = snapshot(store_dir)
    p = crm("undo", "--yes")
    assert (p.returncode, p.stderr) == (6, "crm: error: nothing left to undo: every change since the store was "
                                           "created is undone\n")
    assert snapshot(store_dir) == before
    assert commits(store_dir)[:3] == [f'Undo "Add customer Acme Corp ({cid})"',
                                      f'Undo "Edit customer Acme Corp ({cid}): tier: B -> A"',
                                      f'Undo "Edit customer Acme Corp ({cid}): owner: set to bob"']


def test_undo_after_an_undo_then_a_new_change_undoes_the_new_change(crm, store_dir: Path) -> None:
    cid = _add(crm, "Acme Corp", "--tier", "B")
    assert crm("customer", "edit", cid, "--set", "tier=A").returncode == 0
    assert crm("undo", "--yes").returncode == 0
    assert crm("customer", "edit", cid, "--set", "tier=C").returncode == 0
    p = crm("undo", "--yes")
    assert p.stderr.startswith(f'Undid "Edit customer Acme Corp ({cid}): tier: B -> C"')
    p = crm("undo", "--yes")  # the tier edit was already undone: next is the customer's creation
    assert p.stderr.startswith(f'Undid "Add customer Acme Corp ({cid})"'), p.stderr


def test_sync_with_an_unreachable_remote_prints_gits_whole_reason(crm, store_dir: Path) -> None:
    missing = store_dir.parent / "nowhere.git"
    git(store_dir, "remote", "add", "origin", str(missing))
    before = snapshot(store_dir)
    p = crm("sync")
    # Before: only git's last line, "git fetch failed: and the repository exists."
    assert p.returncode == 6
    assert p.stderr == (f"crm: error: cannot fetch from origin ({missing}): '{missing}' does not appear to be a git "
                        "repository; Could not read from remote repository.; Please make sure you have the correct "
                        "access rights and the repository exists.; nothing was changed here. Check the address "
                        "(git remote -v), your network and access rights, then crm sync again\n")
    assert snapshot(store_dir) == before


def test_mid_rebase_advice_says_finish_or_abort_the_rebase(crm, store_dir: Path) -> None:
    _add(crm, "Acme Corp")
    subprocess.run(["git", "rebase", "-q", "--exec", "false", "HEAD~1"], cwd=store_dir, capture_output=True)
    assert (store_dir / ".git" / "rebase-merge").is_dir()
    before = snapshot(store_dir)
    for args in (("log", "acme", "call", "hello"), ("sync",), ("undo", "--yes")):
        p = crm(*args)
        # Before: "HEAD is detached; check out a branch (git switch main)", which strands the rebase.
        assert (p.returncode, p.stderr) == (6, "crm: error: a git rebase is in progress; finish it (resolve the "
                                               "conflicts, git add the files, git rebase --continue) or abort it "
                                               "(git rebase --abort), then run crm again\n"), args
    assert snapshot(store_dir) == before
    git(store_dir, "rebase", "--abort")
    assert crm("log", "acme", "call", "hello").returncode == 0


# -- point 6: nothing silently dropped --------------------------------------------------------------
def _store_with_a_broken_customer(crm, store_dir: Path) -> Path:
    _add(crm, "Acme Corp")
    _add(crm, "Beta Ltd")
    bad = _add(crm, "Gamma GmbH")
    path = store_dir / "customers" / bad[:2] / bad / "customer.yaml"
    path.write_text("name: Gamma GmbH\nkind: [unclosed\n", encoding="utf-8")
    return path.relative_to(store_dir)


def test_export_names_the_unreadable_customer_and_writes_nothing(crm, store_dir: Path, tmp_path: Path) -> None:
    rel = _store_with_a_broken_customer(crm, store_dir)
    out = tmp_path / "all.json"
    r = crm("export", "-o", str(out))
    assert r.returncode == 4, r.stderr
    assert f"{rel}:3: unreadable YAML" in r.stderr  # path:line of the damage
    assert ("crm: error: 1 customer could not be read; nothing written to all.json: fix it (crm check lists every "
            "problem) or pass --skip-invalid to export the others") in r.stderr
    assert not out.exists()
    assert "Exported" not in r.stdout + r.stderr


def test_export_skip_invalid_exports_the_others_and_still_names_it(crm, store_dir: Path, tmp_path: Path) -> None:
    rel = _store_with_a_broken_customer(crm, store_dir)
    for name in ("all.json", "customers.csv", "all.xlsx", "contacts.vcf"):
        out = tmp_path / name
        args = ["--kind", "customers"] if name.endswith(".csv") else []
        r = crm("export", *args, "-o", str(out), "--skip-invalid")
        assert r.returncode == 0, r.stderr
        assert f"{rel}:3: unreadable YAML" in r.stderr, name
        assert out.exists()
    assert [c["name"] for c in json.loads((tmp_path / "all.json").read_text())["customers"]] == \
        ["Acme Corp", "Beta Ltd"]


def test_customer_list_fails_on_an_unreadable_customer_unless_skip_invalid(crm, store_dir: Path) -> None:
    rel = _store_with_a_broken_customer(crm, store_dir)
    r = crm("customer", "list")
    assert r.returncode == 4
    assert f"{rel}:3: unreadable YAML" in r.stderr
    assert ("crm: error: 1 customer could not be read; nothing listed: fix it (crm check lists every problem) or "
            "pass --skip-invalid to leave them out") in r.stderr
    assert "Acme Corp" not in r.stdout
    r = crm("customer", "list", "--skip-invalid", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert f"{rel}:3: unreadable YAML" in r.stderr
    assert [c["name"] for c in json.loads(r.stdout)] == ["Acme Corp", "Beta Ltd"]


def test_customer_list_names_a_folder_where_the_profile_belongs(crm, store_dir: Path) -> None:
    _add(crm, "Acme Corp")
    bad = _add(crm, "Beta Ltd")
    path = store_dir / "customers" / bad[:2] / bad / "customer.yaml"
    path.unlink()
    path.mkdir()
    r = crm("customer", "list")
    assert r.returncode == 4, r.stderr
    assert f"{path.relative_to(store_dir)}: cannot be read" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("report", ["customers", "pipeline", "service", "weekly"])
def test_report_fails_on_an_unreadable_customer_unless_skip_invalid(crm, store_dir: Path, report: str) -> None:
    rel = _store_with_a_broken_customer(crm, store_dir)
    r = crm("report", report)
    assert r.returncode == 4, r.stderr
    assert f"{rel}:3: unreadable YAML" in r.stderr
    assert "could not be read; no report made" in r.stderr
    r = crm("report", report, "--skip-invalid", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert f"{rel}:3: unreadable YAML" in r.stderr
    json.loads(r.stdout)


def test_report_names_a_broken_journal(crm, store_dir: Path) -> None:
    cid = _add(crm, "Acme Corp")
    assert crm("log", cid, "call", "hello", "--at", "2026-11-02 10:00").returncode == 0
    journal = store_dir / "customers" / cid[:2] / cid / "journal" / "2026.yaml"
    journal.write_text(journal.read_text() + "- {at: [broken\n", encoding="utf-8")
    r = crm("report", "customers")
    assert r.returncode == 4, r.stderr
    assert str(journal.relative_to(store_dir)) in r.stderr
