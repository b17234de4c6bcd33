"""Output people read (issue 17): every screen fits 80 and 120 columns, colour policy, human labels,
Chinese labels, the store's time zone, quiet pipes, spreadsheets with real types and print setup."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from wcwidth import wcswidth

from crmcli.render import fit
from tests.terminal import on_a_terminal, terminal_env

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-23T10:00:00+08:00"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

SCREENS = [
    ["report", "customers"], ["report", "service"], ["report", "weekly", "--week", "2026-W47"],
    ["report", "pipeline"], ["ticket", "list"], ["agenda"], ["timeline", "--all"], ["show", "acme"],
    ["show", "globex"], ["show", "深圳市基石协作科技有限公司"], ["customer", "list"],
    ["customer", "list", "--sort", "health"],
    ["opp", "list"], ["task", "list"], ["pipeline"], ["search", "数据"], ["contract", "list"], ["order", "list"],
    ["history", "acme"], ["ticket", "show", "tkt-tvt5"], ["opp", "show", "opp-kpdw"], ["customer", "show", "acme"],
    ["care"], ["kb", "list"], ["need", "list"], ["feedback", "list"], ["report", "needs"],
    ["diff", "--since", "2020-01-01"], ["report", "funnel"], ["report", "campaigns"], ["report", "referrals"],
    ["report", "loyalty"], ["timeline", "acme"], ["campaign", "list"], ["campaign", "show", "summer-webinar-2026"],
    ["kb", "show", "export-timeout"], ["points", "show", "globex"],
]


class _Main:
    name = "crm"

    def main(self, args, prog_name=None, **extra):  # noqa: ANN001 - CliRunner protocol
        from crmcli.cli.main import main

        main(list(args))


@pytest.fixture
def sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the bundled records/ in its own git repository."""
    root = tmp_path / "sample"
    shutil.copytree(ROOT / "records", root)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "Sample records"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    monkeypatch.setenv("CRM_NOW", NOW)
    monkeypatch.setenv("CRM_RECORDS", str(root))
    return root


def run(*args: str, env: dict | None = None, code: int = 0):
    result = CliRunner().invoke(_Main(), list(args), env=env)  # type: ignore[arg-type]
    assert result.exit_code == code, (args, result.output)
    return result


def widest(text: str) -> int:
    return max((wcswidth(ANSI.sub("", line)) for line in text.splitlines()), default=0)


# -- fitting ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("width", [80, 120])
def test_every_screen_fits_the_terminal(sample: Path, width: int) -> None:
    for args in SCREENS:
        out = run(*args, env={"COLUMNS": str(width)}).stdout
        assert out.strip(), args
        too_long = [line for line in out.splitlines() if wcswidth(ANSI.sub("", line)) > width]
        assert too_long == [], (args, too_long)


def test_pipes_without_columns_keep_the_full_lines(sample: Path) -> None:
    """No terminal and no COLUMNS: today's full output, so scripts do not change."""
    full = run("report", "customers").stdout
    assert widest(full) > 200 and "…" not in full
    tickets = run("ticket", "list").stdout
    assert "Receipt printer drops Chinese characters" in tickets and "…" not in tickets


def test_machine_formats_are_never_cut(sample: Path) -> None:
    for args in (["ticket", "list", "--format", "csv"], ["customer", "list", "--format", "json"],
                 ["report", "customers", "--format", "csv"], ["agenda", "--format", "json"]):
        assert run(*args, env={"COLUMNS": "40"}).stdout == run(*args).stdout, args


def test_narrow_tables_drop_low_value_columns_then_cut_text_by_display_width(sample: Path) -> None:
    out = run("ticket", "list", env={"COLUMNS": "80"}).stdout
    header = out.splitlines()[0].split()
    assert header[:3] == ["id", "customer", "title"] and "sla" in header.pop()
    assert "category" not in header and "opened" not in header  # the low-value columns went first
    assert "2026-10-23 10:00" in out  # a date-time is never cut
    assert "…" in out
    wide = run("ticket", "list", env={"COLUMNS": "200"}).stdout
    assert "category" in wide.splitlines()[0] and "…" not in wide


