"""Leads and the funnel through the real entry point: crm lead assign, the first-touch agenda, crm report funnel."""
from __future__ import annotations

import json
import statistics
from datetime import date
from pathlib import Path

import pytest

from crmcli import yamlio
from tests.conftest import Crm, commits, git

RULES = """
leads:
  first_touch_days: 2
  assign:
  - {match: {territory: north}, team: [Alice, Bob]}
  - {match: {source: [webinar, fair]}, owner: Carol}
  - {team: [Dan, Erin], method: load}
"""


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch):
    def set_now(value: str) -> None:
        monkeypatch.setenv("CRM_NOW", value if "T" in value else f"{value}T10:00:00+08:00")
    return set_now


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def with_rules(store_dir: Path, text: str = RULES) -> None:
    with (store_dir / "crm.yaml").open("a", encoding="utf-8") as f:
        f.write(text)
    git(store_dir, "commit", "-qam", "Assignment rules")


def add(invoke, name: str, *args: str) -> str:
    return ok(invoke("customer", "add", name, *args)).strip()


def profile(store_dir: Path, cid: str) -> dict:
    return yamlio.loads((store_dir / "customers" / cid[:2] / cid / "customer.yaml").read_text(encoding="utf-8"))


def journal(store_dir: Path, cid: str) -> list[dict]:
    out: list[dict] = []
    for path in sorted((store_dir / "customers" / cid[:2] / cid / "journal").glob("*.yaml")):
        out += yamlio.loads(path.read_text(encoding="utf-8")) or []
    return out


# -- crm lead assign ---------------------------------------------------------------------------------------
def test_assign_follows_the_rules_in_one_commit_with_a_task_each(crm: Crm, invoke, store_dir: Path, now) -> None:
    with_rules(store_dir)
    now("2026-11-01")
    north = [add(invoke, f"North {i}", "--set", "territory=north") for i in range(3)]
    web = add(invoke, "Webinar Lead", "--source", "webinar")
    owned = add(invoke, "Owned Lead", "--owner", "Dan")  # Dan already has one open lead: load favours Erin
    other = add(invoke, "Walk In")
    customer = add(invoke, "Old Customer", "--stage", "customer")
    before = commits(store_dir)

    dry = crm("lead", "assign", "--dry-run", "--format", "json", env={"CRM_NOW": "2026-11-02T09:00:00+08:00"})
    assert dry.returncode == 0, dry.stderr
    assert commits(store_dir) == before and not git(store_dir, "status", "--porcelain")
    planned = {r["customer"]: r["owner"] for r in json.loads(dry.stdout)}

    run = crm("lead", "assign", "--format", "json", env={"CRM_NOW": "2026-11-02T09:00:00+08:00"})
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    owners = {r["customer"]: r["owner"] for r in rows}
    assert owners == planned
    assert [owners[c] for c in north] == ["Alice", "Bob", "Alice"]  # round-robin, in order of creation
    assert owners[web] == "Carol" and owners[other] == "Erin"
    assert owned not in owners and customer not in owners
    assert len(commits(store_dir)) == len(before) + 1 and not git(store_dir, "status", "--porcelain")
    for cid, who in owners.items():
        assert profile(store_dir, cid)["owner"] == who
        events = journal(store_dir, cid)
        assign = [e for e in events if e["kind"] == "lead.assign"]
        task = [e for e in events if e["kind"] == "task.add"]
        assert len(assign) == 1 and assign[0]["owner"] == who
        assert len(task) == 1 and task[0]["owner"] == who and task[0]["due"] == "2026-11-04"
    assert ok(invoke("check")) is not None

    # nothing left to assign; a new northern lead goes on from where round-robin stopped (Alice gave last -> Bob)
    again = crm("lead", "assign")
    assert again.returncode == 0 and "No unowned leads" in again.stderr
    late = add(invoke, "North late", "--set", "territory=north")
    assert json.loads(ok(invoke("lead", "assign", "-f", "json")))[0] == {
        "customer": late, "name": "North late", "owner": "Bob", "rule": "rule 1 (territory=north)",
        "task": journal(store_dir, late)[-1]["id"], "due": "2026-11-03"}


def test_assign_without_rules_or_with_a_bad_rule_is_one_clear_line(invoke, store_dir: Path) -> None:
    add(invoke, "Lonely Lead")
    result = invoke("lead", "assign")
    assert result.exit_code == 2 and "no assignment rules" in result.output and "Traceback" not in result.output
    with_rules(store_dir, "leads:\n  assign:\n  - {match: {source: web}}\n")
    result = invoke("lead", "assign")
    assert result.exit_code == 4
    assert result.output.strip() == ("crm: error: crm.yaml: leads assign rule 1: give either owner: NAME or "
                                     "team: [NAMES]")


def test_unmatched_leads_are_named_and_left_alone(invoke, store_dir: Path) -> None:
    with_rules(store_dir, "leads:\n  assign:\n  - {match: {source: web}, owner: Carol}\n")
    cid = add(invoke, "Elsewhere")
    rows = json.loads(ok(invoke("lead", "assign", "-f", "json")))
    assert rows == [{"customer": cid, "name": "Elsewhere", "owner": None, "rule": "no rule fits", "task": None,
                     "due": None}]
    assert "owner" not in profile(store_dir, cid)


