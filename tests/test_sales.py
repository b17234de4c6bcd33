"""Sales: opportunities through the pipeline, orders, contracts, the lifecycle and the board."""
from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path

import pytest

from crmcli import yamlio
from tests.conftest import commits, git

STAGES = "lead, qualified, proposal, negotiation"


# -- helpers --------------------------------------------------------------------------------------------
def ok(result):  # noqa: ANN001, ANN201 - CliRunner Result
    assert result.exit_code == 0, result.output
    return result


def journal(root: Path, cid: str | None = None) -> list[dict]:
    """Every journal event of one customer (or all), in file order."""
    events: list[dict] = []
    pattern = f"customers/{cid[:2]}/{cid}/journal/*.yaml" if cid else "customers/*/*/journal/*.yaml"
    for path in sorted(root.glob(pattern)):
        events += yamlio.loads(path.read_text(encoding="utf-8")) or []
    return events


def profile(root: Path, cid: str) -> dict:
    return yamlio.loads((root / "customers" / cid[:2] / cid / "customer.yaml").read_text(encoding="utf-8"))


def snapshot(root: Path) -> tuple[int, str, dict[str, bytes]]:
    files = {str(p): p.read_bytes() for p in sorted((root / "customers").rglob("*.yaml"))}
    return len(commits(root)), git(root, "status", "--porcelain"), files


