"""Output people read, continued (issue 17): Chinese values, bars that give way to data, spreadsheet headers."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.test_output import run, sample  # noqa: F401 - the fixture


def test_default_english_words_read_in_chinese_and_machine_formats_keep_them(sample: Path) -> None:  # noqa: F811
    zh = {"CRM_LANG": "zh", "COLUMNS": "120"}
    tickets = json.loads(run("ticket", "list", "--format", "json").stdout)
    statuses = {t["id"]: t["status"] for t in tickets}
    assert {"open", "waiting", "closed"} <= set(statuses.values())
    words = {"open": "待处理", "waiting": "等待客户", "closed": "已关闭", "resolved": "已解决"}
    screen = run("ticket", "list", env=zh).stdout
    for ticket_id, status in statuses.items():
        row = next(line for line in screen.splitlines() if line.startswith(ticket_id))
        assert words[status] in row.split(), row
    assert json.loads(run("ticket", "list", "--format", "json", env=zh).stdout) == tickets  # never translated
    assert run("ticket", "list", "--format", "csv", env=zh).stdout == run("ticket", "list", "--format", "csv").stdout

    opps = json.loads(run("opp", "list", "--open", "--format", "json").stdout)
    stages = {"lead": "线索", "qualified": "已确认需求", "proposal": "方案报价", "negotiation": "商务谈判"}
    board = run("pipeline", env=zh).stdout
    for stage in {o["stage"] for o in opps}:
        assert re.search(rf"^{stages[stage]}\s", board, re.M), (stage, board)
    assert "商务谈判 (75%)" in run("show", "acme", env=zh).stdout  # the part in brackets stays
    agenda = run("agenda", "--days", "3", env=zh).stdout
    assert "续约" in agenda and "renewal " not in agenda.replace("renewal:", "")
    weekly = run("report", "weekly", "--week", "2026-W47", "--section", "summary", env=zh).stdout
    assert "疏于联系的客户" in weekly and "customers losing touch" not in weekly

    show = run("show", "acme", env=zh).stdout
    assert "Plant-wide rollout" in show and "hardware" in show  # people's words (titles, tags) as written


def test_report_bars_take_only_the_room_the_data_leaves(sample: Path) -> None:  # noqa: F811
    for name in ("weekly", "pipeline", "service", "customers", "needs", "funnel", "campaigns", "referrals",
                 "loyalty"):
        out = run("report", name, env={"COLUMNS": "80"}).stdout
        assert "█…" not in out and "░…" not in out, name  # a bar is shortened, never cut
    needs = json.loads(run("report", "needs", "--section", "top_needs", "--format", "json").stdout)
    theme = needs["sections"][0]["rows"][0]["theme"]
    assert theme in run("report", "needs", "--section", "top_needs", env={"COLUMNS": "80"}).stdout


def test_workbook_headers_are_labels_and_no_sheet_is_only_a_header(sample: Path, tmp_path: Path) -> None:  # noqa: F811
    from openpyxl import load_workbook

    book = tmp_path / "weekly.xlsx"
    run("report", "weekly", "--week", "2026-W47", "-o", str(book))
    data = json.loads(run("report", "weekly", "--week", "2026-W47", "--format", "json").stdout)
    wb = load_workbook(book)
    touch = next(s for s in data["sections"] if s["key"] == "losing_touch")
    assert "days_since" in touch["columns"]  # JSON keeps the code names
    heads = [c.value for c in wb["Customers losing touch"][1]]
    assert "days since contact" in heads and not any("_" in h for h in heads)
    empty = [s["title"] for s in data["sections"] if not s["rows"]]
    assert empty and not set(empty) & set(wb.sheetnames)  # an empty table would print a page of its own
    assert len(wb.sheetnames) == len(data["sections"]) - len(empty)
    notes = [c.value for row in wb["Summary"].iter_rows() for c in row if isinstance(c.value, str)]
    assert any(all(t in n for t in empty) for n in notes), notes  # named on the first sheet instead
    for ws in wb.worksheets:
        assert ws.max_row >= 2, ws.title
        for chart in ws._charts:
            if chart.tagname == "lineChart":
                assert all(s.smooth is False for s in chart.series), ws.title  # no values between the days

    zh = tmp_path / "weekly-zh.xlsx"
    run("report", "weekly", "--week", "2026-W47", "-o", str(zh), env={"CRM_LANG": "zh"})
    wbz = load_workbook(zh)
    assert "概要" in wbz.sheetnames and "事项" == wbz["概要"]["A1"].value and wbz["概要"]["A2"].value == "互动"


@pytest.mark.parametrize("title,name", [("Needs by segment (customer tier)", "Needs by segment"),
                                        ("Complaints by cause (tag, product)", "Complaints by cause")])
def test_a_sheet_name_cut_short_leaves_no_open_bracket(title: str, name: str) -> None:
    from crmcli.render.report_xlsx import sheet_name

    assert sheet_name(title, set()) == name


@pytest.mark.parametrize("width", [80, 120])
def test_every_help_page_fits_the_screen(width: int) -> None:
    from click.testing import CliRunner
    from wcwidth import wcswidth

    from crmcli.cli.main import cli
    from tests.test_docs import TREE

    too_long = []
    for path in ["", *sorted(TREE)]:
        r = CliRunner().invoke(cli, [*path.split(), "--help"], terminal_width=width)
        assert r.exit_code == 0, (path, r.output)
        too_long += [f"crm {path}: {line}" for line in r.output.splitlines() if wcswidth(line) > width]
    assert too_long == []


def test_a_long_help_example_breaks_so_that_it_still_pastes() -> None:
    import shlex

    from crmcli.cli.helptext import fit_help

    example = ('    crm ticket open acme "Invoice is wrong" -c complaint -p urgent --contact jane@acme.example'
               '  # a complaint')
    lines = fit_help(example, 60).splitlines()
    assert lines[0] == "    # a complaint" and all(len(line) <= 60 for line in lines)
    assert all(line.endswith(" \\") for line in lines[1:-1]) and not lines[-1].endswith("\\")
    pasted = " ".join(line.removesuffix(" \\") for line in lines[1:])
    assert shlex.split(pasted) == shlex.split(example.split("  #")[0])  # the shell reads the same words
    prose = "  CUSTOMER is an id or its prefix, or the name (crm show 北京, crm show 深圳市基石协作科技有限公司)."
    from wcwidth import wcswidth

    assert max(wcswidth(line) for line in fit_help(prose, 40).splitlines()) <= 40  # by display width


def test_an_error_line_wraps_on_a_terminal_and_stays_one_line_for_scripts(sample: Path) -> None:  # noqa: F811
    import subprocess
    import sys

    from wcwidth import wcswidth

    from tests.terminal import on_a_terminal, terminal_env

    args = [sys.executable, "-m", "crmcli", "report", "service", "-o", "x.pdf"]
    plain = subprocess.run(args, cwd=sample, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 2 and len(plain.stderr.splitlines()) == 1  # cron and logs: one line
    assert wcswidth(plain.stderr.strip()) > 80
    p, err = on_a_terminal(args, stream="stderr", cols=80, cwd=sample, env=terminal_env(), timeout=120)
    lines = err.replace("\r", "").splitlines()
    assert p.returncode == 2 and len(lines) >= 2 and all(wcswidth(line) <= 80 for line in lines), lines
    assert " ".join(line.strip() for line in lines) == plain.stderr.strip()  # the same words, read whole


def test_campaigns_show_money_one_way_and_never_cut_their_name(sample: Path) -> None:  # noqa: F811
    data = json.loads(run("campaign", "list", "--format", "json").stdout)
    screen = run("campaign", "list", env={"COLUMNS": "80"}).stdout
    for c in data:
        assert c["name"] in screen  # the name people type into the next command, whole
        assert f"¥{c['cost']:,}" in screen and c["currency"] == "CNY"
    assert "currency" not in screen.splitlines()[0]
    show = run("campaign", "show", data[0]["name"]).stdout
    assert f"¥{data[0]['cost']:,}" in show and "T09:00:00" not in show  # a readable local time


def test_a_note_under_a_table_names_columns_as_people_read_them(sample: Path) -> None:  # noqa: F811
    data = json.loads(run("report", "referrals", "--format", "json").stdout)
    per = next(s for s in data["sections"] if s["key"] == "referrers")
    assert "reward_due" in per["columns"]  # the key scripts read
    for fmt in ("table", "md", "html"):
        out = run("report", "referrals", "--format", fmt).stdout
        assert "reward due:" in out and "reward_due" not in out, fmt
