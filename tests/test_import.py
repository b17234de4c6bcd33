"""crm import: messy CSV and Excel files, mapping, validation, duplicates, all-or-nothing."""
from __future__ import annotations

import csv
import datetime as dt
import subprocess
from pathlib import Path

import pytest

from crmcli.store.location import open_store
from tests.conftest import commits, git


def _customers(root: Path) -> dict[str, str]:
    return {p.parent.name: p.read_text(encoding="utf-8") for p in sorted(root.glob("customers/*/*/customer.yaml"))}


def _snapshot(root: Path) -> tuple[str, str, dict[str, bytes]]:
    files = {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
             if p.is_file() and ".git" not in p.parts and ".crm" not in p.parts}
    return git(root, "rev-parse", "HEAD"), git(root, "status", "--porcelain"), files


def _load(root: Path) -> list[dict]:
    store = open_store(str(root))
    return [dict(c.data, id=c.id) for c in store.iter_customers()]


CHINESE = ("客户名称,联系人,邮箱,电话,行业,负责人\n"
           "深圳市基石协作科技有限公司,李娜,li.na@example.cn,13800138000,软件,王芳\n"
           "北京云图数据有限公司,张伟,zhang.wei@yuntu.example,010-8888 0000,数据,李雷\n")


def test_gbk_csv_with_chinese_headers(store_dir: Path, invoke) -> None:
    (store_dir.parent / "客户.csv").write_bytes(CHINESE.encode("gbk"))
    r = invoke("import", "../客户.csv")
    assert r.exit_code == 0, r.output
    assert commits(store_dir)[0] == "Import 2 customers from 客户.csv"
    assert git(store_dir, "status", "--porcelain") == ""
    rows = {c["name"]: c for c in _load(store_dir)}
    jishi = rows["深圳市基石协作科技有限公司"]
    assert jishi["owner"] == "王芳" and jishi["industry"] == "软件"
    assert jishi["contacts"] == [{"name": "李娜", "email": "li.na@example.cn", "phone": "13800138000",
                                  "primary": True}]
    assert jishi["id"].startswith("shen-zhen-shi-ji-shi")


