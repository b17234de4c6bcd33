"""The shared rules that both `crm show` and `crm report customers` feed the health score with."""
from __future__ import annotations

from datetime import date

from crmcli.domain.health import counts_as_breach, ratings_of

TODAY = date(2026, 11, 23)


def test_breach_counts_while_open_or_recent() -> None:
    missed = ["resolution"]
    assert counts_as_breach(missed, True, date(2025, 1, 1), TODAY, 30)         # open: always
    assert counts_as_breach(missed, False, date(2026, 10, 25), TODAY, 30)      # closed, 29 days old
    assert not counts_as_breach(missed, False, date(2026, 10, 24), TODAY, 30)  # closed, 30 days old
    assert not counts_as_breach(missed, False, None, TODAY, 30)
    assert not counts_as_breach([], True, TODAY, TODAY, 30)                    # met its SLA


def test_later_answer_about_a_ticket_replaces_the_earlier() -> None:
    answers = [(date(2026, 11, 1), 2, None, "tkt-a"), (date(2026, 11, 2), 5, 10, None),
               (date(2026, 11, 3), 1, None, "tkt-a"), (date(2026, 11, 4), None, None, None)]
    assert ratings_of(answers) == [(date(2026, 11, 2), 100.0), (date(2026, 11, 3), 0.0)]


# -- the loyalty component: points, tiers and referrals (figures worked out by hand) -----------------------
def test_loyalty_counts_only_for_members_and_recent_referrers() -> None:
    from crmcli.domain.health import LoyaltyFacts, loyalty_component

    assert loyalty_component(LoyaltyFacts(), TODAY, 365, 10).score is None
    old_referral = LoyaltyFacts(referrals=[(date(2025, 11, 23), "x")])  # 365 days ago: out of the period
    assert loyalty_component(old_referral, TODAY, 365, 10).score is None
    advocate = LoyaltyFacts(referrals=[(date(2025, 11, 24), "x")])
    assert loyalty_component(advocate, TODAY, 365, 10) == (100, 10, "referred 1 customer in the last 365d")
    quiet = LoyaltyFacts(member=True, activity=[date(2025, 6, 1)])
    assert loyalty_component(quiet, TODAY, 365, 10).score == 50
    active = LoyaltyFacts(member=True, activity=[date(2025, 6, 1), date(2026, 11, 1)])
    assert loyalty_component(active, TODAY, 365, 10).score == 100


def test_a_recent_tier_downgrade_costs_50_and_warns() -> None:
    from crmcli.domain.health import Facts, LoyaltyFacts, Settings, TierMove, health_score, loyalty_component

    down = TierMove(date(2026, 10, 1), "gold", "silver", True)
    up = TierMove(date(2026, 10, 20), "silver", "gold", False)
    active_down = LoyaltyFacts(member=True, activity=[date(2026, 9, 1)], tier_moves=[down])
    got = loyalty_component(active_down, TODAY, 365, 10)
    assert got.score == 50 and "tier down gold -> silver on 2026-10-01 (-50)" in got.explanation
    assert loyalty_component(LoyaltyFacts(member=True, tier_moves=[down]), TODAY, 365, 10).score == 0
    assert loyalty_component(LoyaltyFacts(member=True, tier_moves=[down, up]), TODAY, 365, 10).score == 50
    long_ago = TierMove(date(2025, 1, 1), "gold", "silver", True)
    assert loyalty_component(LoyaltyFacts(member=True, tier_moves=[long_ago]), TODAY, 365, 10).score == 50

    settings = Settings.from_config(None)  # default weights: recency 30, service 25, revenue 20, tasks 10, loyalty 10
    facts = Facts(created=date(2026, 11, 1), last_contact=date(2026, 11, 20), loyalty=active_down)
    h = health_score(facts, settings, TODAY)
    # recency 100, service 100, revenue 50 (never sold), tasks 100, loyalty 50; satisfaction left out
    assert h.components["loyalty"].score == 50
    assert h.score == round((100 * 30 + 100 * 25 + 50 * 20 + 100 * 10 + 50 * 10) / (30 + 25 + 20 + 10 + 10))
    assert {"kind": "tier-down", "reason": "loyalty tier fell from gold to silver on 2026-10-01"} in h.warnings
    plain = health_score(Facts(created=date(2026, 11, 1), last_contact=date(2026, 11, 20)), settings, TODAY)
    assert plain.components["loyalty"].score is None  # a non-member's score is what it was before
    assert plain.score == round((100 * 30 + 100 * 25 + 50 * 20 + 100 * 10) / (30 + 25 + 20 + 10))
