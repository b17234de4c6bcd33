"""Issue 13: what a sync, a hand edit or a careless user does must never lose or corrupt records."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from crmcli.cli.main import cli
from tests.conftest import Crm, commits, git, snapshot
from tests.conftest import git as run_git

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
    assert p.returncode == 8  # declined: nobody to ask
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
        assert r.returncode == 9, r.stderr  # partial
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
    assert r.returncode == 9, r.stderr  # partial
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
    assert f"{path.relative_to(store_dir)}: is a folder, not a regular file" in r.stderr  # point 2 names it
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("report", ["customers", "pipeline", "service", "weekly"])
def test_report_fails_on_an_unreadable_customer_unless_skip_invalid(crm, store_dir: Path, report: str) -> None:
    rel = _store_with_a_broken_customer(crm, store_dir)
    r = crm("report", report)
    assert r.returncode == 4, r.stderr
    assert f"{rel}:3: unreadable YAML" in r.stderr
    assert "could not be read; no report made" in r.stderr
    r = crm("report", report, "--skip-invalid", "--format", "json")
    assert r.returncode == 9, r.stderr  # partial
    assert f"{rel}:3: unreadable YAML" in r.stderr
    json.loads(r.stdout)


# agenda, the team feed, care and search read through the index: they too name an unreadable customer
MONDAY = {"CRM_NOW": "2026-09-21T10:00:00"}  # a Monday
DAILY = {
    "agenda": (("agenda", "--format", "json"), "name"),
    "timeline": (("timeline", "--all", "--format", "json"), "name"),
    "care": (("care", "--format", "json"), "name"),
    "search": (("search", "Corp", "--type", "customer", "--format", "json"), "name"),
}


@pytest.mark.parametrize("command", sorted(DAILY))
def test_daily_views_fail_on_an_unreadable_customer_unless_skip_invalid(crm, store_dir: Path, command: str) -> None:
    names = ["Acme Corp", "Beta Corp", "Gamma Corp"]
    ids = []
    for name in names:  # each has a birthday this week and was added today: each shows in every view
        p = crm("customer", "add", name, env=MONDAY)
        assert p.returncode == 0, p.stderr
        ids.append(p.stdout.strip())
        assert crm("customer", "edit", ids[-1], "--set", "birthday=1980-09-23", env=MONDAY).returncode == 0
    args, key = DAILY[command]
    r = crm(*args, env=MONDAY)
    assert r.returncode == 0, r.stderr
    assert {row[key] for row in json.loads(r.stdout)} == set(names)
    path = store_dir / "customers" / ids[2][:2] / ids[2] / "customer.yaml"
    path.write_text("name: Gamma Corp\nkind: [unclosed\n", encoding="utf-8")
    rel = path.relative_to(store_dir)
    r = crm(*args, env=MONDAY)
    assert r.returncode == 4, r.stderr
    assert f"{rel}:3: unreadable YAML" in r.stderr
    assert "crm: error: 1 customer could not be read" in r.stderr
    assert "pass --skip-invalid to leave them out" in r.stderr
    assert r.stdout == ""
    r = crm(*args, "--skip-invalid", env=MONDAY)
    assert r.returncode == 9, r.stderr  # partial
    assert f"{rel}:3: unreadable YAML" in r.stderr
    assert "1 unreadable customer left out (--skip-invalid)" in r.stderr
    assert {row[key] for row in json.loads(r.stdout)} == set(names[:2])


def test_search_names_an_unreadable_customer_instead_of_nothing_found(crm, store_dir: Path) -> None:
    bad = _add(crm, "Gamma GmbH")
    path = store_dir / "customers" / bad[:2] / bad / "customer.yaml"
    path.write_text("name: Gamma GmbH\nkind: [unclosed\n", encoding="utf-8")
    r = crm("search", "Gamma")
    assert r.returncode == 4
    assert f"{path.relative_to(store_dir)}:3: unreadable YAML" in r.stderr
    assert "Nothing found." not in r.stderr


def test_report_names_a_broken_journal(crm, store_dir: Path) -> None:
    cid = _add(crm, "Acme Corp")
    assert crm("log", cid, "call", "hello", "--at", "2026-11-02 10:00").returncode == 0
    journal = store_dir / "customers" / cid[:2] / cid / "journal" / "2026.yaml"
    journal.write_text(journal.read_text() + "- {at: [broken\n", encoding="utf-8")
    r = crm("report", "customers")
    assert r.returncode == 4, r.stderr
    assert str(journal.relative_to(store_dir)) in r.stderr


# -- point 7: export and import are inverses --------------------------------------------------------
def _init(root: Path) -> Path:
    result = CliRunner().invoke(cli, ["init", str(root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return root


def _crm_in(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crmcli", *args], cwd=root, capture_output=True, text=True,
                          timeout=120)


def _names(root: Path) -> list[tuple[str, str]]:
    r = _crm_in(root, "customer", "list", "--format", "json", "--sort", "id")
    assert r.returncode == 0, r.stderr
    return [(c["id"], c["name"]) for c in json.loads(r.stdout)]


@pytest.mark.parametrize("name", ["all.xlsx", "all.json", "customers.csv"])
def test_same_named_customers_stay_two_matched_by_id(crm, store_dir: Path, tmp_path: Path, name: str) -> None:
    a = _add(crm, "Acme Corp")
    b = _add(crm, "Acme Corp", "--force", "--email", "b@acme.example")
    out = tmp_path / name
    args = ["--kind", "customers"] if name.endswith(".csv") else []
    assert crm("export", *args, "-o", str(out)).returncode == 0
    target = _init(tmp_path / "target")
    r = _crm_in(target, "import", str(out))
    assert r.returncode == 0, r.stderr
    assert _names(target) == sorted([(a, "Acme Corp"), (b, "Acme Corp")])
    # importing again matches each row by its id: nothing new
    r = _crm_in(target, "import", str(out))
    assert r.returncode == 0 and "Nothing to import" in r.stderr, r.stderr
    assert len(_names(target)) == 2


@pytest.mark.parametrize("name", ["all.xlsx", "all.json", "customers.csv"])
def test_a_name_that_starts_with_quote_equals_survives_the_formula_guard(crm, store_dir: Path, tmp_path: Path,
                                                                         name: str) -> None:
    names = ["'=1+1", "=SUM(A1)", "''+x", "'plain", "-minus"]
    for n in names:
        _add(crm, "--force", "--", n)
    out = tmp_path / name
    args = ["--kind", "customers"] if name.endswith(".csv") else []
    assert crm("export", *args, "-o", str(out)).returncode == 0
    if name.endswith(".csv"):
        text = out.read_text(encoding="utf-8")
        assert ",'=SUM(A1)," in text and ",''=1+1," in text  # guarded, and the real quote kept
    target = _init(tmp_path / "target")
    r = _crm_in(target, "import", str(out))
    assert r.returncode == 0, r.stderr
    assert sorted(n for _, n in _names(target)) == sorted(names)


@pytest.mark.parametrize("name", ["all.xlsx", "all.json"])
def test_contracts_surveys_and_tasks_round_trip(crm, store_dir: Path, tmp_path: Path, name: str) -> None:
    cid = _add(crm, "Acme Corp")
    r = crm("contract", "add", cid, "--value", "12000", "--start", "2026-01-01", "--end", "2026-12-31",
            "--renew-notice", "60d")
    assert r.returncode == 0, r.stderr
    assert crm("survey", cid, "--csat", "4", "--nps", "9", "-m", "Quick and friendly").returncode == 0
    assert crm("task", "add", cid, "Send the renewal offer", "--due", "2026-12-15").returncode == 0
    assert crm("task", "add", cid, "Call back", "--due", "2026-12-01 15:00").returncode == 0
    r = crm("task", "add", cid, "Book the visit")
    assert r.returncode == 0, r.stderr
    tid = re.search(r"task-[0-9a-z]{4,}", r.stdout + r.stderr)
    assert tid, r.stdout + r.stderr
    assert crm("task", "done", f"{cid}/{tid[0]}").returncode == 0
    out = tmp_path / name
    assert crm("export", "-o", str(out)).returncode == 0
    target = _init(tmp_path / "target")
    r = _crm_in(target, "import", str(out))
    assert r.returncode == 0, r.stderr
    assert "1 contracts" in r.stdout + r.stderr and "1 surveys" in r.stdout + r.stderr, r.stdout + r.stderr
    assert "3 tasks" in r.stdout + r.stderr, r.stdout + r.stderr
    for kind in ("contracts", "surveys", "tasks"):
        a, b = tmp_path / f"a-{kind}.csv", tmp_path / f"b-{kind}.csv"
        assert crm("export", "--kind", kind, "-o", str(a)).returncode == 0
        assert _crm_in(target, "export", "--kind", kind, "-o", str(b)).returncode == 0
        assert a.read_bytes() == b.read_bytes(), kind
        assert len(a.read_text().splitlines()) == (4 if kind == "tasks" else 2)
    # again: nothing new
    r = _crm_in(target, "import", str(out))
    assert r.returncode == 0 and "Nothing to import" in r.stderr, r.stderr


# property: generated stores, export -> import into an empty store -> export gives the same bytes (csv, json)
# and the same cell values (xlsx); the kinds that round-trip exactly
ROUND_TRIP_KINDS = ["customers", "contacts", "interactions", "history"]
_text = st.text(alphabet=st.sampled_from(list("abcXYZ 李娜=+-@'\",;")), min_size=1, max_size=12).map(str.strip) \
    .filter(lambda s: s != "" and not s.startswith("-"))
_person = st.text(alphabet=st.sampled_from(list("abcXYZ 李娜=+'")), min_size=1, max_size=8).map(str.strip) \
    .filter(bool)
_customer = st.fixed_dictionaries({
    "name": _text, "tier": st.sampled_from([None, "A", "B", "C"]),
    "tag": st.sampled_from([None, "saas", "vip"]),
    "contacts": st.lists(_person, max_size=2, unique=True),
    "calls": st.lists(st.tuples(st.integers(1, 28), _text), max_size=1),
    # a deal moved 0-3 stages and a ticket with a comment (their history round-trips too)
    "deal": st.one_of(st.none(), st.tuples(_text, st.integers(0, 3))),
    "ticket": st.one_of(st.none(), st.tuples(_text, _text)),
})


def _run_in(root: Path, *args: str) -> subprocess.CompletedProcess:
    """The crm entry point (main(), exit codes and all) in this process: fast enough for many examples."""
    import os

    from tests.conftest import _Main

    old = os.getcwd()
    os.chdir(root)
    try:
        r = CliRunner().invoke(_Main(), list(args))  # type: ignore[arg-type]
    finally:
        os.chdir(old)
    return subprocess.CompletedProcess(list(args), r.exit_code, r.stdout, r.stderr)


def _build(root: Path, customers: list[dict]) -> None:
    for i, c in enumerate(customers):
        args = ["customer", "add", c["name"], "--force", "--email", f"c{i}@example.com"]
        if c["tier"]:
            args += ["--tier", c["tier"]]
        if c["tag"]:
            args += ["--tag", c["tag"]]
        for person in c["contacts"]:
            args += ["--contact", person]
        r = _run_in(root, *args)
        assert r.returncode == 0, r.stderr
        cid = r.stdout.strip()
        for day, summary in c["calls"]:
            r = _run_in(root, "log", cid, "call", summary, "--at", f"2026-10-{day:02d} 10:00")
            assert r.returncode == 0, r.stderr
        if c["deal"]:
            title, moves = c["deal"]
            r = _run_in(root, "opp", "add", cid, "--amount", "100", "--", title)
            assert r.returncode == 0, r.stderr
            deal = _local_id("opp", r.stdout + r.stderr)
            for _ in range(moves):
                r = _run_in(root, "opp", "advance", f"{cid}/{deal}")
                assert r.returncode == 0, r.stderr
        if c["ticket"]:
            title, comment = c["ticket"]
            r = _run_in(root, "ticket", "open", cid, "--", title)
            assert r.returncode == 0, r.stderr
            ticket = _local_id("tkt", r.stdout + r.stderr)
            r = _run_in(root, "ticket", "comment", f"{cid}/{ticket}", "--", comment)
            assert r.returncode == 0, r.stderr


def _xlsx_values(path: Path) -> dict:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets
            if ws.title in ROUND_TRIP_KINDS}


@settings(max_examples=4, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(st.lists(_customer, min_size=1, max_size=3))
def test_property_export_import_export_is_identical(customers: list[dict]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        source = _init(base / "source")
        _build(source, customers)
        for kind in ROUND_TRIP_KINDS:
            r = _run_in(source, "export", "--kind", kind, "-o", str(base / f"a-{kind}.csv"))
            assert r.returncode == 0, r.stderr
        for name in ("a.json", "a.xlsx"):
            assert _run_in(source, "export", "-o", str(base / name)).returncode == 0
        for fmt in ("csv", "json", "xlsx"):
            target = _init(base / f"target-{fmt}")
            files = [base / f"a-{k}.csv" for k in ROUND_TRIP_KINDS] if fmt == "csv" else [base / f"a.{fmt}"]
            for f, kind in zip(files, ROUND_TRIP_KINDS, strict=False):
                args = ["--kind", kind] if fmt == "csv" else []
                r = _run_in(target, "import", str(f), *args)
                assert r.returncode == 0, r.stderr
            if fmt == "csv":
                for kind in ROUND_TRIP_KINDS:
                    again = base / f"b-{kind}.csv"
                    assert _run_in(target, "export", "--kind", kind, "-o", str(again)).returncode == 0
                    assert again.read_bytes() == (base / f"a-{kind}.csv").read_bytes(), kind
            elif fmt == "json":
                again = base / "b.json"
                assert _run_in(target, "export", "-o", str(again)).returncode == 0
                a, b = json.loads((base / "a.json").read_bytes()), json.loads(again.read_bytes())
                for kind in ROUND_TRIP_KINDS:
                    assert a[kind] == b[kind], kind
                for kind in ROUND_TRIP_KINDS:  # and byte for byte, kind by kind
                    x, y = base / f"x-{kind}.json", base / f"y-{kind}.json"
                    assert _run_in(source, "export", "--kind", kind, "-o", str(x)).returncode == 0
                    assert _run_in(target, "export", "--kind", kind, "-o", str(y)).returncode == 0
                    assert x.read_bytes() == y.read_bytes(), kind
            else:
                again = base / "b.xlsx"
                assert _run_in(target, "export", "-o", str(again)).returncode == 0
                assert _xlsx_values(again) == _xlsx_values(base / "a.xlsx")


# -- point 5: hand edits are never swallowed ------------------------------------------------------------------------


def _add_customer(crm: Crm, name: str) -> str:
    r = crm("customer", "add", name)
    assert r.returncode == 0, r.stderr
    r = crm("customer", "list", "--format", "json")
    return next(c["id"] for c in json.loads(r.stdout) if c["name"] == name)


def _hand_edit_message(rel: str) -> str:
    return (f"crm: error: {rel} has uncommitted changes; crm will not fold them into its own commit: review them "
            f"with git diff -- {rel} (or git status), commit them (git add {rel} && git commit) or discard them "
            f"(git checkout -- {rel}), then retry\n")


def test_a_hand_edit_is_never_folded_into_a_crm_commit(store_dir: Path, crm: Crm) -> None:
    cid = _add_customer(crm, "Acme Corp")
    path = store_dir / "customers" / cid[:2] / cid / "customer.yaml"
    rel = f"customers/{cid[:2]}/{cid}/customer.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "notes: called them, they are unhappy\n", encoding="utf-8")
    before = snapshot(store_dir)
    head = commits(store_dir)

    r = crm("customer", "edit", cid, "--set", "tier=A")
    assert r.returncode == 6
    assert r.stderr == _hand_edit_message(rel)
    assert snapshot(store_dir) == before  # the hand edit is still there, uncommitted; nothing committed
    assert commits(store_dir) == head

    run_git(store_dir, "commit", "-q", "-am", "Note by hand")
    r = crm("customer", "edit", cid, "--set", "tier=A")
    assert r.returncode == 0, r.stderr
    r = crm("undo", "--yes")  # undo reverts crm's change only: the hand edit stays
    assert r.returncode == 0, r.stderr
    assert "notes: called them, they are unhappy" in path.read_text(encoding="utf-8")


def test_an_append_to_a_hand_edited_journal_is_refused(store_dir: Path, crm: Crm) -> None:
    cid = _add_customer(crm, "Acme Corp")
    assert crm("log", cid, "call", "First", "--at", "2026-03-02 10:00").returncode == 0
    journal = store_dir / "customers" / cid[:2] / cid / "journal" / "2026.yaml"
    journal.write_text(journal.read_text(encoding="utf-8").replace("First", "First, edited"), encoding="utf-8")
    before = snapshot(store_dir)
    r = crm("log", cid, "call", "Second", "--at", "2026-03-03 10:00")
    assert r.returncode == 6
    assert r.stderr == _hand_edit_message(f"customers/{cid[:2]}/{cid}/journal/2026.yaml")
    assert snapshot(store_dir) == before


def test_an_untracked_record_is_not_swept_into_a_commit(store_dir: Path, crm: Crm) -> None:
    cid = _add_customer(crm, "Acme Corp")
    journal = store_dir / "customers" / cid[:2] / cid / "journal" / "2026.yaml"
    journal.parent.mkdir()
    journal.write_text("- at: 2026-01-05T10:00:00+08:00\n  kind: note\n  summary: typed by hand\n",
                       encoding="utf-8")
    r = crm("log", cid, "call", "Second", "--at", "2026-03-03 10:00")
    assert r.returncode == 6
    assert r.stderr.startswith(f"crm: error: customers/{cid[:2]}/{cid}/journal/2026.yaml is not committed; ")
    assert run_git(store_dir, "ls-files", "--", str(journal)) == ""


def test_a_staged_hand_edit_is_never_folded_into_a_crm_commit(store_dir: Path, crm: Crm) -> None:
    cid = _add_customer(crm, "Acme Corp")
    path = store_dir / "customers" / cid[:2] / cid / "customer.yaml"
    rel = f"customers/{cid[:2]}/{cid}/customer.yaml"
    committed = path.read_text(encoding="utf-8")
    path.write_text(committed + "notes: staged by hand\n", encoding="utf-8")
    run_git(store_dir, "add", rel)
    r = crm("customer", "edit", cid, "--set", "tier=A")  # staged, same in the work tree: refused as before
    assert (r.returncode, r.stderr) == (6, _hand_edit_message(rel))

    # Before: with the work tree back at HEAD, the staged edit was overwritten in the index and lost.
    path.write_text(committed, encoding="utf-8")
    before, head = snapshot(store_dir), commits(store_dir)
    r = crm("customer", "edit", cid, "--set", "tier=A")
    assert r.returncode == 6
    assert r.stderr == (f"crm: error: {rel} has staged changes (git add); crm will not fold them into its own "
                        f"commit nor drop them: review them with git diff --cached -- {rel}, commit them (git "
                        f"commit) or unstage them (git restore --staged -- {rel}), then retry\n")
    assert (snapshot(store_dir), commits(store_dir)) == (before, head)
    assert "notes: staged by hand" in run_git(store_dir, "show", f":{rel}")  # still staged

    run_git(store_dir, "restore", "--staged", "--", rel)
    r = crm("customer", "edit", cid, "--set", "tier=A")
    assert r.returncode == 0, r.stderr


def test_other_uncommitted_files_do_not_block(store_dir: Path, crm: Crm) -> None:
    a, b = _add_customer(crm, "Acme Corp"), _add_customer(crm, "Beta Ltd")
    other = store_dir / "customers" / b[:2] / b / "customer.yaml"
    other.write_text(other.read_text(encoding="utf-8") + "notes: draft\n", encoding="utf-8")
    r = crm("customer", "edit", a, "--set", "tier=A")
    assert r.returncode == 0, r.stderr
    assert run_git(store_dir, "status", "--porcelain") == f" M customers/{b[:2]}/{b}/customer.yaml\n"


# -- point 8: crash debris is cleaned; recovery after a commit is one pass --------------------------------------

KILL = textwrap.dedent("""
    import os, sys
    from crmcli.store import git
    from crmcli.store import store as store_mod
    from crmcli.store.location import open_store

    root, where, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = open_store(root)
    real_replace, real_run = os.replace, git.run

    def replace(src, dst):
        if where == "rename" and str(src).endswith(".tmp") and "customers" in str(dst):
            os._exit(1)
        return real_replace(src, dst)

    def run(args, *rest, **kwargs):
        result = real_run(args, *rest, **kwargs)
        if where == "commit" and args[0] == "fast-import":
            os._exit(1)
        return result

    store_mod.os.replace = replace
    git.run = run
    with store.transaction("Killed", action="test.kill") as tx:
        for i in range(n):
            tx.write(store.customer_file(f"zz-ghost-{i:04d}"), "name: Ghost %d\\n" % i)
