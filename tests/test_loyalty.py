"""Referrals and loyalty points through the real entry point: referred_by, crm points, crm report referrals/loyalty."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from crmcli import yamlio
from tests.conftest import Crm, commits, git, snapshot

RULES = """loyalty:
  point_value: 0.5
  earn: {per_order_amount: 100, per_referral: 50, per_survey: 10}
  tier_by: points
  tiers:
  - {name: silver, points: 100}
  - {name: gold, points: 1000}
referrals:
  reward: 300
"""


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def add(invoke, name: str, *args: str) -> str:
    return ok(invoke("customer", "add", name, *args)).strip()


def profile(store_dir: Path, cid: str) -> dict:
    return yamlio.loads((store_dir / "customers" / cid[:2] / cid / "customer.yaml").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def pinned(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NOW", "2026-11-20T10:00:00+08:00")
    with (store_dir / "crm.yaml").open("a", encoding="utf-8") as f:
        f.write(RULES)
    git(store_dir, "commit", "-qam", "Loyalty rules")


def test_referred_by_must_name_an_existing_customer_and_is_kept_by_id(invoke, store_dir: Path) -> None:
    acme = add(invoke, "Acme Corp")
    bad = invoke("customer", "add", "Newco", "--referred-by", "Nobody Ltd")
    assert bad.exit_code == 3 and "no customer 'Nobody Ltd'" in bad.output
    newco = add(invoke, "Newco", "--referred-by", "Acme Corp")
    assert profile(store_dir, newco)["referred_by"] == acme
    other = add(invoke, "Other")
    ok(invoke("customer", "edit", other, "--set", "referred_by=Newco"))
    assert profile(store_dir, other)["referred_by"] == newco
    assert invoke("customer", "edit", other, "--set", "referred_by=ghost").exit_code == 3


def test_the_points_ledger_earn_redeem_expire_adjust(crm: Crm, invoke, store_dir: Path) -> None:
    cid = add(invoke, "Acme Corp")
    result = crm("points", "earn", cid, "120", "--reason", "Trade show visit")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{cid}  balance 120  tier silver"
    ok(invoke("points", "redeem", cid, "30", "--reason", "Mug"))
    ok(invoke("points", "expire", cid, "10"))
    ok(invoke("points", "adjust", cid, "-5", "--reason", "Double count"))
    before = snapshot(store_dir)
    too_much = invoke("points", "redeem", cid, "76")
    assert too_much.exit_code == 4 and "the balance is 75" in too_much.output
    assert invoke("points", "adjust", cid, "5").exit_code == 2  # a reason is required
    assert invoke("points", "adjust", cid, "-80", "--reason", "x").exit_code == 4
    assert invoke("points", "earn", cid, "0").exit_code == 4
    assert snapshot(store_dir) == before
    shown = json.loads(ok(invoke("points", cid, "-f", "json")))
    assert (shown["balance"], shown["earned"], shown["redeemed"], shown["expired"], shown["adjusted"]) == \
        (120 - 30 - 10 - 5, 120, 30, 10, -5)
    assert [e["kind"] for e in shown["history"]] == ["points.earn", "loyalty.tier", "points.redeem",
                                                     "points.expire", "points.adjust"]
    assert shown["tier"] == "silver"
    assert "points redeem 30: Mug" in ok(invoke("timeline", cid))
    metrics = json.loads(ok(invoke("show", cid, "-f", "json")))["metrics"]
    assert (metrics["points"], metrics["loyalty_tier"]) == (75, "silver")
    assert "loyalty       75 points, tier silver" in ok(invoke("show", cid))
    assert invoke("check").exit_code == 0


def _shop(invoke) -> dict[str, str]:
    """Orders, referrals and surveys: the raw material of the rules."""
    ids = {"a": add(invoke, "Alpha")}
    ids["b"] = add(invoke, "Beta", "--referred-by", ids["a"])
    ids["c"] = add(invoke, "Gamma", "--referred-by", ids["a"])
    ids["d"] = add(invoke, "Delta")
    for who, amount, day in (("a", 1250, "2026-10-01"), ("a", 99, "2026-10-05"), ("b", 450, "2026-11-01"),
                             ("b", 300, "2026-11-10"), ("d", 5000, "2026-09-01")):
        ok(invoke("order", "add", ids[who], "--amount", str(amount), "--date", day))
    ok(invoke("survey", ids["c"], "--csat", "5"))
    return ids


ORDERS = {"a": [1250, 99], "b": [450, 300], "c": [], "d": [5000]}


def test_award_applies_the_rules_once_and_moves_tiers(invoke, store_dir: Path) -> None:
    ids = _shop(invoke)
    before = snapshot(store_dir)
    dry = json.loads(ok(invoke("points", "award", "--dry-run", "-f", "json")))
    assert snapshot(store_dir) == before
    history = commits(store_dir)
    ok(invoke("points", "award"))
    assert commits(store_dir)[1:] == history and commits(store_dir)[0].startswith("Award loyalty points: ")
    expected = {k: sum(math.floor(x / 100) for x in v) for k, v in ORDERS.items()}
    expected["a"] += 2 * 50  # referred Beta and Gamma
    expected["c"] += 10  # one survey
    for key, cid in ids.items():
        got = json.loads(ok(invoke("points", cid, "-f", "json")))
        assert got["balance"] == got["earned"] == expected[key], key
        tier = "gold" if expected[key] >= 1000 else "silver" if expected[key] >= 100 else None
        assert got["tier"] == tier, key
    assert len([r for r in dry if r["event"] == "points.earn"]) == 5 + 2 + 1 - 1  # the 99 order earns 0 points
    again = invoke("points", "award", "-f", "json")
    assert again.exit_code == 0 and json.loads(again.stdout) == []


def test_referrals_and_loyalty_reports_match_figures_computed_here(invoke, store_dir: Path) -> None:
    ids = _shop(invoke)
    ok(invoke("points", "award"))
    ok(invoke("points", "redeem", ids["d"], "20", "--reason", "Voucher"))
    refs = json.loads(ok(invoke("report", "referrals", "-f", "json")))
    per = {s["key"]: s["rows"] for s in refs["sections"]}
    assert [(r["referrer"], r["customer"]) for r in per["referred"]] == sorted([(ids["a"], ids["b"]),
                                                                                (ids["a"], ids["c"])])
    [alpha] = per["referrers"]
    assert (alpha["referred"], alpha["bought"], alpha["referred_revenue"], alpha["reward_due"]) == \
        (2, 1, float(sum(ORDERS["b"])), 300.0)

    rep = json.loads(ok(invoke("report", "loyalty", "-f", "json")))
    got = {s["key"]: s["rows"] for s in rep["sections"]}
    points = {k: sum(math.floor(x / 100) for x in v) for k, v in ORDERS.items()}
    points["a"] += 100
    points["c"] += 10
    balance = {**points, "d": points["d"] - 20}
    tiers = {k: "gold" if p >= 1000 else "silver" if p >= 100 else None for k, p in points.items()}
    assert {r["tier"]: r["members"] for r in got["tiers"]} == {
        t: sum(1 for v in tiers.values() if (v or "(none)") == t) for t in {v or "(none)" for v in tiers.values()}}
    measures = {r["measure"]: r["value"] for r in got["points"]}
    assert measures["points outstanding"] == sum(balance.values())
    assert measures["liability (CNY)"] == sum(balance.values()) * 0.5
    assert measures["redemption rate %"] == round(100 * 20 / sum(points.values()), 1)
    repeat = {r["group"]: r for r in got["repeat"]}
    buyers = [k for k, v in ORDERS.items() if v]
    assert repeat["members"]["buyers"] == len(buyers)
    assert repeat["members"]["repeat_rate"] == round(100 * sum(1 for k in buyers if len(ORDERS[k]) >= 2)
                                                     / len(buyers), 1)


def test_tiers_points_and_referrals_show_on_crm_show_and_feed_one_health_score(invoke, store_dir: Path) -> None:
    loyal = add(invoke, "Loyal Ltd")
    advocate = add(invoke, "Advocate Ltd")
    friend = add(invoke, "Friend Ltd", "--referred-by", "Advocate Ltd")
    plain = add(invoke, "Plain Ltd")
    for cid in (loyal, advocate, friend, plain):
        ok(invoke("log", cid, "call", "Checked in"))
    ok(invoke("points", "earn", loyal, "150", "--reason", "Welcome"))  # silver (100 points)
    assert json.loads(ok(invoke("points", loyal, "-f", "json")))["tier"] == "silver"
    text = (store_dir / "crm.yaml").read_text(encoding="utf-8")  # the team raises the bar: silver needs 200 now
    (store_dir / "crm.yaml").write_text(text.replace("{name: silver, points: 100}", "{name: silver, points: 200}"),
                                        encoding="utf-8")
    git(store_dir, "commit", "-qam", "Silver needs 200 points")
    ok(invoke("points", "award"))  # Loyal Ltd falls to no tier; Advocate Ltd earns 50 for the referral
    shown = {cid: json.loads(ok(invoke("show", cid, "--format", "json"))) for cid in (loyal, advocate, plain)}

    def component(cid: str) -> dict:
        return next(c for c in shown[cid]["health"]["components"] if c["name"] == "loyalty")

    def expected_score(cid: str, loyalty: int | None) -> int:
        # recency 100 (a call today), service 100, tasks 100, revenue 50 (never sold), satisfaction left out
        parts = [(100, 30), (100, 25), (50, 20), (100, 10)] + ([(loyalty, 10)] if loyalty is not None else [])
        value = sum(s * w for s, w in parts) / sum(w for _, w in parts)
        return math.floor(value + 0.5)

    # Loyal Ltd: points earned this year (100), its tier fell silver -> none this year (-50)
    assert component(loyal)["score"] == 50 and "tier down silver -> (none)" in component(loyal)["explanation"]
    assert shown[loyal]["health"]["score"] == expected_score(loyal, 50)
    assert [w["kind"] for w in shown[loyal]["warnings"]] == ["tier-down"]
    assert (shown[loyal]["metrics"]["points"], shown[loyal]["metrics"]["loyalty_tier"]) == (150, None)
    # Advocate Ltd: referred Friend Ltd this year and earned points for it (100)
    assert component(advocate)["score"] == 100 and shown[advocate]["metrics"]["referrals"] == [friend]
    assert shown[advocate]["health"]["score"] == expected_score(advocate, 100)
    # Plain Ltd: no points, no referral: not counted, the score as before
    assert component(plain)["score"] is None and shown[plain]["health"]["score"] == expected_score(plain, None)
    screen = ok(invoke("show", advocate))
    assert f"referrals     referred 1 customer: {friend}" in screen and "loyalty       50 points" in screen
    assert "referred_by" in ok(invoke("show", friend)) and advocate in ok(invoke("show", friend))
    # one score everywhere: customer list --sort health and the churn-risk section of crm report customers
    listed = {r["id"]: r for r in json.loads(ok(invoke("customer", "list", "--sort", "health", "-f", "json")))}
    assert all(listed[cid]["health"] == shown[cid]["health"]["score"] for cid in shown)
    report = json.loads(ok(invoke("report", "customers", "-f", "json")))
    risk = {r["customer"]: r for r in next(s["rows"] for s in report["sections"] if s["key"] == "churn_risk")}
    assert risk[loyal]["health"] == shown[loyal]["health"]["score"]
    assert risk[loyal]["why"] == "loyalty tier fell from silver to (none) on 2026-11-20"
    assert advocate not in risk and plain not in risk
    ok(invoke("site", "build", "-o", str(store_dir.parent / "site")))  # the site's customer page: the same facts
    page = (store_dir.parent / "site" / "customers" / f"{advocate}.html").read_text(encoding="utf-8")
    assert 'data-key="points" data-value="50"' in page and friend in page
    assert f'data-key="health" data-value="{shown[advocate]["health"]["score"]}"' in page
