"""Complaints end to end: own SLA, routing, escalation, the follow-up survey, the report's complaint sections."""
from __future__ import annotations

import json
from pathlib import Path
from statistics import median

import pytest

from crmcli import yamlio
from tests.conftest import Crm, commits, git

RULES = """complaints:
  first_response_hours: 2
  resolution_hours: 48
  escalate_after_hours: 24
  escalate_to: 王经理
  survey_after_days: 3
ticket_routing:
- {category: complaint, assignee: carol}
- {product: Analytics, assignee: bob}
- {tier: A, assignee: alice}
"""


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def rules(store_dir: Path) -> Path:
    with open(store_dir / "crm.yaml", "a", encoding="utf-8") as fh:
        fh.write(RULES)
    git(store_dir, "commit", "-qam", "Complaint rules")
    return store_dir


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch):
    def set_now(value: str) -> None:
        monkeypatch.setenv("CRM_NOW", value + "+08:00")
    return set_now


def journal(store_dir: Path, cid: str) -> list[dict]:
    entries: list[dict] = []
    for path in sorted((store_dir / "customers" / cid[:2] / cid / "journal").glob("*.yaml")):
        entries += yamlio.loads(path.read_text(encoding="utf-8")) or []
    return entries


def opened(invoke, *args: str) -> dict:
    return json.loads(ok(invoke("ticket", "open", *args, "--format", "json")))


def test_routing_and_complaint_sla(invoke, rules: Path, at) -> None:
    at("2026-11-20T09:00:00")
    big = ok(invoke("customer", "add", "Big Co", "--tier", "A")).strip()
    small = ok(invoke("customer", "add", "Small Co", "--tier", "C")).strip()
    c = opened(invoke, small, "Charged twice", "-c", "complaint", "-p", "low", "-t", "billing")
    assert c["assignee"] == "carol"                              # first rule: category
    # a complaint's own SLA replaces its priority's (low would be 48 h / 240 h)
    assert c["sla"]["first_response"]["due"] == "2026-11-20T11:00:00+08:00"
    assert c["sla"]["resolution"]["due"] == "2026-11-22T09:00:00+08:00"
    assert opened(invoke, big, "Slow report", "--product", "analytics")["assignee"] == "bob"  # case ignored
    assert opened(invoke, big, "Question")["assignee"] == "alice"  # tier A
    assert opened(invoke, small, "Question")["assignee"] is None   # no rule matches
    assert opened(invoke, big, "Question", "-a", "dave")["assignee"] == "dave"  # given wins
    ticket = [e for e in journal(rules, small) if e.get("kind") == "ticket.open"][0]
    assert ticket["tags"] == ["billing"] and ticket["assignee"] == "carol"
    ok(invoke("check"))


def test_bad_rules_are_one_clear_line(invoke, store_dir: Path) -> None:
    cid = ok(invoke("customer", "add", "Acme")).strip()
    with open(store_dir / "crm.yaml", "a", encoding="utf-8") as fh:
        fh.write("ticket_routing:\n- {segment: x, assignee: bob}\n")
    git(store_dir, "commit", "-qam", "Bad rule")
    result = invoke("ticket", "open", cid, "X")
    assert result.exit_code == 4
    assert "crm.yaml: ticket_routing rule 1: match on category, product, tier" in result.output
    result = invoke("ticket", "escalate")
    assert result.exit_code == 2 and "escalate_after_hours" in result.output


def test_escalation_once_with_a_task_for_the_named_person(invoke, rules: Path, at) -> None:
    at("2026-11-20T09:00:00")
    cid = ok(invoke("customer", "add", "Acme")).strip()
    late = opened(invoke, cid, "Charged twice", "-c", "complaint")["id"]
    fresh_at = "2026-11-21T08:00:00"
    at(fresh_at)
    opened(invoke, cid, "Wrong size", "-c", "complaint")
    solved = opened(invoke, cid, "Solved one", "-c", "complaint")["id"]
    ok(invoke("ticket", "status", solved, "resolved"))
    opened(invoke, cid, "Not a complaint", "-c", "bug")
    at("2026-11-21T09:00:00")  # exactly 24 h after the first
    before = commits(rules)
    rows = json.loads(ok(invoke("ticket", "escalate", "--dry-run", "--format", "json")))
    assert [(r["ticket"], r["to"], r["hours_open"]) for r in rows] == [(late, "王经理", 24.0)]
    assert commits(rules) == before
    rows = json.loads(ok(invoke("ticket", "escalate", "--format", "json")))
    assert len(rows) == 1 and rows[0]["task"].startswith("task-")
    assert commits(rules)[0] == f"Escalate complaint {late} of Acme to 王经理"
    events = journal(rules, cid)
    esc = [e for e in events if e.get("kind") == "ticket.escalate"]
    assert esc == [{"at": "2026-11-21T09:00:00+08:00", "kind": "ticket.escalate", "ticket": late,
                    "by": "Alice Example", "to": "王经理", "after_hours": 24, "task": rows[0]["task"]}]
    task = [e for e in events if e.get("id") == rows[0]["task"]][0]
    assert task["owner"] == "王经理" and late in task["text"]
    agenda = json.loads(ok(invoke("agenda", "--owner", "王经理", "--format", "json")))
    assert [i["ref"] for i in agenda] == [f"{cid}/{rows[0]['task']}"]
    # once only, until reopened
    assert json.loads(ok(invoke("ticket", "escalate", "--format", "json"))) == []
    ok(invoke("ticket", "close", late, "-r", "Refunded"))
    ok(invoke("ticket", "reopen", late))
    at("2026-11-22T10:00:00")  # the reopened one again, and the second complaint (26 h)
    rows = json.loads(ok(invoke("ticket", "escalate", "--format", "json")))
    assert sorted(r["title"] for r in rows) == ["Charged twice", "Wrong size"]
    assert commits(rules)[0] == "Escalate 2 complaints to 王经理"
    timeline = ok(invoke("timeline", cid))
    assert f"ticket {late} escalated to 王经理 after 24 h" in timeline
    ok(invoke("check"))


