"""The care calendar: crm care and the care items of crm agenda, through the real entry point."""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import Crm, git

RULES = """care:
  revisit_after_order: [7, 30]
  checkins:
  - {tier: A, every: 3m}
  holidays: CN
  greetings:
    birthday: 生日快乐，{name}！
    holiday: '{holiday}快乐！'
"""


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def rules(store_dir: Path) -> Path:
    with open(store_dir / "crm.yaml", "a", encoding="utf-8") as fh:
        fh.write(RULES)
    git(store_dir, "commit", "-qam", "Care rules")
    return store_dir


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch):
    def set_now(value: str) -> None:
        monkeypatch.setenv("CRM_NOW", value + "+08:00")
    return set_now


def care(invoke, *args: str) -> list[tuple[str, str, str, str]]:
    rows = json.loads(ok(invoke("care", "--format", "json", *args)))
    return [(r["kind"], r["date"], r["status"], r["text"]) for r in rows]


def test_care_week_by_kind_and_logging_clears(invoke, rules: Path, at) -> None:
    at("2026-01-01T09:00:00")
    cid = ok(invoke("customer", "add", "Acme", "--tier", "A", "--contact", "Li Na <li@acme.example>")).strip()
    ok(invoke("customer", "edit", cid, "--set", "birthday=1980-09-23"))
    ok(invoke("contract", "add", cid, "--start", "2024-09-22", "--end", "2027-09-21", "--value", "1000"))
    at("2026-09-14T10:00:00")
    ok(invoke("order", "add", cid, "--amount", "100", "--date", "2026-09-14"))
    at("2026-09-21T10:00:00")  # a Monday; 中秋节 2026 is Friday 25 September
    # by hand: revisit 09-21 (order + 7), anniversary 09-22 (2 years since signing), birthday 09-23,
    # holiday 09-25; the check-in (tier A, every 3m = 90 days, never contacted) was due at creation + 90 days
    assert care(invoke) == [
        ("birthday", "2026-09-23", "due", "birthday: Acme (turns 46)"),
        ("anniversary", "2026-09-22", "due", "2 years since signing (2024-09-22)"),
        ("revisit", "2026-09-21", "due", "revisit: 7 days after the order of 2026-09-14"),
        ("checkin", str(date(2026, 1, 1) + timedelta(days=90)), "overdue",
         "check-in (tier A, every 3m): never contacted"),
        ("holiday", "2026-09-25", "due", "holiday: 中秋节"),
    ]
    rows = json.loads(ok(invoke("care", "--format", "json")))
    assert rows[0]["greeting"] == "生日快乐，Acme！" and rows[-1]["greeting"] == "中秋节快乐！"
    ok(invoke("log", cid, "visit", "Revisit after the order"))
    assert care(invoke) == [("holiday", "2026-09-25", "due", "holiday: 中秋节")]
    # the check-in is not "done": it moved to 90 days after this contact, past this week
    assert [r[:3] for r in care(invoke, "--all")] == [
        ("birthday", "2026-09-23", "done"), ("anniversary", "2026-09-22", "done"),
        ("revisit", "2026-09-21", "done"), ("holiday", "2026-09-25", "due")]
    # the check-in moves with the last contact: 90 days on
    moved = ("checkin", str(date(2026, 9, 21) + timedelta(days=90)), "due",
             "check-in (tier A, every 3m): last contact 2026-09-21")
    assert moved in care(invoke, "--days", "92")


def test_revisit_30_days_on_and_overdue_within_the_lookback(invoke, rules: Path, at) -> None:
    at("2026-03-01T09:00:00")
    cid = ok(invoke("customer", "add", "Beta", "--tier", "C")).strip()
    ok(invoke("order", "add", cid, "--amount", "5", "--date", "2026-03-01"))
    ok(invoke("log", cid, "call", "Order call"))                  # the order day itself clears nothing
    at("2026-03-10T09:00:00")                                      # order + 7 = 03-08: two days overdue
    assert care(invoke) == [("revisit", "2026-03-08", "overdue", "revisit: 7 days after the order of 2026-03-01")]
    agenda = json.loads(ok(invoke("agenda", "--format", "json")))
    assert [(i["kind"], i["date"], i["overdue"]) for i in agenda] == [("revisit", "2026-03-08", True)]
    at("2026-03-30T09:00:00")                                      # a Monday; order + 30 = 03-31, this week
    week = care(invoke)
    assert ("revisit", "2026-03-31", "due", "revisit: 30 days after the order of 2026-03-01") in week
    at("2026-05-01T09:00:00")                                      # past the 30-day look-back: dropped
    assert [r for r in care(invoke) if r[0] == "revisit"] == []


def test_agenda_shows_care_items_on_their_day(invoke, rules: Path, at) -> None:
    at("2027-02-01T09:00:00")                                      # 春节 2027 is 6 February
    agenda = json.loads(ok(invoke("agenda", "--days", "7", "--format", "json")))
    assert [(i["kind"], i["date"]) for i in agenda] == [("holiday", "2027-02-05"), ("holiday", "2027-02-06")]
    assert agenda[1]["text"] == "holiday: 春节 — 春节快乐！"


