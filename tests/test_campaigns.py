"""Campaigns and events through the real entry point: definitions, members, responses, crm report campaigns."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmcli import yamlio
from tests.conftest import Crm, commits, git
from tests.test_sync import crm as sync_crm
from tests.test_sync import team  # noqa: F401 - the fixture of two clones sharing a remote


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def add(invoke, name: str, *args: str) -> str:
    return ok(invoke("customer", "add", name, *args)).strip()


def journal(store_dir: Path, cid: str) -> list[dict]:
    out: list[dict] = []
    for path in sorted((store_dir / "customers" / cid[:2] / cid / "journal").glob("*.yaml")):
        out += yamlio.loads(path.read_text(encoding="utf-8")) or []
    return out


def profile(store_dir: Path, cid: str) -> dict:
    return yamlio.loads((store_dir / "customers" / cid[:2] / cid / "customer.yaml").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NOW", "2026-11-20T10:00:00+08:00")


def test_campaign_add_writes_one_small_file_in_one_commit(crm: Crm, store_dir: Path) -> None:
    before = commits(store_dir)
    result = crm("campaign", "add", "spring-webinar", "--kind", "webinar", "--cost", "8,000", "--start", "2026-03-01",
                 "--end", "2026-03-31", "--title", "Spring webinar", env={"CRM_NOW": "2026-02-01T09:00:00+08:00"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "spring-webinar\n"
    assert commits(store_dir) == ["Add campaign spring-webinar (webinar)", *before]
    assert git(store_dir, "show", "--name-only", "--format=", "HEAD").split() == ["campaigns/spring-webinar.yaml"]
    data = yamlio.loads((store_dir / "campaigns" / "spring-webinar.yaml").read_text(encoding="utf-8"))
    assert data == {"name": "spring-webinar", "kind": "webinar", "title": "Spring webinar", "cost": 8000,
                    "currency": "CNY", "start": "2026-03-01", "end": "2026-03-31",
                    "created": "2026-02-01T09:00:00+08:00"}
    listed = json.loads(crm("campaign", "list", "-f", "json").stdout)
    assert [c["name"] for c in listed] == ["spring-webinar"]


@pytest.mark.parametrize("args, code, words", [
    (["Spring-Webinar", "--kind", "email"], 2, "already exists"),
    (["../etc", "--kind", "email"], 2, "use letters, digits"),
    (["x", "--kind", "fax"], 2, "'fax' is not one of"),
    (["x", "--kind", "ads", "--cost", "lots"], 4, "cost"),
    (["x", "--kind", "ads", "--start", "2026-03-02", "--end", "2026-03-01"], 2, "before start"),
])
def test_bad_campaigns_are_refused_with_one_line(invoke, store_dir: Path, args: list[str], code: int,
                                                 words: str) -> None:
    ok(invoke("campaign", "add", "spring-webinar", "--kind", "webinar"))
    before = commits(store_dir)
    result = invoke("campaign", "add", *args)
    assert result.exit_code == code and words in result.output, result.output
    assert "Traceback" not in result.output and commits(store_dir) == before


def test_members_by_segment_one_by_one_and_from_a_file(invoke, store_dir: Path) -> None:
    ok(invoke("campaign", "add", "fair-2026", "--kind", "trade-show"))
    a = add(invoke, "Alpha Ltd", "--tag", "saas", "--stage", "lead")
    b = add(invoke, "Beta Ltd", "--tag", "saas", "--stage", "customer")
    c = add(invoke, "Gamma Ltd", "--tag", "retail")
    d = add(invoke, "Delta Ltd")
    before = commits(store_dir)
    dry = json.loads(ok(invoke("campaign", "member", "fair-2026", "--tag", "saas", "--dry-run", "-f", "json")))
    assert {r["customer"] for r in dry} == {a, b} and commits(store_dir) == before
    ok(invoke("campaign", "member", "fair-2026", "--tag", "saas", c))
    assert len(commits(store_dir)) == len(before) + 1
    (store_dir / "list.csv").write_text("客户名称,备注\nDelta Ltd,met at booth\nAlpha Ltd,again\n", encoding="utf-8")
    rows = json.loads(ok(invoke("campaign", "member", "fair-2026", "--from-file", "list.csv", "-f", "json")))
    assert {(r["customer"], r["status"]) for r in rows} == {(d, "joined"), (a, "already a member")}
    for cid in (a, b, c, d):
        assert [e["campaign"] for e in journal(store_dir, cid) if e["kind"] == "campaign.member"] == ["fair-2026"]
    shown = json.loads(ok(invoke("campaign", "show", "fair-2026", "-f", "json")))
    assert sorted(m["customer"] for m in shown["members"]) == sorted([a, b, c, d])

    (store_dir / "bad.csv").write_text("customer\nNobody Inc\n", encoding="utf-8")
    bad = invoke("campaign", "member", "fair-2026", "--from-file", "bad.csv")
    assert bad.exit_code == 3 and "bad.csv:2: no customer 'Nobody Inc'" in bad.output


def test_responses_are_journal_events_and_converted_sets_the_customers_campaign(invoke, store_dir: Path) -> None:
    ok(invoke("campaign", "add", "dinner", "--kind", "event"))
    a = add(invoke, "Alpha Ltd")
    b = add(invoke, "Beta Ltd")
    ok(invoke("campaign", "member", "dinner", a, b))
    ok(invoke("campaign", "respond", "dinner", "--all-members", "--response", "invited"))
    ok(invoke("campaign", "respond", "dinner", a, "-r", "attended", "--at", "2026-11-18 19:00", "--note", "Loved it"))
    ok(invoke("campaign", "respond", "dinner", a, "-r", "converted"))
    events = [e for e in journal(store_dir, a) if e["kind"].startswith("campaign.")]
    assert [(e["kind"], e.get("response")) for e in events] == [
        ("campaign.member", None), ("campaign.response", "invited"), ("campaign.response", "attended"),
        ("campaign.response", "converted")]
    assert events[2]["at"] == "2026-11-18T19:00:00+08:00" and events[2]["note"] == "Loved it"
    assert profile(store_dir, a)["campaign"] == "dinner" and "campaign" not in profile(store_dir, b)
    assert "campaign dinner: attended: Loved it" in ok(invoke("timeline", a))
    assert invoke("check").exit_code == 0
    none = invoke("campaign", "respond", "dinner", "-r", "sent")
    assert none.exit_code == 2 and "--all-members" in none.output


def test_customers_and_deals_must_name_an_existing_campaign(invoke, store_dir: Path) -> None:
    result = invoke("customer", "add", "Lost Ltd", "--campaign", "nope")
    assert result.exit_code == 3 and "no campaign 'nope'" in result.output
    ok(invoke("campaign", "add", "ads-q4", "--kind", "ads"))
    cid = add(invoke, "Found Ltd", "--campaign", "ADS-Q4")
    assert profile(store_dir, cid)["campaign"] == "ads-q4"
    oid = ok(invoke("opp", "add", cid, "Deal", "--amount", "10", "--campaign", "ads-q4")).strip()
    assert [e.get("campaign") for e in journal(store_dir, cid) if e.get("id") == oid] == ["ads-q4"]


# -- crm report campaigns ------------------------------------------------------------------------------------
CAMPAIGNS = {"web-q1": ("webinar", 6000), "fair": ("trade-show", 10000), "mail-1": ("email", 500)}
# customer -> (campaign it came from, [(campaign, response)], [(deal amount, won?, deal's own campaign)])
PEOPLE = {
    "C1": ("web-q1", [("web-q1", "sent"), ("web-q1", "attended")], [(12000, True, None), (3000, False, None)]),
    "C2": ("web-q1", [("web-q1", "sent")], [(5000, True, None)]),
    "C3": ("fair", [("fair", "attended"), ("web-q1", "sent")], [(4000, True, "web-q1"), (9000, True, None)]),
    "C4": (None, [("fair", "invited")], []),
    "C5": (None, [("mail-1", "sent"), ("mail-1", "replied")], [(700, False, None)]),
}


def test_campaigns_report_matches_figures_computed_here(invoke, store_dir: Path) -> None:
    for name, (kind, cost) in CAMPAIGNS.items():
        ok(invoke("campaign", "add", name, "--kind", kind, "--cost", str(cost)))
    for person, (origin, answers, deals) in PEOPLE.items():
        cid = add(invoke, person, *(("--campaign", origin) if origin else ()))
        for campaign, response in answers:
            ok(invoke("campaign", "respond", campaign, cid, "-r", response))
        for amount, won, own in deals:
            oid = ok(invoke("opp", "add", cid, "Deal", "--amount", str(amount),
                            *(("--campaign", own) if own else ()))).strip()
            if won:
                ok(invoke("opp", "win", oid))
    rep = json.loads(ok(invoke("report", "campaigns", "-f", "json")))
    got = {s["key"]: s["rows"] for s in rep["sections"]}
    per = {r["campaign"]: r for r in got["campaigns"]}
    responses = {r["campaign"]: r for r in got["responses"]}
    for name, (kind, cost) in CAMPAIGNS.items():
        members = {p for p, (_, answers, _) in PEOPLE.items() if any(c == name for c, _ in answers)}
        leads = [p for p, (origin, _, _) in PEOPLE.items() if origin == name]
        mine = [(amount, won) for p, (origin, _, deals) in PEOPLE.items() for amount, won, own in deals
                if (own or origin) == name]
        revenue = sum(amount for amount, won in mine if won)
        row = per[name]
        assert (row["kind"], row["cost"], row["members"], row["leads"]) == (kind, cost, len(members), len(leads))
        assert (row["deals"], row["won"], row["won_revenue"]) == (len(mine), sum(w for _, w in mine), revenue)
        assert row["cost_per_lead"] == (round(cost / len(leads), 2) if leads else None)
        assert row["roi"] == round(100 * (revenue - cost) / cost, 1)
        for response in ("sent", "attended", "replied", "invited"):
            who = {p for p, (_, answers, _) in PEOPLE.items() if (name, response) in answers}
            assert responses[name][response] == len(who), (name, response)
    kinds = {r["kind"]: r for r in got["by_kind"]}
    assert set(kinds) == {k for k, _ in CAMPAIGNS.values()}
    assert kinds["webinar"]["won_revenue"] == 12000 + 5000 + 4000
    only = json.loads(ok(invoke("report", "campaigns", "--kind", "email", "-f", "json")))
    assert [r["campaign"] for r in only["sections"][0]["rows"]] == ["mail-1"]


def test_check_names_a_damaged_campaign_file_at_its_line(invoke, store_dir: Path) -> None:
    ok(invoke("campaign", "add", "fair", "--kind", "trade-show", "--cost", "100"))
    assert invoke("check").exit_code == 0
    path = store_dir / "campaigns" / "fair.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("kind: trade-show", "kind: fax")
                    .replace("cost: 100", "cost: -5"), encoding="utf-8")
    result = invoke("check")
    assert result.exit_code == 1
    assert "campaigns/fair.yaml:2: kind 'fax' is not one of: email, event, webinar, trade-show, ads" in result.output
    assert "campaigns/fair.yaml:3: cost -5 must be an amount of 0 or more" in result.output
    (store_dir / "campaigns" / "other.yaml").write_text("name: fair\nkind: ads\n", encoding="utf-8")
    assert "campaigns/other.yaml:1: name 'fair' differs from the file name" in invoke("check").output
    result = invoke("campaign", "list")
    assert result.exit_code == 4 and "campaigns/fair.yaml" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("mode", ["rebase", "merge"])
def test_growth_events_of_two_clones_merge_without_conflict(
        team: tuple[Path, Path, Path], mode: str) -> None:  # noqa: F811 - team: the fixture imported above
    _, alice, bob = team
    flag = ["--merge"] if mode == "merge" else []
    bob_ = {"author": "Bob <bob@example.com>", "now": "2026-11-20T10:00:00+08:00"}
    with (alice / "crm.yaml").open("a", encoding="utf-8") as f:
        f.write("loyalty:\n  tiers:\n  - {name: silver, points: 10}\n"
                "leads:\n  assign:\n  - {match: {source: north}, owner: alice}\n"
                "  - {match: {source: south}, owner: bob}\n")
    git(alice, "commit", "-qam", "Loyalty tiers and lead rules")
    sync_crm(alice, "campaign", "add", "fair", "--kind", "trade-show")
    sync_crm(alice, "campaign", "member", "fair", "acme")
    sync_crm(alice, "sync", *flag)
    sync_crm(bob, "sync", *flag)
    # both clones append the new kinds of event to the same journal, and each captures and assigns a lead
    sync_crm(alice, "campaign", "respond", "fair", "acme", "-r", "attended", now="2026-11-20T10:00:00+08:00")
    sync_crm(alice, "points", "earn", "acme", "10", now="2026-11-20T10:00:00+08:00")  # and loyalty.tier: silver
    sync_crm(alice, "customer", "add", "North Lead", "--source", "north")
    sync_crm(alice, "lead", "assign")
    (bob / "answers.csv").write_text("customer,response\nacme,replied\n", encoding="utf-8")
    sync_crm(bob, "campaign", "member", "fair", "--from-file", "answers.csv", **bob_)
    (bob / "answers.csv").unlink()
    sync_crm(bob, "points", "earn", "acme", "12", **bob_)  # and its own loyalty.tier: silver
    sync_crm(bob, "points", "redeem", "acme", "3", **bob_)
    sync_crm(bob, "customer", "add", "South Lead", "--source", "south", **bob_)
    sync_crm(bob, "lead", "assign", **bob_)
    sync_crm(alice, "sync", *flag)
    sync_crm(bob, "sync", *flag)
    sync_crm(alice, "sync", *flag)
    for clone in (alice, bob):
        assert git(clone, "status", "--porcelain") == "" and sync_crm(clone, "check").returncode == 0
        shown = json.loads(sync_crm(clone, "campaign", "show", "fair", "-f", "json").stdout)
        assert sorted(shown["members"][0]["responses"].split(", ")) == ["attended", "replied"]
        points = json.loads(sync_crm(clone, "points", "acme", "-f", "json").stdout)
        assert (points["balance"], points["earned"], points["redeemed"], points["tier"]) == (19, 22, 3, "silver")
        assert [e["kind"] for e in points["history"]].count("loyalty.tier") == 2  # one from each clone, both kept
        leads = {c["name"]: c.get("owner") for c in json.loads(sync_crm(clone, "customer", "list", "--stage", "lead",
                                                                        "-f", "json").stdout)}
        assert leads["North Lead"] == "alice" and leads["South Lead"] == "bob"


def test_a_members_file_with_a_response_column_records_each_response(invoke, store_dir: Path) -> None:
    ok(invoke("campaign", "add", "salon", "--kind", "event"))
    a = add(invoke, "Alpha Ltd")
    b = add(invoke, "Beta Ltd")
    c = add(invoke, "Gamma Ltd")
    ok(invoke("campaign", "member", "salon", a))
    (store_dir / "answers.csv").write_text(
        "customer,response,date,note\n"
        "Alpha Ltd,attended,2026-10-15,Brought the CTO\n"
        "Beta Ltd,Registered,2026-10-01,\n"
        "Beta Ltd,converted,2026-10-20,Asked for a quote\n"
        "Gamma Ltd,,,\n", encoding="utf-8")
    before = commits(store_dir)
    dry = json.loads(ok(invoke("campaign", "member", "salon", "--from-file", "answers.csv", "--dry-run", "-f",
                                "json")))
    assert {(r["customer"], r["status"], r["response"]) for r in dry} == {
        (b, "would join", "registered, converted"), (c, "would join", None), (a, "already a member", "attended")}
    assert commits(store_dir) == before
    rows = json.loads(ok(invoke("campaign", "member", "salon", "--from-file", "answers.csv", "-f", "json")))
    assert len(rows) == 3
    assert commits(store_dir)[0] == "Add 2 members to campaign salon, 3 responses"
    assert len(commits(store_dir)) == len(before) + 1
    responses = {cid: [(e["at"][:10], e["response"], e.get("note")) for e in journal(store_dir, cid)
                       if e["kind"] == "campaign.response"] for cid in (a, b, c)}
    assert responses == {a: [("2026-10-15", "attended", "Brought the CTO")],
                         b: [("2026-10-01", "registered", None), ("2026-10-20", "converted", "Asked for a quote")],
                         c: []}
    shown = {m["customer"]: m["responses"] for m in
             json.loads(ok(invoke("campaign", "show", "salon", "-f", "json")))["members"]}
    assert shown == {a: "attended", b: "registered, converted", c: None}
    beta = yamlio.loads((store_dir / "customers" / b[:2] / b / "customer.yaml").read_text(encoding="utf-8"))
    assert beta["campaign"] == "salon"  # converted: the campaign is the customer's own, as with crm campaign respond
    after = commits(store_dir)
    ok(invoke("campaign", "member", "salon", "--from-file", "answers.csv"))  # the same file again: nothing new
    assert commits(store_dir) == after
    assert {m["customer"]: m["responses"] for m in
            json.loads(ok(invoke("campaign", "show", "salon", "-f", "json")))["members"]} == shown
    (store_dir / "bad.csv").write_text("customer,response\nAlpha Ltd,maybe\n", encoding="utf-8")
    bad = invoke("campaign", "member", "salon", "--from-file", "bad.csv")
    assert bad.exit_code == 4, bad.output
    assert "bad.csv:2: response 'maybe' is not one of: invited, sent" in bad.stderr and "Traceback" not in bad.output


def test_import_of_leads_with_a_campaign_column(invoke, store_dir: Path) -> None:
    ok(invoke("campaign", "add", "Fair-2026", "--kind", "trade-show", "--cost", "1000"))
    (store_dir / "leads.csv").write_text("客户名称,来源,市场活动\nAlpha Ltd,fair,fair-2026\nBeta Ltd,fair,\n",
                                         encoding="utf-8")
    (store_dir / "bad.csv").write_text("name,campaign\nGamma Ltd,no-such-fair\n", encoding="utf-8")
    before = commits(store_dir)
    bad = invoke("import", "bad.csv", "--kind", "customers")
    assert bad.exit_code == 4 and commits(store_dir) == before
    assert "bad.csv:row 2, column campaign: no campaign 'no-such-fair'" in bad.output
    ok(invoke("import", "leads.csv", "--kind", "customers"))
    rows = {c["name"]: c for c in json.loads(ok(invoke("customer", "list", "-f", "json")))}
    alpha = yamlio.loads((store_dir / "customers" / rows["Alpha Ltd"]["id"][:2] / rows["Alpha Ltd"]["id"]
                          / "customer.yaml").read_text(encoding="utf-8"))
    assert (alpha["stage"], alpha["source"], alpha["campaign"]) == ("lead", "fair", "Fair-2026")  # stored spelling
    report = json.loads(ok(invoke("report", "campaigns", "-f", "json")))
    per = next(s["rows"] for s in report["sections"] if s["key"] == "campaigns")
    assert [(r["campaign"], r["leads"]) for r in per] == [("Fair-2026", 1)]