""")


def _kill(root: Path, where: str, n: int) -> None:
    proc = subprocess.run([sys.executable, "-c", KILL, str(root), where, str(n)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr


def test_temp_file_debris_of_a_kill_is_removed_by_recovery(store_dir: Path, crm: Crm, tmp_path: Path) -> None:
    _add_customer(crm, "Acme Corp")
    before = snapshot(store_dir)
    _kill(store_dir, "rename", 1)
    debris = list((store_dir / "customers" / "zz").rglob(".customer.yaml.*.tmp"))
    assert debris  # the kill came between the temp file's write and its rename
    r = crm("customer", "list", "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert snapshot(store_dir) == before
    assert not (store_dir / "customers" / "zz").exists()
    assert run_git(store_dir, "status", "--porcelain", "--untracked-files=all") == ""


def test_recovery_after_a_kill_between_commit_and_index_refresh_is_one_pass(store_dir: Path, crm: Crm,
                                                                            tmp_path: Path) -> None:
    n = 300
    _kill(store_dir, "commit", n)
    assert commits(store_dir)[0] == "Killed"
    trace = tmp_path / "trace.txt"
    r = crm("customer", "list", "--format", "csv", env={"GIT_TRACE": str(trace)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("Ghost") == n
    calls = [line for line in trace.read_text(encoding="utf-8").splitlines() if "trace: built-in: git" in line]
    assert len(calls) <= 8, calls  # a pass, not one git call per path
    assert sum("cat-file" in line for line in calls) == 0  # no lookup per path: one ls-tree
    assert run_git(store_dir, "status", "--porcelain", "--untracked-files=all") == ""
# -- points 3, 4, 9, 10: helpers (validation before writing, damage, values, time order) --

NOW = "2026-11-20T14:30:00+08:00"


@pytest.fixture
def acme(crm, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A customer "Acme" (id acme-...); returns its folder."""
    monkeypatch.setenv("CRM_NOW", NOW)
    r = crm("customer", "add", "Acme")
    assert r.returncode == 0, r.stderr
    return next(store_dir.glob("customers/*/acme-*"))


