"""`crm show`, the health score and `crm customer list --sort health / --at-risk`."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from crmcli import yamlio
from crmcli.config import Config
from crmcli.domain import health
from crmcli.domain.health import Component, Facts, Settings

TODAY = date(2026, 11, 23)
NOW = "2026-11-23T10:00:00+08:00"
SETTINGS = Settings.from_config(Config())


def ok(result) -> str:  # noqa: ANN001
    assert result.exit_code == 0, result.output
    return result.stdout


# -- components: pure functions, hand-computed ---------------------------------------------------------------
@pytest.mark.parametrize(("last", "created", "cadence", "expected"), [
    (date(2026, 11, 20), None, 30, 100),            # 3 days, within
    (date(2026, 10, 24), None, 30, 100),            # exactly the cadence (30 days) is still within
    (date(2026, 10, 9), None, 30, 50),              # 45 days: 100 * (60 - 45) / 30
    (date(2026, 10, 1), None, 30, 23),              # 53 days: 100 * 7 / 30 = 23.3
    (date(2026, 9, 24), None, 30, 0),               # 60 days: twice the cadence
    (date(2025, 1, 1), None, 30, 0),                # long ago: never below 0
    (None, date(2026, 8, 15), 90, 89),              # no interactions at all: from creation, 100 days: 88.9
    (None, date(2026, 11, 1), 90, 100),             # no interactions, added 22 days ago
    (None, None, 90, 0),                            # nothing known
])
def test_recency_component(last, created, cadence, expected) -> None:  # noqa: ANN001
    c = health.recency_component(last, created, cadence, TODAY, 30)
    assert c.score == expected and c.weight == 30
    assert ("never contacted" in c.explanation) == (last is None)


def test_recency_without_a_cadence_uses_the_default_from_settings() -> None:
    facts = Facts(created=date(2025, 1, 1), last_contact=date(2026, 7, 26))  # 120 days, no touch_every
    h = health.health_score(facts, SETTINGS, TODAY)
    assert h.components["recency"].score == 67  # 100 * (180 - 120) / 90 = 66.7
    assert "90d by default" in h.components["recency"].explanation
    assert [w["kind"] for w in h.warnings] == ["no-contact"]
    custom = Settings.from_config(Config(data={"health": {"default_cadence": "60d"}}))
    assert health.health_score(facts, custom, TODAY).components["recency"].score == 0  # 120 days = 2 x 60
    assert custom.weights == SETTINGS.weights  # a partial block keeps the other defaults
    # the customer's own cadence wins over the default
    own = health.health_score(Facts(cadence="180d", last_contact=date(2026, 7, 26)), SETTINGS, TODAY)
    assert own.components["recency"].score == 100 and own.warnings == []


@pytest.mark.parametrize(("open_", "complaints", "breaches", "expected"), [
    (0, 0, 0, 100), (1, 0, 0, 85), (1, 1, 1, 40), (2, 1, 0, 45), (1, 2, 1, 15), (3, 2, 2, 0),
])
def test_service_component(open_: int, complaints: int, breaches: int, expected: int) -> None:
    c = health.service_component(open_, complaints, breaches, 25)
    assert c == Component(expected, 25, c.explanation)
    assert f"{open_} open ticket" in c.explanation


def test_rating_values() -> None:
    assert [health.rating_value(csat=v) for v in (1, 2, 3, 4, 5)] == [0, 25, 50, 75, 100]
    assert health.rating_value(nps=8) == 80
    assert health.rating_value(csat=2, nps=3) == 27.5
    assert health.rating_value(csat=9) is None and health.rating_value() is None


def test_satisfaction_component() -> None:
    none = health.satisfaction_component([], 15)
    assert (none.score, none.weight) == (None, 0) and "not counted" in none.explanation
    assert health.satisfaction_component([27.5], 15).score == 28  # rounded half up
    two = health.satisfaction_component([100, 95], 15)
    assert two.score == 98 and two.weight == 15  # 97.5
    trend = health.satisfaction_component([100, 100, 75, 50, 25, 0], 15)
    assert trend.score == 25 and "falling; 92 before" in trend.explanation  # last 3: 25; 3 before: 91.7
    up = health.satisfaction_component([0, 25, 50, 100, 100, 100], 15)
    assert up.score == 100 and "rising; 25 before" in up.explanation


@pytest.mark.parametrize(("current", "previous", "expected"), [
    (0, 0, None),       # no revenue either period: not counted
    (100, 0, 100),      # new revenue
    (120, 100, 100),    # growing
    (100, 100, 100),
    (50, 100, 50),
    (33, 100, 33),
    (0, 100, 0),
])
def test_revenue_component(current: float, previous: float, expected: int | None) -> None:
    c = health.revenue_component(current, previous, 20)
    assert c.score == expected
    assert c.weight == (0 if expected is None else 20)


def test_tasks_component() -> None:
    assert [health.tasks_component(n, 10).score for n in (0, 1, 2, 4, 5)] == [100, 75, 50, 0, 0]


def test_combine_is_the_weighted_mean_of_counted_components() -> None:
    parts = {"a": Component(100, 30, ""), "b": Component(40, 25, ""), "c": Component(None, 0, ""),
             "d": Component(0, 20, ""), "e": Component(100, 10, "")}
    assert health.combine(parts) == 59  # 5000 / 85 = 58.8
    assert health.combine({"a": Component(None, 0, "")}) == 100
    assert health.combine({"a": Component(50, 1, ""), "b": Component(51, 1, "")}) == 51  # 50.5 rounds up


def test_a_customer_never_sold_to_is_not_at_risk_but_not_perfect_either() -> None:
    h = health.health_score(Facts(created=date(2026, 11, 1)), SETTINGS, TODAY)
    assert h.score == 88 and not h.at_risk and h.warnings == []  # (100×30 + 100×25 + 50×20 + 100×10) / 85 = 88.2
    assert h.components["satisfaction"].score is None
    assert h.components["revenue"] == Component(50, 20, "never sold to yet: 50 until the first order")
    assert health.revenue_component(0, 0, 20, ever_sold=True).score is None  # bought long ago: not counted


def test_a_lead_never_sold_to_and_silent_for_44_days_is_not_100() -> None:
    facts = Facts(created=date(2026, 10, 20), last_contact=date(2026, 10, 20))
    h = health.health_score(facts, SETTINGS, date(2026, 12, 3))  # 44 days of silence, default cadence 90d
    assert h.score < 100
    assert h.score == round((100 * 30 + 100 * 25 + 50 * 20 + 100 * 10) / 85)


def test_revenue_paused_while_a_contract_runs_is_no_warning() -> None:
    base = {"created": date(2025, 1, 1), "last_contact": date(2026, 11, 20), "currency": "CNY",
            "revenue": [(date(2025, 4, 15), 70000.0)]}  # paid up front, nothing in the last 365 days
    contract = {"start": "2025-05-01", "end": "2027-06-30", "value": 70000, "currency": "CNY",
                "renew_notice": "45d", "notice": "2027-05-16", "file": None, "at": "", "by": None}
    kinds = [w["kind"] for w in health.health_score(Facts(**base, contracts=[contract]), SETTINGS, TODAY).warnings]
    assert "revenue-falling" not in kinds
    ended = dict(contract, end="2026-03-31", notice="2026-02-14")
    h = health.health_score(Facts(**base, contracts=[ended]), SETTINGS, TODAY)
    assert [w["reason"] for w in h.warnings] == [
        "revenue fell 100%: ¥0 in the last 365d against ¥70,000 before"]


def test_warnings_and_their_thresholds() -> None:
    base = {"created": date(2025, 1, 1), "last_contact": date(2026, 11, 20)}
    one = Facts(**base, complaints=[{"id": "tkt-a", "title": "A", "opened": date(2026, 11, 20)},
                                    {"id": "tkt-b", "title": "B", "opened": date(2026, 10, 24)}])  # 30 days ago
    h = health.health_score(one, SETTINGS, TODAY)
    assert h.warnings == [] and "1 complaint in 30d" in h.components["service"].explanation
    two = Facts(**base, complaints=[*one.complaints, {"id": "tkt-c", "title": "C", "opened": date(2026, 10, 25)}])
    h = health.health_score(two, SETTINGS, TODAY)
    assert [w["kind"] for w in h.warnings] == ["complaints"]
    assert h.warnings[0]["reason"] == "2 complaints in the last 30d: tkt-a A; tkt-c C"

    def revenue(cur: float, prev: float) -> list[str]:
        facts = Facts(**base, revenue=[(date(2026, 5, 1), cur), (date(2025, 5, 1), prev)], currency="CNY")
        return [w["reason"] for w in health.health_score(facts, SETTINGS, TODAY).warnings]

    assert revenue(90, 100) == []  # fell 10%: below revenue_drop
    assert revenue(80, 100) == ["revenue fell 20%: ¥80 in the last 365d against ¥100 before"]
    assert revenue(0, 0) == [] and revenue(10, 0) == []

    contract = {"start": "2026-01-01", "end": "2026-12-31", "value": 1, "currency": "CNY", "renew_notice": "60d",
                "notice": "2026-11-01", "file": None, "at": "", "by": None}
    facts = Facts(**base, contracts=[contract])
    assert [w["kind"] for w in health.health_score(facts, SETTINGS, TODAY).warnings] == ["contract-expiring"]
    renewed = dict(contract, start="2027-01-01", end="2027-12-31", notice="2027-11-01")
    assert health.health_score(Facts(**base, contracts=[contract, renewed]), SETTINGS, TODAY).warnings == []
    early = dict(contract, notice="2026-11-24")
    assert health.health_score(Facts(**base, contracts=[early]), SETTINGS, TODAY).warnings == []

    tasks = Facts(**base, overdue_tasks=[{"id": "task-1", "text": "Send deck", "due": "2026-11-20"}])
    h = health.health_score(tasks, SETTINGS, TODAY)
    assert h.warnings == [{"kind": "overdue-tasks", "reason": "1 overdue task: task-1 Send deck (due 2026-11-20)"}]
    assert h.components["tasks"].score == 75


def test_health_settings_are_validated(invoke, store_dir: Path) -> None:
    cfg = store_dir / "crm.yaml"
    data = yamlio.loads(cfg.read_text(encoding="utf-8"))
    assert data["health"]["at_risk_below"] == 50  # new stores get the block
    for bad, message in (({"weights": {"mood": 5}}, "unknown health component 'mood'"),
                         ({"weights": {"recency": -1}}, "must be a number of 0 or more"),
                         ({"default_cadence": "soon"}, "default_cadence 'soon' must be a period"),
                         ({"complaint_threshold": 0}, "complaint_threshold must be a whole number"),
                         ({"at_risk_below": 150}, "at_risk_below must be a number from 0 to 100")):
        cfg.write_text(yamlio.dumps(dict(data, health=bad)), encoding="utf-8")
        r = invoke("customer", "list")
        assert r.exit_code == 4 and message in r.stderr, (bad, r.stderr)


# -- a hand-built customer, made with real crm commands at fixed dates ---------------------------------------------
@pytest.fixture
def built(invoke, monkeypatch: pytest.MonkeyPatch) -> str:
    def at(when: str, *args: str) -> str:
        monkeypatch.setenv("CRM_NOW", when)
        return ok(invoke(*args)).strip()

    cid = at("2025-01-10T10:00:00", "customer", "add", "Hand Built Co", "--tier", "A", "--owner", "alice",
             "--industry", "software", "--source", "referral", "--tag", "saas", "--touch-every", "30d",
             "--contact", "Jane Doe <jane@hb.example>, 138 0013 8000")
    pilot = at("2025-02-01T10:00:00", "opp", "add", cid, "Pilot", "--amount", "60000", "--stage", "proposal")
    at("2025-03-01T10:00:00", "opp", "win", pilot, "--order")                           # previous period
    at("2025-10-01T10:00:00", "order", "add", cid, "--amount", "40000", "--date", "2025-10-01")  # previous
    at("2026-02-01T10:00:00", "order", "add", cid, "--amount", "30000", "--date", "2026-02-01")  # this period
    at("2026-01-05T10:00:00", "contract", "add", cid, "--value", "100000", "--start", "2026-01-01",
       "--end", "2026-12-31", "--renew-notice", "60d")
    at("2026-06-01T10:00:00", "survey", cid, "--csat", "5", "--nps", "10")               # rating 100
    at("2026-09-01T10:00:00", "opp", "add", cid, "Expansion", "--amount", "200000", "--stage", "proposal",
       "--close", "2026-12-20")
    at("2026-09-02T10:00:00", "opp", "add", cid, "Training", "--amount", "10000")         # lead, 10%
    at("2026-10-01T10:00:00", "log", cid, "call", "Quarterly review, all good", "--contact", "Jane")
    old = at("2026-09-01T09:00:00", "ticket", "open", cid, "Old complaint", "--category", "complaint")
    at("2026-09-01T12:00:00", "ticket", "close", old, "--resolution", "Explained")
    a = at("2026-11-10T09:00:00", "ticket", "open", cid, "Invoice wrong", "--priority", "high",
           "--category", "complaint")
    at("2026-11-10T10:00:00", "ticket", "comment", a, "Looking into it")
    at("2026-11-10T20:00:00", "ticket", "close", a, "--resolution", "Credit note sent", "--csat", "2")
    at("2026-11-11T10:00:00", "survey", cid, "--ticket", a, "--csat", "1")                 # replaces the 2
    at("2026-11-20T09:00:00", "ticket", "open", cid, "Nobody answers", "--category", "complaint")
    at("2026-11-21T10:00:00", "survey", cid, "--csat", "3")                               # rating 50
    at("2026-11-01T10:00:00", "task", "add", cid, "Send the deck", "--due", "2026-11-20")
    at("2026-11-01T10:05:00", "task", "add", cid, "Call back", "--due", "2026-11-30")
    done = at("2026-11-01T10:10:00", "task", "add", cid, "Old chore", "--due", "2026-11-02")
    at("2026-11-02T10:00:00", "task", "done", done)
    monkeypatch.setenv("CRM_NOW", NOW)
    return cid


def test_show_numbers_and_warnings_of_a_hand_built_customer(invoke, built: str) -> None:
    data = json.loads(ok(invoke("show", "Hand Built Co", "--format", "json", "--events", "3")))
    assert data["id"] == built and data["name"] == "Hand Built Co"
    assert data["core"] == {"name": "Hand Built Co", "kind": "company", "industry": "software", "tier": "A",
                            "stage": "repeat", "owner": "alice", "source": "referral", "tags": ["saas"],
                            "touch_every": "30d"}
    m = data["metrics"]
    assert (m["revenue_this_year"], m["revenue_lifetime"]) == (30000, 130000)
    assert (m["open_deals"], m["pipeline_total"], m["pipeline_weighted"]) == (2, 210000, 101000)
    assert (m["last_contact"], m["last_contact_kind"], m["days_since_contact"]) == (
        "2026-10-01T10:00:00+08:00", "call", 53)
    assert m["next_task"]["text"] == "Send the deck" and m["next_task"]["overdue"] is True
    assert (m["contract_end"], m["contract_ended"]) == ("2026-12-31", False)
    assert [c["name"] for c in data["contacts"]] == ["Jane Doe"]
    assert [(o["title"], o["stage"], o["weighted"]) for o in data["opportunities"]] == [
        ("Expansion", "proposal", 100000), ("Training", "lead", 1000)]
    assert [(t["title"], t["sla"]) for t in data["tickets"]] == [("Nobody answers", "BREACHED response+resolution")]
    assert [(t["text"], t["overdue"]) for t in data["tasks"]] == [("Send the deck", True), ("Call back", False)]
    assert [(e["kind"], e["when"]) for e in data["timeline"]] == [
        ("survey.answer", "2026-11-21 10:00"), ("ticket.open", "2026-11-20 09:00"),
        ("survey.answer", "2026-11-11 10:00")]

    h = data["health"]
    scores = {c["name"]: (c["score"], c["weight"]) for c in h["components"]}
    assert scores == {"recency": (23, 30),        # 53 days against 30d: 100 * 7 / 30
                      "service": (15, 25),        # 1 open, 2 complaints in 30 days, 1 breach: 100-15-50-20
                      "satisfaction": (50, 15),   # 100, 0 (the survey replaced the close's CSAT 2), 50
                      "revenue": (30, 20),        # 30,000 against 100,000
                      "tasks": (75, 10),          # 1 overdue
                      "loyalty": (None, 0)}       # no points, referred nobody: left out
    assert h["score"] == 32 and h["at_risk"] is True  # (690 + 375 + 750 + 600 + 750) / 100 = 31.65
    assert m["health"] == 32
    kinds = [w["kind"] for w in data["warnings"]]
    assert kinds == ["no-contact", "complaints", "sla-breach", "contract-expiring", "overdue-tasks"]
    # revenue fell 70% (30,000 against 100,000), but a contract runs until 2026-12-31: no revenue warning
    reasons = {w["kind"]: w["reason"] for w in data["warnings"]}
    assert reasons["no-contact"] == ("no contact beyond the cadence: last contact 2026-10-01, 53 days ago "
                                     "(cadence 30d)")
    assert reasons["complaints"].startswith("2 complaints in the last 30d: ")
    assert "Nobody answers" in reasons["sla-breach"] and "Invoice wrong" not in reasons["sla-breach"]
    assert reasons["contract-expiring"].startswith("contract ends 2026-12-31 (38 days), within its notice period "
                                                   "of 60d (from 2026-11-01)")
    assert reasons["overdue-tasks"].endswith("Send the deck (due 2026-11-20)")

    assert yamlio.loads(ok(invoke("show", built, "--format", "yaml", "--events", "3"))) == data


def test_show_text_screen(invoke, built: str) -> None:
    out = ok(invoke("show", "hand", "--events", "2"))
    order = ["Hand Built Co", "lifecycle  repeat", "Key metrics", "revenue       ¥30,000 this year, ¥130,000 "
             "lifetime", "pipeline      2 open deals: ¥210,000, weighted ¥101,000",
             "last contact  2026-10-01 10:00 (call, 53 days ago)", "next task     2026-11-20  Send the deck  (overdue)",
             "contract end  2026-12-31", "health        32/100 (at risk: below 50)", "Contacts", "Open opportunities",
             "Open tickets", "BREACHED response+resolution", "Next tasks", "Latest events (2)", "Warnings (5)",
             "! no-contact", "! overdue-tasks", "Health 32/100: how it is made",
             "score = (23×30 + 15×25 + 50×15 + 30×20 + 75×10) / 100 = 32"]
    positions = [out.find(s) for s in order]
    assert all(p >= 0 for p in positions), [s for s, p in zip(order, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    assert "\x1b[" not in out


def test_show_aligns_chinese(invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NOW", NOW)
    cid = ok(invoke("customer", "add", "深圳市基石协作科技有限公司", "--industry", "软件", "--owner", "王芳",
                    "--contact", "李娜 <li.na@example.cn>", "--contact", "Jane Doe <jane@example.com>")).strip()
    ok(invoke("log", cid, "call", "确认增购意向", "--contact", "李娜"))
    out = ok(invoke("show", "深圳市基石协作科技有限公司"))
    from wcwidth import wcswidth

    lines = out.split("Contacts\n", 1)[1].split("\n\n", 1)[0].splitlines()
    header, _, first, second = lines[:4]
    columns = {wcswidth(line[:line.index(word)]) for line, word in ((header, "email"), (first, "li.na"),
                                                                     (second, "jane"))}
    assert len(columns) == 1, lines  # the email column starts at the same display column in every row
    assert "owner      王芳" in out


def test_a_new_customer_without_anything(invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NOW", "2026-11-01T10:00:00+08:00")
    cid = ok(invoke("customer", "add", "Empty Ltd")).strip()
    monkeypatch.setenv("CRM_NOW", NOW)
    data = json.loads(ok(invoke("show", cid, "-f", "json")))
    assert data["health"]["score"] == 88 and data["warnings"] == []  # never sold to: revenue 50 (see above)
    assert data["metrics"]["last_contact"] is None and data["metrics"]["revenue_lifetime"] == 0
    assert [e["kind"] for e in data["timeline"]] == ["customer.add"]
    out = ok(invoke("show", cid))
    assert "last contact  never" in out and "Open tickets: none" in out and "Warnings: none" in out


def test_show_reads_only_that_customers_folder(invoke, built: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ok(invoke("customer", "add", "Other Co"))

    def boom(self):  # noqa: ANN001, ANN202
        raise AssertionError("crm show must not scan the store")

    monkeypatch.setattr("crmcli.store.store.Store.customer_ids", boom)
    for ref in (built, "hand", "Hand Built Co"):
        assert "Hand Built Co" in ok(invoke("show", ref))
    r = invoke("customer", "list")
    assert r.exit_code == 70  # the patch is really in force


def test_show_imports_no_report_libraries(crm, store_dir: Path) -> None:
    cid = crm("customer", "add", "Acme Corp").stdout.strip()
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "crmcli", "show", cid], cwd=store_dir,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    modules = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert "crmcli.analysis.overview" in modules and "crmcli.domain.health" in modules
    assert not {m for m in modules if m.split(".")[0] in ("pandas", "openpyxl", "numpy")}


def test_show_unknown_customer(invoke) -> None:
    r = invoke("show", "nobody")
    assert r.exit_code == 3 and r.stderr.startswith("crm: error: no customer 'nobody'")


# -- customer list --sort health / --at-risk ----------------------------------------------------------------
def test_customer_list_by_health(invoke, built: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NOW", "2026-11-01T10:00:00+08:00")
    fine = ok(invoke("customer", "add", "Fine Ltd")).strip()
    monkeypatch.setenv("CRM_NOW", NOW)
    rows = json.loads(ok(invoke("customer", "list", "--sort", "health", "-f", "json")))
    assert [(r["id"], r["health"], r["at_risk"]) for r in rows] == [(built, 32, True), (fine, 88, False)]
    assert rows[0]["warnings"][0] == "no-contact"
    rows = json.loads(ok(invoke("customer", "list", "--at-risk", "-f", "json")))
    assert [r["id"] for r in rows] == [built]
    table = ok(invoke("customer", "list", "--sort", "health"))
    assert table.splitlines()[0].split()[-1] == "health"
    assert table.index("Hand Built Co") < table.index("Fine Ltd")

    def no_journals(self, cid):  # noqa: ANN001, ANN202
        raise AssertionError("the plain list must not read journals")

    monkeypatch.setattr("crmcli.store.store.Store.load_journal", no_journals)
    plain = ok(invoke("customer", "list"))
    assert "health" not in plain.splitlines()[0]
    assert invoke("customer", "list", "--sort", "bogus").exit_code != 0