def test_truncate_and_wrap_never_split_a_wide_character() -> None:
    assert fit.truncate("增购数据分析模块", 9) == "增购数据…"  # 8 columns + "…"
    assert fit.dwidth(fit.truncate("增购数据分析模块", 10)) <= 10
    assert fit.truncate("short", 10) == "short"
    assert fit.wrap("增购数据分析模块", 5) == ["增购", "数据", "分析", "模块"]
    assert fit.wrap("keep in touch with them", 10) == ["keep in", "touch with", "them"]
    assert all(fit.dwidth(line) <= 7 for line in fit.wrap("方案评审，对方关注数据安全 and more words", 7))
    assert fit.column_widths([10, 40, 16], [4, 6, 16], 50) == [10, 20, 16]  # the widest gives way first
    assert fit.column_widths([10, 40], [10, 40], 30) is None


# -- agenda -----------------------------------------------------------------------------------------------------
def test_agenda_has_headers_one_alignment_and_the_owner_in_its_column(sample: Path) -> None:
    out = run("agenda", "--days", "7").stdout
    lines = out.splitlines()
    assert lines[0].split() == ["when", "what", "customer", "what", "to", "do", "id", "owner"]
    owner_at = wcswidth(lines[0][:lines[0].index("owner")])
    rows = [line for line in lines[2:] if line.startswith("  ") and line.strip()]
    owners = {"alice", "bob", "王芳", "张强"}
    assert len(rows) >= 8
    for line in rows:
        word = line.split()[-1]
        assert word in owners, line
        assert wcswidth(line[:line.rindex(word)]) == owner_at, line  # every day shares the same columns
    assert "Overdue" in lines and "¥300,000" in out and "300000 CNY" not in out  # one money style