def journal(folder: Path, year: str = "2026") -> Path:
    path = folder / "journal" / f"{year}.yaml"
    path.parent.mkdir(exist_ok=True)
    return path


def commit_all(root: Path, message: str = "hand edit") -> None:
    import subprocess

    subprocess.run(["git", "add", "-A"], cwd=root, check=True, capture_output=True)
    subprocess.run(["git", "commit", "-qm", message], cwd=root, check=True, capture_output=True)


# -- point 3: validate fully before writing; never fail after the commit --

def test_log_refuses_a_moment_that_overflows_in_utc_and_writes_nothing(crm, acme: Path, store_dir: Path) -> None:
    before = snapshot(store_dir)
    r = crm("log", "acme", "call", "x", "--at", "0001-01-01T00:00:00+14:00")
    assert r.returncode == 4  # a bad option value is an invalid value
    assert r.stderr.strip() == ("crm: error: --at: date out of range in '0001-01-01T00:00:00+14:00': its moment "
                                "in UTC or in local time is outside years 1-9999; give a real date")
    assert snapshot(store_dir) == before
    r = crm("log", "acme", "call", "x", "--at", "9999-12-31T23:00:00-05:00")
    assert r.returncode == 4 and "date out of range" in r.stderr
    assert snapshot(store_dir) == before
    assert crm("show", "acme").returncode == 0


