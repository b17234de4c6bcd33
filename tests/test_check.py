"""`crm check`: every problem as path:line: message, exit 1; a clean store says so and exits 0."""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from crmcli.actions.check import run_checks
from crmcli.store.location import open_store
from tests.conftest import git

STAGES = "lead, prospect, customer, repeat, loyal, churned"
BOMB = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
name: Bomb
"""


def add(invoke, name: str, *args: str) -> str:
    r = invoke("customer", "add", name, *args)
    assert r.exit_code == 0, r.output
    return r.stdout.strip()


def rel(cid: str, file: str = "customer.yaml") -> str:
    return f"customers/{cid[:2]}/{cid}/{file}"


def snapshot(root: Path) -> tuple:
    files = {}
    for p in sorted(root.rglob("*")):
        r = p.relative_to(root)
        if r.parts[0] in (".git", ".crm"):
            continue
        files[r.as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
    return (files, git(root, "rev-parse", "HEAD"),
            git(root, "status", "--porcelain", "--untracked-files=all"))


def test_clean_store(invoke, store_dir: Path) -> None:
    r = invoke("check")
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "No problems found.\n")
    add(invoke, "Acme Corp", "--email", "info@acme.example", "--birthday", "2000-02-29", "--tier", "A",
        "--contact", "Jane <jane@acme.example>")
    add(invoke, "深圳市基石协作科技有限公司", "--contact", "李娜 <li.na@example.cn>", "--stage", "customer")
    r = invoke("check")
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "No problems found.\n")
    r = invoke("check", "--format", "json")
    assert (r.exit_code, json.loads(r.stdout)) == (0, [])


def write(root: Path, path: str, text: str | bytes) -> None:
    full = root / path
    full.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        full.write_bytes(text)
    else:
        full.write_text(text, encoding="utf-8")


def test_every_kind_of_problem_is_located(invoke, store_dir: Path) -> None:
    c = {name: add(invoke, name) for name in ("Stage", "Dates", "Mail", "Dup", "Conflict", "Broken", "Bomb",
                                              "Latin", "List", "Journal", "Created")}
    write(store_dir, rel(c["Stage"]), "name: Stage\nkind: company\nstage: sleeping\ntier: Z\n")
    write(store_dir, rel(c["Dates"]), "name: Dates\nbirthday: 2026-02-30\ncontacts:\n- name: Kid\n"
                                      "  birthday: 20/11/2026\n")
    write(store_dir, rel(c["Mail"]), "name: Mail\nemail: Shared@Example.com\ncontacts:\n- name: Bad\n"
                                     "  email: bad-at-example.com\n")
    write(store_dir, rel(c["Dup"]), "name: Dup\ncontacts:\n- name: Other\n  email: other@example.com\n"
                                    "- name: Same\n  email: shared@example.COM\n")
    write(store_dir, rel(c["Conflict"]), "name: Conflict\n<<<<<<< HEAD\ntier: A\n=======\ntier: B\n"
                                         ">>>>>>> theirs\n")
    write(store_dir, rel(c["Broken"]), "name: Broken\ntags: [a, b\nstage: lead\n")
    write(store_dir, rel(c["Bomb"]), BOMB)
    write(store_dir, rel(c["Latin"]), "name: Caf\xe9\n".encode("latin-1"))
    write(store_dir, rel(c["List"]), "- name: List\n")
    write(store_dir, rel(c["Created"]), "name: Created\ncreated: last tuesday\ntouch_every: often\n"
                                        "tags: {a: 1}\n")
    write(store_dir, rel(c["Journal"], "journal/2026.yaml"),
          "- at: 2026-11-20T14:30:00+08:00\n  kind: note\n"
          "- at: 2025-01-01T10:00:00+08:00\n  kind: note\n"
          "- at: yesterday\n  kind: note\n"
          "- just text\n"
          "- at: 2026-11-21T09:00:00+08:00\n  kind: teleport\n")
    write(store_dir, rel(c["Journal"], "journal/2025.yaml"), "at: 2025-01-01T10:00:00+08:00\n")
    write(store_dir, "customers/zz/Bad_Folder/customer.yaml", "name: Bad folder\n")
    write(store_dir, "customers/zz/acme-corp-7k2m/customer.yaml", "name: Misfiled\n")
    (store_dir / "customers" / "no").mkdir()
    (store_dir / "customers" / "no" / "no-file-abcd").mkdir()
    before = snapshot(store_dir)

    r = invoke("check")
    assert r.exit_code == 1, r.output
    lines = r.stdout.splitlines()
    unknown_kind = [line for line in lines if "teleport" in line]
    assert len(unknown_kind) == 1
    assert unknown_kind[0].startswith(f"{rel(c['Journal'], 'journal/2026.yaml')}:9: kind 'teleport' is not an "
                                      "interaction type or event (one of: call, chat, email, meeting, note, sms, "
                                      "visit")
    expected = [
        f"{rel(c['Stage'])}:3: lifecycle stage 'sleeping' is not one of: {STAGES}",
        f"{rel(c['Stage'])}:4: tier 'Z' is not one of: A, B, C, D",
        f"{rel(c['Dates'])}:2: birthday '2026-02-30' is not a real date",
        f"{rel(c['Dates'])}:5: birthday '20/11/2026' is not a date (YYYY-MM-DD)",
        f"{rel(c['Mail'])}:5: email 'bad-at-example.com' is not an email address (like name@example.com)",
        f"{rel(c['Mail'])}:2: duplicate email shared@example.com (also in {rel(c['Dup'])}); keep it on one customer",
        f"{rel(c['Conflict'])}:2: unmerged git conflict markers; resolve the conflict (keep the right lines, delete "
        "the markers) and commit",
        f"{rel(c['Broken'])}:3: unreadable YAML: did not find expected ',' or ']'; fix the file or restore it "
        "with git",
        f"{rel(c['Bomb'])}:2: YAML aliases (*name) are not allowed in records; write the value out",
        f"{rel(c['Latin'])}: not UTF-8 text; re-save it as UTF-8",
        f"{rel(c['List'])}:1: customer.yaml must be a mapping of fields (name: ..., tier: ...)",
        f"{rel(c['Created'])}:2: created 'last tuesday' is not a date and time (ISO 8601, like "
        "2026-11-20T14:30:00+08:00)",
        f"{rel(c['Created'])}:3: touch_every 'often' is not a period (like 30d, 2w, 3m)",
        f"{rel(c['Created'])}:4: tags must be a list of words",
        f"{rel(c['Journal'], 'journal/2025.yaml')}:1: a journal must be a list of events (- at: ...)",
        f"{rel(c['Journal'], 'journal/2026.yaml')}:3: event of 2025 filed in 2026.yaml; move it to "
        "journal/2025.yaml",
        f"{rel(c['Journal'], 'journal/2026.yaml')}:5: at 'yesterday' is not a date and time (ISO 8601, like "
        "2026-11-20T14:30:00+08:00)",
        f"{rel(c['Journal'], 'journal/2026.yaml')}:7: each journal event must be a mapping (at: ..., kind: ...)",
        unknown_kind[0],
        "customers/no/no-file-abcd: customer.yaml is missing; restore it with git or remove the folder",
        "customers/zz/Bad_Folder: folder name 'Bad_Folder' is not a valid id (lowercase letters, digits and single "
        "hyphens)",
        "customers/zz/acme-corp-7k2m: customer acme-corp-7k2m is filed under zz/; move it to customers/ac/",
    ]
    assert sorted(lines) == sorted(expected)
    assert r.stderr == f"{len(expected)} problems found\n"
    # ordered by file, then line
    keys = [(line.split(":")[0], int(line.split(":")[1]) if line.split(":")[1].isdigit() else 0) for line in lines]
    assert keys == sorted(keys)

    r = invoke("check", "--format", "json")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    assert [f"{p['path']}:{p['line']}: {p['message']}" if p["line"] else f"{p['path']}: {p['message']}"
            for p in data] == lines
    assert data[0].keys() == {"path", "line", "message"}
    assert snapshot(store_dir) == before


def test_one_problem_gives_singular_summary_and_paths_follow_the_cwd(invoke, store_dir: Path, monkeypatch) -> None:
    cid = add(invoke, "Acme Corp")
    path = store_dir / rel(cid)
    path.write_text(path.read_text().replace("stage: lead", "stage: won"))
    monkeypatch.chdir(store_dir / "customers")
    r = invoke("check")
    assert r.exit_code == 1
    assert r.stdout == f"ac/{cid}/customer.yaml:3: lifecycle stage 'won' is not one of: {STAGES}\n"
    assert r.stderr == "1 problem found\n"


def test_missing_customers_folder(store_dir: Path) -> None:
    (store_dir / "customers" / ".gitkeep").unlink()
    (store_dir / "customers").rmdir()
    problems = run_checks(open_store(None))
    assert [str(p) for p in problems] == ["customers: customers/ folder is missing; create it (mkdir customers)"]


def test_check_through_the_real_entry_point(crm, store_dir: Path) -> None:
    p = crm("check")
    assert (p.returncode, p.stdout, p.stderr) == (0, "", "No problems found.\n")
    cid = crm("customer", "add", "Acme Corp").stdout.strip()
    (store_dir / rel(cid)).write_text(BOMB)
    p = crm("check")
    assert p.returncode == 1
    assert p.stdout == f"{rel(cid)}:2: YAML aliases (*name) are not allowed in records; write the value out\n"
    p = crm("customer", "show", cid)
    assert p.returncode == 4
    assert p.stderr == (f"crm: error: {rel(cid)}:2: YAML aliases (*name) are not allowed in records; write the "
                        "value out\n")


# -- incremental check: only folders whose files moved are read again ---------------------------------------------
def _age(root: Path, seconds: float = 10) -> None:
    """Make every record file look older than the racy window, as files are between real commands."""
    import os
    import time

    old = time.time() - seconds
    for p in (root / "customers").rglob("*"):
        os.utime(p, (old, old), follow_symlinks=False)


def test_incremental_check_sees_a_hand_edit_made_after_a_clean_run(crm, store_dir: Path) -> None:
    a = crm("customer", "add", "Acme Corp").stdout.strip()
    b = crm("customer", "add", "Beta Ltd").stdout.strip()
    _age(store_dir)
    assert crm("check").returncode == 0          # fills the cache
    assert crm("check").returncode == 0          # answered from it
    path = store_dir / rel(b)
    path.write_text(path.read_text().replace("stage: lead", "stage: won"))
    _age(store_dir)                              # an edit with an old mtime still changes ctime and size
    p = crm("check")
    assert (p.returncode, p.stdout) == (1, f"{rel(b)}:3: lifecycle stage 'won' is not one of: {STAGES}\n")
    path.write_text(path.read_text().replace("stage: won", "stage: lead"))
    assert crm("check").returncode == 0, a


def test_incremental_check_follows_crm_yaml_and_keeps_store_wide_checks(crm, store_dir: Path) -> None:
    crm("customer", "add", "Acme Corp", "--email", "info@acme.example")
    b = crm("customer", "add", "Beta Ltd", "--tier", "C").stdout.strip()
    _age(store_dir)
    assert crm("check").returncode == 0
    config = store_dir / "crm.yaml"
    original = config.read_text()
    config.write_text(original.replace("- C\n", "", 1))  # tier C no longer exists: cached answers are stale
    p = crm("check")
    assert p.returncode == 1 and f"{rel(b)}:" in p.stdout and "tier 'C'" in p.stdout, p.stdout + p.stderr
    config.write_text(original)
    assert crm("check").returncode == 0
    # the first holder of the email is answered from the cache; the duplicate is still found
    path = store_dir / rel(b)
    path.write_text(path.read_text() + "email: info@acme.example\n")
    p = crm("check")
    assert p.returncode == 1
    assert p.stdout.startswith(f"{rel(b)}:") and "duplicate email info@acme.example" in p.stdout


def test_check_all_in_two_processes_equals_the_sequential_check(store_dir: Path, monkeypatch, crm) -> None:
    from crmcli.actions import check_index

    for name in ("Acme Corp", "Beta Ltd", "Gamma GmbH", "深圳市基石协作科技有限公司"):
        assert crm("customer", "add", name).returncode == 0
    cid = crm("customer", "add", "Delta").stdout.strip()
    (store_dir / rel(cid)).write_text("name: Delta\nstage: nowhere\n")
    monkeypatch.setattr(check_index, "PARALLEL_FROM", 1)
    parallel = run_checks(open_store(None), full=True, jobs=2)
    sequential = run_checks(open_store(None), full=True, jobs=1)
    assert parallel == sequential and len(sequential) >= 1


# -- incremental by git, and the index checked against the files --------------------------------------------------
def _index(root: Path):  # noqa: ANN202
    import sqlite3

    return sqlite3.connect(root / ".git" / "crm" / "cache" / "index.sqlite", isolation_level=None)


def _settle(store_dir: Path) -> None:
    """Files written within the last two seconds are read again by the next command until their stat data
    settles (git's "racily clean" rule); put them in the past so a test's next steps see only its own changes."""
    past = time.time() - 60
    for path in (store_dir / "customers").rglob("*.yaml"):
        os.utime(path, (past, past))


def test_incremental_check_reads_what_git_says_changed_and_all_reads_everything(crm, store_dir: Path,
                                                                                tmp_path: Path) -> None:
    a = crm("customer", "add", "Acme Corp").stdout.strip()
    b = crm("customer", "add", "Beta Ltd").stdout.strip()
    _settle(store_dir)
    assert crm("check").returncode == 0
    assert (store_dir / ".git" / "crm" / "check-state.marshal").exists()
    # a change git is told to ignore is not read again: proof that unchanged customers are skipped ...
    git(store_dir, "update-index", "--assume-unchanged", rel(a))
    (store_dir / rel(a)).write_text((store_dir / rel(a)).read_text().replace("stage: lead", "stage: gone"))
    assert crm("check").returncode == 0
    p = crm("check", "--all")  # ... while --all reads every file (and finds the index behind it, too)
    assert p.returncode == 1 and f"{rel(a)}:3: lifecycle stage 'gone' is not one of: {STAGES}\n" in p.stdout
    git(store_dir, "update-index", "--no-assume-unchanged", rel(a))
    git(store_dir, "checkout", "--", rel(a))
    assert crm("check").returncode == 0  # a customer with a problem is always read again
    # a commit pulled from a second clone is read
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(store_dir), str(clone))
    path = clone / rel(b)
    path.write_text(path.read_text() + "tier: Z\n")
    git(clone, "commit", "-qam", "tier Z")
    git(store_dir, "pull", "-q", str(clone), "main")
    p = crm("check")
    assert p.returncode == 1 and p.stdout.startswith(f"{rel(b)}:") and "tier 'Z'" in p.stdout, p.stdout + p.stderr
    git(store_dir, "reset", "-q", "--hard", "HEAD~1")  # and a reset back
    assert crm("check").returncode == 0
    # a temp file a killed write left, untracked, is seen
    (store_dir / rel(b, ".customer.yaml.123.tmp")).write_text("x")
    p = crm("check")
    assert p.returncode == 1 and "temporary file" in p.stdout


def test_check_reports_and_rebuilds_index_rows_that_disagree_with_the_files(crm, store_dir: Path) -> None:
    a = crm("customer", "add", "Acme Corp", "--tier", "A").stdout.strip()
    b = crm("customer", "add", "Beta Ltd", "--tier", "B").stdout.strip()
    assert crm("task", "add", b, "call back", "--due", "tomorrow").returncode == 0
    assert crm("check").returncode == 0
    expected = json.loads(crm("customer", "list", "--format", "json").stdout)
    tasks = json.loads(crm("task", "list", "--format", "json").stdout)
    assert len(tasks) == 1
    _settle(store_dir)
    assert crm("customer", "list").returncode == 0  # the index reads the settled stat data
    db = _index(store_dir)
    db.execute("UPDATE customers SET tier = 'c', name = 'Wrong' WHERE id = ?", (a,))  # stat data still matches
    db.execute("DELETE FROM tasks WHERE customer = ?", (b,))
    db.execute("DELETE FROM f_tasks WHERE _cid = ?", (b,))  # the facts the reports and task list read
    db.close()
    assert json.loads(crm("customer", "list", "--format", "json").stdout) == expected  # rows are read from JSON
    assert crm("task", "list", "--format", "json").stdout.strip() == "[]"  # the damage shows
    assert crm("check").returncode == 0  # nothing changed since the last check: nothing read
    p = crm("check", "--all")  # every customer read and compared with its index rows
    disagree = "the index disagreed with these files (a stale or damaged row); its rows were rebuilt from the files"
    assert p.returncode == 1, p.stdout + p.stderr
    assert sorted(p.stdout.splitlines()) == sorted(f"customers/{c[:2]}/{c}: {disagree}" for c in (a, b)), p.stdout
    assert json.loads(crm("task", "list", "--format", "json").stdout) == tasks
    assert crm("check", "--all").returncode == 0
    db = _index(store_dir)
    assert db.execute("SELECT tier, name FROM customers WHERE id = ?", (a,)).fetchone() == ("a", "Acme Corp")