def test_closing_a_complaint_makes_a_survey_due_and_the_answer_clears_it(invoke, rules: Path, at) -> None:
    at("2026-11-20T09:00:00")
    cid = ok(invoke("customer", "add", "Acme")).strip()
    tid = opened(invoke, cid, "Charged twice", "-c", "complaint")["id"]
    bug = opened(invoke, cid, "Crash", "-c", "bug")["id"]
    ok(invoke("ticket", "close", bug, "-r", "fixed"))
    assert [e for e in journal(rules, cid) if e.get("kind") == "task.add"] == []  # only complaints
    ok(invoke("ticket", "close", tid, "-r", "Refunded"))
    assert git(rules, "show", "--stat", "--format=%s", "HEAD").startswith(f"Close {tid} of Acme: Refunded")
    tasks = [e for e in journal(rules, cid) if e.get("kind") == "task.add"]
    assert len(tasks) == 1 and tasks[0]["survey_for"] == tid and tasks[0]["due"] == "2026-11-23"
    assert tasks[0]["owner"] == "carol"
    at("2026-11-23T09:00:00")
    agenda = json.loads(ok(invoke("agenda", "--owner", "carol", "--format", "json")))
    assert [i["date"] for i in agenda] == ["2026-11-23"] and "Follow-up survey" in agenda[0]["text"]
    ok(invoke("survey", cid, "--ticket", tid, "--csat", "4"))
    events = journal(rules, cid)
    assert events[-2]["kind"] == "survey.answer" and events[-2]["ticket"] == tid
    assert events[-1] == {"at": "2026-11-23T09:00:00+08:00", "kind": "task.done", "task": tasks[0]["id"],
                          "by": "Alice Example"}
    assert json.loads(ok(invoke("agenda", "--owner", "carol", "--format", "json"))) == []


def test_service_report_complaints_against_hand_figures(invoke, rules: Path, at) -> None:
    at("2026-11-01T09:00:00")
    cid = ok(invoke("customer", "add", "Acme")).strip()
    a = opened(invoke, cid, "A", "-c", "complaint", "-t", "billing")["id"]
    b = opened(invoke, cid, "B", "-c", "complaint", "-t", "billing", "-t", "delivery", "--product", "Box")["id"]
    opened(invoke, cid, "C", "-c", "complaint")
    opened(invoke, cid, "D", "-c", "bug")
    at("2026-11-01T19:00:00")
    ok(invoke("ticket", "close", a, "-r", "x", "--csat", "2"))          # 10 h, CSAT 2 at resolution
    at("2026-11-02T10:00:00")
    ok(invoke("ticket", "escalate"))                                   # b and c: 25 h
    at("2026-11-03T09:00:00")
    ok(invoke("ticket", "close", b, "-r", "y"))                         # 48 h
    ok(invoke("survey", cid, "--ticket", b, "--csat", "5"))
    ok(invoke("ticket", "reopen", a))                                   # a open again, resolution cleared
    report = json.loads(ok(invoke("report", "service", "--format", "json", "--section", "complaints",
                                  "--section", "complaint_causes")))
    sections = {s["key"]: s["rows"] for s in report["sections"]}
    summary = {r["what"]: r["value"] for r in sections["complaints"]}
    # by hand: a reopened (open, no resolution), b resolved after 48 h with CSAT 5, c open
    assert summary["complaints"] == 3 and summary["open"] == 2
    assert summary["time to resolve, median (h)"] == median([48.0])
    assert (summary["escalated"], summary["escalations"], summary["re-opened"]) == (2, 2, 1)
    assert summary["satisfaction after resolution (CSAT 1-5)"] == 5.0
    causes = {r["cause"]: r for r in sections["complaint_causes"]}
    assert list(causes) == ["tag: billing", "tag: delivery", "product: Box", "(no tag or product)"]
    assert (causes["tag: billing"]["complaints"], causes["tag: billing"]["open"]) == (2, 1)
    assert causes["product: Box"]["resolve_median_h"] == 48.0
    assert causes["(no tag or product)"]["escalated"] == 1


def test_escalate_through_the_installed_entry_point(crm: Crm, rules: Path) -> None:
    env = {"CRM_NOW": "2026-11-20T09:00:00+08:00"}
    cid = crm("customer", "add", "Acme", env=env).stdout.strip()
    assert crm("ticket", "open", cid, "Bad", "-c", "complaint", env=env).returncode == 0
    result = crm("ticket", "escalate", env={"CRM_NOW": "2026-11-22T09:00:00+08:00"})
    assert result.returncode == 0, result.stderr
    assert "王经理" in result.stdout and "Escalated 1 complaint to 王经理" in result.stderr