def test_check_flags_an_overflowing_event_on_disk_and_readers_still_work(crm, acme: Path, store_dir: Path) -> None:
    path = journal(acme)
    path.write_text("- {at: '2026-11-19T10:00:00+08:00', kind: call, by: Alice, summary: fine}\n"
                    "- {at: '0001-01-01T00:00:00+14:00', kind: call, by: Alice, summary: bad}\n", encoding="utf-8")
    commit_all(store_dir)
    r = crm("check")
    assert r.returncode == 1
    rel = path.relative_to(store_dir).as_posix()
    assert f"{rel}:2: at: date out of range in '0001-01-01T00:00:00+14:00'" in r.stdout
    for args in (("show", "acme"), ("timeline", "acme")):
        r = crm(*args)
        assert r.returncode == 0, r.stderr
        assert "fine" in r.stdout


# -- point 10: time order is real time --

OPEN = "- {at: '2026-11-20T08:00:00+08:00', kind: opp.open, id: opp-9x2m, by: Alice, title: ERP, amount: 100, " \
       "currency: CNY, stage: lead, owner: Alice}\n"


def stage(at: str, frm: str, to: str) -> str:
    return f"- {{at: '{at}', kind: opp.stage, opp: opp-9x2m, by: Alice, from: {frm}, to: {to}, title: ERP}}\n"


def history(crm) -> tuple[str, list[str]]:
    r = crm("opp", "show", "opp-9x2m")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    current = next(line.split(None, 1)[1] for line in lines if line.startswith("stage "))
    return current, [line.split("  ")[-1].strip() for line in lines if " -> " in line or "opened at" in line]


@pytest.mark.parametrize("first, second", [
    # mixed offsets: 09:00+08:00 is 01:00 UTC; 05:00+00:00 is four hours later, though its text sorts first
    (stage("2026-11-20T09:00:00+08:00", "lead", "qualified"),
     stage("2026-11-20T05:00:00+00:00", "qualified", "proposal")),
    # a union merge put the London teammate's later line (05:00 UTC) before the Shanghai one (01:00 UTC)
    (stage("2026-11-20T05:00:00+00:00", "qualified", "proposal"),
     stage("2026-11-20T09:00:00+08:00", "lead", "qualified")),
    # one instant (01:00 UTC) spelled in two offsets: the second line was written last, so it is newer
    (stage("2026-11-20T09:00:00+08:00", "lead", "qualified"),
     stage("2026-11-20T01:00:00+00:00", "qualified", "proposal")),
], ids=["mixed-offsets", "out-of-order-after-union-merge", "one-instant-keeps-file-order"])
def test_journal_events_fold_by_their_real_moment(crm, acme: Path, first: str, second: str) -> None:
    journal(acme).write_text(OPEN + first + second, encoding="utf-8")
    current, changes = history(crm)
    assert current.startswith("proposal")
    assert changes == ["opened at lead", "lead -> qualified", "qualified -> proposal"]


# -- point 4: never build on damage --