def test_bad_rules_are_one_clear_line(invoke, store_dir: Path) -> None:
    with open(store_dir / "crm.yaml", "a", encoding="utf-8") as fh:
        fh.write("care:\n  revisit_after_order: 7\n")
    git(store_dir, "commit", "-qam", "Bad")
    result = invoke("care")
    assert result.exit_code == 4
    assert "crm.yaml: care: revisit_after_order must be a list of days" in result.output


def test_care_through_the_installed_entry_point(crm: Crm, rules: Path) -> None:
    result = crm("care", env={"CRM_NOW": "2026-09-21T10:00:00+08:00"})
    assert result.returncode == 0, result.stderr
    assert "中秋节" in result.stdout


def test_hand_edited_block_style_journal_is_read_whole(invoke, rules: Path, at, store_dir: Path) -> None:
    at("2026-03-01T09:00:00")
    cid = ok(invoke("customer", "add", "Gamma")).strip()
    folder = store_dir / "customers" / cid[:2] / cid / "journal"
    folder.mkdir(exist_ok=True)
    (folder / "2026.yaml").write_text(
        "- at: '2026-03-01T10:00:00+08:00'\n  kind: order.add\n  by: me\n  date: 2026-03-01\n  amount: 5\n"
        "  currency: CNY\n- {at: '2026-03-07T10:00:00+08:00', kind: visit, by: me, summary: came by}\n",
        encoding="utf-8")
    at("2026-03-08T09:00:00")   # revisit due today (03-08) was cleared by the visit on 03-07 (within clear_days)
    assert care(invoke, "--all") == [("revisit", "2026-03-08", "done", "revisit: 7 days after the order of 2026-03-01")]


def birthday_rows(invoke, command: str) -> list[tuple[str, str, bool]]:
    rows = json.loads(ok(invoke(command, "--days", "7", "--format", "json")))
    return sorted((r["text"], r["date"], r["status"] == "overdue" if "status" in r else r["overdue"])
                  for r in rows if r["kind"] == "birthday")


@pytest.mark.parametrize("with_rules", [True, False])
def test_care_and_agenda_agree_on_birthdays(invoke, store_dir: Path, at, with_rules: bool) -> None:
    """One rule (crmcli.domain.care.birthday_items) for both: due on the day, overdue until an interaction
    from clear_days (3) before it clears it, for at most lookback_days (30)."""
    if with_rules:
        with open(store_dir / "crm.yaml", "a", encoding="utf-8") as fh:
            fh.write("care:\n  clear_days: 3\n  lookback_days: 30\n")
        git(store_dir, "commit", "-qam", "Care rules")
    at("2026-01-01T09:00:00")
    today = date(2026, 11, 18)  # a Wednesday
    cases = {  # name: (birthday, logged a call on this day or not)
        "Past": (date(1980, 11, 15), None),            # 3 days ago, not greeted: overdue in both
        "Greeted": (date(1980, 11, 16), "2026-11-14"),  # 2 days ago, a call 2 days before it: done
        "Early": (date(1980, 11, 20), "2026-11-17"),    # in 2 days, a call yesterday (within 3 days): done
        "Old": (date(1980, 10, 10), None),              # 39 days ago: past the look-back
        "Soon": (date(1990, 11, 23), None),             # in 5 days: due
        "Later": (date(1990, 11, 25), "2026-11-01"),    # in 7 days: outside both windows
    }
    ids = {name: ok(invoke("customer", "add", name, "--birthday", born.isoformat())).strip()
           for name, (born, _) in cases.items()}
    for name, (_, called) in cases.items():
        if called:
            at(f"{called}T10:00:00")
            ok(invoke("log", ids[name], "call", "Hello"))
    at(f"{today.isoformat()}T09:00:00")
    want = [("birthday: Past (turns 46)", "2026-11-15", True), ("birthday: Soon (turns 36)", "2026-11-23", False)]
    assert birthday_rows(invoke, "care") == want
    assert birthday_rows(invoke, "agenda") == want


def test_agenda_reads_the_customers_once_with_care_rules(invoke, rules: Path, at,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from crmcli.store.index import Index

    at("2026-01-01T09:00:00")
    for i in range(4):
        ok(invoke("customer", "add", f"Customer {i}", "--stage", "customer", "--birthday", f"1980-01-0{i + 2}"))
    decoded: list[str] = []
    real = Index.customers

    def counting(self, **kwargs):  # noqa: ANN001, ANN202 - the wrapped method's own signature
        found = real(self, **kwargs)
        decoded.extend(c.id for c in found)
        return found

    monkeypatch.setattr(Index, "customers", counting)
    agenda = json.loads(ok(invoke("agenda", "--days", "7", "--format", "json")))
    assert sum(r["kind"] == "birthday" for r in agenda) == 4
    assert len(decoded) == len(set(decoded)) == 4  # each profile decoded once, for tasks, birthdays and care
