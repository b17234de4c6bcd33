"""A good Unix citizen (issue 18, scripts): -o -, crm import -, exit 9 for --skip-invalid, exit codes as documented.

Every test runs the real ``crm`` entry point in a subprocess.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest

from crmcli import errors

README = Path(__file__).resolve().parent.parent / "README.md"


def _add(crm, name: str, *args: str) -> str:
    p = crm("customer", "add", name, *args)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def _break(store_dir: Path, cid: str) -> None:
    path = store_dir / "customers" / cid[:2] / cid / "customer.yaml"
    path.write_text("name: Gamma GmbH\nkind: [unclosed\n", encoding="utf-8")


# -- 1. -o - is standard output; -o PATH makes its folders; export --format ------------------------------------


def test_export_dash_writes_to_stdout_in_the_format_asked(crm, store_dir: Path) -> None:
    _add(crm, "Acme Corp")
    r = crm("export", "--kind", "customers", "-o", "-", "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert [row["name"] for row in csv.DictReader(io.StringIO(r.stdout))] == ["Acme Corp"]
    assert r.stderr == ""  # the "Exported ..." summary shows only on a terminal: cron mails nothing
    assert not (store_dir / "-").exists()
    r = crm("export", "-o", "-", "-f", "json")
    assert r.returncode == 0, r.stderr
    assert [c["name"] for c in json.loads(r.stdout)["customers"]] == ["Acme Corp"]
    r = crm("export", "--kind", "contacts", "-o", "-", "-f", "vcf")
    assert r.returncode == 0 and r.stdout == ""  # no contacts: an empty vCard file


def test_export_dash_needs_a_format_and_format_overrides_the_extension(crm, store_dir: Path, tmp_path: Path) -> None:
    _add(crm, "Acme Corp")
    r = crm("export", "-o", "-")
    assert r.returncode == 2
    assert r.stderr == "crm: error: -o - writes to standard output: give --format (xlsx, csv, json, vcf or ics)\n"
    out = tmp_path / "customers.txt"
    r = crm("export", "--kind", "customers", "-o", str(out), "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text(encoding="utf-8"))[0]["name"] == "Acme Corp"
    xlsx = subprocess.run([sys.executable, "-m", "crmcli", "export", "-o", "-", "-f", "xlsx"], cwd=store_dir,
                          capture_output=True)
    assert xlsx.returncode == 0 and xlsx.stdout[:2] == b"PK"  # a zip: the workbook, piped


def test_xlsx_to_a_terminal_is_refused(store_dir: Path) -> None:
    pytest.importorskip("pty")
    code = PTY_RUN
    for args in (["export", "-o", "-", "-f", "xlsx"], ["report", "pipeline", "-o", "-", "-f", "xlsx"]):
        r = subprocess.run([sys.executable, "-c", code, *args], cwd=store_dir, capture_output=True, text=True,
                           timeout=120)
        lines = r.stdout.splitlines()
        assert lines[0] == "2", r.stdout + r.stderr
        assert "xlsx is binary" in r.stdout


def test_output_creates_missing_folders(crm, store_dir: Path, tmp_path: Path) -> None:
    _add(crm, "Acme Corp")
    out = tmp_path / "a" / "b" / "customers.csv"
    r = crm("export", "--kind", "customers", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "Acme Corp" in out.read_text(encoding="utf-8")
    report = tmp_path / "reports" / "2026" / "pipeline.md"
    r = crm("report", "pipeline", "-o", str(report))
    assert r.returncode == 0, r.stderr
    assert report.read_text(encoding="utf-8").startswith("#")


@pytest.mark.parametrize("name", ["weekly", "pipeline", "service", "customers"])
def test_every_report_writes_dash_to_stdout(crm, store_dir: Path, name: str) -> None:
    r = crm("report", name, "-o", "-", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert isinstance(json.loads(r.stdout), dict)
    assert not (store_dir / "-").exists()
    now = {"CRM_NOW": "2026-11-23T10:00:00+08:00"}  # the table shows "as of" to the minute
    table = crm("report", name, "-o", "-", env=now)  # no --format: the terminal table, as without -o
    assert table.returncode == 0 and table.stdout == crm("report", name, env=now).stdout


# -- 2. crm import - ---------------------------------------------------------------------------------------------


def test_import_dash_reads_standard_input(crm, store_dir: Path) -> None:
    r = crm("import", "-", "--kind", "customers", input="name,email\nAcme Corp,info@acme.example\n")
    assert r.returncode == 0, r.stderr
    listed = json.loads(crm("customer", "list", "--format", "json").stdout)
    assert [c["name"] for c in listed] == ["Acme Corp"]
    r = crm("import", "-", "--input-format", "json", "--kind", "customers", input=json.dumps([{"name": "Beta Ltd"}]))
    assert r.returncode == 0, r.stderr
    assert len(json.loads(crm("customer", "list", "--format", "json").stdout)) == 2


def test_import_dash_without_kind_is_one_clear_line(crm, store_dir: Path) -> None:
    r = crm("import", "-", input="name\nAcme Corp\n")
    assert r.returncode == 2
    assert r.stderr == ("crm: error: crm import -: cannot tell what the rows of standard input are; give --kind "
                        "(customers, contacts, interactions, ...)\n")
    r = crm("import", "leads.csv", "--input-format", "csv")
    assert r.returncode == 2 and "--input-format is for standard input" in r.stderr


# -- 3. --skip-invalid: exit 9 when something was left out ------------------------------------------------------


def test_skip_invalid_exits_partial_when_something_was_left_out(crm, store_dir: Path, tmp_path: Path) -> None:
    _add(crm, "Acme Corp")
    ok = crm("customer", "list", "--skip-invalid")
    assert ok.returncode == 0  # nothing left out: success
    _break(store_dir, _add(crm, "Gamma GmbH"))
    r = crm("customer", "list", "--format", "csv", "--skip-invalid")
    assert r.returncode == errors.EXIT_PARTIAL == 9
    assert "Acme Corp" in r.stdout
    assert r.stderr.splitlines()[-1] == ("crm: partial: 1 unreadable customer left out (--skip-invalid); the others "
                                         "were listed")
    out = tmp_path / "all.json"
    r = crm("export", "-o", str(out), "--skip-invalid")
    assert r.returncode == 9 and out.exists()
    assert r.stderr.splitlines()[-1] == ("crm: partial: 1 unreadable customer left out (--skip-invalid); the others "
                                         "were exported")
    r = crm("report", "customers", "--format", "json", "--skip-invalid")
    assert r.returncode == 9 and json.loads(r.stdout)
    assert r.stderr.splitlines()[-1].startswith("crm: partial: 1 unreadable customer left out")


def test_import_skip_invalid_exits_partial(crm, store_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "leads.csv"
    f.write_text("name,email\nAcme Corp,info@acme.example\nBad Co,not-an-email\n", encoding="utf-8")
    r = crm("import", str(f), "--skip-invalid", "--dry-run")
    assert r.returncode == 9, r.stderr
    assert r.stderr.splitlines()[-1] == ("crm: partial: 1 bad row left out (--skip-invalid); the others would be "
                                         "imported")
    r = crm("import", str(f), "--skip-invalid")
    assert r.returncode == 9, r.stderr
    assert r.stderr.splitlines()[-1] == "crm: partial: 1 bad row left out (--skip-invalid); the others were imported"
    assert [c["name"] for c in json.loads(crm("customer", "list", "-f", "json").stdout)] == ["Acme Corp"]


# -- 4. exit codes as documented ----------------------------------------------------------------------------------


def test_bad_values_exit_4_and_command_line_misuse_exits_2(crm, store_dir: Path) -> None:
    _add(crm, "Acme Corp")
    cases = [
        (["log", "acme", "fax", "hi"], 4, "crm: error: unknown interaction type 'fax'; use one of: call, email, "
                                          "meeting, visit, chat, sms, note (interaction_types in crm.yaml)"),
        (["log", "acme", "call", "hi", "--at", "someday"], 4, "crm: error: --at: cannot read date"),
        (["log", "acme", "call", "hi", "--duration", "0m"], 4, "crm: error: --duration 0m: must be more than zero"),
        (["timeline", "acme", "--type", "fax"], 4, "crm: error: --type 'fax'"),
        (["report", "pipeline", "--as-of", "someday"], 4, "crm: error: --as-of: cannot read"),
        (["log", "acme", "call", "hi", "--task", "Send the quote"], 2, "crm: error: --task needs --follow-up WHEN"),
        (["log", "acme", "call", "hi", "--nope"], 2, "Error: No such option '--nope'"),
    ]
    for args, code, first in cases:
        r = crm(*args)
        assert r.returncode == code, (args, r.stderr)
        assert first in r.stderr, (args, r.stderr)


def _documented_codes() -> list[int]:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Exit codes"):].split("\n## ")[0]
    return [int(m) for m in re.findall(r"^\| (\d+) \|", table, re.M)]


def test_every_documented_exit_code_is_produced(crm, store_dir: Path, tmp_path: Path) -> None:
    """Walk README's Exit codes table: one command per code, its code and its one stderr line."""
    cid = _add(crm, "Acme Corp")
    nowhere = tmp_path / "empty"
    nowhere.mkdir()
    lock = textwrap.dedent(f"""
        import sys
        from crmcli.store.location import open_store
        with open_store({str(store_dir)!r}).lock():
            print("locked", flush=True)
            sys.stdin.readline()
        """)
    seen = {}

    def check(code: int, args: list[str], line: str, **kwargs) -> None:
        r = crm(*args, **kwargs)
        assert r.returncode == code, (args, r.returncode, r.stderr)
        assert line in r.stderr, (args, r.stderr)
        seen[code] = args

    check(0, ["show", "acme"], "")
    (store_dir / "customers" / cid[:2] / cid / "customer.yaml").write_text("name: Acme Corp\ntier: Z\n",
                                                                        encoding="utf-8")
    check(1, ["check"], "1 problem found")
    subprocess.run(["git", "checkout", "--", "."], cwd=store_dir, check=True)
    check(2, ["customer", "list", "--nope"], "Error: No such option '--nope'")
    check(3, ["show", "nosuch"], "crm: error: no customer")
    check(4, ["log", "acme", "fax", "hi"], "crm: error: unknown interaction type 'fax'")
    check(5, ["customer", "list", "--records", str(nowhere)], "crm: error:")
    holder = subprocess.Popen([sys.executable, "-c", lock], cwd=store_dir, text=True, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        check(7, ["customer", "add", "Late"], "crm: error: another crm command has held",
              env={"CRM_LOCK_TIMEOUT": "0"})
    finally:
        holder.communicate("\n", timeout=30)
    check(6, ["undo", "--yes", "--records", str(_fresh_store(crm, tmp_path))], "crm: error:")
    check(8, ["customer", "rm", "acme"], "crm: error:", input="n\n")
    _break(store_dir, _add(crm, "Gamma GmbH"))
    check(9, ["customer", "list", "--skip-invalid"], "crm: partial:")
    documented = [c for c in _documented_codes() if c < 70]  # 70 (a bug) and 130 (Ctrl-C) cannot be asked for
    assert sorted(seen) == documented
    assert documented == [errors.EXIT_OK, errors.EXIT_PROBLEMS, errors.EXIT_USAGE, errors.EXIT_NOT_FOUND,
                          errors.EXIT_INVALID, errors.EXIT_NO_STORE, errors.EXIT_GIT, errors.EXIT_LOCKED,
                          errors.EXIT_ABORTED, errors.EXIT_PARTIAL]


def _fresh_store(crm, tmp_path: Path) -> Path:
    root = tmp_path / "fresh"
    r = crm("init", str(root))
    assert r.returncode == 0, r.stderr
    return root


# -- 5. read-only commands do not offer write options ----------------------------------------------------------


@pytest.mark.parametrize("args", [["customer", "list"], ["show"], ["search"], ["timeline"], ["agenda"],
                                  ["pipeline"], ["report", "weekly"], ["export"], ["check"], ["history"], ["diff"]])
def test_read_only_commands_do_not_offer_write_options(crm, store_dir: Path, args: list[str]) -> None:
    r = crm(*args, "--help")
    assert r.returncode == 0
    assert "--records" in r.stdout
    assert "--no-commit" not in r.stdout and "--author" not in r.stdout
    assert "--no-commit" in crm("log", "--help").stdout  # writers keep them


# -- cron: the README's crontab line, as cron runs it ----------------------------------------------------------


def _readme_cron_command() -> str:
    """The command part of the README's crontab line, with cron's own ``\\%`` -> ``%`` applied."""
    line = next(raw for raw in README.read_text(encoding="utf-8").splitlines() if raw.startswith("0 7 * * 1 "))
    return line.split(None, 5)[5].replace("\\%", "%")


def test_the_readme_crontab_line_runs_silently_under_cron_conditions(crm, store_dir: Path, tmp_path: Path) -> None:
    """env -i: no TTY, no git identity, no locale, no network; a user's crm in ~/.local/bin; ~/reports missing."""
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "crm").symlink_to(Path(sys.executable).with_name("crm"))
    _add(crm, "Acme Corp")
    assert crm("log", "acme", "call", "Weekly check-in", "--at", "2026-11-18 10:00").returncode == 0
    store_dir.rename(home / "crm")
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "SHELL": "/bin/sh", "LOGNAME": "nobody"}
    r = subprocess.run(["/bin/sh", "-c", _readme_cron_command()], env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == "", "cron mails any output: success must be silent"
    reports = list((home / "reports").glob("weekly-*.html"))
    assert len(reports) == 1 and re.fullmatch(r"weekly-\d{4}-\d{2}-\d{2}\.html", reports[0].name)
    assert "<html" in reports[0].read_text(encoding="utf-8").lower()
    failing = _readme_cron_command().replace("weekly -q -o", "weekly -q --week 2026-W99 -o")
    broken = subprocess.run(["/bin/sh", "-c", failing],
                            env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert broken.returncode != 0 and broken.stderr.startswith("crm: error:"), "a failure is what cron mails"


# -- quiet success: -q on every writer and exporter; summaries only on a terminal ------------------------------

PTY_RUN = textwrap.dedent("""
    import os, pty, sys
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.executable, [sys.executable, "-m", "crmcli", *sys.argv[1:]])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status))
    print(out.decode())
    """)


def _on_terminal(store_dir: Path, *args: str) -> tuple[int, str]:
    """Run crm with stdin, stdout and stderr on a pseudo-terminal; (exit code, what the terminal showed)."""
    r = subprocess.run([sys.executable, "-c", PTY_RUN, *args], cwd=store_dir, capture_output=True, text=True,
                       timeout=120)
    code, _, shown = r.stdout.partition("\n")
    return int(code), shown


def test_quiet_writers_say_nothing_on_success_and_still_fail_loudly(crm, store_dir: Path) -> None:
    cid = _add(crm, "Acme Corp")
    for args in (["log", "acme", "call", "Weekly check-in", "-q"],
                 ["-q", "log", "acme", "call", "Global -q before the command"],
                 ["customer", "edit", "acme", "--set", "tier=A", "--quiet"],
                 ["contact", "add", "acme", "Jane Doe", "--email", "jane@acme.example", "-q"],
                 ["opp", "add", "acme", "ERP", "--amount", "1000", "-q"]):
        r = crm(*args)
        assert r.returncode == 0, (args, r.stderr)
        assert r.stderr == "", args
        assert r.stdout == "" or re.fullmatch(r"opp-[a-z0-9]{4}\n", r.stdout), (args, r.stdout)  # a new id stays
    assert "tier: A" in (store_dir / "customers" / cid[:2] / cid / "customer.yaml").read_text(encoding="utf-8")
    task = crm("task", "add", "acme", "Send the quote", "-q")
    assert task.returncode == 0 and task.stderr == "" and task.stdout.startswith(f"{cid}/task-")
    bad = crm("log", "acme", "fax", "hi", "-q")
    assert bad.returncode == 4 and bad.stderr.startswith("crm: error: unknown interaction type 'fax'")
    loud = crm("log", "acme", "call", "Without -q")
    assert loud.stderr.startswith("Logged call with Acme Corp") and loud.stdout  # unchanged without -q


def test_export_summary_shows_on_a_terminal_only_and_never_with_quiet(crm, store_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("pty")
    _add(crm, "Acme Corp")
    out = tmp_path / "c.csv"
    code, shown = _on_terminal(store_dir, "export", "--kind", "customers", "-o", str(out))
    assert code == 0 and f"Exported 1 customers to {out}" in shown
    code, shown = _on_terminal(store_dir, "export", "--kind", "customers", "-o", str(out), "-q")
    assert code == 0 and shown.strip() == ""
    code, shown = _on_terminal(store_dir, "report", "pipeline", "-o", str(tmp_path / "p.md"), "-q")
    assert code == 0 and shown.strip() == ""
    piped = crm("export", "--kind", "customers", "-o", str(out))  # no terminal: silent, as under cron
    assert piped.returncode == 0 and (piped.stdout, piped.stderr) == ("", "")
    assert [r["name"] for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))] == ["Acme Corp"]


def test_import_is_quiet_with_q(crm, store_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "leads.csv"
    f.write_text("name,email\nAcme Corp,info@acme.example\n", encoding="utf-8")
    r = crm("import", str(f), "-q")
    assert (r.returncode, r.stdout.strip(), r.stderr) == (0, "", "")
    assert [c["name"] for c in json.loads(crm("customer", "list", "-f", "json").stdout)] == ["Acme Corp"]


# -- --format json on every writer: one document of what was created or changed ---------------------------------


def _writers() -> list[tuple[str, click.Command]]:
    from crmcli.cli.main import cli

    out: list[tuple[str, click.Command]] = []

    def walk(group: click.Group, prefix: str) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            assert cmd is not None
            if isinstance(cmd, click.Group):
                walk(cmd, f"{prefix}{name} ")
            elif any("--no-commit" in p.opts for p in cmd.params):
                out.append((f"{prefix}{name}", cmd))

    walk(cli, "")
    return out


def test_every_writer_offers_quiet_and_format_json() -> None:
    writers = _writers()
    assert len(writers) > 25  # customer, contact, log, task, ticket, opp, order, contract, survey, key, import...
    for path, cmd in writers:
        opts = {o: p for p in cmd.params for o in p.opts}
        assert "--quiet" in opts and "-q" in opts, path
        fmt = opts.get("--format")
        assert fmt is not None and isinstance(fmt.type, click.Choice) and "json" in fmt.type.choices, path


def test_import_format_json_is_the_same_document_on_dry_and_real_runs(crm, store_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "leads.csv"
    f.write_text("name,email\nAcme Corp,info@acme.example\nBeta Ltd,hello@beta.example\n", encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(f.read_text(encoding="utf-8"))))
    dry = crm("import", str(f), "--dry-run", "--format", "json")
    assert dry.returncode == 0 and dry.stderr == "", dry.stderr
    planned = json.loads(dry.stdout)
    real = crm("import", str(f), "-f", "json")
    assert real.returncode == 0 and real.stderr == "", real.stderr
    done_ = json.loads(real.stdout)
    assert set(planned) == set(done_)
    assert (planned["dry_run"], done_["dry_run"]) == (True, False)
    assert planned["commit"] is None and re.fullmatch(r"[0-9a-f]{40}", done_["commit"])
    assert done_["commit"] == subprocess.run(["git", "rev-parse", "HEAD"], cwd=store_dir, capture_output=True,
                                             text=True).stdout.strip()
    for doc in (planned, done_):
        assert doc["counts"]["customers"]["created"] == len(rows)
        assert len(doc["customers"]["created"]) == len(rows)
    listed = json.loads(crm("customer", "list", "-f", "json").stdout)
    assert sorted(done_["customers"]["created"]) == sorted(c["id"] for c in listed)
    again = json.loads(crm("import", str(f), "-f", "json").stdout)
    assert again["commit"] is None and again["counts"]["customers"] == {"created": 0, "updated": 0,
                                                                         "skipped": len(rows), "invalid": 0}


def test_writers_print_one_json_document_of_what_changed(crm, store_dir: Path) -> None:
    cid = _add(crm, "Acme Corp")

    def run(*args: str) -> dict:
        r = crm(*args, "--format", "json")
        assert r.returncode == 0 and r.stderr == "", (args, r.stderr)
        doc = json.loads(r.stdout)  # one document, nothing else on stdout
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=store_dir, capture_output=True, text=True)
        assert doc["ok"] is True and doc["commit"] == head.stdout.strip(), args
        return doc

    logged = run("log", "acme", "call", "Renewal talk", "--follow-up", "2026-12-24", "--task", "Send the quote")
    assert logged["customer"] == cid and logged["logged"][0]["summary"] == "Renewal talk"
    assert logged["task"]["ref"] == f"{cid}/{logged['task']['id']}" and logged["task"]["due"] == "2026-12-24"
    tasks = json.loads(crm("task", "list", "-f", "json").stdout)
    assert [t["id"] for t in tasks] == [logged["task"]["id"]]
    assert run("task", "done", logged["task"]["id"])["task"] == logged["task"]["id"]
    edited = run("customer", "edit", "acme", "--set", "tier=A", "--set", "owner=bob")
    assert edited["customer"] == cid and edited["changed"] == ["owner", "tier"]
    opp = json.loads(crm("opp", "add", "acme", "ERP", "--amount", "1000", "-f", "json").stdout)["id"]
    advanced = run("opp", "advance", opp)
    assert advanced["customer"] == cid and opp in advanced["ids"]
    assert run("contact", "add", "acme", "Jane Doe", "--email", "jane@acme.example")["customer"] == cid
    assert run("undo", "--yes")["undone"]
    removed = run("customer", "rm", "acme", "--yes")
    assert removed["customer"] == cid and removed["removed"] is True
    assert json.loads(crm("customer", "list", "-f", "json").stdout) == []


# -- encodings: detected with charset-normalizer, reported, refused when unsure ---------------------------------

ENCODED = {  # (file text, encoding): what users' spreadsheets save
    "cp1252": ("name,city,notes\nMüller GmbH,Köln,Größter Kunde\nBäckerei Schäfer,Düsseldorf,100 €\n", "cp1252"),
    "big5": ("公司名稱,聯絡人,電話\n台北市資訊科技股份有限公司,陳美玲,02-2345-6789\n"
             "高雄港務股份有限公司,林志偉,07-123-4567\n新竹科學園區管理局,黃淑芬,03-577-3311\n", "big5"),
    "shift_jis": ("会社名,担当者,電話\n株式会社東京システム,山田太郎,03-1234-5678\n"
                  "大阪商事株式会社,佐藤花子,06-9876-5432\n", "shift_jis"),
    "gb18030": ("客户名称,联系人,电话\n北京喆鑫科技有限公司,王喆,010 8888 1234\n深圳市基石协作科技有限公司,李娜,"
                "0755 6666 5678\n", "gbk"),
}


@pytest.mark.parametrize("name", list(ENCODED))
def test_non_utf8_csv_is_detected_reported_and_imported_exactly(crm, store_dir: Path, tmp_path: Path,
                                                                name: str) -> None:
    text, codec = ENCODED[name]
    f = tmp_path / f"{name}.csv"
    f.write_bytes(text.encode(codec))
    expected = [row[0] for row in csv.reader(io.StringIO(text))][1:]  # the names, read from the text itself
    dry = crm("import", str(f), "--dry-run", "--kind", "customers", "--map", f"{text.split(',')[0]}=name")
    assert dry.returncode == 0, dry.stderr
    assert f"encoding {name} (detected, confidence " in dry.stdout
    assert all(n in dry.stdout for n in expected), dry.stdout
    doc = json.loads(crm("import", str(f), "--kind", "customers", "--map", f"{text.split(',')[0]}=name",
                         "-f", "json").stdout)
    assert doc["sources"][0]["encoding"] == name and 0.8 <= doc["sources"][0]["confidence"] <= 1
    listed = json.loads(crm("customer", "list", "-f", "json").stdout)
    assert sorted(c["name"] for c in listed) == sorted(expected)


def test_an_encoding_that_cannot_be_told_is_refused_with_the_encoding_to_pass(crm, store_dir: Path,
                                                                              tmp_path: Path) -> None:
    f = tmp_path / "one.csv"
    f.write_bytes("name\n台灣積體電路製造\n".encode("big5"))  # eight characters: Big5 and Shift-JIS both fit
    r = crm("import", str(f), "--dry-run")
    assert r.returncode == 4
    assert r.stderr.startswith("crm: error: one.csv: cannot tell the text encoding: big5 or shift_jis fit equally "
                               "well (too little text to tell); pass --encoding big5")
    assert len(r.stderr.splitlines()) == 1
    forced = crm("import", str(f), "--encoding", "big5")
    assert forced.returncode == 0, forced.stderr
    assert [c["name"] for c in json.loads(crm("customer", "list", "-f", "json").stdout)] == ["台灣積體電路製造"]


# -- vCards as phones and mail programs export them; CRLF inside a quoted CSV cell ------------------------------

VCARDS = Path(__file__).resolve().parent / "fixtures" / "vcard"


def _qp_text(raw: bytes, head: str) -> str:
    """The value of a quoted-printable property, decoded here with the standard library, soft breaks joined."""
    import quopri

    lines = raw.decode("utf-8").split("\r\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(head))
    value = lines[start].split(":", 1)[1]
    i = start
    while value.endswith("="):
        i += 1
        value = value[:-1] + lines[i]
    return quopri.decodestring(value.encode("ascii")).decode("utf-8")


def test_android_quoted_printable_soft_line_breaks_are_joined(crm, store_dir: Path) -> None:
    raw = (VCARDS / "android.vcf").read_bytes()
    name, org = _qp_text(raw, "FN;"), _qp_text(raw, "ORG;")
    assert name == "李娜娜" and len(org) > 10  # the fixture really splits both values with soft breaks
    r = crm("import", str(VCARDS / "android.vcf"), "-f", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["counts"]["contacts"]["created"] == 2
    shown = json.loads(crm("customer", "show", org, "-f", "json").stdout)
    assert shown["name"] == org
    assert [(c["name"], c.get("title"), c.get("phone")) for c in shown["contacts"]] == [
        (name, _qp_text(raw, "TITLE;"), "138 0013 8000")]


@pytest.mark.parametrize(("fixture", "company", "person", "email", "phone"), [
    ("ios.vcf", "杭州云栖数据有限公司", "王芳", "wang.fang@yunqi.example.cn", "+86 139 0000 1111"),
    ("outlook.vcf", "Acme Corp", "Jane Doe", "jane@acme.example", "+1 555 0100"),
    ("google.vcf", "杭州云栖数据有限公司", "Zhao Min", "zhao.min@yunqi.example.cn", "0571 8888 1234"),
])
def test_vcards_from_ios_outlook_and_google_import_their_contact(crm, store_dir: Path, fixture: str, company: str,
                                                                 person: str, email: str, phone: str) -> None:
    text = (VCARDS / fixture).read_text(encoding="utf-8")
    assert person in text and email in text  # the expected values are the fixture's own
    r = crm("import", str(VCARDS / fixture))
    assert r.returncode == 0, r.stderr
    shown = json.loads(crm("customer", "show", company, "-f", "json").stdout)
    contact = next(c for c in shown["contacts"] if c["name"] == person)
    assert (contact.get("email"), contact.get("phone")) == (email, phone)
    again = json.loads(crm("import", str(VCARDS / fixture), "-f", "json").stdout)
    assert again["counts"]["contacts"]["created"] == 0 and again["commit"] is None


def test_crlf_inside_a_quoted_csv_field_survives_import_and_export(crm, store_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b'name,address,notes\r\n"Acme Corp","1 Main St\r\nSpringfield","line one\r\nline two"\r\n')
    expected = next(csv.DictReader(io.StringIO(source.read_bytes().decode("utf-8"), newline="")))
    assert expected["address"] == "1 Main St\r\nSpringfield"
    assert crm("import", str(source)).returncode == 0
    out = tmp_path / "out.csv"
    assert crm("export", "--kind", "customers", "-o", str(out)).returncode == 0
    with open(out, encoding="utf-8", newline="") as fh:
        [row] = list(csv.DictReader(fh))
    assert row["address"] == expected["address"] and row["extra.notes"] == expected["notes"]
    fresh = tmp_path / "fresh"
    assert crm("init", str(fresh)).returncode == 0
    assert crm("import", str(out), cwd=fresh).returncode == 0
    again = tmp_path / "again.csv"
    assert crm("export", "--kind", "customers", "-o", str(again), cwd=fresh).returncode == 0
    assert again.read_bytes() == out.read_bytes()
    assert crm("check").returncode == 0


# -- crm contact edit / rm ----------------------------------------------------------------------------------------


def _profile(store_dir: Path, cid: str) -> dict:
    import yaml

    return yaml.safe_load((store_dir / "customers" / cid[:2] / cid / "customer.yaml").read_text(encoding="utf-8"))


def test_contact_edit_changes_one_contact_in_one_commit(crm, store_dir: Path) -> None:
    cid = _add(crm, "Acme Corp", "--contact", "Jane Doe <jane@acme.example>", "--contact", "Bob Roe <bob@acme.example>")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=store_dir, capture_output=True, text=True).stdout.strip()
    r = crm("contact", "edit", "acme", "jane", "--phone", "+1 555 0101", "--role", "VP Engineering")
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith("Updated contact Jane Doe of Acme Corp")
    jane, bob = _profile(store_dir, cid)["contacts"]
    assert (jane["phone"], jane["title"], jane["email"]) == ("+1 555 0101", "VP Engineering", "jane@acme.example")
    assert bob == {"name": "Bob Roe", "email": "bob@acme.example"}
    log = subprocess.run(["git", "log", "--format=%s", f"{head}..HEAD"], cwd=store_dir, capture_output=True,
                         text=True).stdout.splitlines()
    assert len(log) == 1 and log[0].startswith(f"Edit contact Jane Doe of Acme Corp ({cid})")
    assert crm("contact", "edit", "acme", "bob@acme.example", "--email", "jane@acme.example").returncode == 4
    assert crm("contact", "edit", "acme", "jane", "--email", "not-an-email").returncode == 4
    assert crm("contact", "edit", "acme", "nobody", "--phone", "1").returncode == 3
    assert crm("contact", "edit", "acme", "jane").returncode == 2  # nothing to change
    cleared = crm("contact", "edit", "acme", "jane", "--title", "", "--primary", "-f", "json")
    assert json.loads(cleared.stdout)["changed"] == ["primary", "title"]
    jane, bob = _profile(store_dir, cid)["contacts"]
    assert "title" not in jane and jane.get("primary") is True and "primary" not in bob


def test_contact_rm_removes_one_and_asks_first(crm, store_dir: Path) -> None:
    cid = _add(crm, "Acme Corp", "--contact", "Jane Doe <jane@acme.example>", "--contact", "Bob Roe <bob@acme.example>")
    assert _profile(store_dir, cid)["contacts"][0].get("primary") is True
    declined = crm("contact", "rm", "acme", "jane")
    assert declined.returncode == 8 and len(_profile(store_dir, cid)["contacts"]) == 2
    r = crm("contact", "rm", "acme", "jane@acme.example", "--yes", "-f", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["contact"] == "Jane Doe"
    assert _profile(store_dir, cid)["contacts"] == [{"name": "Bob Roe", "email": "bob@acme.example", "primary": True}]
    assert crm("undo", "--yes").returncode == 0
    assert [c["name"] for c in _profile(store_dir, cid)["contacts"]] == ["Jane Doe", "Bob Roe"]


# -- hand edits stay the user's ------------------------------------------------------------------------------------


def _diff_lines(store_dir: Path, path: Path) -> list[str]:
    diff = subprocess.run(["git", "diff", "-U0", "HEAD~1", "--", str(path)], cwd=store_dir, capture_output=True,
                          text=True).stdout
    return [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_customer_edit_set_keeps_comments_and_key_order_and_changes_one_line(crm, store_dir: Path) -> None:
    cid = _add(crm, "Acme Corp", "--tier", "B", "--owner", "alice", "--contact", "Jane Doe <jane@acme.example>")
    path = store_dir / "customers" / cid[:2] / cid / "customer.yaml"
    original = path.read_text(encoding="utf-8").splitlines()
    owner = next(line for line in original if line.startswith("owner:"))
    hand = ["# Acme: our oldest account", owner + "   # since 2019", *[
        line + ("  # VIP" if line.startswith("tier:") else "") for line in original if line != owner]]
    path.write_text("\n".join(hand) + "\n", encoding="utf-8")
    subprocess.run(["git", "commit", "-qam", "Hand edit"], cwd=store_dir, check=True)
    r = crm("customer", "edit", "acme", "--set", "tier=A")
    assert r.returncode == 0, r.stderr
    assert _diff_lines(store_dir, path) == ["-tier: B  # VIP", "+tier: A  # VIP"]
    after = path.read_text(encoding="utf-8").splitlines()
    assert after == [line.replace("tier: B", "tier: A") for line in hand]
    r = crm("customer", "edit", "acme", "--set", "industry=software", "--set", "extra.erp_id=4711")
    assert r.returncode == 0, r.stderr
    assert sorted(_diff_lines(store_dir, path)) == sorted(["+industry: software", "+extra:", "+  erp_id: '4711'"])
    assert path.read_text(encoding="utf-8").startswith("# Acme: our oldest account\n" + owner + "   # since 2019\n")
    r = crm("contact", "edit", "acme", "jane", "--phone", "+1 555 0101")
    assert r.returncode == 0, r.stderr
    assert _diff_lines(store_dir, path) == ["+  phone: +1 555 0101"]
    shown = json.loads(crm("customer", "show", "acme", "-f", "json").stdout)
    assert (shown["tier"], shown["industry"], shown["owner"]) == ("A", "software", "alice")
    assert crm("check").returncode == 0


# -- natural dates through the commands ---------------------------------------------------------------------------


def test_natural_dates_through_log_and_task(crm, store_dir: Path) -> None:
    from datetime import date, timedelta

    env = {"CRM_NOW": "2026-11-18T10:15:00+08:00"}  # a Wednesday
    today = date(2026, 11, 18)
    monday = today - timedelta(days=today.weekday())
    cid = _add(crm, "Acme Corp")
    r = crm("log", "acme", "call", "Checked the delivery", "--at", "3pm yesterday", "-f", "json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["logged"][0]["at"] == f"{today - timedelta(days=1)}T15:00:00+08:00"
    for when, due in (("下周五", monday + timedelta(days=11)), ("本周五", monday + timedelta(days=4)),
                      ("月底", date(2026, 11, 30)), ("Dec 5", date(2026, 12, 5)), ("next week", monday + timedelta(7))):
        r = crm("task", "add", cid, "Send", "--due", when, "-f", "json", env=env)
        assert r.returncode == 0, (when, r.stderr)
        assert json.loads(r.stdout)["due"] == due.isoformat(), when
    r = crm("task", "add", cid, "Send", "--due", "tomorrow noon", "-f", "json", env=env)
    assert json.loads(r.stdout)["due"] == f"{today + timedelta(days=1)}T12:00:00+08:00"
    bad = crm("log", "acme", "call", "Ordered", "--at", "12/05/2026", env=env)
    assert bad.returncode == 4
    assert ("day/month order differs between countries, so 12/05 is not guessed; write 2026-05-12 or 2026-12-05 "
            "(YYYY-MM-DD)") in bad.stderr and len(bad.stderr.splitlines()) == 1


# -- shell completion of the values crm knows ------------------------------------------------------------------


def _complete(crm, words: str, shell: str = "bash") -> list[str]:
    """What the shell would be offered: the real entry point as the completion script calls it."""
    parts = words.split(" ")
    env = {"_CRM_COMPLETE": f"{shell}_complete", "COMP_WORDS": words,
           "COMP_CWORD": str(len(parts) - 1) if shell != "fish" else parts[-1]}
    r = crm(env=env)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    if shell == "bash":
        return [line.split(",", 1)[1] for line in r.stdout.splitlines()]
    if shell == "zsh":  # type, value, help: three lines each
        lines = r.stdout.splitlines()
        return [lines[i + 1] for i in range(0, len(lines), 3)]
    return [line.split("\t")[0].split(",", 1)[-1] for line in r.stdout.splitlines()]


def test_completion_offers_customers_types_stages_tiers_owners_and_ids(crm, store_dir: Path) -> None:
    acme = _add(crm, "Acme Corp", "--owner", "carol")
    jishi = _add(crm, "深圳市基石协作科技有限公司", "--owner", "王芳")
    task = crm("task", "add", "acme", "Send the quote").stdout.strip().split("/")[1]
    opp = crm("opp", "add", "acme", "ERP", "--amount", "100").stdout.strip()
    ticket = crm("ticket", "open", "acme", "Login fails").stdout.strip()
    config = __import__("yaml").safe_load((store_dir / "crm.yaml").read_text(encoding="utf-8"))
    assert _complete(crm, "crm log ac") == [acme]
    assert _complete(crm, "crm show 深圳") == [jishi, "深圳市基石协作科技有限公司"]
    assert _complete(crm, "crm log acme ") == config.get("interaction_types", ["call", "email", "meeting", "visit",
                                                                             "chat", "sms", "note"])
    assert _complete(crm, "crm log acme me") == ["meeting"]
    assert _complete(crm, "crm customer list --tier ") == [str(t) for t in config.get("tiers", ["A", "B", "C", "D"])]
    assert "customer" in _complete(crm, "crm customer list --stage c")
    pipeline = [s["stage"] for s in config["pipeline"]] if "pipeline" in config else None
    stages = _complete(crm, "crm opp advance opp-x ")
    assert stages == (pipeline or stages) and stages
    assert _complete(crm, "crm task list --owner ") == ["carol", "王芳"]
    assert _complete(crm, "crm task done ") == [task]
    assert _complete(crm, "crm opp win ") == [opp]
    assert _complete(crm, f"crm ticket close {ticket[:5]}") == [ticket]
    assert _complete(crm, "crm log ac", "zsh") == [acme]
    assert _complete(crm, "crm log ac", "fish") == [acme]
    for shell in ("bash", "zsh", "fish"):
        script = crm("completion", shell)
        assert script.returncode == 0 and "_CRM_COMPLETE" in script.stdout


def test_completion_outside_a_store_offers_nothing_and_says_nothing(crm, tmp_path: Path) -> None:
    r = crm(env={"_CRM_COMPLETE": "bash_complete", "COMP_WORDS": "crm log ac", "COMP_CWORD": "2"}, cwd=tmp_path)
    assert (r.returncode, r.stdout.strip(), r.stderr) == (0, "", "")


# -- the man page; pip install . gives a working crm ---------------------------------------------------------


def test_help_man_is_a_man_page_of_every_command_and_exit_code(crm, store_dir: Path) -> None:
    from crmcli.cli.manpage import EXIT_CODES

    r = crm("help", "--man")
    assert r.returncode == 0, r.stderr
    page = r.stdout
    assert page.startswith(".TH CRM 1 ") and "\n.SH SYNOPSIS\n" in page and "\n.SH EXIT STATUS\n" in page
    for path, _ in _writers():
        assert f"\n.SS crm {path.replace('-', chr(92) + '-')} " in page, path
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Exit codes"):].split("\n## ")[0]
    assert [c for c, _ in EXIT_CODES] == [int(m) for m in re.findall(r"^\| (\d+) \|", table, re.M)]
    groff = shutil.which("groff")
    if groff:  # rendered as man(1) would (-k: UTF-8 input), with every warning on
        shown = subprocess.run([groff, "-k", "-man", "-Tutf8", "-ww"], input=page, capture_output=True, text=True)
        assert shown.returncode == 0 and shown.stderr == "", shown.stderr
        assert "crm log [OPTIONS] CUSTOMER TYPE [SUMMARY...]" in re.sub(".\b", "", shown.stdout)
    assert crm("help", "customer", "edit").stdout == crm("customer", "edit", "--help").stdout
    assert crm("help", "nosuch").returncode == 2


def test_pip_install_into_a_fresh_venv_gives_a_working_crm(tmp_path: Path) -> None:
    """pip install of a copy of the source into a new venv; the dependencies come from ours (a .pth file), so
    the test needs no network and takes seconds, while crm itself is built and installed as a user's would be."""
    import sysconfig
    import venv

    root = README.parent
    src = tmp_path / "src"
    shutil.copytree(root / "crmcli", src / "crmcli", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "setup.cfg", "README.md"):
        shutil.copy2(root / name, src / name)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "_crm_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                        "--no-build-isolation", "--no-index", str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    crm_bin = env_dir / "bin" / "crm"
    assert crm_bin.exists()
    where = subprocess.run([str(python), "-c", "import crmcli; print(crmcli.__file__)"], capture_output=True,
                           text=True, check=True, cwd=tmp_path).stdout
    assert where.startswith(site), where  # the installed copy, not our editable checkout
    env = {**os.environ, "CRM_AUTHOR": "Alice <alice@example.com>"}
    store = tmp_path / "store"
    for args in (["init", str(store)], ["--records", str(store), "customer", "add", "Acme Corp", "-q"],
                 ["--records", str(store), "log", "acme", "call", "Installed", "-q"]):
        done_ = subprocess.run([str(crm_bin), *args], capture_output=True, text=True, env=env, timeout=120,
                               cwd=tmp_path)
        assert done_.returncode == 0, (args, done_.stderr)
    listed = subprocess.run([str(crm_bin), "--records", str(store), "customer", "list", "-f", "json"],
                            capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert [c["name"] for c in json.loads(listed.stdout)] == ["Acme Corp"]
    version = subprocess.run([str(crm_bin), "--version"], capture_output=True, text=True).stdout
    from crmcli import __version__
    assert version.strip().endswith(__version__)


def test_key_gen_quiet_prints_only_the_public_key(crm, store_dir: Path, tmp_path: Path) -> None:
    r = crm("key", "gen", str(tmp_path / "id.txt"), "-q")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert re.fullmatch(r"age1[0-9a-z]+\n", r.stdout)
    assert (tmp_path / "id.txt").exists()