DAMAGED = {
    "bad YAML": ("- {at: '2026-11-19T10:00:00+08:00', kind: call, by: Alice, summary: [unclosed\n",
                 ":2: unreadable YAML: did not find expected ',' or ']'; fix the file or restore it with git"),
    "conflict markers": ("<<<<<<< HEAD\n- {at: '2026-11-19T10:00:00+08:00', kind: call, by: Alice, summary: a}\n"
                         "=======\n- {at: '2026-11-19T11:00:00+08:00', kind: call, by: Bob, summary: b}\n"
                         ">>>>>>> theirs\n", ":1: unmerged git conflict markers; resolve the conflict"),
    "a mapping": ("at: '2026-11-19T10:00:00+08:00'\nkind: call\nby: Alice\nsummary: a\n",
                  ":1: a journal must be a list of events (- at: ...); fix the file or restore it with git"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGED))
def test_writers_refuse_to_append_to_a_journal_they_cannot_parse(crm, acme: Path, store_dir: Path,
                                                                  damage: str) -> None:
    text, message = DAMAGED[damage]
    path = journal(acme)
    path.write_text(text, encoding="utf-8")
    commit_all(store_dir)
    before = snapshot(store_dir)
    rel = path.relative_to(store_dir).as_posix()
    for args in (("log", "acme", "call", "the call", "--at", "2026-11-20 10:00"),
                 ("task", "add", "acme", "send the quote", "--due", "2026-11-25"),
                 ("opp", "add", "acme", "ERP", "--amount", "100")):
        r = crm(*args)
        assert r.returncode == 4, (args, r.stdout, r.stderr)
        assert r.stderr.startswith(f"crm: error: {rel}{message}"), r.stderr
        assert snapshot(store_dir) == before


def test_writers_refuse_a_customer_whose_profile_is_invalid(crm, acme: Path, store_dir: Path) -> None:
    profile = acme / "customer.yaml"
    text = profile.read_text(encoding="utf-8")
    profile.write_text("\n".join(line for line in text.splitlines() if not line.startswith("name:")) + "\n",
                       encoding="utf-8")
    commit_all(store_dir)
    before = snapshot(store_dir)
    r = crm("log", "acme-" + acme.name.split("-")[1], "note", "hello")
    assert r.returncode == 4, r.stdout
    rel = profile.relative_to(store_dir).as_posix()
    assert r.stderr.startswith(f"crm: error: {rel}:1: name is empty; give a name"), r.stderr
    assert "Logged" not in r.stdout
    assert snapshot(store_dir) == before


def test_duplicate_keys_are_an_error_with_path_and_line(crm, acme: Path, store_dir: Path) -> None:
    profile = acme / "customer.yaml"
    profile.write_text(profile.read_text(encoding="utf-8") + "name: Acme Two\n", encoding="utf-8")
    lines = profile.read_text(encoding="utf-8").count("\n")
    commit_all(store_dir)
    rel = profile.relative_to(store_dir).as_posix()
    r = crm("check")
    assert r.returncode == 1
    assert f"{rel}:{lines}: unreadable YAML: duplicate key 'name' (first on line 1); keep one" in r.stdout
    before = snapshot(store_dir)
    r = crm("customer", "edit", acme.name, "--set", "tier=A")
    assert r.returncode == 4
    assert f"{rel}:{lines}: unreadable YAML: duplicate key 'name'" in r.stderr
    assert snapshot(store_dir) == before


# -- point 9: values are what the user typed or refused --

@pytest.mark.parametrize(("amount", "currency", "message"), [
    ("$5", None, "amount '$5': $ means USD but the currency is CNY; give the number alone, or --currency USD"),
    ("€5", "CNY", "amount '€5': € means EUR but the currency is CNY; give the number alone, or --currency EUR"),
    ("1,2,3", None, "amount '1,2,3' has digit groups that are not of three; write 1234567.89 or 1,234,567.89"),
    ("12,34", None, "amount '12,34' has digit groups that are not of three"),
    ("1,234 567", None, "amount '1,234 567' has digit groups that are not of three"),
])
def test_amounts_are_refused_rather_than_misread(crm, acme: Path, store_dir: Path, amount: str,
                                                 currency: str | None, message: str) -> None:
    before = snapshot(store_dir)
    for args in (("order", "add", "acme", "--amount", amount), ("opp", "add", "acme", "ERP", "--amount", amount)):
        r = crm(*args, *(("--currency", currency) if currency else ()))
        assert r.returncode == 4, (args, r.stdout)
        assert r.stderr.startswith(f"crm: error: {message}"), r.stderr
    assert snapshot(store_dir) == before


@pytest.mark.parametrize(("amount", "currency", "shown"), [
    ("$5", "USD", "$5"), ("¥5", None, "¥5"), ("1,234", None, "¥1,234"), ("1,234,567.50", None, "¥1,234,567.50"),
    ("1 234", None, "¥1,234"), ("99.50", None, "¥99.50"),
])
def test_amounts_as_typed_are_kept(crm, acme: Path, amount: str, currency: str | None, shown: str) -> None:
    r = crm("order", "add", "acme", "--amount", amount, *(("--currency", currency) if currency else ()))
    assert r.returncode == 0, r.stderr
    assert f"Added order of {shown} for Acme [" in r.stderr  # the confirmation goes to stderr


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u200b", "\u200d", "\ufeff"])
def test_names_with_bidi_overrides_or_zero_width_characters_are_refused(crm, store_dir: Path, char: str) -> None:
    before = snapshot(store_dir)
    r = crm("customer", "add", f"Evil{char}Corp")
    assert r.returncode == 4
    assert r.stderr == (f"crm: error: name {'Evil' + char + 'Corp'!r} contains invisible characters "
                        "(bidi overrides or zero-width); retype the name without them\n")
    assert snapshot(store_dir) == before


def test_an_empty_free_field_name_is_refused(crm, acme: Path, store_dir: Path) -> None:
    before = snapshot(store_dir)
    r = crm("customer", "edit", acme.name, "--set", "extra.=v")
    assert r.returncode == 2
    assert r.stderr == ("crm: error: --set 'extra.=v': the free field name after extra. is empty "
                        "(like extra.region=north)\n")
    assert snapshot(store_dir) == before


def test_error_messages_quote_at_most_about_80_characters_of_a_value(crm, acme: Path) -> None:
    r = crm("order", "add", "acme", "--amount", "9" * 5000 + "x")
    assert r.returncode == 4
    assert len(r.stderr) < 200, r.stderr
    assert "... (5001 characters) is not a number" in r.stderr


