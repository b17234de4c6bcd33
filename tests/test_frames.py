"""crmcli.analysis.rows rows and the report frames read from the index (crmcli.analysis.frames)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from crmcli.analysis import frames
from crmcli.analysis import rows as tables
from crmcli.store.location import open_store


def _crm(invoke, *args: str) -> str:
    r = invoke(*args)
    assert r.exit_code == 0, r.output
    return r.stdout.strip()


@pytest.fixture
def filled(store_dir: Path, invoke, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CRM_NOW", "2026-11-20T10:00:00+08:00")
    cid = _crm(invoke, "customer", "add", "深圳 Acme", "--tag", "a", "--tag", "b", "--contact", "李娜 <li@x.example>")
    _crm(invoke, "log", cid, "call", "hello", "--duration", "1h30m")
    opp = _crm(invoke, "opp", "add", cid, "Deal", "--amount", "1000")
    _crm(invoke, "opp", "advance", opp)
    _crm(invoke, "ticket", "open", cid, "Broken", "--priority", "high")
    _crm(invoke, "task", "add", cid, "Do it", "--due", "2026-11-21")
    _crm(invoke, "survey", cid, "--nps", "7")
    _crm(invoke, "order", "add", cid, "--amount", "50")
    _crm(invoke, "contract", "add", cid, "--value", "100", "--start", "2026-01-01", "--end", "2026-12-31")
    return store_dir


def test_every_row_has_exactly_the_columns(filled: Path) -> None:
    rows = tables.collect(open_store(str(filled)))
    assert list(rows) == tables.KINDS
    for kind, items in rows.items():
        assert items, kind
        for r in items:
            assert list(r) == tables.COLUMNS[kind]
    (c,) = rows["customers"]
    assert c["tags"] == "a,b" and c["name"] == "深圳 Acme"
    assert rows["interactions"][0]["duration_min"] == 90
    (o,) = rows["opps"]
    assert o["status"] == "open" and o["stage"] == "qualified" and [h[2] for h in o["stage_history"]] == [
        "lead", "qualified"]
    assert rows["tickets"][0]["response_due"] == "2026-11-20T14:00:00+08:00"


def test_collect_progress_and_empty_store(store_dir: Path) -> None:
    seen: list[int] = []
    rows = tables.collect(open_store(str(store_dir)), ["customers"], progress=seen.append)
    assert rows == {"customers": []} and seen == [0]


def test_index_facts_equal_the_files_and_follow_edits(filled: Path, invoke) -> None:
    store = open_store(str(filled))
    one = frames.load(store)
    assert frames.index_path(store).exists()
    files = frames.load(store, from_files=True)
    for kind in tables.KINDS:
        assert len(one[kind]) and one[kind].equals(files[kind]), kind
    cid = one["customers"]["id"].iloc[0]
    journal = store.journal_files(cid)[0]
    journal.write_text(journal.read_text(encoding="utf-8") + "- {at: '2026-11-20T11:00:00+08:00', kind: email, "
                       "by: x, summary: later}\n", encoding="utf-8")
    os.utime(journal, ns=(2, 2))
    two = frames.load(store)
    assert len(two["interactions"]) == 2 and two["interactions"].equals(frames.load(store, from_files=True)[
        "interactions"])
    # a second customer whose journal cannot be read: left out and named, as a parse of the files does
    other = _crm(invoke, "customer", "add", "Other Co")
    _crm(invoke, "log", other, "call", "hi")
    bad = store.journal_files(other)[0]
    bad.write_text("- {at: [unclosed\n", encoding="utf-8")
    problems: list[str] = []
    three = frames.load(store, problems=problems)
    expected: list[str] = []
    files = frames.load(store, problems=expected, from_files=True)
    assert problems == expected and len(problems) == 1 and other not in set(three["customers"]["id"])
    for kind in tables.KINDS:
        assert three[kind].equals(files[kind]), kind


def test_crm_yaml_settings_are_read_at_load_not_stored(filled: Path, invoke) -> None:
    """A deal's probability and a ticket's SLA due times come from crm.yaml when read: editing it needs no
    rebuild of the index, in the frames and in the export alike."""
    import yaml

    store = open_store(str(filled))
    first = frames.load(store, ["opps", "tickets"])
    config_file = filled / "crm.yaml"
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    stage = first["opps"]["stage"].iloc[0]
    for row in config["pipeline"]:
        if row["stage"] == stage:
            row["probability"] = 42
    config.setdefault("ticket_priorities", {})["high"] = {"first_response_hours": 1, "resolution_hours": 2}
    config_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    store = open_store(str(filled))
    again = frames.load(store, ["opps", "tickets"])
    files = frames.load(store, ["opps", "tickets"], from_files=True)
    assert again["opps"]["probability"].tolist() == [42]
    opened, due = again["tickets"]["opened_at"].iloc[0], again["tickets"]["response_due"].iloc[0]
    assert (due - opened).total_seconds() == 3600
    for kind in ("opps", "tickets"):
        assert again[kind].equals(files[kind]), kind
    out = filled / "t.json"
    r = invoke("export", "--kind", "tickets", "-o", str(out))
    assert r.exit_code == 0, r.output
    import json

    (ticket,) = json.loads(out.read_text(encoding="utf-8"))
    expected = tables.collect(store, ["tickets"])["tickets"][0]
    assert ticket == expected and ticket["response_due"] == "2026-11-20T11:00:00+08:00"