# -- colour -----------------------------------------------------------------------------------------------------
def test_colour_policy(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[" not in run("ticket", "list").stdout  # no terminal: no colour
    forced = run("ticket", "list", env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[31mBREACHED" in forced  # breached in red, for less -R
    assert "\x1b[31m" in run("--color", "always", "agenda").stdout  # overdue in red
    assert "\x1b[" not in run("--color", "never", "ticket", "list", env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[" not in run("ticket", "list", env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert "\x1b[" not in run("--color", "auto", "ticket", "list", env={"NO_COLOR": ""}).stdout
    health = run("--color", "always", "customer", "list", "--sort", "health").stdout
    assert "\x1b[31m38" in health and re.search("\x1b\\[32m\\d+", health)  # at risk red, healthy green
    opps = run("--color", "always", "opp", "list").stdout
    assert "\x1b[32mwon" in opps and "\x1b[31mlost" in opps
    assert widest(run("--color", "always", "ticket", "list", env={"COLUMNS": "80"}).stdout) <= 80


# -- labels and language ----------------------------------------------------------------------------------------
def test_human_labels_on_the_terminal_and_stable_keys_in_data(sample: Path) -> None:
    weekly = run("report", "weekly", "--week", "2026-W47").stdout
    assert "days_since" not in weekly and "every_days" not in weekly
    service = run("report", "service").stdout
    assert "first_response_median_h" not in service and "1st response median (h)" in service
    data = json.loads(run("report", "service", "--format", "json").stdout)
    by_category = next(s for s in data["sections"] if s["key"] == "by_category")
    assert "first_response_median_h" in by_category["columns"]  # JSON keys stay the code names


def test_chinese_labels_from_crm_yaml_or_crm_lang(sample: Path) -> None:
    assert run("report", "service", env={"CRM_LANG": "zh"}).stdout.startswith("服务报告")
    out = run("ticket", "list", env={"CRM_LANG": "zh"}).stdout
    assert out.splitlines()[0].split()[:3] == ["编号", "客户", "标题"]
    with open(sample / "crm.yaml", "a", encoding="utf-8") as f:
        f.write("language: zh\n")
    report = run("report", "customers").stdout
    assert "客户数" in report and "占比" in report
    agenda = run("agenda").stdout
    assert "逾期" in agenda and "负责人" in agenda
    assert run("ticket", "list", env={"CRM_LANG": "en"}).stdout.splitlines()[0].startswith("id ")
    csv_head = run("ticket", "list", "--format", "csv").stdout.splitlines()[0]
    assert csv_head.startswith("ref,id,customer,customer_name,title")  # machine output is never translated
    (sample / "crm.yaml").write_text((sample / "crm.yaml").read_text(encoding="utf-8").replace(
        "language: zh", "language: fr"), encoding="utf-8")
    r = run("ticket", "list", code=4)
    assert "language 'fr' must be en or zh" in r.stderr


# -- time zone --------------------------------------------------------------------------------------------------
def test_reports_read_their_dates_in_the_store_time_zone(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The week and "as of" of a report are the store's, even when the machine and CRM_TZ say otherwise."""
    monkeypatch.delenv("CRM_TZ", raising=False)
    monkeypatch.setenv("TZ", "UTC")
    env = {"CRM_NOW": "2026-12-03T17:00:00Z"}  # already Friday 01:00 in Beijing
    days = json.loads(run("report", "weekly", "--format", "json", env=env).stdout)
    section = next(s for s in days["sections"] if s["key"] == "interactions_by_day")
    shown = [row["day"][:10] for row in section["rows"]]
    assert shown == [f"2026-11-{d}" for d in range(23, 30)]  # Monday to Sunday of 2026-W48, seven days
    assert "as of 2026-12-04 01:00" in run("report", "pipeline", env=env).stdout


def test_the_store_time_zone_is_used_by_every_command_and_crm_tz_overrides_it(sample: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRM_TZ", raising=False)
    monkeypatch.setenv("TZ", "UTC")
    assert "timezone: Asia/Shanghai" in (sample / "crm.yaml").read_text(encoding="utf-8")
    tasks = run("task", "list").stdout
    assert "2026-11-24 09:00" in tasks  # a 09:00 Beijing deadline reads 09:00 on a UTC server
    assert "2026-11-24 01:00" in run("task", "list", env={"CRM_TZ": "UTC"}).stdout
    run("log", "acme", "call", "checked the zone", env={"CRM_AUTHOR": "Alice <alice@example.com>"})
    stamp = subprocess.run(["git", "log", "-1", "--format=%aI"], cwd=sample, capture_output=True, text=True,
                           check=True).stdout.strip()
    from zoneinfo import ZoneInfo

    moment = dt.datetime.fromisoformat(stamp)
    history = run("history", "acme", "-n", "1").stdout
    assert moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M") in history.splitlines()[0]
    utc = run("history", "acme", "-n", "1", env={"CRM_TZ": "UTC"}).stdout
    assert moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M") in utc.splitlines()[0]
    text = (sample / "crm.yaml").read_text(encoding="utf-8").replace("Asia/Shanghai", "Mars/Olympus")
    (sample / "crm.yaml").write_text(text, encoding="utf-8")
    r = run("task", "list", code=4)
    assert "crm.yaml:5: timezone: unknown time zone 'Mars/Olympus'" in r.stderr


# -- pipes and typos --------------------------------------------------------------------------------------------
def test_a_reader_that_stops_early_is_no_error(sample: Path) -> None:
    env = {**os.environ, "COLUMNS": ""}
    for command in ("show acme", "timeline --all", "report customers", "history acme"):
        r = subprocess.run(["bash", "-c", f"set -o pipefail; {sys.executable} -m crmcli {command} | head -2"],
                           cwd=sample, capture_output=True, text=True, env=env, timeout=120)
        assert (r.returncode, r.stderr) == (0, ""), command
        assert len(r.stdout.splitlines()) == 2


def test_a_mistyped_command_gets_a_suggestion(sample: Path) -> None:
    r = run("custmer", code=2)
    assert "No such command 'custmer'. Did you mean 'customer'?" in r.stderr
    r = run("ticket", "lst", code=2)
    assert "Did you mean 'list'?" in r.stderr
    assert "Did you mean" not in run("zzzz", code=2).stderr


# -- health on the sample ---------------------------------------------------------------------------------------
def test_health_on_the_sample_makes_sense(sample: Path) -> None:
    lead = json.loads(run("show", "wang-xiao-ming", "-f", "json", env={"CRM_NOW": "2026-12-03T10:00:00+08:00"}).stdout)
    assert lead["core"]["stage"] == "lead" and lead["metrics"]["revenue_lifetime"] == 0
    assert lead["metrics"]["days_since_contact"] == 44
    assert lead["health"]["score"] < 100
    blue = json.loads(run("show", "blue-harbor", "-f", "json").stdout)
    contracts = json.loads(run("contract", "list", "--customer", "blue-harbor", "-f", "json").stdout)
    assert any(c["start"] <= "2026-11-23" <= c["end"] for c in contracts)  # a contract runs today
    assert "revenue-falling" not in [w["kind"] for w in blue["warnings"]]


# -- crm log --help and make demo -------------------------------------------------------------------------------
def test_the_log_help_examples_run_on_the_sample(sample: Path) -> None:
    help_text = run("log", "--help").stdout
    examples = [line.strip() for line in help_text.split("Examples:", 1)[1].replace(" \\\n", " ").splitlines()
                if line.strip().startswith("crm log ") and "--eml" not in line]
    assert len(examples) >= 3
    import shlex

    for line in examples:
        r = run(*shlex.split(line)[1:])
        assert r.stdout.strip(), line


def test_demo_prints_commands_that_paste_back(tmp_path: Path) -> None:
    script = (ROOT / "scripts" / "demo.sh").read_text(encoding="utf-8")
    quote = script[script.index("quote() {"):script.index("\n}\n", script.index("quote() {")) + 3]
    args = ["crm", "log", "acme", "call", "Raj confirmed it's fine", "--contact", "Raj Patel", "深圳", "a*b", ""]
    r = subprocess.run(["bash", "-c", quote + '\nquote "$@"', "bash", *args], capture_output=True, text=True,
                       check=True)
    assert r.stdout == "crm log acme call 'Raj confirmed it'\\''s fine' --contact 'Raj Patel' 深圳 'a*b' ''"
    import shlex

    assert shlex.split(r.stdout) == args  # pasted back, the shell reads the same arguments


# -- spreadsheets -----------------------------------------------------------------------------------------------
def _workbooks(sample: Path, tmp_path: Path) -> dict[str, Path]:
    books = {}
    for name, extra in (("weekly", ["--week", "2026-W47"]), ("pipeline", []), ("service", []), ("customers", [])):
        books[name] = tmp_path / f"{name}.xlsx"
        run("report", name, *extra, "-o", str(books[name]))
    books["export"] = tmp_path / "export.xlsx"
    run("export", "-o", str(books["export"]))
    return books


def test_every_workbook_has_filters_frozen_headers_print_setup_and_widths(sample: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    for name, path in _workbooks(sample, tmp_path).items():
        wb = load_workbook(path)
        for ws in wb.worksheets:
            where = f"{name}:{ws.title}"
            assert len(ws.title) <= 31 and not ws.title.endswith((" and", " by", " of")), where
            assert ws.freeze_panes in ("A2", "B2"), where
            assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), where
            assert ws.page_setup.orientation == "landscape", where
            assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, where
            assert ws.sheet_properties.pageSetUpPr.fitToPage is True, where
            header = list(ws[1])
            assert all(c.font.b and c.font.name == "Calibri" for c in header if c.value is not None), where
            last = int(re.sub(r"^.*?(\d+)$", r"\1", ws.auto_filter.ref))  # the table, not the note under it
            for col in ws.iter_cols(min_row=1, max_row=min(last, 200)):
                letter = col[0].column_letter
                texts = [c.value for c in col if isinstance(c.value, str) and "\n" not in c.value]
                need = max((wcswidth(t) for t in texts), default=0)
                width = ws.column_dimensions[letter].width
                assert width >= min(need, 58), (where, letter, width, need)  # CJK counts double
            for chart in ws._charts:  # under the table, never beside it
                assert chart.anchor._from.col == 0 and chart.anchor._from.row >= ws.max_row, where


def test_workbook_cells_have_real_types_and_formats(sample: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    books = _workbooks(sample, tmp_path)
    service = json.loads(run("report", "service", "--format", "json").stdout)
    rows = next(s for s in service["sections"] if s["key"] == "by_category")["rows"]
    ws = load_workbook(books["service"])["By category"]
    head = [c.value for c in ws[1]]
    col = head.index("response SLA met") + 1  # the label people read; JSON keeps response_sla
    for i, row in enumerate(rows, start=2):
        cell = ws.cell(row=i, column=col)
        if row["response_sla"] is None:
            continue
        assert cell.value == pytest.approx(row["response_sla"] / 100) and cell.number_format == "0.0%"

    pipeline = load_workbook(books["pipeline"])["Open deals by stage"]
    head = [c.value for c in pipeline[1]]
    amount = pipeline.cell(row=2, column=head.index("amount") + 1)
    assert isinstance(amount.value, (int, float)) and amount.number_format == "¥#,##0"

    weekly = load_workbook(books["weekly"])
    day = weekly["Interactions by day"]["A2"]
    assert isinstance(day.value, dt.datetime) and day.number_format.startswith("yyyy-mm-dd")
    assert "Tickets opened, closed" in weekly.sheetnames

    export = load_workbook(books["export"])
    contacts = export["contacts"]
    head = [c.value for c in contacts[1]]
    phones = [r[head.index("phone")] for r in contacts.iter_rows(min_row=2) if r[head.index("phone")].value]
    assert phones and all(c.data_type == "s" and not c.value.startswith("'") for c in phones)
    assert any(c.value.startswith("+") for c in phones)
    orders = export["orders"]
    head = [c.value for c in orders[1]]
    cell = orders.cell(row=2, column=head.index("amount") + 1)
    assert isinstance(cell.value, (int, float)) and cell.number_format == "¥#,##0"
    assert isinstance(orders.cell(row=2, column=head.index("date") + 1).value, dt.datetime)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_converts_a_report_workbook_to_pdf(sample: Path, tmp_path: Path) -> None:
    book = tmp_path / "weekly.xlsx"
    run("report", "weekly", "--week", "2026-W47", "-o", str(book))
    r = subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(book)],
                       capture_output=True, text=True, timeout=300,
                       env={**os.environ, "HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    pdf = (tmp_path / "weekly.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    # on the sample every sheet fits one landscape page, its chart included (18 pages before issue 17, 9 now)
    assert pages == len(__import__("openpyxl").load_workbook(book).sheetnames) <= 9


# -- on a real terminal -----------------------------------------------------------------------------------------
def test_a_terminal_without_columns_uses_its_own_width(sample: Path) -> None:
    p, out = on_a_terminal([sys.executable, "-m", "crmcli", "ticket", "list"], cols=60, cwd=sample,
                           env=terminal_env(), timeout=120)
    assert p.returncode == 0, p.stderr
    lines = [ANSI.sub("", line) for line in out.splitlines()]
    assert lines and max(wcswidth(line) for line in lines) <= 60
    assert "\x1b[31m" in out  # on a terminal: breached in red


def test_import_names_its_phases_with_counts_on_a_terminal_only(sample: Path) -> None:
    leads = sample.parent / "leads.csv"
    leads.write_text("name,email\n" + "".join(f"Lead {i},lead{i}@example.com\n" for i in range(30)), encoding="utf-8")
    env = terminal_env(CRM_AUTHOR="Alice <alice@example.com>")
    p, err = on_a_terminal([sys.executable, "-m", "crmcli", "import", str(leads)], stream="stderr", cols=100,
                           cwd=sample, stdout=subprocess.PIPE, env=env, timeout=120)
    assert p.returncode == 0, err
    for phase in ("Reading and checking leads.csv...", "Checked leads.csv: customers: 30 created",
                  "Writing", "30/30", "Committing 30 files to git..."):
        assert phase in err, (phase, err)
    leads.write_text("name,email\nLead X,leadx@example.com\n", encoding="utf-8")
    quiet = subprocess.run([sys.executable, "-m", "crmcli", "import", str(leads)], cwd=sample, capture_output=True,
                           text=True, env=env, timeout=120)
    assert quiet.returncode == 0 and quiet.stderr.count("\n") == 1  # no terminal: only the line saying what changed


def test_a_chart_under_a_long_table_starts_its_own_page(tmp_path: Path) -> None:
    import io as _io

    import pandas as pd
    from openpyxl import load_workbook

    from crmcli.analysis.reports import MONEY, Chart, Report
    from crmcli.render.report_xlsx import PAGE_ROWS, to_xlsx

    report = Report("x", "Test report", "now", "2026-11-23T10:00:00+08:00", currency="CNY")
    short = pd.DataFrame({"day": [f"2026-11-{d:02d}" for d in range(1, 6)], "amount": [1.0] * 5})
    long = pd.DataFrame({"day": [f"2026-10-{d:02d}" for d in range(1, 31)] * 2, "amount": [2.0] * 60})
    report.add("short", "Short", short, Chart("line", "day", ["amount"]), amount=MONEY)
    report.add("long", "Long", long, Chart("line", "day", ["amount"]), amount=MONEY)
    wb = load_workbook(_io.BytesIO(to_xlsx(report)))
    assert [b.id for b in wb["Short"].row_breaks.brk] == []
    breaks = [b.id for b in wb["Long"].row_breaks.brk]
    assert breaks and breaks[0] >= 61 and breaks[0] > PAGE_ROWS  # after the 60 rows and the header
    chart = wb["Long"]._charts[0]
    assert chart.anchor._from.row >= breaks[0]  # the chart is on the page after the break
    assert wb["Long"]["B2"].number_format == "¥#,##0" and isinstance(wb["Long"]["A2"].value, dt.datetime)