def test_a_field_over_100_kb_is_refused_on_input_and_reported_by_check(crm, acme: Path, store_dir: Path) -> None:
    before = snapshot(store_dir)
    r = crm("log", "acme", "note", "x" * 110_000)
    assert r.returncode == 4
    assert r.stderr == ("crm: error: the new event: summary is 107 KB; the limit for one field is 100 KB "
                        "(keep long documents as files and link them)\n")
    assert snapshot(store_dir) == before
    path = journal(acme)
    path.write_text("- {at: '2026-11-19T10:00:00+08:00', kind: note, by: Alice, summary: fine}\n"
                    f"- {{at: '2026-11-19T11:00:00+08:00', kind: note, by: Alice, summary: {'y' * 200_000}}}\n",
                    encoding="utf-8")
    commit_all(store_dir)
    r = crm("check")
    assert r.returncode == 1
    rel = path.relative_to(store_dir).as_posix()
    assert f"{rel}:2: summary is 195 KB; the limit for one field is 100 KB" in r.stdout


# -- done when: one store with every damage --

EVENT = "- {at: '2026-03-02T10:00:00+00:00', kind: call, by: Alice, summary: fine}\n"


def _damaged_store(crm: Crm, root: Path, outside: Path) -> list[tuple[str, str]]:
    """Every damage issue 13 names, at once, in one store; returns (where, what) that check must print."""
    names = ["Link", "Dir", "Fifo", "Jlink", "Jdir", "Overflow", "Badline", "Dupkey", "Tier", "Bidi", "Big",
             "Debris", "Conflict", "Mapping", "Mail A", "Mail B", "Year", "Kind", "Alias", "Latin", "Gone",
             "Misfiled", "Jdebris"]
    cid = {name: _add(crm, f"{name} Co", "--tier", "B") for name in names}
    assert crm("log", cid["Jlink"], "call", "fine", "--at", "2026-03-02 10:00").returncode == 0
    folder = {name: root / "customers" / c[:2] / c for name, c in cid.items()}
    profile = {name: f / "customer.yaml" for name, f in folder.items()}
    rel = {name: f"customers/{c[:2]}/{c}" for name, c in cid.items()}
    outside.write_text("name: Outside\n", encoding="utf-8")
    expected: list[tuple[str, str]] = []

    def journal_of(name: str, text: str, year: str = "2026") -> str:
        (folder[name] / "journal").mkdir(exist_ok=True)
        (folder[name] / "journal" / f"{year}.yaml").write_text(text, encoding="utf-8")
        return f"{rel[name]}/journal/{year}.yaml"

    # point 1: a tracked .crm (force-added, as a clone would carry it)
    (root / ".crm").mkdir()
    (root / ".crm" / "notes").write_text("planted\n", encoding="utf-8")
    run_git(root, "add", "-f", ".crm")
    run_git(root, "commit", "-q", "-m", "Track .crm")
    expected.append((".crm: ", "tracked by git"))
    # point 2: no symlinks, no special files
    profile["Link"].unlink()
    os.symlink(outside, profile["Link"])
    expected.append((f"{rel['Link']}/customer.yaml: ", "a symlink"))
    profile["Dir"].unlink()
    profile["Dir"].mkdir()
    expected.append((f"{rel['Dir']}/customer.yaml: ", "a folder"))
    profile["Fifo"].unlink()
    os.mkfifo(profile["Fifo"])
    expected.append((f"{rel['Fifo']}/customer.yaml: ", "a FIFO"))
    jpath = folder["Jlink"] / "journal" / "2026.yaml"
    jpath.unlink()
    os.symlink(outside, jpath)
    expected.append((f"{rel['Jlink']}/journal/2026.yaml: ", "a symlink"))
    os.symlink(outside.parent, folder["Jdir"] / "journal")
    expected.append((f"{rel['Jdir']}/journal: ", "a symlink"))
    os.symlink(folder["Jdir"], root / "customers" / cid["Jdir"][:2] / "zz-linked-0000")
    expected.append((f"customers/{cid['Jdir'][:2]}/zz-linked-0000: ", "is a symlink"))
    # point 3: a moment that overflows in UTC, written by hand
    where = journal_of("Overflow", EVENT.replace("2026-03-02T10:00:00+00:00", "0001-01-01T00:00:00+14:00"), "0001")
    expected.append((f"{where}:1: ", "out of range"))
    # point 4: an unparsable line, conflict markers, a mapping, duplicate keys, an invalid profile
    where = journal_of("Badline", EVENT + "- {at: '2026-03-03T10:00:00+00:00', kind: call} oops\n" + EVENT)
    expected.append((f"{where}:2: ", "unreadable YAML"))
    where = journal_of("Conflict", EVENT + "<<<<<<< HEAD\n" + EVENT + "=======\n" + EVENT + ">>>>>>> theirs\n")
    expected.append((f"{where}:2: ", "conflict markers"))
    where = journal_of("Mapping", "at: '2026-03-02T10:00:00+00:00'\nkind: call\n")
    expected.append((f"{where}:1: ", "must be a list"))
    profile["Dupkey"].write_text(profile["Dupkey"].read_text(encoding="utf-8") + "tier: A\n", encoding="utf-8")
    expected.append((f"{rel['Dupkey']}/customer.yaml:6: ", "duplicate key 'tier' (first on line 3)"))
    profile["Tier"].write_text(profile["Tier"].read_text(encoding="utf-8").replace("tier: B", "tier: Z"),
                               encoding="utf-8")
    expected.append((f"{rel['Tier']}/customer.yaml:3: ", "tier 'Z'"))
    # point 8: crash debris next to a profile and a journal
    (folder["Debris"] / ".customer.yaml.123.tmp").write_text("name: Half\n", encoding="utf-8")
    expected.append((f"{rel['Debris']}/.customer.yaml.123.tmp: ", "temporary file"))
    journal_of("Jdebris", EVENT)
    (folder["Jdebris"] / "journal" / ".2026.yaml.77.tmp").write_text(EVENT, encoding="utf-8")
    expected.append((f"{rel['Jdebris']}/journal/.2026.yaml.77.tmp: ", "temporary file"))
    # point 9: an invisible character in a name, a field over 100 KB, written by hand
    profile["Bidi"].write_text(profile["Bidi"].read_text(encoding="utf-8").replace("name: Bidi Co",
                                                                                  'name: "Bidi\\u202eCo"'),
                               encoding="utf-8")
    expected.append((f"{rel['Bidi']}/customer.yaml:1: ", "invisible characters"))
    profile["Big"].write_text(profile["Big"].read_text(encoding="utf-8") + "notes: " + "x" * 110_000 + "\n",
                              encoding="utf-8")
    expected.append((f"{rel['Big']}/customer.yaml:6: ", "100 KB"))
    # and the rest check knows: duplicate email, wrong year file, unknown kind, alias, not UTF-8, no profile,
    # a folder under the wrong shard
    for name in ("Mail A", "Mail B"):
        profile[name].write_text(profile[name].read_text(encoding="utf-8") + "email: same@x.example\n",
                                 encoding="utf-8")
    expected.append((f"{rel['Mail B']}/customer.yaml:6: ", "duplicate email same@x.example"))
    where = journal_of("Year", EVENT, "2025")
    expected.append((f"{where}:1: ", "filed in 2025.yaml"))
    where = journal_of("Kind", EVENT + EVENT.replace("kind: call", "kind: telepathy"))
    expected.append((f"{where}:2: ", "kind 'telepathy'"))
    where = journal_of("Alias", "- &a {at: '2026-03-02T10:00:00+00:00', kind: call, by: Alice, summary: x}\n- *a\n")
    expected.append((f"{where}:2: ", "aliases"))
    profile["Latin"].write_bytes(profile["Latin"].read_bytes() + "notes: caf\u00e9\n".encode("latin-1"))
    expected.append((f"{rel['Latin']}/customer.yaml: ", "not UTF-8"))
    profile["Gone"].unlink()
    expected.append((f"{rel['Gone']}: ", "customer.yaml is missing"))
    misfiled = root / "customers" / "zz" / cid["Misfiled"]
    misfiled.parent.mkdir()
    folder["Misfiled"].rename(misfiled)
    journal_of_misfiled = misfiled / "journal"
    journal_of_misfiled.mkdir()
    (journal_of_misfiled / "2026.yaml").write_text("- {at: x} oops\n", encoding="utf-8")
    expected.append((f"customers/zz/{cid['Misfiled']}: ", "filed under zz/"))
    expected.append((f"customers/zz/{cid['Misfiled']}/journal/2026.yaml:1: ", "unreadable YAML"))
    return expected


