"""Needs and feedback: crm need / crm feedback, a problem becoming a ticket, crm report needs against hand figures."""
from __future__ import annotations

import json
from pathlib import Path

from crmcli import yamlio
from tests.conftest import Crm, commits


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def journal(store_dir: Path, cid: str) -> list[dict]:
    entries: list[dict] = []
    for path in sorted((store_dir / "customers" / cid[:2] / cid / "journal").glob("*.yaml")):
        entries += yamlio.loads(path.read_text(encoding="utf-8")) or []
    return entries


def test_need_add_status_list(invoke, store_dir: Path) -> None:
    cid = ok(invoke("customer", "add", "Acme")).strip()
    nid = ok(invoke("need", "add", cid, "SSO with Azure AD", "--product", "Portal", "-p", "high",
                    "-t", "sso,azure")).strip()
    assert nid.startswith("need-")
    assert commits(store_dir)[0] == f"Add need {nid} of Acme: SSO with Azure AD"
    event = journal(store_dir, cid)[-1]
    assert {k: event[k] for k in ("kind", "id", "owner", "text", "product", "priority", "tags")} == \
        {"kind": "need.add", "id": nid, "owner": "Alice Example", "text": "SSO with Azure AD", "product": "Portal",
         "priority": "high", "tags": ["sso", "azure"]}
    ok(invoke("need", "status", nid[5:], "planned", "--owner", "bob"))  # a prefix without need- works
    rows = json.loads(ok(invoke("need", "list", "--format", "json")))
    assert [(r["id"], r["status"], r["owner"]) for r in rows] == [(nid, "planned", "bob")]
    assert json.loads(ok(invoke("need", "list", "--status", "new", "--format", "json"))) == []
    result = invoke("need", "status", nid, "planned")
    assert result.exit_code == 4 and "already planned" in result.output
    assert invoke("need", "status", nid, "someday").exit_code == 4
    assert invoke("need", "status", "need-zzzz", "done").exit_code == 3
    assert invoke("need", "add", cid, "x", "-p", "urgent").exit_code == 2
    ok(invoke("check"))
    assert f"need {nid} new -> planned, owner bob" in ok(invoke("timeline", cid))


def test_problem_feedback_opens_a_ticket_in_the_same_commit(invoke, store_dir: Path) -> None:
    cid = ok(invoke("customer", "add", "Acme")).strip()
    before = len(commits(store_dir))
    out = ok(invoke("feedback", "add", cid, "Export crashes on big files", "--type", "problem", "--ticket",
                    "--channel", "email", "-p", "high")).split()
    fid, tid = out
    assert fid.startswith("fb-") and tid.startswith("tkt-")
    assert len(commits(store_dir)) == before + 1
    assert commits(store_dir)[0] == f"Add problem feedback {fid} of Acme and open ticket {tid}"
    events = journal(store_dir, cid)[-2:]
    assert [e["kind"] for e in events] == ["feedback.add", "ticket.open"]
    assert events[0]["ticket"] == tid and events[1]["priority"] == "high" and events[1]["channel"] == "email"
    shown = json.loads(ok(invoke("ticket", "show", tid, "--format", "json")))
    assert shown["title"] == "Export crashes on big files" and shown["category"] == "bug"
    result = invoke("feedback", "add", cid, "Lovely", "--type", "praise", "--ticket")
    assert result.exit_code == 4 and "only a problem becomes a ticket" in result.output
    ok(invoke("feedback", "add", cid, "Lovely", "--type", "praise"))
    ok(invoke("feedback", "status", fid, "done"))
    rows = json.loads(ok(invoke("feedback", "list", "--type", "problem", "--format", "json")))
    assert [(r["id"], r["status"], r["ticket"]) for r in rows] == [(fid, "done", tid)]
    ok(invoke("check"))


def test_needs_report_against_hand_figures(invoke, store_dir: Path) -> None:
    a = ok(invoke("customer", "add", "Alpha", "--tier", "A")).strip()
    b = ok(invoke("customer", "add", "Beta", "--tier", "B")).strip()
    c = ok(invoke("customer", "add", "Gamma", "--tier", "B")).strip()
    ok(invoke("order", "add", a, "--amount", "1000"))
    ok(invoke("order", "add", a, "--amount", "500"))
    ok(invoke("order", "add", b, "--amount", "200"))
    ok(invoke("need", "add", a, "SSO", "-t", "sso", "--product", "Portal"))
    ok(invoke("need", "add", a, "SSO again", "-t", "sso", "--product", "Portal"))
    ok(invoke("need", "add", b, "Single sign-on", "-t", "sso"))
    ok(invoke("need", "add", c, "Dark  Mode", "--product", "Portal"))
    ok(invoke("need", "add", b, "dark mode"))
    declined = ok(invoke("need", "add", c, "Fax support", "-t", "fax")).strip()
    ok(invoke("need", "status", declined, "declined"))
    ok(invoke("feedback", "add", a, "Great", "--type", "praise"))
    report = json.loads(ok(invoke("report", "needs", "--format", "json")))
    sections = {s["key"]: s["rows"] for s in report["sections"]}
    # by hand: sso asked by Alpha (twice, value 1500) and Beta (200); dark mode by Gamma (0) and Beta (200)
    assert [(r["theme"], r["requests"], r["customers"], r["value"]) for r in sections["top_needs"]] == \
        [("tag: sso", 3, 2, 1700.0), ("dark mode", 2, 2, 200.0)]
    assert [(r["product"], r["requests"], r["value"]) for r in sections["by_product"]] == \
        [("Portal", 3, 1500.0), ("(none)", 2, 200.0)]
    assert [(r["tier"], r["requests"], r["customers"], r["value"]) for r in sections["by_segment"]] == \
        [("A", 2, 1, 1500.0), ("B", 3, 2, 200.0)]
    assert sections["feedback"][0] == {"type": "praise", "total": 1, "new": 1, "planned": 0, "done": 0,
                                       "declined": 0}


def test_need_through_the_installed_entry_point(crm: Crm) -> None:
    cid = crm("customer", "add", "基石").stdout.strip()
    result = crm("need", "add", cid, "报表导出为 PDF", "-t", "pdf导出")
    assert result.returncode == 0, result.stderr
    result = crm("need", "list", "--format", "csv")
    assert result.returncode == 0 and "报表导出为 PDF" in result.stdout
