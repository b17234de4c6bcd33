"""`crm search`: names, contacts, emails, phones, notes and summaries, Chinese included."""
from __future__ import annotations

import json

import pytest

from crmcli.analysis import search as lib

NOW = "2026-11-20T10:00:00+08:00"


def ok(result) -> str:  # noqa: ANN001
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def people(invoke, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("CRM_NOW", NOW)
    js = ok(invoke("customer", "add", "深圳市基石协作科技有限公司", "--phone", "+86 755 8888 0000",
                   "--contact", "李娜 <li.na@jishi.example.cn>, 138 0013 8000")).strip()
    acme = ok(invoke("customer", "add", "Acme Corp", "--industry", "software",
                     "--contact", "Jane Doe <jane@acme.example>, +1 415-555-0100")).strip()
    ok(invoke("log", js, "call", "确认增购意向，等待法务审核", "--contact", "李娜"))
    ok(invoke("opp", "add", js, "增购数据分析模块", "--amount", "96000"))
    tid = ok(invoke("ticket", "open", acme, "Login fails", "-m", "SSO loops since the update")).strip()
    ok(invoke("ticket", "comment", tid, "Shard 3 config drift", "--internal"))
    ok(invoke("task", "add", acme, "Send the quote to Jane"))
    ok(invoke("survey", js, "--csat", "5", "-m", "支持响应很快"))
    ok(invoke("log", acme, "note", "-m", "Jane prefers email. " + "Long background text. " * 5 + "Budget in Q1."))
    return {"js": js, "acme": acme, "tkt": tid}


def rows(invoke, *args: str) -> list[dict]:  # noqa: ANN001
    return json.loads(ok(invoke("search", *args, "--format", "json")))


def test_phone_key_and_query() -> None:
    assert lib.phone_key("+86 138-0013-8000") == lib.phone_key("138 0013 8000") == "13800138000"
    assert lib.phone_key("0755 8888 0000") == lib.phone_key("+86 755 8888 0000") == "75588880000"
    assert lib.phone_key("+1 (415) 555-0100") == "4155550100"
    assert lib.Query.parse("  138 0013  ").phone == "1380013"
    assert lib.Query.parse("Jane 138").phone is None
    assert lib.Query.parse("ＪＡＮＥ").folded == "jane"


def test_snippet_shows_the_match_in_context() -> None:
    q = lib.Query.parse("budget")
    text = "x" * 40 + " Budget in Q1 " + "y" * 40
    shown, match = lib.snippet(text, q) or ("", "")
    assert match == "Budget"
    assert shown == "…" + "x" * 23 + " Budget in Q1 " + "y" * 17 + "…"
    assert lib.snippet("no match here", q) is None
    assert lib.snippet("Line one\nBudget", q) == ("Line one Budget", "Budget")


def test_finds_contacts_by_name_and_chinese(invoke, people: dict[str, str]) -> None:
    found = rows(invoke, "李娜")
    assert [(r["type"], r["customer"], r["name"], r["field"], r["snippet"]) for r in found] == [
        ("contact", people["js"], "深圳市基石协作科技有限公司", "contact", "李娜")]
    found = rows(invoke, "法务")
    assert [(r["type"], r["field"], r["snippet"]) for r in found] == [
        ("interaction", "call summary", "确认增购意向，等待法务审核")]
    assert found[0]["at"] == NOW and found[0]["ref"] == people["js"]
    assert [(r["type"], r["field"]) for r in rows(invoke, "支持响应")] == [("survey", "comment")]
    assert [(r["type"], r["field"], r["ref"].split("/")[0]) for r in rows(invoke, "数据分析")] == [
        ("opp", "title", people["js"])]


@pytest.mark.parametrize("query", ["13800138000", "138-0013-8000", "+86 138 0013 8000", "(138) 0013 8000",
                                   "0013 8000", "１３８００１３８０００"])
def test_phone_numbers_ignore_spaces_dashes_and_prefixes(invoke, people: dict[str, str], query: str) -> None:
    found = rows(invoke, query)
    assert [(r["type"], r["field"], r["snippet"]) for r in found] == [
        ("contact", "contact 李娜: phone", "138 0013 8000")]


def test_company_and_foreign_phones(invoke, people: dict[str, str]) -> None:
    assert [(r["type"], r["field"]) for r in rows(invoke, "0755-8888-0000")] == [("customer", "phone")]
    assert [(r["name"], r["field"]) for r in rows(invoke, "4155550100")] == [("Acme Corp", "contact Jane Doe: phone")]


def test_case_and_width_do_not_matter_and_results_say_where(invoke, people: dict[str, str]) -> None:
    found = rows(invoke, "ＪＡＮＥ")
    assert [(r["type"], r["field"]) for r in found] == [
        ("contact", "contact"), ("contact", "contact Jane Doe: email"),
        ("interaction", "note summary"), ("task", "text")]
    assert {r["name"] for r in found} == {"Acme Corp"}
    assert found[-1]["ref"].startswith(people["acme"] + "/task-")
    assert [(r["type"], r["field"], r["ref"]) for r in rows(invoke, "login")] == [
        ("ticket", "title", f"{people['acme']}/{people['tkt']}")]
    assert [r["field"] for r in rows(invoke, "drift")] == ["internal note"]
    note = rows(invoke, "budget in q1")[0]
    assert note["snippet"].startswith("…") and note["snippet"].endswith("Budget in Q1.")


def test_type_filter_limit_and_formats(invoke, people: dict[str, str]) -> None:
    assert {r["type"] for r in rows(invoke, "jane", "--type", "contact")} == {"contact"}
    assert [r["type"] for r in rows(invoke, "jane", "-t", "task", "-t", "interaction")] == ["interaction", "task"]
    assert len(rows(invoke, "jane", "--limit", "1")) == 1
    assert [r["field"] for r in rows(invoke, "Acme", "--type", "customer")] == ["name", "id"]
    csv = ok(invoke("search", "李娜", "--format", "csv")).splitlines()
    assert csv[0] == "type,customer,name,field,snippet,ref,at"
    table = ok(invoke("search", "jane"))
    assert table.splitlines()[0].split() == ["type", "customer", "field", "found", "id", "date"]
    r = invoke("search", "jane", "--type", "invoice")
    assert r.exit_code == 2
    r = invoke("search", "nothing-like-this")
    assert r.exit_code == 0 and r.stdout == "" and r.stderr == "Nothing found.\n"
    assert invoke("search", " ").exit_code == 2
