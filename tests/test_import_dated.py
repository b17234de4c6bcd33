"""Moving in from another CRM: dated imports through a mapping file, checked against pandas on the same CSV."""
from __future__ import annotations

import csv
import datetime as dt
import json
import random
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from crmcli.cli.main import cli
from tests.conftest import commits, git

NOW = "2026-11-20T12:00:00"  # CRM_NOW; CRM_TZ is Asia/Shanghai (conftest)
ACCOUNTS = ["Acme Corp", "Globex", "Initech", "Umbrella", "Hooli"]
# crm.yaml's default SLA targets (hours): first response, resolution
TARGETS = {"low": (48, 240), "normal": (24, 72), "high": (4, 24), "urgent": (1, 8)}

DEAL_MAP = """\
kind: opps
columns:
  opportunity_id: title
  close_value: amount
  demo_date: stage_at.proposal
values:
  deal_stage: {Prospecting: lead, Engaging: qualified}
constants:
  currency: USD
"""

TICKET_MAP = """\
kind: tickets
values:
  优先级: {Low: low, Medium: normal, High: high, Critical: urgent}
  状态: {Pending: waiting, Solved: resolved}
"""


@pytest.fixture
def usd(store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store made with crm init --currency USD (beside the default one), the current directory, the time
    pinned."""
    root = tmp_path / "usd"
    r = CliRunner().invoke(cli, ["init", str(root), "--currency", "USD"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    monkeypatch.chdir(root)
    monkeypatch.setenv("CRM_NOW", NOW)
    return root


def _write(path: Path, header: list[str], rows: list[list]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _deals(path: Path) -> Path:
    """An export in the style of a public CRM sample: won and lost deals with engage and close dates, open deals
    without amounts (prospecting ones without any date), a demo date on some closed deals."""
    rng = random.Random(16)
    rows = []
    for _ in range(60):
        stage = rng.choice(["Won", "Won", "Lost", "Engaging", "Prospecting"])
        engage = dt.date(2016, 10, 1) + dt.timedelta(days=rng.randint(0, 120))
        demo = engage + dt.timedelta(days=rng.randint(1, 20)) if stage in ("Won", "Lost") and rng.random() < .5 \
            else None
        close = (demo or engage) + dt.timedelta(days=rng.randint(1, 90)) if stage in ("Won", "Lost") else None
        value = rng.randint(500, 10000) if stage == "Won" else (0 if stage == "Lost" else "")
        rows.append([f"{rng.getrandbits(32):08X}", rng.choice(["Moses Frase", "Darcel Schlecht"]),
                     rng.choice(["GTX Basic", "MG Special"]), rng.choice(ACCOUNTS), stage,
                     "" if stage == "Prospecting" else engage.isoformat(), demo.isoformat() if demo else "",
                     close.isoformat() if close else "", value])
    return _write(path, ["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date",
                         "demo_date", "close_date", "close_value"], rows)


def _tickets(path: Path) -> Path:
    """Support tickets with Chinese headers: first response, resolution, close and satisfaction."""
    rng = random.Random(61)
    rows = []
    fmt = "%Y-%m-%d %H:%M"
    for i in range(50):
        status = rng.choice(["Closed", "Closed", "Closed", "Solved", "Open", "Pending"])
        if status in ("Open", "Pending"):  # open ones from the last five days: some past their targets, some not
            opened = dt.datetime.fromisoformat(NOW) - dt.timedelta(minutes=rng.randint(10, 5 * 24 * 60))
        else:
            opened = dt.datetime(2026, 9, 1, 9) + dt.timedelta(minutes=rng.randint(0, 70 * 24 * 60))
        replied = status == "Pending" or rng.random() < (0.5 if status == "Open" else 0.8)
        left = int((dt.datetime.fromisoformat(NOW) - opened).total_seconds() // 60)
        first = opened + dt.timedelta(minutes=rng.randint(5, min(30 * 60, left))) if replied else None
        resolved = closed = None
        if status in ("Closed", "Solved"):
            resolved = (first or opened) + dt.timedelta(minutes=rng.randint(30, 100 * 60))
        if status == "Closed":
            closed = resolved + dt.timedelta(minutes=rng.randint(0, 48 * 60))
        csat = rng.randint(1, 5) if status in ("Closed", "Solved") and rng.random() < .7 else ""
        rows.append([f"T-{1000 + i}", rng.choice(ACCOUNTS), f"Problem {i}", rng.choice(
            ["Low", "Medium", "High", "Critical"]), status, opened.strftime(fmt),
            first.strftime(fmt) if first else "", resolved.strftime(fmt) if resolved else "",
            closed.strftime(fmt) if closed else "", csat])
    return _write(path, ["工单编号", "客户", "主题", "优先级", "状态", "创建时间", "首次响应时间", "解决时间",
                         "关闭时间", "满意度"], rows)


def _report(invoke, *args: str) -> dict[str, list[dict]]:
    r = invoke("report", *args, "--format", "json")
    assert r.exit_code == 0, r.output
    return {s["key"]: s["rows"] for s in json.loads(r.stdout)["sections"]}


def _summary(rows: list[dict]) -> dict:
    return {r["what"]: r["value"] for r in rows}


def _pct(num: int, den: int) -> float | None:
    return round(100.0 * num / den, 1) if den else None


def test_deals_and_tickets_from_another_crm_keep_their_dates(usd: Path, invoke) -> None:
    _write(usd.parent / "accounts.csv", ["account", "sector"], [[a, "tech"] for a in ACCOUNTS])
    assert invoke("import", "../accounts.csv").exit_code == 0
    deals_csv, tickets_csv = _deals(usd.parent / "deals.csv"), _tickets(usd.parent / "tickets.csv")
    (usd.parent / "deals.map.yaml").write_text(DEAL_MAP, encoding="utf-8")
    (usd.parent / "tickets.map.yaml").write_text(TICKET_MAP, encoding="utf-8")
    before = len(commits(usd))
    r = invoke("import", "../deals.csv", "--mapping", "../deals.map.yaml")
    assert r.exit_code == 0, r.output
    r = invoke("import", "../tickets.csv", "--mapping", "../tickets.map.yaml")
    assert r.exit_code == 0, r.output
    assert len(commits(usd)) == before + 2  # one commit per import, history and all
    assert git(usd, "status", "--porcelain") == ""
    assert invoke("check").exit_code == 0
    # the same files again change nothing
    for name in ("deals", "tickets"):
        r = invoke("import", f"../{name}.csv", "--mapping", f"../{name}.map.yaml")
        assert r.exit_code == 0 and "Nothing to import" in r.output, r.output
    assert len(commits(usd)) == before + 2

    # -- the pipeline, against pandas on the same CSV ---------------------------------------------
    d = pd.read_csv(deals_csv, parse_dates=["engage_date", "demo_date", "close_date"])
    won, lost = d[d.deal_stage == "Won"], d[d.deal_stage == "Lost"]
    rep = _report(invoke, "pipeline")
    everyone = next(r for r in rep["win_rate"] if r["owner"] == "all")
    assert (everyone["won"], everyone["lost"]) == (len(won), len(lost))
    assert everyone["win_rate"] == _pct(len(won), len(won) + len(lost))
    assert everyone["avg_cycle_days"] == round((won.close_date - won.engage_date).dt.days.mean(), 1)
    assert everyone["won_amount"] == won.close_value.sum()
    rank = {"Prospecting": 0, "Engaging": 1, "Won": 4}
    reached = d.apply(lambda r: rank.get(r.deal_stage, 2 if pd.notna(r.demo_date) else 0), axis=1)
    steps = ["lead", "qualified", "proposal", "negotiation", "won"]
    expected = [{"from": a, "to": b, "reached": int((reached >= i).sum()), "moved_on": int((reached > i).sum()),
                 "conversion": _pct(int((reached > i).sum()), int((reached >= i).sum()))}
                for i, (a, b) in enumerate(zip(steps, steps[1:], strict=False))]
    assert rep["conversion"] == expected
    movement = {r["movement"]: r["deals"] for r in rep["movement"]}
    assert movement["won"] == 0  # nothing of 2017 was won in the last 30 days
    period = _report(invoke, "pipeline", "--since", "2017-01-01", "--as-of", "2017-02-28")
    moved = {r["movement"]: (r["deals"], r["amount"]) for r in period["movement"]}
    in_period = won[(won.close_date >= "2017-01-01") & (won.close_date <= "2017-02-28")]
    assert moved["won"] == (len(in_period), float(in_period.close_value.sum()))
    lost_in = lost[(lost.close_date >= "2017-01-01") & (lost.close_date <= "2017-02-28")]
    assert moved["lost"][0] == len(lost_in)
    opened = d[(d.engage_date >= "2017-01-01") & (d.engage_date <= "2017-02-28")]
    assert moved["new"][0] == len(opened)

    # -- the service report ------------------------------------------------------------------------
    t = pd.read_csv(tickets_csv, parse_dates=["创建时间", "首次响应时间", "解决时间", "关闭时间"])
    t["priority"] = t["优先级"].map({"Low": "low", "Medium": "normal", "High": "high", "Critical": "urgent"})
    resp_h = t["priority"].map(lambda p: TARGETS[p][0])
    res_h = t["priority"].map(lambda p: TARGETS[p][1])
    frt = (t["首次响应时间"] - t["创建时间"]).dt.total_seconds() / 3600
    res = (t["解决时间"] - t["创建时间"]).dt.total_seconds() / 3600
    now = pd.Timestamp(NOW)
    is_open = t["状态"].isin(["Open", "Pending"])
    response_breached = (t["首次响应时间"].fillna(now) - t["创建时间"]).dt.total_seconds() / 3600 > resp_h
    resolution_breached = (now - t["创建时间"]).dt.total_seconds() / 3600 > res_h
    s = _summary(_report(invoke, "service")["summary"])
    assert 0 < s["open past SLA (breached-open)"] < s["open tickets"]  # the data has both
    assert s["tickets"] == len(t) and s["open tickets"] == int(is_open.sum())
    assert s["first response, median (h)"] == pytest.approx(round(frt.median(), 1), abs=0.051)
    assert s["resolution, median (h)"] == pytest.approx(round(res.median(), 1), abs=0.051)
    assert s["first response within SLA (%)"] == _pct(int((frt <= resp_h).sum()), int(frt.notna().sum()))
    assert s["resolution within SLA (%)"] == _pct(int((res <= res_h).sum()), int(res.notna().sum()))
    assert s["open past SLA (breached-open)"] == int((is_open & (response_breached | resolution_breached)).sum())
    assert s["resolved or closed without any reply"] == int((~is_open & t["首次响应时间"].isna()).sum())
    assert s["CSAT (1-5)"] == round(t["满意度"].mean(), 2)
    assert s["CSAT answers"] == int(t["满意度"].notna().sum())

    # -- the timeline and --as-of see the old dates --------------------------------------------------
    first = d.sort_values("engage_date").iloc[0]
    timeline = invoke("timeline", first.account, "--format", "csv").output
    assert first.engage_date.strftime("%Y-%m-%d") in timeline


def test_every_problem_of_every_row_with_both_fixes(usd: Path, invoke) -> None:
    _write(usd.parent / "accounts.csv", ["account", "account_id"], [["Acme Corp", "A-1"]])
    assert invoke("import", "../accounts.csv", "--map", "account_id=external_id").exit_code == 0
    _write(usd.parent / "t.csv", ["customer", "subject", "priority", "status", "opened", "csat"],
           [["A-1", "Login", "Medium", "Pending", "2026-11-01 09:00", "4"],  # customer by external id
            ["Acme Corp", "Export", "Hgh", "Solvd", "yesterday-ish", "9"]])
    r = invoke("import", "../t.csv", "--kind", "tickets")
    assert r.exit_code == 4
    err = r.stderr
    assert ("t.csv:row 2, column priority: 'Medium' is not a ticket priority; allowed: low, normal, high, urgent; "
            "closest: ") in err
    assert "--map-value 'priority:Medium=" in err and "or add 'Medium' to ticket_priorities in crm.yaml" in err
    assert "t.csv:row 2, column status: 'Pending' is not a ticket status" in err
    row3 = [line for line in err.splitlines() if line.startswith("t.csv:row 3")]
    assert [line.split(",")[1].split(":")[0].strip() for line in row3] == [
        "column priority", "column status", "column opened", "column csat"]
    assert "closest: high" in row3[0] and "closest: resolved" in row3[1]
    # the fixes it names work, for one run
    _write(usd.parent / "t.csv", ["customer", "subject", "priority", "status", "opened", "csat"],
           [["A-1", "Login", "Medium", "Pending", "2026-11-01 09:00", "4"]])
    r = invoke("import", "../t.csv", "--kind", "tickets", "--map-value", "priority:Medium=normal",
               "--map-value", "status:Pending=waiting")
    assert r.exit_code == 0, r.output
    shown = json.loads(invoke("ticket", "list", "--format", "json").stdout)
    assert [(x["priority"], x["status"]) for x in shown] == [("normal", "waiting")]


def test_missing_field_names_candidates_and_the_kind_it_looks_like(usd: Path, invoke) -> None:
    deals = _deals(usd.parent / "deals.csv")
    r = invoke("import", "../deals.csv", "--dry-run")  # customers by default: there is no name column
    assert r.exit_code == 4
    assert "deals.csv: the columns look like deals (" in r.stderr and "try --kind opps" in r.stderr
    r = invoke("import", "../deals.csv", "--kind", "opps", "--dry-run", "--write-mapping", "../m.yaml")
    assert r.exit_code == 4
    assert ("deals.csv: no column gives title for deals; columns that might hold it: " in r.stderr
            and "(like --map '" in r.stderr)
    written = (usd.parent / "m.yaml").read_text(encoding="utf-8")
    assert "kind: opps" in written and "deal_stage: stage" in written and "currency: USD" in written
    assert "Prospecting:" in written and "Engaging:" in written  # guesses to check
    # edited as a user would: the title column and the stage words
    edited = (written.replace("opportunity_id: '-'", "opportunity_id: title")
              .replace("Prospecting: ", "Prospecting: lead #").replace("Engaging: ", "Engaging: qualified #"))
    (usd.parent / "m.yaml").write_text(edited, encoding="utf-8")
    _write(usd.parent / "accounts.csv", ["account"], [[a] for a in ACCOUNTS])
    assert invoke("import", "../accounts.csv").exit_code == 0
    r = invoke("import", "../deals.csv", "--mapping", "../m.yaml")
    assert r.exit_code == 0, r.output
    d = pd.read_csv(deals)
    assert f"Import {len(d)} opps from deals.csv" in r.output


def test_open_deal_without_amount_and_a_won_one_needs_one(usd: Path, invoke) -> None:
    _write(usd.parent / "accounts.csv", ["account"], [["Acme Corp"]])
    assert invoke("import", "../accounts.csv").exit_code == 0
    _write(usd.parent / "o.csv", ["customer", "title", "stage", "amount", "close date"],
           [["Acme Corp", "Open one", "qualified", "", ""], ["Acme Corp", "Won one", "won", "", "2026-10-01"]])
    r = invoke("import", "../o.csv", "--kind", "opps")
    assert r.exit_code == 4 and "o.csv:row 3, column amount: a won deal needs its amount" in r.stderr
    assert "row 2" not in r.stderr
    r = invoke("import", "../o.csv", "--kind", "opps", "--skip-invalid")
    assert r.exit_code == 9
    assert invoke("check").exit_code == 0


def test_xlsx_formula_cells(usd: Path, invoke) -> None:
    import zipfile

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "customers"
    ws.append(["name", "size"])
    ws.append(["Acme Corp", "=40+2"])
    path = usd.parent / "f.xlsx"
    wb.save(path)
    r = invoke("import", "../f.xlsx")
    assert r.exit_code == 4 and "f.xlsx: cell customers!B2 is a formula (=40+2) with no saved value" in r.stderr
    # as Excel saves it: the formula with its value
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    assert "<f>40+2</f><v></v>" in sheet or "<f>40+2</f><v/>" in sheet or "<f>40+2</f>" in sheet
    parts["xl/worksheets/sheet1.xml"] = sheet.replace("<v></v>", "").replace("<v/>", "").replace(
        "<f>40+2</f>", "<f>40+2</f><v>42</v>").encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    r = invoke("import", "../f.xlsx")
    assert r.exit_code == 0, r.output
    assert "size: '42'" in next(usd.glob("customers/*/*/customer.yaml")).read_text(encoding="utf-8")


def test_money_of_another_currency_is_never_relabelled(usd: Path, invoke) -> None:
    _write(usd.parent / "accounts.csv", ["account"], [["Acme Corp"]])
    assert invoke("import", "../accounts.csv").exit_code == 0
    _write(usd.parent / "o.csv", ["customer", "title", "stage", "amount"],
           [["Acme Corp", "One", "won", "1,000 USD"], ["Acme Corp", "Two", "won", "€2,000"],
            ["Acme Corp", "Three", "won", "3000 CNY"]])
    r = invoke("import", "../o.csv", "--kind", "opps")
    assert r.exit_code == 4
    assert "row 2" not in r.stderr  # the store's currency, written out
    assert ("o.csv:row 3, column amount: '€2,000' is in EUR, the row's currency is USD; give a currency column, "
            "or put currency: EUR under constants in the mapping file") in r.stderr
    assert "o.csv:row 4, column amount: '3000 CNY' is in CNY" in r.stderr
    (usd.parent / "cny.yaml").write_text("constants: {currency: CNY}\n", encoding="utf-8")
    _write(usd.parent / "o.csv", ["customer", "title", "stage", "amount"], [["Acme Corp", "Three", "won", "3000 CNY"]])
    r = invoke("import", "../o.csv", "--kind", "opps", "--mapping", "../cny.yaml")
    assert r.exit_code == 0, r.output
    deal = json.loads(invoke("opp", "list", "--format", "json").stdout)[0]
    assert (deal["amount"], deal["currency"]) == (3000, "CNY")


def _index_rows(root: Path) -> dict[str, list[tuple]]:
    """Every row of the SQLite index but the file modification times (a rebuild a moment later sees other ones),
    sorted; the search text by customer id (its row number is the order of insertion)."""
    import sqlite3

    db = sqlite3.connect(root / ".git" / "crm" / "cache" / "index.sqlite")
    try:
        out = {}
        for table in ("customers", "contacts", "journals", "events", "opps", "tickets", "tasks", "meta"):
            columns = [c[1] for c in db.execute(f"PRAGMA table_info({table})") if c[1] not in ("n", "st_mtime")]
            out[table] = sorted(db.execute(f"SELECT {', '.join(columns)} FROM {table}"), key=repr)
        out["texts"] = sorted(db.execute("SELECT c.id, t.folded FROM texts t JOIN customers c ON c.n = t.rowid"))
        return out
    finally:
        db.close()


def test_the_index_after_an_import_is_what_a_rebuild_makes(usd: Path, invoke) -> None:
    """The import hands its parsed events to the index instead of it parsing the files again: same rows."""
    _write(usd.parent / "accounts.csv", ["account", "account_id"], [[a, f"A-{i}"] for i, a in enumerate(ACCOUNTS)])
    assert invoke("import", "../accounts.csv", "--map", "account_id=external_id").exit_code == 0
    assert invoke("reindex").exit_code == 0  # an index that follows the commits, as after any read
    awkward = ["a: b", "it's", "- dash", "007", "yes", "~", "北京 基石", "#hash", "line\nbreak", " lead", "x, y",
               "{braces}", "1.5e3", "null", "tab\there"]
    _write(usd.parent / "calls.csv", ["customer", "date", "type", "duration", "summary"],
           [[f"A-{i % 3}", f"2016-{1 + i % 12:02d}-{1 + i % 27:02d} 10:{i % 60:02d}", "call", 5 + i, text]
            for i, text in enumerate(awkward)])
    _deals(usd.parent / "deals.csv")
    (usd.parent / "deals.map.yaml").write_text(DEAL_MAP, encoding="utf-8")
    _tickets(usd.parent / "tickets.csv")
    (usd.parent / "tickets.map.yaml").write_text(TICKET_MAP, encoding="utf-8")
    _write(usd.parent / "tasks.csv", ["customer", "text", "created", "due", "status", "done at"],
           [[f"A-{i % 4}", f"Call back {i}", f"2026-0{1 + i % 9}-02 09:00", f"2026-0{1 + i % 9}-09",
             "done" if i % 2 else "open", f"2026-0{1 + i % 9}-05 10:00" if i % 2 else ""] for i in range(12)])
    # the deals append to journal files the calls began (those are parsed from the disk), and start others
    for args in (["../calls.csv", "--kind", "interactions"], ["../deals.csv", "--mapping", "../deals.map.yaml"],
                 ["../tickets.csv", "--mapping", "../tickets.map.yaml"],
                 ["../tasks.csv", "--kind", "tasks", "--map", "done at=done_at"]):
        r = invoke("import", *args)
        assert r.exit_code == 0, r.output
        after_import = _index_rows(usd)
        assert dict(after_import["meta"])["head"] == git(usd, "rev-parse", "HEAD").strip()  # brought up to date
        assert invoke("reindex").exit_code == 0
        assert _index_rows(usd) == after_import
    assert len(after_import["events"]) > 200 and after_import["opps"] and after_import["tickets"]
    assert len(after_import["tasks"]) == 12


def test_problems_between_fields_are_all_reported_with_the_others(usd: Path, invoke) -> None:
    _write(usd.parent / "accounts.csv", ["account", "account_id"], [["Acme Corp", "A-1"]])
    assert invoke("import", "../accounts.csv", "--map", "account_id=external_id").exit_code == 0
    _write(usd.parent / "t.csv", ["customer", "subject", "priority", "opened", "first reply", "resolved", "closed"],
           [["A-1", "", "Medium", "2026-11-10 09:00", "2026-11-09 09:00", "2026-11-08 10:00", "someday"],
            ["A-1", "Fine", "high", "2026-11-10 09:00", "2026-11-10 10:00", "", ""],
            ["", "Late", "low", "2026-11-10 09:00", "", "2026-11-01 09:00", "2026-11-02 09:00"]])
    r = invoke("import", "../t.csv", "--kind", "tickets", "--map", "first reply=first_response_at",
               "--map", "resolved=resolved_at", "--map", "closed=closed_at", "--map", "opened=opened_at")
    assert r.exit_code == 4
    lines = r.stderr.splitlines()

    def columns(row: int) -> list[str]:
        return [line.split(", column ")[1].split(":")[0] for line in lines if line.startswith(f"t.csv:row {row},")]

    # every problem of the row, each with its column: by itself (priority, closed, subject) and between fields
    assert sorted(columns(2)) == ["closed", "first reply", "priority", "resolved", "subject"]
    assert "t.csv:row 2, column first reply: 2026-11-09T09:00 is before the ticket was opened (2026-11-10T09:00)" \
        in lines
    assert "t.csv:row 2, column subject: no title; say what the ticket is about" in lines
    assert columns(3) == []
    assert sorted(columns(4)) == ["closed", "customer", "resolved"]
    _write(usd.parent / "o.csv", ["customer", "title", "stage", "amount", "created", "won date"],
           [["A-1", "Big", "won", "lots", "2026-10-05", "2026-10-01"],
            ["A-1", "Small", "won", "100", "2026-10-05", "2026-10-01"]])
    r = invoke("import", "../o.csv", "--kind", "opps", "--map", "won date=closed_at")
    assert r.exit_code == 4
    assert "o.csv:row 2, column amount: " in r.stderr
    assert "o.csv:row 2, column won date: 2026-10-01 is before the deal was created (2026-10-05)" in r.stderr
    assert "o.csv:row 3, column won date: 2026-10-01 is before the deal was created (2026-10-05)" in r.stderr
    _write(usd.parent / "c.csv", ["customer", "value", "start", "end"], [["A-1", "", "2026-05-01", "2026-01-01"]])
    r = invoke("import", "../c.csv", "--kind", "contracts")
    assert r.exit_code == 4
    assert "c.csv:row 2, column value: no value; give a number" in r.stderr
    assert "c.csv:row 2, column end: 2026-01-01 is before the start 2026-05-01" in r.stderr


def test_every_bad_value_of_a_customer_row_is_reported(store_dir: Path, invoke) -> None:
    _write(store_dir / "c.csv", ["name", "stage", "tier", "email"],
           [["Eta Labs", "Interessent", "Z", "not-an-email"], ["Theta Ltd", "lead", "A", ""]])
    before = commits(store_dir)
    r = invoke("import", "c.csv")
    assert r.exit_code == 4 and commits(store_dir) == before
    for column, words in (("stage", "'Interessent' is not one of"), ("tier", "'Z' is not one of"),
                          ("email", "not-an-email")):
        assert any(line.startswith(f"c.csv:row 2, column {column}: ") and words in line
                   for line in r.stderr.splitlines()), (column, r.stderr)
    assert "3 problems in c.csv" in r.stderr


def test_a_mapping_file_entry_is_named_as_written_in_the_file(store_dir: Path, invoke) -> None:
    _write(store_dir / "o.csv", ["Title", "Closing", "Amount", "Customer"], [["ERP", "2026-12-01", "100", "Acme"]])
    (store_dir / "bad-field.yaml").write_text("kind: opps\ncolumns:\n  Closing: expected_close\n", encoding="utf-8")
    (store_dir / "bad-column.yaml").write_text("kind: opps\ncolumns:\n  Nope: title\n", encoding="utf-8")
    r = invoke("import", "o.csv", "--mapping", "bad-field.yaml")
    assert r.exit_code == 2 and "bad-field.yaml: columns 'Closing: expected_close': 'expected_close' is not a field" \
        in r.stderr and "--map" not in r.stderr.split(";")[0], r.stderr
    r = invoke("import", "o.csv", "--mapping", "bad-column.yaml")
    assert r.exit_code == 2 and "bad-column.yaml: columns: no column named Nope in the file" in r.stderr, r.stderr
    r = invoke("import", "o.csv", "--map", "Nope=title")
    assert r.exit_code == 2 and "--map: no column named Nope in the file" in r.stderr, r.stderr
