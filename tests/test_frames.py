"""crmcli.analysis.rows rows and the crmcli.analysis.frames cache."""
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


def test_cache_hit_and_change(filled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frames, "CACHE_MIN", 0)
    store = open_store(str(filled))
    one = frames.load(store)
    cache = frames.cache_path(store)
    assert cache.exists()
    two = frames.load(store)
    for kind in tables.KINDS:
        assert one[kind].equals(two[kind]), kind
    cid = one["customers"]["id"].iloc[0]
    journal = store.journal_files(cid)[0]
    journal.write_text(journal.read_text(encoding="utf-8") + "- {at: '2026-11-20T11:00:00+08:00', kind: email, "
                       "by: x, summary: later}\n", encoding="utf-8")
    os.utime(journal, ns=(2, 2))
    three = frames.load(store)
    assert len(three["interactions"]) == 2
    cache.write_bytes(b"garbage")
    assert len(frames.load(store)["interactions"]) == 2