def test_check_names_every_damage_of_one_store_with_path_and_line(crm: Crm, store_dir: Path,
                                                                   tmp_path: Path) -> None:
    expected = _damaged_store(crm, store_dir, tmp_path / "outside.yaml")
    r = crm("check")
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    missing = [(where, what) for where, what in expected
               if not any(line.startswith(where) and what in line for line in lines)]
    assert missing == [], "\n".join(lines)  # every damage, each at its path[:line], none hiding another
    assert r.stderr == f"{len(lines)} problems found\n"

    r = crm("check", "--format", "json")
    assert r.returncode == 1, r.stderr
    listed = {f"{p['path']}:{p['line']}: " if p["line"] else f"{p['path']}: " for p in json.loads(r.stdout)}
    assert listed == {line[:line.index(": ") + 2] for line in lines}  # the same places as the text

    r = crm("check", "--all")  # from scratch, in two processes: the same list
    assert (r.returncode, r.stdout.splitlines()) == (1, lines)
    assert not (store_dir / "customers" / "zz" / "zz-linked-0000" / "customer.yaml").is_symlink()
    assert (tmp_path / "outside.yaml").read_text(encoding="utf-8") == "name: Outside\n"  # never written through
# -- point 7: deal and ticket history --------------------------------------------------------------------------------
_NOW = {"CRM_NOW": "2026-11-01T09:00:00+08:00"}


def _at(crm: Crm, when: str, *args: str, who: str = "Alice Example <alice@example.com>") -> str:
    r = crm(*args, env={"CRM_NOW": when, "CRM_AUTHOR": who})
    assert r.returncode == 0, r.stderr
    return r.stdout + r.stderr


def _local_id(prefix: str, text: str) -> str:
    m = re.search(prefix + r"-[0-9a-z]{4,}", text)
    assert m, text
    return m[0]


def _deals_and_tickets(crm: Crm) -> tuple[str, list[str]]:
    """A customer with a won deal (three stages, a close-date and amount change, two people), a lost one, an open
    one, a closed ticket (comments, an internal note, status changes, resolution, CSAT) and an open ticket.
    Commands run at times out of order, so the journal is not in time order."""
    cid = _at(crm, "2026-09-01T09:00:00+08:00", "customer", "add", "Acme Corp").splitlines()[0].strip()
    won = _local_id("opp", _at(crm, "2026-09-02T10:00:00+08:00", "opp", "add", cid, "ERP rollout", "--amount",
                               "120000", "--close", "2026-12-31"))
    _at(crm, "2026-09-10T10:00:00+08:00", "opp", "advance", won)
    _at(crm, "2026-09-20T11:00:00+08:00", "opp", "advance", won, "negotiation", who="Bob Example <bob@example.com>")
    _at(crm, "2026-09-21T11:00:00+08:00", "opp", "edit", won, "--set", "close=2027-01-31", "--set", "amount=130000")
    _at(crm, "2026-10-05T16:00:00+08:00", "opp", "win", won)
    lost = _local_id("opp", _at(crm, "2026-09-03T10:00:00+08:00", "opp", "add", cid, "Support plan", "--amount",
                                "5000"))
    _at(crm, "2026-09-15T10:00:00+08:00", "opp", "lose", lost, "--reason", "Went with a competitor")
    open_deal = _local_id("opp", _at(crm, "2026-10-10T10:00:00+08:00", "opp", "add", cid, "=Training", "--amount",
                                     "800", "--close", "2026-11-30"))
    _at(crm, "2026-10-12T10:00:00+08:00", "opp", "advance", open_deal)
    _at(crm, "2026-10-12T10:00:00+08:00", "opp", "advance", open_deal)  # two equal-looking steps in one second
    closed = _local_id("tkt", _at(crm, "2026-10-01T09:00:00+08:00", "ticket", "open", cid, "Login fails",
                                  "--priority", "high", "--category", "bug", "-m", "Since the update"))
    _at(crm, "2026-10-01T10:30:00+08:00", "ticket", "comment", closed, "Reproduced; fix on the way",
        who="Bob Example <bob@example.com>")
    _at(crm, "2026-10-01T11:00:00+08:00", "ticket", "comment", closed, "Check the SSO config", "--internal")
    _at(crm, "2026-10-01T12:00:00+08:00", "ticket", "status", closed, "in-progress")
    _at(crm, "2026-10-02T12:00:00+08:00", "ticket", "status", closed, "resolved")
    _at(crm, "2026-10-03T09:00:00+08:00", "ticket", "close", closed, "--resolution", "Config fixed", "--csat", "5")
    waiting = _local_id("tkt", _at(crm, "2026-10-04T09:00:00+08:00", "ticket", "open", cid, "Invoice question"))
    _at(crm, "2026-10-04T09:30:00+08:00", "ticket", "comment", waiting, "+Sent the copy")
    return cid, [won, lost, open_deal, closed, waiting]


def _views(root: Path, cid: str, ids: list[str]) -> dict[str, str]:
    """What a user sees of the deals and tickets: each one shown, the timeline, the pipeline and service reports."""
    import os

    env = {**os.environ, **_NOW}
    out = {}
    commands = [["opp" if i.startswith("opp-") else "ticket", "show", f"{cid}/{i}", "--format", "json"] for i in ids]
    commands += [["timeline", "--all", "--format", "json"], ["opp", "list", "--format", "json"],
                 ["ticket", "list", "--format", "json"], ["report", "pipeline", "--format", "json"],
                 ["report", "service", "--format", "json"]]
    for args in commands:
        r = subprocess.run([sys.executable, "-m", "crmcli", *args], cwd=root, capture_output=True, text=True,
                           env=env, timeout=120)
        assert r.returncode == 0, (args, r.stderr)
        out[" ".join(args)] = r.stdout
    return out


