"""crm export: xlsx with typed cells, csv (with --excel), json, formula neutralizing, and the round trip."""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from click.testing import CliRunner

from crmcli.cli.main import cli
from tests.conftest import commits, git


def _seed(invoke, *, journals: bool = True) -> str:
    r = invoke("customer", "add", "深圳市基石协作科技有限公司", "--tier", "A", "--owner", "王芳", "--tag", "saas",
               "--tag", "key", "--birthday", "2001-02-03", "--set", "external_id=C-1", "--website", "https://jishi.example",
               "--contact", "李娜 <li.na@example.cn>, 13800138000")
    assert r.exit_code == 0, r.output
    cid = r.stdout.strip()
    assert invoke("contact", "add", cid, "Jane Doe", "--title", "CTO", "--email", "jane@jishi.example").exit_code == 0
    assert invoke("customer", "add", "=HYPERLINK(\"http://evil\")", "--phone", "+86 10 8888 0000",
                  "--address", "-1 Main St").exit_code == 0
    assert invoke("customer", "add", "Jane Person", "--kind", "person", "--email", "jp@example.com").exit_code == 0
    if journals:
        assert invoke("log", cid, "call", "Discussed, renewal", "--at", "2026-11-02 10:00", "--duration", "1h30m",
                      "--direction", "out", "--contact", "李娜").exit_code == 0
        r = invoke("order", "add", cid, "--amount", "99.5", "--date", "2026-10-01", "--product", "Licence")
        assert r.exit_code == 0
        assert invoke("opp", "add", cid, "ERP", "--amount", "120000", "--close", "2026-12-31").exit_code == 0
        assert invoke("ticket", "open", cid, "Login fails", "--priority", "high").exit_code == 0
    return cid


def test_xlsx_has_a_sheet_per_kind_with_typed_cells(store_dir: Path, invoke) -> None:
    from openpyxl import load_workbook

    cid = _seed(invoke)
    out = store_dir.parent / "all.xlsx"
    r = invoke("export", "-o", str(out))
    assert r.exit_code == 0, r.output
    assert r.stderr == ""  # the "Exported ..." summary shows only on a terminal (issue 18)
    wb = load_workbook(out)
    assert wb.sheetnames[:5] == ["customers", "contacts", "interactions", "opps", "orders"]
    customers = list(wb["customers"].iter_rows(values_only=True))
    header = customers[0]
    jishi = dict(zip(header, next(r for r in customers if r[0] == cid), strict=True))
    assert jishi["birthday"] == dt.datetime(2001, 2, 3)  # a real date cell
    assert isinstance(jishi["created"], dt.datetime) and jishi["extra.external_id"] == "C-1"
    orders = list(wb["orders"].iter_rows(values_only=True))
    assert dict(zip(orders[0], orders[1], strict=True))["amount"] == 99.5
    assert wb["orders"]["B2"].number_format == "yyyy-mm-dd"
    # formulas are neutralized: stored as text with a leading '
    names = [r[1] for r in customers[1:]]
    assert "'=HYPERLINK(\"http://evil\")" in names
    for row in wb["customers"].iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"
    assert git(store_dir, "status", "--porcelain") == ""


def test_xlsx_streamed_keeps_header_style_frozen_row_formats_and_text_cells(store_dir: Path, invoke) -> None:
    from openpyxl import load_workbook

    cid = _seed(invoke)
    assert invoke("customer", "add", "#N/A").exit_code == 0  # an Excel error code, as a name: stays text
    out = store_dir.parent / "all.xlsx"
    assert invoke("export", "-o", str(out)).exit_code == 0
    wb = load_workbook(out)
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(cell.font.b for cell in ws[1]), ws.title  # the header row is bold, and only it
        assert not any(cell.font.b for row in ws.iter_rows(min_row=2) for cell in row), ws.title
    header = [c.value for c in wb["customers"][1]]
    rows = {row[0].value: dict(zip(header, row, strict=True)) for row in wb["customers"].iter_rows(min_row=2)}
    named = next(r for r in rows.values() if r["name"].value == "#N/A")
    assert (named["name"].value, named["name"].data_type) == ("#N/A", "s")
    created = rows[cid]["created"]
    assert isinstance(created.value, dt.datetime) and created.number_format == "yyyy-mm-dd hh:mm"
    assert (rows[cid]["birthday"].value, rows[cid]["birthday"].number_format) == (dt.datetime(2001, 2, 3),
                                                                                  "yyyy-mm-dd")
    assert rows[cid]["tier"].value == "A" and rows[cid]["tier"].data_type == "s"


