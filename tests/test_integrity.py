"""Issue 13: what a sync, a hand edit or a careless user does must never lose or corrupt records."""
from __future__ import annotations

import subprocess
from pathlib import Path

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
