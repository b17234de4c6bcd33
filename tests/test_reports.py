"""Reports checked against hand-computed numbers on a store built with real crm commands at fixed dates."""
from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

NOW = "2026-11-23T10:00:00+08:00"


class _Main:
    name = "crm"

    def main(self, args, prog_name=None, **extra):  # noqa: ANN001 - CliRunner protocol
        from crmcli.cli.main import main

        main(list(args))


def run(root: Path, *args: str, at: str = NOW, who: str = "alice <alice@example.com>"):
    env = {"CRM_NOW": at, "CRM_AUTHOR": who, "CRM_TZ": "Asia/Shanghai", "NO_COLOR": "1"}
    result = CliRunner().invoke(_Main(), ["--records", str(root), *args], env=env)  # type: ignore[arg-type]
    assert result.exit_code == 0, (args, result.output)
    return result.stdout.strip()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three customers, four deals, two tickets (one reopened), tasks and surveys around week 2026-W47."""
    home = tmp_path_factory.mktemp("home")
    saved = dict(os.environ)
    os.environ.update({"HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
                       "GIT_AUTHOR_NAME": "Alice Example", "GIT_AUTHOR_EMAIL": "alice@example.com",
                       "GIT_COMMITTER_NAME": "Alice Example", "GIT_COMMITTER_EMAIL": "alice@example.com"})
    try:
        root = tmp_path_factory.mktemp("reports") / "crm"
        run(root.parent, "init", str(root), at="2026-01-01T09:00:00+08:00")
        r = lambda *a, at, who="alice <alice@example.com>": run(root, *a, at=at, who=who)  # noqa: E731
        bob = "bob <bob@example.com>"
        a = r("customer", "add", "Acme", "--owner", "alice", "--source", "referral", "--industry", "software",
              "--tier", "A", "--touch-every", "30d", at="2026-11-02T10:00:00+08:00")
        c = r("customer", "add", "Gamma 伽马", "--owner", "alice", "--source", "referral", "--tier", "A",
              "--touch-every", "14d", at="2026-09-01T10:00:00+08:00")
        b = r("customer", "add", "Beta", "--owner", "bob", "--source", "web", "--industry", "retail", "--tier", "B",
              at="2026-11-17T09:00:00+08:00", who=bob)
        r("log", a, "call", "old call", at="2026-11-10T10:00:00+08:00")
        r("log", a, "call", "kickoff", at="2026-11-16T10:00:00+08:00")
        r("log", a, "email", "sent deck", at="2026-11-18T11:00:00+08:00")
        r("log", b, "meeting", "demo", at="2026-11-18T15:00:00+08:00", who=bob)
        o4 = r("opp", "add", c, "Support", "--amount", "36000", "--stage", "lead", "--close", "2026-10-31",
               at="2026-09-05T10:00:00+08:00")
        o3 = r("opp", "add", a, "Training", "--amount", "8000", "--stage", "qualified", "--close", "2026-11-30",
               at="2026-10-01T10:00:00+08:00")
        o1 = r("opp", "add", a, "ERP", "--amount", "100000", "--stage", "proposal", "--close", "2026-12-15",
               at="2026-11-03T10:00:00+08:00")
        o2 = r("opp", "add", b, "POS", "--amount", "20000", "--stage", "lead", at="2026-11-17T10:00:00+08:00", who=bob)
        r("order", "add", a, "--amount", "5000", "--date", "2026-11-10", at="2026-11-10T12:00:00+08:00")
        r("opp", "advance", o1, "negotiation", at="2026-11-19T10:00:00+08:00")
        r("opp", "win", o2, "--order", at="2026-11-20T10:00:00+08:00", who=bob)
        r("opp", "edit", o4, "--set", "close=2026-12-31", at="2026-11-20T11:00:00+08:00")
        r("opp", "lose", o3, "--reason", "price", at="2026-11-21T10:00:00+08:00")
        t1 = r("ticket", "open", a, "Export broken", "--priority", "urgent", "--category", "complaint",
               "--channel", "phone", "--assignee", "bob", at="2026-11-16T09:00:00+08:00").split()[0]
        r("ticket", "comment", t1, "looking", at="2026-11-16T11:00:00+08:00", who=bob)
        r("ticket", "close", t1, "--resolution", "fixed", "--csat", "4", at="2026-11-16T15:00:00+08:00", who=bob)
        r("ticket", "reopen", t1, at="2026-11-18T10:00:00+08:00")
        r("ticket", "close", t1, "--resolution", "fixed again", at="2026-11-19T10:00:00+08:00", who=bob)
        r("ticket", "open", b, "How to export", "--priority", "normal", "--category", "question", "--channel", "email",
          at="2026-11-20T10:00:00+08:00", who=bob)
        k1 = r("task", "add", a, "Send quote", "--due", "2026-11-18", at="2026-11-16T10:30:00+08:00")
        r("task", "done", k1.split()[0], at="2026-11-19T09:00:00+08:00")
        r("task", "add", b, "Call back", "--due", "2026-11-20", "--owner", "bob", at="2026-11-17T11:00:00+08:00",
          who=bob)
        r("survey", a, "--csat", "5", "--nps", "9", at="2026-11-21T10:00:00+08:00")
        r("survey", b, "--nps", "5", at="2026-11-21T11:00:00+08:00", who=bob)
        return root
    finally:
        os.environ.clear()
        os.environ.update(saved)


def report_json(root: Path, *args: str, at: str = NOW) -> dict:
    data = json.loads(run(root, "report", *args, "--format", "json", at=at))
    return {s["key"]: s["rows"] for s in data["sections"]} | {"_meta": data}


def table(rows: list[dict], key: str, value: str) -> dict:
    return {r[key]: r[value] for r in rows}


def test_weekly_numbers(sample: Path) -> None:
    rep = report_json(sample, "weekly", "--week", "2026-W47")
    s = {r["what"]: (r["count"], r["amount"]) for r in rep["summary"]}
    assert s["interactions"] == (3, None)
    assert s["new customers"] == (1, None)
    assert s["lifecycle moves"] == (2, None)  # Beta: lead -> prospect -> customer
    assert s["deals created"] == (1, 20000)
    assert s["deals advanced"] == (1, 100000)
    assert s["deals won"] == (1, 20000)
    assert s["deals lost"] == (1, 8000)
    assert s["tickets opened"] == (2, None)
    assert s["tickets closed"] == (1, None)  # the reopened ticket counts once, at its last close
    assert s["tickets breached"] == (2, None)
    assert s["tasks done"] == (1, None)
    assert s["tasks overdue"] == (1, None)
    assert s["customers losing touch"] == (1, None)
    assert table(rep["interactions_by_type"], "type", "interactions") == {"call": 1, "email": 1, "meeting": 1}
    days = table(rep["interactions_by_day"], "day", "interactions")
    assert days == {"2026-11-16 Mon": 1, "2026-11-17 Tue": 0, "2026-11-18 Wed": 2, "2026-11-19 Thu": 0,
                    "2026-11-20 Fri": 0, "2026-11-21 Sat": 0, "2026-11-22 Sun": 0}
    assert table(rep["interactions_by_owner"], "who", "total") == {"alice": 2, "bob": 1}
    assert [(m["from"], m["to"]) for m in rep["lifecycle"]] == [("lead", "prospect"), ("prospect", "customer")]
    touch = rep["losing_touch"][0]
    assert touch["name"] == "Gamma 伽马" and touch["days_since"] == 83 and touch["last_contact"] is None


def test_weekly_owner_and_empty_week(sample: Path) -> None:
    rep = report_json(sample, "weekly", "--week", "2026-W47", "--owner", "bob")
    s = {r["what"]: r["count"] for r in rep["summary"]}
    assert s["interactions"] == 1 and s["deals won"] == 1 and s["deals advanced"] == 0 and s["tasks overdue"] == 1
    quiet = report_json(sample, "weekly", "--week", "2026-W30")
    assert all(r["count"] == 0 for r in quiet["summary"] if r["what"] != "customers losing touch")
    assert quiet["interactions_by_type"] == [] and len(quiet["interactions_by_day"]) == 7


def test_pipeline_now(sample: Path) -> None:
    rep = report_json(sample, "pipeline")
    stages = {r["stage"]: (r["deals"], r["amount"], r["weighted"]) for r in rep["by_stage"]}
    assert stages["lead"] == (1, 36000, 3600)
    assert stages["negotiation"] == (1, 100000, 75000)
    assert stages["proposal"] == (0, 0, 0)
    assert stages["total"] == (2, 136000, 78600)
    assert [(r["month"], r["deals"], r["amount"], r["weighted"]) for r in rep["forecast_month"]] == [
        ("2026-12", 2, 136000, 78600)]
    assert table(rep["forecast_category"], "category", "weighted") == {"pipeline": 3600, "best-case": 0,
                                                                      "commit": 75000}
    assert [r["conversion"] for r in rep["conversion"]] == [75.0, 66.7, 100.0, 50.0]
    everyone = rep["win_rate"][0]
    assert (everyone["won"], everyone["lost"], everyone["win_rate"], everyone["avg_cycle_days"]) == (1, 1, 50, 3)
    moved = table(rep["movement"], "movement", "deals")
    assert moved == {"new": 2, "advanced": 1, "slipped": 1, "won": 1, "lost": 1}  # ERP (11-03) and POS are new
    assert table(rep["movement"], "movement", "amount")["new"] == 120000
    assert table(rep["movement"], "movement", "amount")["slipped"] == 36000


def test_pipeline_as_of_replays_history(sample: Path) -> None:
    rep = report_json(sample, "pipeline", "--as-of", "2026-11-18")
    stages = {r["stage"]: (r["deals"], r["amount"], r["weighted"]) for r in rep["by_stage"]}
    assert stages["lead"] == (2, 56000, 5600)  # POS (just opened) and Support
    assert stages["qualified"] == (1, 8000, 2000)  # Training, lost only on the 21st
    assert stages["proposal"] == (1, 100000, 50000)  # ERP, advanced on the 19th
    assert stages["total"] == (4, 164000, 57600)
    months = {r["month"]: (r["deals"], r["amount"]) for r in rep["forecast_month"]}
    assert months == {"2026-10": (1, 36000), "2026-11": (1, 8000), "2026-12": (1, 100000),
                      "(no close date)": (1, 20000)}  # Support's close had not slipped yet
    assert rep["win_rate"][0]["win_rate"] is None


def test_service_numbers(sample: Path) -> None:
    rep = report_json(sample, "service")
    s = table(rep["summary"], "what", "value")
    assert s["tickets"] == 2 and s["open tickets"] == 1
    assert s["first response, median (h)"] == 2 and s["resolution, median (h)"] == 73
    assert s["first response within SLA (%)"] == 0 and s["resolution within SLA (%)"] == 0
    assert s["CSAT (1-5)"] == 4.5 and s["NPS"] == 0 and s["NPS answers"] == 2
    prio = {r["priority"]: r for r in rep["open_by_priority"]}
    assert prio["normal"]["open"] == 1 and prio["normal"]["3-7d"] == 1 and prio["urgent"]["open"] == 0
    cats = {r["category"]: r for r in rep["by_category"]}
    assert cats["complaint"]["resolution_median_h"] == 73 and cats["complaint"]["csat"] == 4


def test_customers_numbers(sample: Path) -> None:
    rep = report_json(sample, "customers")
    assert table(rep["by_lifecycle"], "stage", "customers") == {"prospect": 1, "customer": 2}
    abc = {r["segment"]: (r["customers"], r["revenue"]) for r in rep["abc"]}
    assert abc == {"A": (1, 20000), "B": (1, 5000), "C": (0, 0)}
    value = {r["name"]: r for r in rep["value"]}
    assert value["Beta"]["lifetime_value"] == 20000 and value["Acme"]["purchases"] == 1
    assert value["Beta"]["R"] == 5 and value["Acme"]["R"] == 3
    assert table(rep["won_by_source"], "source", "won_amount") == {"web": 20000}
    assert rep["churn_risk"][0]["name"] == "Gamma 伽马"


def test_empty_store_every_report(store_dir: Path) -> None:
    for name in ("weekly", "pipeline", "service", "customers"):
        for fmt in ("table", "json", "md", "csv", "html"):
            run(store_dir, "report", name, "--format", fmt)
        out = store_dir / f"{name}.xlsx"
        run(store_dir, "report", name, "-o", str(out))
        assert out.stat().st_size > 0


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.seen: dict[str, int] = {}
        self.void = {"meta", "br", "img", "hr", "link", "input"}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.seen[tag] = self.seen.get(tag, 0) + 1
        assert tag != "script" and not any(k == "src" for k, _ in attrs)
        if tag not in self.void:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.seen[tag] = self.seen.get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def test_html_is_valid_and_self_contained(sample: Path) -> None:
    page = run(sample, "report", "weekly", "--week", "2026-W47", "--format", "html")
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == []
    assert checker.seen["html"] == 1 and checker.seen["svg"] >= 3 and checker.seen["table"] >= 5
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page


def test_xlsx_has_sheets_styles_and_charts(sample: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "weekly.xlsx"
    run(sample, "report", "weekly", "--week", "2026-W47", "-o", str(out))
    wb = load_workbook(out)
    assert "Interactions by day" in wb.sheetnames and "Summary" in wb.sheetnames
    ws = wb["Interactions by day"]
    assert ws.freeze_panes == "B2" and ws["A1"].font.bold and len(ws._charts) == 1
    pipe = tmp_path / "pipeline.xlsx"
    run(sample, "report", "pipeline", "-o", str(pipe))
    wb2 = load_workbook(pipe)
    stage = wb2["Open deals by stage"]
    assert len(stage._charts) == 1 and stage["E2"].number_format == "¥#,##0"


def test_output_is_deterministic_and_sections(sample: Path) -> None:
    one = run(sample, "report", "customers")
    assert one == run(sample, "report", "customers")
    assert "Customers by lifecycle stage" in one
    csv_text = run(sample, "report", "pipeline", "--format", "csv", "--section", "by_stage")
    assert csv_text.splitlines()[0] == "stage,probability,category,deals,amount,weighted"


def test_errors_are_one_line(sample: Path) -> None:
    result = CliRunner().invoke(_Main(), ["--records", str(sample), "report", "weekly", "--week", "2026-W99"],
                                env={"CRM_NOW": NOW})  # type: ignore[arg-type]
    assert result.exit_code != 0 and len(result.stderr.strip().splitlines()) == 1
    result = CliRunner().invoke(_Main(), ["--records", str(sample), "report", "service", "-o", "x.pdf"])  # type: ignore[arg-type]
    assert result.exit_code != 0 and "extension" in result.stderr


def test_reports_from_the_index_follow_hand_edits_and_equal_a_reindex(sample: Path, tmp_path: Path) -> None:
    """The reports read the index's facts; after hand edits they equal a full parse of the files and the report
    made right after ``crm reindex``."""
    import shutil

    import yaml

    from crmcli.analysis import frames
    from crmcli.analysis import rows as tables
    from crmcli.store.location import open_store

    copy = tmp_path / "copy"
    shutil.copytree(sample, copy)
    kinds = ["weekly", "pipeline", "service", "customers"]

    def reports() -> dict:
        return {k: report_json(copy, k) for k in kinds}

    before = reports()  # builds the index
    store = open_store(str(copy))
    fresh = frames.load(store, tables.KINDS)
    files = frames.load(store, tables.KINDS, from_files=True)
    for kind in tables.KINDS:
        assert fresh[kind].equals(files[kind]), kind
    # hand edits: a profile, a journal event appended, a journal file removed, a customer removed
    ids = {c.id: c.name for c in store.iter_customers()}
    beta = next(c for c, n in ids.items() if n == "Beta")
    acme = next(c for c, n in ids.items() if n == "Acme")
    gamma = next(c for c, n in ids.items() if n != "Beta" and n != "Acme")
    path = store.customer_file(beta)
    path.write_text(path.read_text(encoding="utf-8").replace("tier: B", "tier: A"), encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a stamp the index has never seen
    journal = store.journal_files(acme)[0]
    events = yaml.safe_load(journal.read_text(encoding="utf-8"))
    events.append({"at": "2026-11-19T16:00:00+08:00", "kind": "visit", "by": "alice", "summary": "by hand"})
    events.append({"at": "2026-11-19T17:00:00+08:00", "kind": "order.add", "by": "alice", "amount": 7000,
                   "date": "2026-11-19"})
    journal.write_text(yaml.safe_dump(events, allow_unicode=True), encoding="utf-8")
    for f in store.journal_files(beta):
        f.unlink()
    shutil.rmtree(store.customer_dir(gamma))
    edited = reports()
    assert edited != before
    fresh = frames.load(store, tables.KINDS)
    files = frames.load(store, tables.KINDS, from_files=True)
    for kind in tables.KINDS:
        assert fresh[kind].equals(files[kind]), kind
    assert gamma not in set(fresh["customers"]["id"]) and set(fresh["opps"]["customer"]) == {acme}
    assert sorted(fresh["orders"]["amount"]) == [5000, 7000] and "by hand" in set(fresh["interactions"]["summary"])
    assert fresh["customers"].set_index("id").loc[beta, "tier"] == "A"
    run(copy, "reindex")
    assert reports() == edited