def changed_files(root: Path) -> list[str]:
    return sorted(git(root, "show", "--name-only", "--format=", "HEAD").split())


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Set CRM_NOW (seen by in-process and subprocess runs)."""
    def set_now(when: str) -> None:
        monkeypatch.setenv("CRM_NOW", when)
    set_now("2026-11-20T10:00:00")
    return set_now


@pytest.fixture
def acme(invoke, now) -> str:  # noqa: ANN001
    return ok(invoke("customer", "add", "Acme Corp")).stdout.strip()


def add_opp(invoke, *args: str) -> str:  # noqa: ANN001
    return ok(invoke("opp", "add", *args)).stdout.strip()


# -- opportunities ----------------------------------------------------------------------------------------
def test_opp_add_through_the_real_entry_point(crm, store_dir: Path, now) -> None:  # noqa: ANN001
    cid = crm("customer", "add", "Acme Corp").stdout.strip()
    before = len(commits(store_dir))
    r = crm("opp", "add", "acme", "ERP rollout", "--amount", "120,000", "--close", "2026-12-31",
            "--stage", "proposal", "--source", "referral", "--product", "ERP")
    assert r.returncode == 0, r.stderr
    oid = r.stdout.strip()
    assert oid.startswith("opp-") and len(oid) == 8
    assert "Opened " + oid in r.stderr and "is now a prospect (was lead)" in r.stderr
    [event] = journal(store_dir, cid)
    assert event == {"at": "2026-11-20T10:00:00+08:00", "kind": "opp.open", "id": oid, "by": "Alice Example",
                     "title": "ERP rollout", "amount": 120000, "currency": "CNY", "stage": "proposal",
                     "close": "2026-12-31", "owner": "Alice Example", "source": "referral", "product": "ERP"}
    assert list(event)[:4] == ["at", "kind", "id", "by"]
    # one commit: the journal and (lead -> prospect) the profile
    assert len(commits(store_dir)) == before + 1
    assert commits(store_dir)[0] == f"Open opportunity {oid} for Acme Corp: ERP rollout (¥120,000)"
    assert changed_files(store_dir) == sorted([f"customers/ac/{cid}/customer.yaml",
                                               f"customers/ac/{cid}/journal/2026.yaml"])
    assert "Crm-Action: opp.open" in git(store_dir, "log", "-1", "--format=%B")
    assert profile(store_dir, cid)["stage"] == "prospect"
    # the bare id, a prefix of it and CUSTOMER/ID all find it
    for ref in (oid, oid[4:6], f"acme/{oid}"):
        shown = crm("opp", "show", ref)
        assert shown.returncode == 0, shown.stderr
        assert "ERP rollout" in shown.stdout and "proposal (50%, best-case)" in shown.stdout


def test_opp_ids_are_unique_per_customer_and_defaults_apply(invoke, store_dir: Path, acme: str) -> None:  # noqa: ANN001
    ids = {add_opp(invoke, "acme", f"Deal {i}", "--amount", "10") for i in range(5)}
    assert len(ids) == 5
    events = journal(store_dir, acme)
    assert {e["stage"] for e in events} == {"lead"}
    assert {e["currency"] for e in events} == {"CNY"}
    assert all("close" not in e for e in events)
    usd = add_opp(invoke, "acme", "Export", "--amount", "99.505", "--currency", "usd", "--owner", "bob")
    data = json.loads(ok(invoke("opp", "show", usd, "--format", "json")).stdout)
    assert data["amount"] == 99.51 and data["currency"] == "USD" and data["owner"] == "bob"


def test_advance_next_jump_and_back_keeps_the_stage_history(invoke, store_dir: Path, acme: str, now) -> None:  # noqa: ANN001
    oid = add_opp(invoke, "acme", "ERP rollout", "--amount", "120000")
    now("2026-11-21T09:00:00")
    r = ok(invoke("opp", "advance", oid))
    assert "Advance" in r.stderr and "lead -> qualified" in r.stderr
    now("2026-11-22T09:00:00")
    ok(invoke("opp", "advance", oid, "negotiation"))  # a jump
    now("2026-11-23T09:00:00")
    ok(invoke("opp", "advance", f"acme/{oid}", "proposal"))  # a step back
    stages = [(e["at"][:10], e["kind"], e.get("from"), e.get("to"), e["by"])
              for e in journal(store_dir, acme) if e.get("opp") == oid]
    assert stages == [
        ("2026-11-21", "opp.stage", "lead", "qualified", "Alice Example"),
        ("2026-11-22", "opp.stage", "qualified", "negotiation", "Alice Example"),
        ("2026-11-23", "opp.stage", "negotiation", "proposal", "Alice Example"),
    ]
    assert commits(store_dir)[:3] == [f"Move {oid} of Acme Corp back: negotiation -> proposal",
                                      f"Advance {oid} of Acme Corp: qualified -> negotiation",
                                      f"Advance {oid} of Acme Corp: lead -> qualified"]
    data = json.loads(ok(invoke("opp", "show", oid, "--format", "json")).stdout)
    assert data["stage"] == "proposal"
    assert [(h["from"], h["to"]) for h in data["history"]] == [
        (None, "lead"), ("lead", "qualified"), ("qualified", "negotiation"), ("negotiation", "proposal")]
    text = ok(invoke("opp", "show", oid)).stdout
    assert "Stage history" in text and "2026-11-22 09:00" in text and "qualified -> negotiation" in text


def test_stage_at_and_as_of_replay_the_past(invoke, store_dir: Path, acme: str, now) -> None:  # noqa: ANN001
    from crmcli.domain.deals import customer_opportunities
    from crmcli.store.location import open_store

    oid = add_opp(invoke, "acme", "ERP rollout", "--amount", "100000", "--stage", "qualified")
    now("2026-11-25T09:00:00")
    ok(invoke("opp", "advance", oid))
    now("2026-11-27T09:00:00")
    ok(invoke("opp", "edit", oid, "--set", "amount=150000"))
    now("2026-11-30T09:00:00")
    ok(invoke("opp", "win", oid))
    store = open_store(str(store_dir))
    [opp] = customer_opportunities(store.load_journal(acme), acme)
    assert opp.stage == "won" and opp.amount == 150000 and opp.closed_at == "2026-11-30T09:00:00+08:00"
    assert opp.stage_at(date(2026, 11, 19)) is None
    assert opp.stage_at(date(2026, 11, 24)) == "qualified"
    assert opp.stage_at("2026-11-25") == "proposal"
    assert opp.stage_at(date(2026, 11, 29)) == "proposal"
    assert opp.stage_at(date(2026, 12, 1)) == "won"
    past = opp.as_of(date(2026, 11, 26))
    assert past is not None and past.amount == 100000 and past.is_open and past.weighted(store.config) == 50000
    assert [h[3] for h in opp.history] == ["qualified", "proposal", "won"]


def test_win_lose_reopen(invoke, store_dir: Path, acme: str, now) -> None:  # noqa: ANN001
    a = add_opp(invoke, "acme", "ERP rollout", "--amount", "120000", "--stage", "negotiation")
    b = add_opp(invoke, "acme", "Training", "--amount", "8000")
    now("2026-11-21T10:00:00")
    r = ok(invoke("opp", "win", a, "--amount", "115000"))
    assert "is now a customer (was prospect)" in r.stderr
    assert commits(store_dir)[0] == f"Win {a} of Acme Corp: ERP rollout (¥115,000)"
    r = ok(invoke("opp", "lose", b, "--reason", "no budget this year"))
    assert commits(store_dir)[0] == f"Lose {b} of Acme Corp: Training (no budget this year)"
    won, lost = [e for e in journal(store_dir, acme) if e["kind"] in ("opp.won", "opp.lost")]
    assert won["amount"] == 115000 and won["opp"] == a and won["by"] == "Alice Example"
    assert lost["reason"] == "no budget this year" and lost["opp"] == b
    now("2026-11-22T10:00:00")
    ok(invoke("opp", "reopen", b))  # back to the stage it was lost from
    ok(invoke("opp", "reopen", a, "--stage", "proposal"))
    reopened = [e for e in journal(store_dir, acme) if e["kind"] == "opp.reopen"]
    assert [(e["opp"], e["stage"]) for e in reopened] == [(b, "lead"), (a, "proposal")]
    # reopening a won deal never moves the lifecycle backwards
    assert profile(store_dir, acme)["stage"] == "customer"
    data = json.loads(ok(invoke("opp", "show", a, "--format", "json")).stdout)
    assert data["stage"] == "proposal" and data["closed_at"] is None and data["amount"] == 115000
    # advance to "won" is a win
    ok(invoke("opp", "advance", b, "won"))
    assert journal(store_dir, acme)[-1]["kind"] == "opp.won"


def test_win_with_order_counts_as_one_purchase(invoke, store_dir: Path, acme: str) -> None:  # noqa: ANN001
    a = add_opp(invoke, "acme", "ERP rollout", "--amount", "120000", "--product", "ERP")
    before = len(commits(store_dir))
    ok(invoke("opp", "win", a, "--order"))
    assert len(commits(store_dir)) == before + 1
    won, order = journal(store_dir, acme)[-2:]
    assert won["kind"] == "opp.won"
    assert order == {"at": won["at"], "kind": "order.add", "opp": a, "by": "Alice Example", "date": "2026-11-20",
                     "amount": 120000, "currency": "CNY", "product": "ERP"}
    assert profile(store_dir, acme)["stage"] == "customer"  # one purchase, not two
    ok(invoke("order", "add", "acme", "--amount", "5000"))
    assert profile(store_dir, acme)["stage"] == "repeat"


def test_edit(invoke, store_dir: Path, acme: str) -> None:  # noqa: ANN001
    oid = add_opp(invoke, "acme", "ERP rollout", "--amount", "120000", "--product", "ERP")
    r = ok(invoke("opp", "edit", oid, "--set", "amount=150000", "--set", "close=2027-01-31",
                  "--set", "product=", "--set", "owner=bob"))
    assert "Edit" in r.stderr
    event = journal(store_dir, acme)[-1]
    assert event["kind"] == "opp.set" and event["opp"] == oid
    assert event["changes"] == {"amount": 150000, "close": "2027-01-31", "product": None, "owner": "bob"}
    data = json.loads(ok(invoke("opp", "show", oid, "--format", "json")).stdout)
    assert (data["amount"], data["close"], data["product"], data["owner"]) == (150000, "2027-01-31", None, "bob")
    before = snapshot(store_dir)
    r = ok(invoke("opp", "edit", oid, "--set", "amount=150,000"))
    assert "No change." in r.stderr and snapshot(store_dir) == before
    for bad, code in ((["--set", "stage=won"], 2), (["--set", "color=red"], 2), (["--set", "amount=x"], 4),
                      (["--set", "title="], 4)):
        r = invoke("opp", "edit", oid, *bad)
        assert r.exit_code == code, (bad, r.output)
        assert snapshot(store_dir) == before


def test_list_filters(invoke, store_dir: Path, acme: str, now) -> None:  # noqa: ANN001
    ok(invoke("customer", "add", "Globex"))
    a = add_opp(invoke, "acme", "ERP rollout", "--amount", "120000", "--close", "2026-12-31", "--owner", "alice")
    b = add_opp(invoke, "globex", "Support", "--amount", "5000", "--close", "2026-11-30", "--owner", "bob")
    c = add_opp(invoke, "acme", "Training", "--amount", "8000", "--owner", "bob")
    d = add_opp(invoke, "globex", "Licences", "--amount", "9000", "--close", "2026-12-05")
    ok(invoke("opp", "advance", b, "proposal"))
    ok(invoke("opp", "lose", d, "--reason", "price"))

    def ids(*args: str) -> list[str]:
        return [o["id"] for o in json.loads(ok(invoke("opp", "list", "--format", "json", *args)).stdout)]

    assert ids() == [b, d, a, c]  # by close date, undated last
    assert ids("--open") == [b, a, c]
    assert ids("--owner", "BOB") == [b, c]
    assert ids("--stage", "proposal") == [b]
    assert ids("--stage", "lost") == [d]
    assert ids("--customer", "acme") == [a, c]
    assert ids("--closing-before", "2026-12-05") == [b, d]
    assert ids("--closing-before", "in 12 days", "--open") == [b]
    table = ok(invoke("opp", "list")).stdout
    assert "¥120,000" in table and "Globex" in table and table.splitlines()[0].split()[:3] == ["id", "customer",
                                                                                               "title"]
    r = invoke("opp", "list", "--stage", "nope")
    assert r.exit_code == 4 and STAGES in r.stderr
    csv_out = ok(invoke("opp", "list", "--format", "csv", "--open")).stdout.splitlines()
    assert csv_out[0].startswith("id,customer,customer_name,title,stage,probability")


# -- the board --------------------------------------------------------------------------------------------
def test_pipeline_board_numbers(invoke, store_dir: Path, acme: str, now) -> None:  # noqa: ANN001
    ok(invoke("customer", "add", "Globex"))
    add_opp(invoke, "acme", "A", "--amount", "10000")                                     # lead
    add_opp(invoke, "acme", "B", "--amount", "20000", "--stage", "qualified")
    add_opp(invoke, "globex", "C", "--amount", "30000.50", "--stage", "qualified", "--owner", "bob")
    add_opp(invoke, "globex", "D", "--amount", "40000", "--stage", "proposal")
    add_opp(invoke, "acme", "E", "--amount", "100000", "--stage", "negotiation", "--owner", "bob")
    won = add_opp(invoke, "acme", "F", "--amount", "50000", "--stage", "negotiation")
    lost = add_opp(invoke, "acme", "G", "--amount", "70000")
    add_opp(invoke, "acme", "H", "--amount", "999", "--currency", "USD")
    ok(invoke("opp", "win", won))
    ok(invoke("opp", "lose", lost, "--reason", "gone quiet"))

    rows = {r["stage"]: r for r in json.loads(ok(invoke("pipeline", "--format", "json")).stdout)}
    assert list(rows) == ["lead", "qualified", "proposal", "negotiation"]
    expect = {  # stage: (count, total, weighted) by hand
        "lead": (1, 10000, 1000),                          # 10% of 10,000
        "qualified": (2, 50000.5, 12500.13),               # 25% of 50,000.50 = 12,500.125
        "proposal": (1, 40000, 20000),                     # 50%
        "negotiation": (1, 100000, 75000),                 # 75%; F (won) and G (lost) are not open
    }
    assert {s: (r["count"], r["total"], r["weighted"]) for s, r in rows.items()} == expect
    assert rows["qualified"]["probability"] == 25 and rows["negotiation"]["category"] == "commit"

    bob = {r["stage"]: (r["count"], r["total"], r["weighted"])
           for r in json.loads(ok(invoke("pipeline", "--owner", "bob", "--format", "json")).stdout)}
    assert bob == {"lead": (0, 0, 0), "qualified": (1, 30000.5, 7500.13), "proposal": (0, 0, 0),
                   "negotiation": (1, 100000, 75000)}

    text = ok(invoke("pipeline")).stdout
    lines = text.splitlines()
    assert lines[0] == "Pipeline: open deals in CNY"
    negotiation = next(line for line in lines if line.startswith("negotiation"))
    assert "75%" in negotiation and "¥100,000" in negotiation and "¥75,000" in negotiation
    assert negotiation.endswith("█" * 18 + "░" * 6)  # the biggest stage: 24 wide, 75% solid
    total = next(line for line in lines if line.startswith("total"))
    assert total.split() == ["total", "5", "¥200,000.50", "¥108,500.13"]
    assert "not counted: 1 in USD" in text
    usd = json.loads(ok(invoke("pipeline", "--currency", "USD", "--format", "json")).stdout)
    assert [r["total"] for r in usd] == [999, 0, 0, 0]


def test_pipeline_as_of_a_past_day(invoke, store_dir: Path, acme: str, now) -> None:  # noqa: ANN001
    a = add_opp(invoke, "acme", "A", "--amount", "10000")
    now("2026-11-22T10:00:00")
    ok(invoke("opp", "advance", a, "proposal"))
    add_opp(invoke, "acme", "B", "--amount", "5000")
    now("2026-11-24T10:00:00")
    ok(invoke("opp", "win", a))

    def board(*args: str) -> dict:
        rows = json.loads(ok(invoke("pipeline", "--format", "json", *args)).stdout)
        return {r["stage"]: (r["count"], r["total"]) for r in rows if r["count"]}

    assert board("--as-of", "2026-11-19") == {}
    assert board("--as-of", "2026-11-21") == {"lead": (1, 10000)}
    assert board("--as-of", "2026-11-23") == {"lead": (1, 5000), "proposal": (1, 10000)}
    assert board() == {"lead": (1, 5000)}
    assert "as of 2026-11-21 23:59" in ok(invoke("pipeline", "--as-of", "2026-11-21")).stdout


# -- orders, contracts -----------------------------------------------------------------------------------
def test_orders_and_lifecycle(crm, store_dir: Path, now) -> None:  # noqa: ANN001
    cid = crm("customer", "add", "Acme Corp").stdout.strip()
    r = crm("order", "add", "acme", "--amount", "50000", "--date", "2026-11-02", "--product", "licences")
    assert r.returncode == 0, r.stderr
    assert commits(store_dir)[0] == "Add order of ¥50,000 for Acme Corp"
    assert profile(store_dir, cid)["stage"] == "customer"  # lead -> customer directly
    [order] = journal(store_dir, cid)
    assert order == {"at": "2026-11-20T10:00:00+08:00", "kind": "order.add", "by": "Alice Example",
                     "date": "2026-11-02", "amount": 50000, "currency": "CNY", "product": "licences"}
    crm("order", "add", "acme", "--amount", "7.5", "--currency", "EUR")
    assert profile(store_dir, cid)["stage"] == "repeat"
    rows = json.loads(crm("order", "list", "--format", "json").stdout)
    assert [(o["date"], o["amount"], o["currency"]) for o in rows] == [("2026-11-02", 50000, "CNY"),
                                                                       ("2026-11-20", 7.5, "EUR")]
    assert "€7.50" in crm("order", "list").stdout


def test_order_links_a_deal_of_its_customer(invoke, store_dir: Path, acme: str) -> None:  # noqa: ANN001
    ok(invoke("customer", "add", "Globex"))
    oid = add_opp(invoke, "acme", "ERP", "--amount", "100")
    other = add_opp(invoke, "globex", "X", "--amount", "100")
    ok(invoke("order", "add", "acme", "--amount", "100", "--opp", oid[4:]))
    assert journal(store_dir, acme)[-1]["opp"] == oid
    before = snapshot(store_dir)
    r = invoke("order", "add", "acme", "--amount", "100", "--opp", other)
    assert r.exit_code == 4 and "belongs to globex" in r.stderr
    r = invoke("order", "add", "acme", "--amount", "100", "--opp", "opp-zzzz")
    assert r.exit_code == 3
    assert snapshot(store_dir) == before


def test_lifecycle_never_moves_back_or_off_a_hand_set_stage(invoke, store_dir: Path, acme: str) -> None:  # noqa: ANN001
    ok(invoke("customer", "edit", "acme", "--set", "stage=loyal"))
    before = len(commits(store_dir))
    oid = add_opp(invoke, "acme", "Upsell", "--amount", "100")
    ok(invoke("opp", "win", oid, "--order"))
    assert profile(store_dir, acme)["stage"] == "loyal"
    assert len(commits(store_dir)) == before + 2
    assert changed_files(store_dir) == [f"customers/ac/{acme}/journal/2026.yaml"]
    # a customer at "customer" opening a deal stays a customer
    globex = ok(invoke("customer", "add", "Globex")).stdout.strip()
    ok(invoke("order", "add", "globex", "--amount", "1"))
    add_opp(invoke, "globex", "More", "--amount", "100")
    assert profile(store_dir, globex)["stage"] == "customer"


def test_contracts_and_renewals(invoke, store_dir: Path, acme: str, tmp_path: Path) -> None:  # noqa: ANN001
    from crmcli.analysis.renewals import renewals_due
    from crmcli.domain.contracts import customer_contracts
    from crmcli.store.location import open_store

    (store_dir / "docs").mkdir()
    (store_dir / "docs" / "acme-2026.pdf").write_bytes(b"%PDF")
    outside = tmp_path / "signed.pdf"
    outside.write_bytes(b"%PDF")
    r = ok(invoke("contract", "add", "acme", "--value", "100000", "--start", "2026-01-01", "--end", "2026-12-31",
                  "--file", "docs/acme-2026.pdf"))
    assert "Added contract" in r.stderr
    assert commits(store_dir)[0] == "Add contract for Acme Corp (2026-01-01 to 2026-12-31)"
    first = journal(store_dir, acme)[-1]
    assert first == {"at": "2026-11-20T10:00:00+08:00", "kind": "contract.add", "by": "Alice Example",
                     "value": 100000, "currency": "CNY", "start": "2026-01-01", "end": "2026-12-31",
                     "renew_notice": "30d", "file": "docs/acme-2026.pdf"}
    ok(invoke("customer", "add", "Globex"))
    ok(invoke("contract", "add", "globex", "--value", "5000", "--start", "2026-03-01", "--end", "2027-02-28",
              "--renew-notice", "3m", "--file", str(outside)))
    globex = journal(store_dir)[-1]
    assert globex["file"] == str(outside) and globex["renew_notice"] == "3m"
    store = open_store(str(store_dir))
    [c] = customer_contracts(store.load_journal(acme))
    assert (c["end"], c["notice"], c["value"]) == ("2026-12-31", "2026-12-01", 100000)

    due = renewals_due(store, date(2026, 11, 25), date(2026, 12, 2))
    assert [(r["name"], r["end"], r["notice"]) for r in due] == [
        ("Globex", "2027-02-28", "2026-11-30"),  # 90 days before the end
        ("Acme Corp", "2026-12-31", "2026-12-01"),
    ]
    assert due[0]["customer"].startswith("globex-") and due[0]["contract"]["value"] == 5000
    assert renewals_due(store, date(2026, 11, 1), date(2026, 11, 29)) == []
    assert renewals_due(store, date(2027, 1, 1), date(2027, 1, 31))[0]["name"] == "Globex"  # acme ended
    # a renewal (a later contract) takes the earlier one off the list
    ok(invoke("contract", "add", "acme", "--value", "110000", "--start", "2027-01-01", "--end", "2027-12-31"))
    assert [r["name"] for r in renewals_due(store, date(2026, 12, 1), date(2026, 12, 10))] == ["Globex"]
    listed = json.loads(ok(invoke("contract", "list", "--customer", "acme", "--format", "json")).stdout)
    assert [c["end"] for c in listed] == ["2026-12-31", "2027-12-31"]
    assert ok(invoke("contract", "list", "--renewing", "15d")).stdout.count("Globex") == 1


@pytest.mark.parametrize("args, code, message", [
    (["--value", "-1"], 4, "negative"),
    (["--value", "ten"], 4, "not a number"),
    (["--start", "2026-12-31", "--end", "2026-01-01"], 4, "is before --start"),
    (["--start", "someday"], 4, "cannot read date"),
    (["--renew-notice", "soon"], 4, "cannot read period"),
    (["--file", "missing.pdf"], 4, "no such file"),
])
def test_contract_bad_input(invoke, store_dir: Path, acme: str, args, code, message) -> None:  # noqa: ANN001
    base = {"--value": "100", "--start": "2026-01-01", "--end": "2026-12-31"}
    for key, value in zip(args[::2], args[1::2], strict=True):
        base[key] = value
    flat = [x for kv in base.items() for x in kv]
    before = snapshot(store_dir)
    r = invoke("contract", "add", "acme", *flat)
    assert r.exit_code == code and message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert snapshot(store_dir) == before


# -- bad input ----------------------------------------------------------------------------------------------
@pytest.fixture
def two_deals(invoke, store_dir: Path, now) -> dict[str, str]:  # noqa: ANN001
    """Acme with an open deal ({oid}) and a lost one ({done})."""
    ok(invoke("customer", "add", "Acme Corp"))
    oid = add_opp(invoke, "acme", "ERP", "--amount", "100")
    done = add_opp(invoke, "acme", "Old", "--amount", "100")
    ok(invoke("opp", "lose", done, "--reason", "lost to a rival"))
    return {"oid": oid, "done": done}


@pytest.mark.parametrize(("args", "code", "message"), [
    (["opp", "add", "acme", "X", "--amount", "100", "--stage", "closing"], 4, f"stages: {STAGES}"),
    (["opp", "add", "acme", "X", "--amount", "100", "--stage", "won"], 4, "closes a deal"),
    (["opp", "add", "acme", "X", "--amount", "-5"], 4, "negative"),
    (["opp", "add", "acme", "X", "--amount", "lots"], 4, "not a number"),
    (["opp", "add", "acme", "X", "--amount", "100", "--close", "whenever"], 4, "cannot read date"),
    (["opp", "add", "acme", "X", "--amount", "100", "--currency", "yuan"], 4, "three-letter"),
    (["opp", "add", "nobody", "X", "--amount", "100"], 3, "no customer"),
    (["opp", "add", "acme", " ", "--amount", "100"], 4, "title is empty"),
    (["opp", "advance", "{oid}", "closing"], 4, f"stages: {STAGES}"),
    (["opp", "advance", "{oid}", "lead"], 4, "already at lead"),
    (["opp", "advance", "{oid}", "lost"], 2, "needs a reason"),
    (["opp", "advance", "{done}"], 4, "already lost; reopen it first"),
    (["opp", "win", "{done}"], 4, "reopen it first"),
    (["opp", "win", "{oid}", "--amount", "-1"], 4, "negative"),
    (["opp", "lose", "{oid}"], 4, "needs a reason"),
    (["opp", "lose", "{oid}", "--reason", "  "], 4, "needs a reason"),
    (["opp", "reopen", "{oid}"], 4, "only won or lost deals reopen"),
    (["opp", "show", "opp-zzzz"], 3, "no opp"),
    (["order", "add", "acme", "--amount", "1e3"], 4, "not a number"),
    (["order", "add", "acme", "--amount", "5", "--date", "the 5th"], 4, "cannot read date"),
    (["pipeline", "--as-of", "whenever"], 4, "cannot read date"),
])
def test_bad_input_one_line_nonzero_nothing_written(crm, store_dir: Path, two_deals: dict[str, str],  # noqa: ANN001
                                                    args: list[str], code: int, message: str) -> None:
    before = snapshot(store_dir)
    r = crm(*[a.format(**two_deals) for a in args])
    assert r.returncode == code, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crm: error: ") and message in lines[0], r.stderr
    assert snapshot(store_dir) == before


def test_advance_past_the_last_open_stage_says_close_it(crm, store_dir: Path, two_deals: dict[str, str]) -> None:  # noqa: ANN001
    crm("opp", "advance", two_deals["oid"], "negotiation")
    r = crm("opp", "advance", two_deals["oid"])
    assert r.returncode == 2 and "crm opp win" in r.stderr


# -- the journal: check, timeline, merges ---------------------------------------------------------------
def test_check_and_timeline_descriptions(invoke, store_dir: Path, acme: str) -> None:  # noqa: ANN001
    from crmcli.domain.kinds import KINDS

    oid = add_opp(invoke, "acme", "ERP rollout", "--amount", "120000", "--stage", "proposal")
    ok(invoke("opp", "advance", oid))
    ok(invoke("opp", "edit", oid, "--set", "close=2026-12-31"))
    ok(invoke("opp", "win", oid, "--order"))
    other = add_opp(invoke, "acme", "Training", "--amount", "8000")
    ok(invoke("opp", "lose", other, "--reason", "too expensive"))
    ok(invoke("opp", "reopen", other))
    ok(invoke("contract", "add", "acme", "--value", "100000", "--start", "2026-01-01", "--end", "2026-12-31"))
    ok(invoke("check"))
    kinds = KINDS
    lines = [kinds[e["kind"]].describe(e) for e in journal(store_dir, acme)]
    assert lines == [
        "opened opp ERP rollout (¥120,000, proposal)",
        "opp ERP rollout: proposal -> negotiation",
        f"edited opp {oid}: close 2026-12-31",
        "won ERP rollout (¥120,000)",
        f"order ¥120,000 (from {oid})",
        "opened opp Training (¥8,000, lead)",
        "lost Training: too expensive",
        "reopened opp Training at lead",
        "contract ¥100,000, 2026-01-01 to 2026-12-31",
    ]
    # crm check points at a broken hand-written event
    path = next(store_dir.glob(f"customers/*/{acme}/journal/2026.yaml"))
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"- {{at: '2026-11-20T11:00:00+08:00', kind: opp.stage, opp: {oid}, by: me, from: proposal, "
                 "to: signed}\n")
    r = invoke("check")
    assert r.exit_code == 1 and "stage 'signed' is not one of" in r.output


def test_two_clones_advancing_deals_of_one_customer_merge(crm, store_dir: Path, tmp_path: Path, now) -> None:  # noqa: ANN001
    cid = crm("customer", "add", "Acme Corp").stdout.strip()
    a = crm("opp", "add", "acme", "ERP rollout", "--amount", "100").stdout.strip()
    b = crm("opp", "add", "acme", "Training", "--amount", "200").stdout.strip()
    one, two = tmp_path / "one", tmp_path / "two"
    for clone in (one, two):
        subprocess.run(["git", "clone", "-q", str(store_dir), str(clone)], check=True)
    now("2026-11-21T10:00:00")
    assert crm("opp", "advance", a, "proposal", cwd=one).returncode == 0
    now("2026-11-21T10:05:00")
    assert crm("opp", "win", b, cwd=two).returncode == 0
    assert crm("opp", "add", "acme", "Support", "--amount", "300", cwd=two).returncode == 0
    env = dict(os.environ, GIT_MERGE_AUTOEDIT="no")
    pulled = subprocess.run(["git", "pull", "-q", "--no-rebase", "--no-edit", str(one), "main"], cwd=two,
                            capture_output=True, text=True, env=env)
    assert pulled.returncode == 0, pulled.stderr
    assert "<<<<<<<" not in (two / "customers" / "ac" / cid / "journal" / "2026.yaml").read_text(encoding="utf-8")
    kinds = [e["kind"] for e in journal(two, cid)]
    assert sorted(kinds) == ["opp.open", "opp.open", "opp.open", "opp.stage", "opp.won"]
    deals = {o["title"]: o["stage"] for o in json.loads(crm("opp", "list", "--format", "json", cwd=two).stdout)}
    assert deals == {"ERP rollout": "proposal", "Training": "won", "Support": "lead"}
    assert crm("check", cwd=two).returncode == 0
    assert crm("opp", "advance", a, cwd=two).returncode == 0  # and work goes on after the merge