def test_bom_csv_english_headers_first_and_last_name(store_dir: Path, invoke) -> None:
    text = ("Company Name,First Name,Last Name,Email Address,Job Title,Tags,Industry\n"
            "Acme Corp,Jane,Doe,jane@acme.example,CTO,\"saas, priority\",software\n")
    (store_dir.parent / "leads.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    r = invoke("import", "../leads.csv")
    assert r.exit_code == 0, r.output
    [acme] = _load(store_dir)
    assert acme["name"] == "Acme Corp" and acme["tags"] == ["saas", "priority"]
    assert acme["contacts"] == [{"name": "Jane Doe", "title": "CTO", "email": "jane@acme.example", "primary": True}]


def test_semicolon_latin1_csv_with_quoted_commas_and_newlines(store_dir: Path, invoke) -> None:
    text = ('name;address;email;notes\n'
            '"Société Générale, SA";"1 Rue de Paris\n75001 Paris";info@sg.example;"line one; still one"\n'
            'Café Müller;Berlin;;\n')
    (store_dir.parent / "fr.csv").write_bytes(text.encode("latin-1"))
    r = invoke("import", "../fr.csv", "--dry-run")
    assert r.exit_code == 0, r.output
    # issue 18: charset-normalizer names the Windows superset of latin-1
    assert "encoding cp1252 (detected, confidence 100%), delimiter ';'" in r.output
    assert "notes -> extra.notes" in r.output
    assert "customers: 2 created" in r.output
    assert _customers(store_dir) == {}
    r = invoke("import", "../fr.csv")
    assert r.exit_code == 0, r.output
    rows = {c["name"]: c for c in _load(store_dir)}
    sg = rows["Société Générale, SA"]
    assert sg["address"] == "1 Rue de Paris\n75001 Paris"
    assert sg["email"] == "info@sg.example" and sg["extra"] == {"notes": "line one; still one"}
    assert "Café Müller" in rows


def test_tab_and_pipe_delimiters(store_dir: Path, invoke) -> None:
    (store_dir.parent / "t.tsv").write_text("name\ttier\nTab Co\tA\n", encoding="utf-8")
    (store_dir.parent / "p.csv").write_text("name|tier\nPipe Co|B\n", encoding="utf-8")
    assert invoke("import", "../t.tsv").exit_code == 0
    assert invoke("import", "../p.csv").exit_code == 0
    assert {c["name"]: c["tier"] for c in _load(store_dir)} == {"Tab Co": "A", "Pipe Co": "B"}


def test_xlsx_with_dates_numbers_and_sheet_choice(store_dir: Path, invoke) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Notes"
    wb.active.append(["nothing here"])
    ws = wb.create_sheet("People")
    ws.append(["Name", "Kind", "Phone", "Birthday", "Created", "Size"])
    ws.append(["Jane Doe", "person", 13800138000, dt.date(1990, 5, 17), dt.datetime(2024, 3, 1, 9, 30), 12])
    wb.save(store_dir.parent / "people.xlsx")
    r = invoke("import", "../people.xlsx", "--sheet", "People")
    assert r.exit_code == 0, r.output
    [jane] = _load(store_dir)
    assert jane["phone"] == "13800138000" and jane["birthday"] == "1990-05-17"
    assert jane["created"] == "2024-03-01T09:30:00+08:00" and jane["size"] == "12"
    r = invoke("import", "../people.xlsx", "--sheet", "Nope")
    assert r.exit_code == 2 and "its sheets: Notes, People" in r.output


def test_map_option_and_unknown_columns(store_dir: Path, invoke) -> None:
    (store_dir.parent / "x.csv").write_text("客户全称,Weird,Level\n甲公司,foo,A\n", encoding="utf-8")
    r = invoke("import", "../x.csv", "--dry-run")
    assert "客户全称 -> (ignored)" in r.output and "Level -> tier" in r.output
    r = invoke("import", "../x.csv", "--map", "客户全称=name", "--map", "Weird=extra.weird")
    assert r.exit_code == 0, r.output
    [c] = _load(store_dir)
    assert c["name"] == "甲公司" and c["extra"] == {"weird": "foo"} and c["tier"] == "A"
    r = invoke("import", "../x.csv", "--map", "Nope=name")
    assert r.exit_code == 2 and "no column named Nope" in r.output  # as the user wrote it
    r = invoke("import", "../x.csv", "--map", "Weird=colour")
    assert r.exit_code == 2 and "'colour' is not a field of customers" in r.output


BAD = ("客户名称,联系人,邮箱,电话,等级,生日\n"
       "好公司,王一,wang.yi@good.example,13800000001,A,\n"
       "坏邮箱公司,李娜,li.na@,13800000002,B,\n"
       ",,no.name@x.example,,,\n"
       "等级公司,赵六,zhao@x.example,,Z,\n"
       "日期公司,钱七,qian@x.example,,,1990-02-30\n"
       "电话公司,孙八,sun@x.example,call me,,\n")


def test_bad_rows_are_listed_and_nothing_is_written(store_dir: Path, invoke) -> None:
    (store_dir.parent / "contacts.csv").write_text(BAD, encoding="utf-8")
    before = _snapshot(store_dir)
    r = invoke("import", "../contacts.csv")
    assert r.exit_code == 4, r.output
    assert "contacts.csv:row 3, column 邮箱: 'li.na@' is not an email address" in r.stderr
    assert "contacts.csv:row 4, column 客户名称: no customer name" in r.stderr
    assert "contacts.csv:row 5, column 等级: 'Z' is not one of: A, B, C, D" in r.stderr
    assert "contacts.csv:row 6, column 生日: '1990-02-30' is not a real date" in r.stderr
    assert "contacts.csv:row 7, column 电话: 'call me' is not a phone number" in r.stderr
    assert "crm: error: 5 problems in contacts.csv; nothing imported" in r.stderr
    assert "Traceback" not in r.output
    assert _snapshot(store_dir) == before


def test_errors_out_file_can_be_fixed_and_reimported(store_dir: Path, invoke) -> None:
    (store_dir.parent / "contacts.csv").write_text(BAD, encoding="utf-8")
    r = invoke("import", "../contacts.csv", "--errors-out", "../fix.csv")
    assert r.exit_code == 4
    raw = (store_dir.parent / "fix.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [r["客户名称"] for r in rows] == ["坏邮箱公司", "", "等级公司", "日期公司", "电话公司"]
    assert rows[0]["error"] == "column 邮箱: 'li.na@' is not an email address (like name@example.com)"
    # the user fixes the file (the error column may stay) and imports it
    fixed = [dict(r, 邮箱=r["邮箱"].replace("li.na@", "li.na@example.cn"), 等级="C" if r["等级"] == "Z" else r["等级"],
                  生日="" if r["生日"] else "", 电话="" if r["电话"] == "call me" else r["电话"],
                  客户名称=r["客户名称"] or "无名公司") for r in rows]
    with open(store_dir.parent / "fix.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(fixed)
    r = invoke("import", "../fix.csv")
    assert r.exit_code == 0, r.output
    assert len(_load(store_dir)) == 5


def test_skip_invalid_imports_the_good_rows(store_dir: Path, invoke) -> None:
    (store_dir.parent / "contacts.csv").write_text(BAD, encoding="utf-8")
    r = invoke("import", "../contacts.csv", "--skip-invalid")
    assert r.exit_code == 9, r.output  # partial: bad rows were left out
    assert [c["name"] for c in _load(store_dir)] == ["好公司"]
    assert commits(store_dir)[0] == "Import 1 customers from contacts.csv"


def test_reimport_is_idempotent_no_commit(store_dir: Path, invoke) -> None:
    (store_dir.parent / "c.csv").write_text(CHINESE, encoding="utf-8")
    assert invoke("import", "../c.csv").exit_code == 0
    head = git(store_dir, "rev-parse", "HEAD")
    for extra in ([], ["--on-duplicate", "update"]):
        r = invoke("import", "../c.csv", *extra)
        assert r.exit_code == 0, r.output
        assert "0 created" in r.stderr and "Nothing to import" in r.stderr
        assert git(store_dir, "rev-parse", "HEAD") == head
        assert git(store_dir, "status", "--porcelain") == ""


def test_duplicates_within_file_and_against_store(store_dir: Path, invoke) -> None:
    assert invoke("customer", "add", "Acme Corp", "--email", "info@acme.example").exit_code == 0
    (store_dir.parent / "d.csv").write_text("name,email,tier\n"
                                     "ACME  corp,,A\n"            # same name as the store's
                                     "Other,info@acme.example,B\n"  # same email as the store's
                                     "Beta,beta@x.example,C\n"
                                     "beta,,D\n", encoding="utf-8")  # same name as row 4
    r = invoke("import", "../d.csv", "--dry-run")
    assert r.exit_code == 0, r.output
    assert "customers: 1 created, 0 updated, 3 skipped" in r.output
    assert "d.csv:row 5: skipped, same name: already row 4 of this file (Beta)" in r.output
    r = invoke("import", "../d.csv", "--on-duplicate", "error")
    assert r.exit_code == 4
    assert "d.csv:row 2: duplicate: same name: already acme-corp-" in r.stderr
    r = invoke("import", "../d.csv", "--on-duplicate", "update")
    assert r.exit_code == 0, r.output
    rows = {c["name"]: c for c in _load(store_dir)}
    assert set(rows) == {"Acme Corp", "Beta"}
    assert rows["Acme Corp"]["tier"] == "B" and rows["Beta"]["tier"] == "D"
    assert commits(store_dir)[0] == "Import 1 customers from d.csv (1 updated)"


def test_match_external_id(store_dir: Path, invoke) -> None:
    (store_dir.parent / "a.csv").write_text("Customer ID,Company,Tier\nC-1,Acme,A\nC-2,Acme,B\n", encoding="utf-8")
    r = invoke("import", "../a.csv", "--match", "external-id")
    assert r.exit_code == 0, r.output
    rows = sorted(_load(store_dir), key=lambda c: c["extra"]["external_id"])
    assert [(c["name"], c["extra"]["external_id"]) for c in rows] == [("Acme", "C-1"), ("Acme", "C-2")]
    (store_dir.parent / "b.csv").write_text("Customer ID,Company,Tier\nC-2,Acme (renamed),C\n", encoding="utf-8")
    r = invoke("import", "../b.csv", "--match", "external-id", "--on-duplicate", "update")
    assert r.exit_code == 0, r.output
    assert commits(store_dir)[0] == "Update 1 customer from b.csv"
    assert {c["extra"]["external_id"]: c["name"] for c in _load(store_dir)} == {"C-1": "Acme", "C-2": "Acme (renamed)"}


def test_contacts_kind_attaches_to_customers(store_dir: Path, invoke) -> None:
    (store_dir.parent / "c.csv").write_text(CHINESE, encoding="utf-8")
    assert invoke("import", "../c.csv").exit_code == 0
    (store_dir.parent / "people.csv").write_text("公司,姓名,职位,邮箱,手机\n"
                                          "深圳市基石协作科技有限公司,陈晨,采购经理,chen@jishi.example,13900000000\n"
                                          "新公司,刘洋,CEO,liu@new.example,\n"
                                          "深圳市基石协作科技有限公司,李娜,,li.na@example.cn,\n", encoding="utf-8")
    r = invoke("import", "../people.csv", "--kind", "contacts")
    assert r.exit_code == 0, r.output
    assert "contacts: 2 created, 0 updated, 1 skipped" in r.stderr
    rows = {c["name"]: c for c in _load(store_dir)}
    assert [p["name"] for p in rows["深圳市基石协作科技有限公司"]["contacts"]] == ["李娜", "陈晨"]
    assert rows["新公司"]["contacts"] == [{"name": "刘洋", "title": "CEO", "email": "liu@new.example", "primary": True}]


def test_journal_kinds(store_dir: Path, invoke) -> None:
    assert invoke("customer", "add", "Acme Corp").exit_code == 0
    (store_dir.parent / "i.csv").write_text("customer,date,type,summary,duration,direction\n"
                                     "Acme Corp,2026-11-02 10:00,call,Discussed pricing,30,out\n"
                                     "Acme Corp,2026-11-03,meeting,\"Kick-off, with IT\",1h30m,\n", encoding="utf-8")
    r = invoke("import", "../i.csv", "--kind", "interactions")
    assert r.exit_code == 0, r.output
    assert invoke("import", "../i.csv", "--kind", "interactions").stderr.startswith("Nothing to import")
    (store_dir.parent / "o.csv").write_text("customer,title,amount,stage,close\n"
                                            "Acme Corp,ERP,\"120,000\",proposal,2026-12-31\n"
                                     "Acme Corp,Old deal,5000,won,\n", encoding="utf-8")
    assert invoke("import", "../o.csv", "--kind", "opps").exit_code == 0
    (store_dir.parent / "r.csv").write_text("customer,date,amount,product\nAcme Corp,2026-10-01,99.5,Licence\n",
                                     encoding="utf-8")
    assert invoke("import", "../r.csv", "--kind", "orders").exit_code == 0
    (store_dir.parent / "t.csv").write_text("customer,subject,priority,status\n"
                                            "Acme Corp,Login fails,high,in-progress\n",
                                     encoding="utf-8")
    assert invoke("import", "../t.csv", "--kind", "tickets").exit_code == 0
    assert invoke("check").exit_code == 0
    opps = invoke("opp", "list", "--format", "json").output
    assert "ERP" in opps and '"won"' in opps
    assert "Login fails" in invoke("ticket", "list", "--format", "csv").output
    timeline = invoke("timeline", "acme", "--format", "csv").output
    assert "Kick-off, with IT" in timeline and "Discussed pricing" in timeline
    (store_dir.parent / "bad.csv").write_text("customer,date,type,summary\nNobody,2026-11-02,call,x\n"
                                              "Acme Corp,2026-11-02,fax,y\n", encoding="utf-8")
    r = invoke("import", "../bad.csv", "--kind", "interactions")
    assert r.exit_code == 4
    assert "bad.csv:row 2, column customer: no customer 'Nobody'" in r.stderr
    assert "bad.csv:row 3, column type: 'fax' is not an interaction type; allowed: " in r.stderr


def test_interrupted_import_leaves_store_and_git_as_before(store_dir: Path, invoke,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from crmcli.io import importer
    from crmcli.store import transaction as tx_mod

    assert invoke("customer", "add", "Existing", "--email", "e@x.example").exit_code == 0
    (store_dir.parent / "many.csv").write_text("name,email,tier\n" + "".join(
        f"Company {i},c{i}@x.example,B\n" for i in range(50)) + "Existing,,A\n", encoding="utf-8")
    before = _snapshot(store_dir)
    real = tx_mod.Transaction.write_customer
    calls = {"n": 0}

    def flaky(self, customer):  # noqa: ANN001, ANN202
        calls["n"] += 1
        if calls["n"] == 30:
            raise OSError(28, "No space left on device")
        return real(self, customer)

    monkeypatch.setattr(tx_mod.Transaction, "write_customer", flaky)
    store = open_store(str(store_dir))
    plan = importer.plan_import(store, store_dir.parent / "many.csv", on_duplicate="update")
    with pytest.raises(OSError):
        importer.apply_plan(store, plan)
    assert calls["n"] == 30
    assert _snapshot(store_dir) == before
    assert not (store.state_dir / "txn").exists()
    monkeypatch.setattr(tx_mod.Transaction, "write_customer", real)
    r = invoke("import", "../many.csv", "--on-duplicate", "update")
    assert r.exit_code == 0, r.output
    assert commits(store_dir)[0] == "Import 50 customers from many.csv (1 updated)"


def test_interrupted_commit_leaves_nothing(store_dir: Path, invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmcli.errors import GitError
    from crmcli.store import git as git_mod

    (store_dir.parent / "c.csv").write_text(CHINESE, encoding="utf-8")
    before = _snapshot(store_dir)

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise GitError("simulated failure")

    monkeypatch.setattr(git_mod, "commit_paths", broken)
    r = invoke("import", "../c.csv")
    assert r.exit_code == 6
    assert _snapshot(store_dir) == before


def test_progress_callback(store_dir: Path) -> None:
    from crmcli.io import importer

    (store_dir.parent / "c.csv").write_text("name\n" + "".join(f"P{i}\n" for i in range(500)), encoding="utf-8")
    store = open_store(str(store_dir))
    seen: list[tuple[int, int]] = []
    plan = importer.plan_import(store, store_dir.parent / "c.csv")
    importer.apply_plan(store, plan, lambda n, t: seen.append((n, t)))
    assert seen[-1] == (500, 500) and len(seen) > 10


def test_import_big_csv_is_one_clean_commit(store_dir: Path, invoke) -> None:
    """Speed is measured by `make bench`, never by a timed unit test; this pins the shape of a bulk import."""
    (store_dir.parent / "big.csv").write_text("Company Name,Contact,Email,Phone,Industry,Tags\n" + "".join(
        f"Company {i},Person {i},p{i}@c{i}.example,+86 138 0000 {i:04d},software,\"a,b\"\n" for i in range(2000)),
        encoding="utf-8")
    r = invoke("import", "../big.csv")
    assert r.exit_code == 0, r.output
    assert commits(store_dir)[0] == "Import 2,000 customers from big.csv"
    assert subprocess.run(["git", "status", "--porcelain"], cwd=store_dir, capture_output=True,
                          text=True).stdout == ""
