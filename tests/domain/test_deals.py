"""Deals: stages, the Opportunity folded from its events, the lifecycle, the opp.* kinds. Pure: no git, no disk."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from crmcli.config import Config
from crmcli.domain import deals
from crmcli.domain.customer import Customer
from crmcli.errors import InvalidRecord

CONFIG = Config()


@dataclass
class Entry:
    """A journal entry as the store hands it over: data, and its kind."""

    data: dict

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))


OPEN = {"at": "2026-11-20T10:00:00+08:00", "kind": "opp.open", "id": "opp-9x2m", "by": "alice",
        "title": "ERP rollout", "amount": 100000, "currency": "CNY", "stage": "lead", "close": "2026-12-31"}


def stage(at: str, old: str, new: str) -> dict:
    return {"at": at, "kind": "opp.stage", "opp": "opp-9x2m", "by": "bob", "from": old, "to": new}


def test_stages_come_from_the_pipeline() -> None:
    assert deals.open_stages(CONFIG) == ["lead", "qualified", "proposal", "negotiation"]
    assert deals.next_stage(CONFIG, "proposal") == "negotiation"
    assert deals.next_stage(CONFIG, "negotiation") is None
    assert deals.check_stage(CONFIG, " Proposal ") == "proposal"
    with pytest.raises(InvalidRecord, match="closes a deal"):
        deals.check_stage(CONFIG, "won", open_only=True)
    with pytest.raises(InvalidRecord, match="unknown stage 'closing'"):
        deals.check_stage(CONFIG, "closing")


def test_fold_follows_every_stage_change_and_edit() -> None:
    events = [OPEN, stage("2026-11-21T09:00:00+08:00", "lead", "proposal"),
              {"at": "2026-11-22T09:00:00+08:00", "kind": "opp.set", "opp": "opp-9x2m", "by": "bob",
               "changes": {"amount": 150000, "owner": "carol"}},
              {"at": "2026-11-23T09:00:00+08:00", "kind": "opp.won", "opp": "opp-9x2m", "by": "bob"}]
    opp = deals.Opportunity.from_events(events, "acme")
    assert opp is not None
    assert (opp.stage, opp.amount, opp.owner, opp.is_open, opp.ref) == ("won", 150000, "carol", False, "acme/opp-9x2m")
    assert [(a, b) for _, _, a, b in opp.history] == [(None, "lead"), ("lead", "proposal"), ("proposal", "won")]
    assert opp.closed_at == "2026-11-23T09:00:00+08:00"
    assert opp.reopen_stage(CONFIG) == "proposal"
    assert opp.weighted(CONFIG) == 150000


def test_as_of_replays_the_past() -> None:
    opp = deals.Opportunity.from_events([OPEN, stage("2026-11-25T09:00:00+08:00", "lead", "qualified")])
    assert opp is not None
    assert opp.stage_at("2026-11-24") == "lead"
    assert opp.stage_at("2026-11-25") == "qualified"
    assert opp.as_of("2026-11-19") is None


def test_no_open_no_deal_and_deals_group_by_id() -> None:
    assert deals.Opportunity.from_events([stage("2026-11-21T09:00:00+08:00", "lead", "proposal")]) is None
    other = dict(OPEN, id="opp-aaaa", at="2026-11-19T10:00:00+08:00")
    found = deals.customer_opportunities([Entry(OPEN), Entry(other), Entry({"kind": "call", "at": "x"})], "acme")
    assert [o.id for o in found] == ["opp-aaaa", "opp-9x2m"]


@pytest.mark.parametrize(("current", "events", "expected"), [
    ("lead", [OPEN], ("lead", "prospect")),
    ("lead", [OPEN, {"kind": "opp.won", "opp": "opp-9x2m", "at": "2026-11-21", "by": "a"}], ("lead", "customer")),
    ("prospect", [{"kind": "order.add", "at": "x"}, {"kind": "order.add", "at": "y"}], ("prospect", "repeat")),
    ("customer", [OPEN], None),  # never backwards
    ("churned", [{"kind": "order.add", "at": "x"}], None),  # never off a hand-set stage
    ("lead", [], None),
])
def test_lifecycle_moves_forward_only(current: str, events: list[dict], expected: tuple | None) -> None:
    customer = Customer("acme", {"name": "Acme", "stage": current})
    assert deals.lifecycle_change(CONFIG, customer, [Entry(e) for e in events]) == expected


def test_opp_kinds_validate_and_describe() -> None:
    kinds = {k.kind: k for k in deals.EVENT_KINDS}
    assert set(kinds) == {"opp.open", "opp.stage", "opp.set", "opp.won", "opp.lost", "opp.reopen"}
    assert kinds["opp.open"].validate(OPEN, CONFIG) == []
    assert kinds["opp.open"].describe(OPEN) == "opened opp ERP rollout (¥100,000, lead)"
    bad = dict(OPEN, stage="closing", amount=-1, id="deal-1")
    assert [path for path, _ in kinds["opp.open"].validate(bad, CONFIG)] == [("id",), ("amount",), ("stage",)]
    lost = {"kind": "opp.lost", "opp": "opp-9x2m", "by": "a", "reason": ""}
    assert kinds["opp.lost"].validate(lost, CONFIG) == [(("reason",), "reason (why the deal was lost) is missing")]
    edit = {"kind": "opp.set", "opp": "opp-9x2m", "by": "a", "changes": {"stage": "won", "close": None}}
    assert [p for p, _ in kinds["opp.set"].validate(edit, CONFIG)] == [("changes", "stage")]
    assert kinds["opp.set"].describe(edit) == "edited opp opp-9x2m: stage won, close cleared"