def test_csv_one_kind_excel_bom_and_neutralizing(store_dir: Path, invoke) -> None:
    _seed(invoke, journals=False)
    out = store_dir.parent / "c.csv"
    assert invoke("export", "--kind", "customers", "-o", str(out), "--excel").exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    text = raw.decode("utf-8-sig")
    assert "'=HYPERLINK(\"\"http://evil\"\")" in text and "'+86 10 8888 0000" in text and "'-1 Main St" in text
    assert "saas,key" in text
    plain = store_dir.parent / "p.csv"
    assert invoke("export", "--kind", "contacts", "-o", str(plain)).exit_code == 0
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    r = invoke("export", "-o", str(plain))
    assert r.exit_code == 2 and "a .csv file holds one kind" in r.stderr
    r = invoke("export", "-o", str(store_dir.parent / "x.txt"))
    assert r.exit_code == 2 and "use .xlsx, .csv, .json, .vcf or .ics" in r.stderr


def test_json_export(store_dir: Path, invoke) -> None:
    cid = _seed(invoke)
    out = store_dir.parent / "all.json"
    assert invoke("export", "-o", str(out)).exit_code == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert {r["id"] for r in doc["customers"]} >= {cid}
    assert doc["orders"] == [{"customer": cid, "date": "2026-10-01", "amount": 99.5, "currency": "CNY",
                              "product": "Licence", "opp": None, "by": "Alice Example"}]
    one = store_dir.parent / "opps.json"
    assert invoke("export", "--kind", "opps", "-o", str(one)).exit_code == 0
    assert json.loads(one.read_text(encoding="utf-8"))[0]["title"] == "ERP"


def _records(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.glob("customers/*/*/customer.yaml"))}


def _run(root: Path, *args: str):  # noqa: ANN202
    import os

    from tests.conftest import _Main

    old = os.getcwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(_Main(), list(args))  # type: ignore[arg-type]
    finally:
        os.chdir(old)


def test_round_trip_xlsx_and_json_into_an_empty_store(store_dir: Path, invoke, tmp_path: Path, monkeypatch) -> None:
    _seed(invoke)
    for name in ("all.xlsx", "all.json"):
        out = tmp_path / name
        assert invoke("export", "-o", str(out)).exit_code == 0
        target = tmp_path / f"empty-{name}"
        assert CliRunner().invoke(cli, ["init", str(target)]).exit_code == 0
        r = _run(target, "import", str(out))
        assert r.exit_code == 0, r.output
        assert commits(target)[0].startswith(f"Import 3 customers, 2 contacts, 1 opps, 1 orders, 1 interactions, "
                                             f"1 tickets from {name}")
        # the profiles are byte for byte the same files, ids and all
        assert _records(target) == _records(store_dir)
        # and every kind exports the same rows again
        for kind in ("customers", "contacts", "interactions", "orders"):
            a, b = tmp_path / f"a-{kind}.json", tmp_path / f"b-{kind}.json"
            assert invoke("export", "--kind", kind, "-o", str(a)).exit_code == 0
            assert _run(target, "export", "--kind", kind, "-o", str(b)).exit_code == 0
            assert a.read_text(encoding="utf-8") == b.read_text(encoding="utf-8"), kind
        opps = [{k: v for k, v in r.items() if k in ("id", "title", "amount", "stage", "close", "owner")}
                for r in json.loads((tmp_path / name).read_text())["opps"]] if name.endswith("json") else None
        if opps:
            c = tmp_path / "opps-again.json"
            assert _run(target, "export", "--kind", "opps", "-o", str(c)).exit_code == 0
            again = [{k: v for k, v in r.items() if k in ("id", "title", "amount", "stage", "close", "owner")}
                     for r in json.loads(c.read_text())]
            assert again == opps
        # importing the export once more changes nothing
        head = git(target, "rev-parse", "HEAD")
        r = _run(target, "import", str(out))
        assert r.exit_code == 0 and "Nothing to import" in r.stderr, r.output
        assert git(target, "rev-parse", "HEAD") == head
        assert _run(target, "check").exit_code == 0


def test_round_trip_csv_customers(store_dir: Path, invoke, tmp_path: Path) -> None:
    _seed(invoke, journals=False)
    out = tmp_path / "customers.csv"
    assert invoke("export", "--kind", "customers", "-o", str(out), "--excel").exit_code == 0
    target = tmp_path / "t"
    assert CliRunner().invoke(cli, ["init", str(target)]).exit_code == 0
    assert _run(target, "import", str(out)).exit_code == 0
    contacts = tmp_path / "contacts.csv"
    assert invoke("export", "--kind", "contacts", "-o", str(contacts)).exit_code == 0
    r = _run(target, "import", str(contacts), "--kind", "contacts")
    assert r.exit_code == 0, r.output
    assert _records(target) == _records(store_dir)