# -- first touch in the agenda -------------------------------------------------------------------------------
def test_a_lead_not_touched_within_n_days_shows_in_its_owners_agenda(invoke, store_dir: Path, now) -> None:
    with_rules(store_dir)  # first_touch_days: 2
    now("2026-11-01")
    cold = add(invoke, "Cold Lead", "--owner", "Alice")
    warm = add(invoke, "Warm Lead", "--owner", "Alice")
    add(invoke, "Bobs Lead", "--owner", "Bob")
    now("2026-11-02")
    ok(invoke("log", warm, "call", "Said hello"))
    now("2026-11-05")
    items = json.loads(ok(invoke("agenda", "--owner", "Alice", "-f", "json")))
    leads = [i for i in items if i["kind"] == "lead"]
    assert [(i["customer"], i["date"], i["overdue"]) for i in leads] == [(cold, "2026-11-03", True)]
    ok(invoke("log", cold, "email", "Intro mail"))
    items = json.loads(ok(invoke("agenda", "--owner", "Alice", "-f", "json")))
    assert not [i for i in items if i["kind"] == "lead"]


# -- crm report funnel ---------------------------------------------------------------------------------------
# (name, source, owner, lead day, contacted day, opportunity day, won day)
HISTORY = [
    ("A1", "web", "Alice", "2026-09-01", "2026-09-03", "2026-09-10", "2026-10-01"),
    ("A2", "web", "Alice", "2026-09-05", "2026-09-06", "2026-09-20", None),
    ("A3", "web", "Bob", "2026-09-07", "2026-09-17", None, None),
    ("A4", "fair", "Bob", "2026-10-02", "2026-10-04", "2026-10-05", "2026-10-30"),
    ("A5", "fair", "Bob", "2026-10-03", None, None, None),
    ("A6", "fair", "Alice", "2026-10-10", "2026-10-11", "2026-10-25", "2026-11-02"),
    ("A7", None, "Alice", "2026-11-01", None, None, None),
]


def _build_history(invoke, now) -> None:
    for name, source, owner, lead, contacted, opp, won in HISTORY:
        now(lead)
        cid = add(invoke, name, "--owner", owner, *(("--source", source) if source else ()))
        if contacted:
            now(contacted)
            ok(invoke("log", cid, "call", "First call"))
        if opp:
            now(opp)
            oid = ok(invoke("opp", "add", cid, f"Deal {name}", "--amount", "1000")).strip()
            if won:
                now(won)
                ok(invoke("opp", "win", oid))


def _expected(rows: list[tuple]) -> dict:
    counts = [sum(1 for r in rows if r[i]) for i in range(3, 7)]
    gaps = []
    for i in range(3, 6):
        days = [(date.fromisoformat(r[i + 1]) - date.fromisoformat(r[i])).days for r in rows if r[i + 1]]
        gaps.append(statistics.median(days) if days else None)
    return {"counts": counts, "gaps": gaps}


def test_funnel_report_matches_figures_computed_here(invoke, store_dir: Path, now) -> None:
    _build_history(invoke, now)
    now("2026-11-20")
    rep = json.loads(ok(invoke("report", "funnel", "-f", "json")))
    sections = {s["key"]: s["rows"] for s in rep["sections"]}
    want = _expected(HISTORY)
    steps = sections["steps"]
    assert [r["customers"] for r in steps] == want["counts"] == [7, 5, 4, 3]
    assert [r["median_days"] for r in steps[1:]] == want["gaps"]
    c = want["counts"]
    assert [r["conversion"] for r in steps[1:]] == [round(100 * c[i + 1] / c[i], 1) for i in range(3)]

    for key, col in (("by_source", 1), ("by_owner", 2)):
        got = {r[key[3:]]: r for r in sections[key]}
        groups = {r[col] or "(none)" for r in HISTORY}
        assert set(got) == groups
        for g in groups:
            mine = _expected([r for r in HISTORY if (r[col] or "(none)") == g])
            row = got[g]
            assert [row["leads"], row["contacted"], row["opps"], row["won"]] == mine["counts"], g
            assert [row["days_contact"], row["days_opp"], row["days_won"]] == mine["gaps"], g

    by_month = {r["period"]: r["leads"] for r in sections["by_period"]}
    assert by_month == {"2026-09": 3, "2026-10": 3, "2026-11": 1}

    october = json.loads(ok(invoke("report", "funnel", "--since", "2026-10-01", "--until", "2026-10-31",
                                   "--section", "steps", "-f", "json")))
    oct_rows = [r for r in HISTORY if "2026-10-01" <= r[3] <= "2026-10-31"]
    assert [r["customers"] for r in october["sections"][0]["rows"]] == _expected(oct_rows)["counts"]


def test_funnel_uses_the_journal_dates_of_imported_history(invoke, store_dir: Path, now) -> None:
    """A customer added today whose journal starts last year: its lead day is its first event."""
    now("2026-11-20")
    cid = add(invoke, "Imported")
    ok(invoke("log", cid, "meeting", "Old meeting", "--at", "2025-03-04 10:00"))
    rows = json.loads(ok(invoke("report", "funnel", "--section", "by_period", "-f", "json")))["sections"][0]["rows"]
    assert rows == [{"period": "2025-03", "leads": 1, "contacted": 1, "opps": 0, "won": 0, "pct_contacted": 100.0,
                     "pct_opp": 0.0, "pct_won": None, "days_contact": 0.0, "days_opp": None, "days_won": None}]