def _journal_events(root: Path) -> list[str]:
    return sorted(line for f in root.glob("customers/*/*/journal/*.yaml")
                  for line in f.read_text(encoding="utf-8").splitlines() if ".open" in line or "kind: opp." in line
                  or "kind: ticket." in line)


def _round_trip(crm: Crm, store_dir: Path, tmp_path: Path, cid: str, ids: list[str], fmt: str,
                expected: dict[str, str]) -> None:
    """``expected``: ``_views`` of ``store_dir``, made once for every format."""
    if fmt == "csv":  # one kind a file: the customers first, then the history; the opps and tickets rows add nothing
        files: list[tuple[Path, str | None]] = []
        for kind in ("customers", "history", "opps", "tickets"):
            files.append((tmp_path / f"{kind}.csv", kind))
            assert crm("export", "--kind", kind, "-o", str(files[-1][0]), env=_NOW).returncode == 0
        assert "opp.stage" in (tmp_path / "history.csv").read_text(encoding="utf-8")
    else:
        files = [(tmp_path / f"all.{fmt}", None)]
        assert crm("export", "-o", str(files[0][0]), env=_NOW).returncode == 0
    target = _init(tmp_path / f"target-{fmt}")
    for path, kind in files:
        r = crm("import", str(path), *(["--kind", kind] if kind else []), cwd=target,
                env={**_NOW, "CRM_AUTHOR": "Carol Import <carol@example.com>"})
        assert r.returncode == 0, r.stderr
    if fmt != "csv":  # each opening counts with its deals or tickets; the events after it as history
        assert commits(target)[0].startswith(f"Import 1 customers, 3 opps, 2 tickets, 13 history from all.{fmt}")
    else:
        assert commits(target)[0].startswith("Import 3 opps, 2 tickets, 13 history from history.csv")
    # before: the opening stamped at import time by the importer, no stage changes, comments or status changes
    assert _journal_events(target) == _journal_events(store_dir), fmt
    assert _views(target, cid, ids) == expected, fmt
    # a second import adds nothing
    head = commits(target)
    for path, kind in files:
        r = crm("import", str(path), *(["--kind", kind] if kind else []), cwd=target, env=_NOW)
        assert r.returncode == 0 and "Nothing to import" in r.stderr, r.stderr
    assert commits(target) == head
    # export -> import -> export: the same bytes
    if fmt != "xlsx":
        for path, kind in files:
            again = tmp_path / f"again-{path.name}"
            assert crm("export", *(["--kind", kind] if kind else []), "-o", str(again), cwd=target,
                       env=_NOW).returncode == 0
            assert again.read_bytes() == path.read_bytes(), path.name


def test_deal_and_ticket_history_round_trips_exactly(crm: Crm, store_dir: Path, tmp_path: Path) -> None:
    cid, ids = _deals_and_tickets(crm)  # built once (about 20 commands), imported three ways
    expected = _views(store_dir, cid, ids)
    service = json.loads(expected["report service --format json"])
    assert service, "the service report has figures to compare"
    for fmt in ("xlsx", "json", "csv"):
        _round_trip(crm, store_dir, tmp_path, cid, ids, fmt, expected)
    # a file written by an older crm (no history) still imports as before: deals and tickets at their current state
    doc = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    del doc["history"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(doc), encoding="utf-8")
    target = _init(tmp_path / "target-old")
    r = crm("import", str(old), cwd=target, env=_NOW)
    assert r.returncode == 0, r.stderr
    assert "3 opps" in r.stderr and "2 tickets" in r.stderr, r.stderr
    deals = json.loads(crm("opp", "list", "--format", "json", cwd=target, env=_NOW).stdout)
    assert sorted(d["stage"] for d in deals) == ["lost", "proposal", "won"], deals


def test_a_history_row_of_an_unknown_deal_is_refused_with_its_row(crm: Crm, store_dir: Path, tmp_path: Path) -> None:
    cid = _add(crm, "Acme Corp")
    f = tmp_path / "history.csv"
    f.write_text("customer,id,at,kind,by,fields\n"
                 f"{cid},opp-aaaa,2026-09-02T10:00:00+08:00,opp.open,Alice,\"{{\"\"title\"\": \"\"ERP\"\", "
                 f"\"\"amount\"\": 100, \"\"stage\"\": \"\"Lead\"\"}}\"\n"
                 f"{cid},opp-bbbb,2026-09-03T10:00:00+08:00,opp.stage,Alice,\"{{\"\"from\"\": \"\"lead\"\", "
                 f"\"\"to\"\": \"\"qualified\"\"}}\"\n"
                 f"{cid},opp-aaaa,2026-09-04T10:00:00+08:00,opp.stage,Alice,\"{{\"\"from\"\": \"\"LEAD\"\", "
                 f"\"\"to\"\": \"\"wonn\"\"}}\"\n", encoding="utf-8")
    before = snapshot(store_dir)
    r = crm("import", str(f), "--kind", "history")
    assert r.returncode == 4, r.stderr
    assert (f"history.csv:row 3, column id: no deal opp-bbbb at {cid} in the store or this file; the history needs "
            "its opp.open row") in r.stderr
    assert "history.csv:row 4, column fields: to 'wonn' is not a stage; use one of:" in r.stderr
    f2 = tmp_path / "nested.json"  # the file is data: no nested values, no odd field names
    f2.write_text(json.dumps({"history": [
        {"customer": cid, "id": "opp-cccc", "at": "2026-09-02T10:00:00+08:00", "kind": "opp.open", "by": "Alice",
         "fields": {"title": ["a", "b"], "amount": 1, "stage": "lead"}},
        {"customer": cid, "id": "opp-dddd", "at": "2026-09-02T10:00:00+08:00", "kind": "opp.open", "by": "Alice",
         "fields": {"title": "x", "amount": 1, "stage": "lead", "Bad Key": 1}}]}), encoding="utf-8")
    r = crm("import", str(f2))
    assert r.returncode == 4, r.stderr
    assert "nested.json:record 1, column fields: title must be text, a number, true or false" in r.stderr
    assert "nested.json:record 2, column fields: 'Bad Key' is not a field name" in r.stderr
    assert snapshot(store_dir) == before
    # fixed: stage names match case-insensitively, as on the opps sheet
    f.write_text("\n".join(f.read_text(encoding="utf-8").splitlines()[:2] + [
        f"{cid},opp-aaaa,2026-09-04T10:00:00+08:00,opp.stage,Alice,\"{{\"\"from\"\": \"\"LEAD\"\", "
        f"\"\"to\"\": \"\"Qualified\"\"}}\""]) + "\n", encoding="utf-8")
    r = crm("import", str(f), "--kind", "history")
    assert r.returncode == 0, r.stderr
    shown = json.loads(crm("opp", "show", f"{cid}/opp-aaaa", "--format", "json").stdout)
    assert shown["stage"] == "qualified", shown