def test_export_imports_no_openpyxl_for_csv(store_dir: Path, crm) -> None:
    code = ("import sys; from crmcli.cli.main import main\n"
            "try:\n main(['export','--kind','customers','-o','../x.csv'])\n"
            "except SystemExit as exc:\n assert exc.code in (0, None), f'export failed: {exc.code}'\n"
            "assert 'openpyxl' not in sys.modules and 'pandas' not in sys.modules, 'heavy import'\n")
    import subprocess

    r = subprocess.run([sys.executable, "-c", code], cwd=store_dir, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


JOURNAL_KINDS = ("interactions", "orders", "contracts", "tasks", "surveys", "history")


def test_round_trip_xlsx_keeps_times_and_authors_across_time_zones(store_dir: Path, crm, tmp_path: Path) -> None:
    # the exporting store is in Asia/Shanghai by its crm.yaml; the importing one is in UTC (by CRM_TZ)
    with (store_dir / "crm.yaml").open("a", encoding="utf-8") as fh:
        fh.write("timezone: Asia/Shanghai\n")
    here = {"CRM_TZ": "", "CRM_AUTHOR": "Alice <alice@example.invalid>", "CRM_NOW": "2026-11-20T18:30:00+08:00"}
    there = {"CRM_TZ": "UTC", "CRM_AUTHOR": "Bob <bob@example.invalid>", "CRM_NOW": "2026-11-21T09:00:00+00:00"}

    def ok(*args: str, env: dict, cwd: Path = store_dir) -> str:
        r = crm(*args, env=env, cwd=cwd)
        assert r.returncode == 0, r.stderr
        return r.stdout

    cid = ok("customer", "add", "Acme", env=here).strip()
    ok("log", cid, "call", "Talked renewal", "--at", "2026-11-02 10:00", env=here)
    ok("log", cid, "meeting", "Midnight demo", "--at", "2026-11-03 00:00", env=here)
    task = ok("task", "add", cid, "Send quote", "--due", "2026-11-25 09:30", env=here).strip()
    ok("task", "done", task, env=here)
    ok("task", "add", cid, "Call back", "--due", "2026-11-30", "--owner", "王芳", env=here)
    ok("order", "add", cid, "--amount", "99.5", "--date", "2026-10-01", env=here)
    ok("contract", "add", cid, "--value", "1000", "--start", "2026-01-01", "--end", "2026-12-31", env=here)
    ok("survey", cid, "--csat", "4", env=here)
    ok("opp", "add", cid, "ERP", "--amount", "120000", "--close", "2026-12-31", env=here)
    ok("ticket", "open", cid, "Login fails", env=here)

    out = tmp_path / "all.xlsx"
    ok("export", "-o", str(out), env=here)
    target = tmp_path / "fresh"
    ok("init", str(target), env=there, cwd=tmp_path)
    ok("import", str(out), env=there, cwd=target)

    before = json.loads(ok("export", "--format", "json", "-o", "-", env=here))
    after = json.loads(ok("export", "--format", "json", "-o", "-", env=there, cwd=target))
    for kind in JOURNAL_KINDS:
        assert after[kind] == before[kind], kind
    # what the source store holds, independently of export: 10:00 Shanghai time, logged by Alice
    call = next(r for r in before["interactions"] if r["summary"] == "Talked renewal")
    assert (call["at"], call["by"]) == ("2026-11-02T10:00:00+08:00", "Alice")
    assert {r["by"] for kind in JOURNAL_KINDS for r in before[kind]} == {"Alice"}
    assert len(before["tasks"]) == 2 and len(before["surveys"]) == 1 and len(before["contracts"]) == 1


def test_errors_out_xlsx_keeps_the_zone_of_the_rows_it_copies(store_dir: Path, crm, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    cid = crm("customer", "add", "Acme").stdout.strip()
    assert crm("log", cid, "call", "Talked", "--at", "2026-11-02 10:00").returncode == 0
    out = tmp_path / "all.xlsx"
    assert crm("export", "-o", str(out)).returncode == 0  # CRM_TZ=Asia/Shanghai (conftest)
    wb = load_workbook(out)
    assert {p.name: p.value for p in wb.custom_doc_props}["crm.timezone"] == "Asia/Shanghai"
    wb["interactions"].append([cid, dt.datetime(2026, 11, 3, 9, 15), "call", "Alice", None, None, None, None, None,
                               None])  # no summary: a bad row
    wb.save(out)
    target, fix = tmp_path / "fresh", tmp_path / "fix.xlsx"
    assert crm("init", str(target), cwd=tmp_path).returncode == 0
    r = crm("import", str(out), "--errors-out", str(fix), cwd=target, env={"CRM_TZ": "UTC"})
    assert r.returncode == 4, r.stderr
    back = load_workbook(fix)
    assert {p.name: p.value for p in back.custom_doc_props}["crm.timezone"] == "Asia/Shanghai"
    assert back["interactions"]["B2"].value == dt.datetime(2026, 11, 3, 9, 15)
