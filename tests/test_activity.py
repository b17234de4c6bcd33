"""Behaviour from a website or app: crm import --kind events, crm show's recent activity and churn warning."""
from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import commits

NOW = "2026-11-23T10:00:00+08:00"
TODAY = date(2026, 11, 23)


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def two(invoke, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    monkeypatch.setenv("CRM_NOW", "2026-08-01T09:00:00+08:00")
    a = ok(invoke("customer", "add", "Acme", "--email", "it@acme.example")).strip()
    b = ok(invoke("customer", "add", "北京云帆")).strip()
    monkeypatch.setenv("CRM_NOW", NOW)
    return a, b


def export(path: Path, a: str, b: str, seed: int = 7) -> pd.DataFrame:
    """A website export: Acme busy 60-31 days ago and quiet since; 北京云帆 steady. Times in UTC, some of them
    after 16:00 UTC (the next day in Shanghai); a few rows carry a count."""
    rng = random.Random(seed)
    rows = []
    for back in range(1, 61):
        day = TODAY - timedelta(days=back)
        for cust, busy in ((a, 6 if back > 30 else 1), ("it@acme.example", 1 if back % 10 == 0 else 0),
                           (b, 3)):
            for _ in range(rng.randint(0, busy)):
                moment = datetime(day.year, day.month, day.day, rng.randint(0, 23), rng.randint(0, 59))
                event = rng.choice(["page_view", "Page View", "login", "download", "trial"])
                count = rng.choice(["", "", "", "2", "5"])
                rows.append({"customer": cust, "timestamp": moment.isoformat() + "Z", "event": event,
                             "count": count})
    frame = pd.DataFrame(rows)
    frame.to_csv(path, index=False)
    return frame


def expected(frame: pd.DataFrame, a: str) -> pd.DataFrame:
    """Daily counts per customer and activity, computed with pandas from the file."""
    f = frame.copy()
    f["customer"] = f["customer"].replace({"it@acme.example": a})
    f["day"] = pd.to_datetime(f["timestamp"], utc=True).dt.tz_convert("Asia/Shanghai").dt.date
    f["event"] = f["event"].replace({"Page View": "page_view", "trial": "trial_use"})
    f["n"] = pd.to_numeric(f["count"], errors="coerce").fillna(1).astype(int)
    return f.groupby(["customer", "day", "event"])["n"].sum().reset_index()


def stored(store: Path, cid: str) -> dict[tuple[date, str], int]:
    out: dict[tuple[date, str], int] = {}
    for path in sorted((store / "customers" / cid[:2] / cid / "journal").glob("*.yaml")):
        for e in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if e["kind"] == "activity.day":
                for name, n in e["counts"].items():
                    key = (date.fromisoformat(e["at"][:10]), name)
                    out[key] = max(out.get(key, 0), n)
    return out


def test_import_events_as_daily_counts_per_customer(invoke, store_dir: Path, two: tuple[str, str],
                                                    tmp_path: Path) -> None:
    a, b = two
    frame = export(tmp_path / "web.csv", a, b)
    want = expected(frame, a)
    before = len(commits(store_dir))
    result = invoke("import", str(tmp_path / "web.csv"), "--kind", "events")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Import {len(frame):,} events from web.csv")
    assert len(commits(store_dir)) == before + 1
    for cid in (a, b):
        mine = want[want["customer"] == cid]
        assert stored(store_dir, cid) == {(r.day, r.event): int(r.n) for r in mine.itertuples()}
        # compact: one line per customer and day with activity
        lines = [ln for p in (store_dir / "customers" / cid[:2] / cid / "journal").glob("*.yaml")
                 for ln in p.read_text(encoding="utf-8").splitlines() if "activity.day" in ln]
        assert len(lines) == mine["day"].nunique()
    # the churn rule, by hand: last 30 days (today and 29 before) against the 30 before
    for cid, warned in ((a, True), (b, False)):
        mine = want[want["customer"] == cid]
        recent = int(mine[mine["day"] >= TODAY - timedelta(days=29)]["n"].sum())
        prior = int(mine[(mine["day"] < TODAY - timedelta(days=29)) & (mine["day"] >= TODAY - timedelta(days=59))]
                    ["n"].sum())
        shown = json.loads(ok(invoke("show", cid, "--format", "json")))["activity"]
        assert (shown["usage"]["recent"], shown["usage"]["before"]) == (recent, prior)
        assert (shown["warning"] is not None) == warned == (prior >= 10 and recent <= prior / 2)
        latest = mine.groupby("day")["n"].sum().sort_index(ascending=False).head(7)
        assert [(r["day"], r["total"]) for r in shown["recent"]] == [(d.isoformat(), int(n)) for d, n in latest.items()]
    text = ok(invoke("show", a))
    assert "Recent activity" in text and "! churn warning  usage fell" in text
    assert "activity.day" not in text.split("Recent activity")[0]  # not in the latest events


def test_rerun_changes_nothing_and_a_fuller_export_raises_a_day(invoke, store_dir: Path, two: tuple[str, str],
                                                                tmp_path: Path) -> None:
    a, b = two
    export(tmp_path / "web.csv", a, b)
    ok(invoke("import", str(tmp_path / "web.csv"), "--kind", "events"))
    head = commits(store_dir)
    again = invoke("import", str(tmp_path / "web.csv"), "--kind", "events")
    assert again.exit_code == 0 and "0 created" in again.output and commits(store_dir) == head
    day = (TODAY - timedelta(days=3)).isoformat()
    had = stored(store_dir, b).get((TODAY - timedelta(days=3), "download"), 0)
    (tmp_path / "more.csv").write_text(f"customer,date,event,count\n{b},{day},download,{had + 4}\n{b},{day},login,1\n",
                                       encoding="utf-8")
    ok(invoke("import", str(tmp_path / "more.csv"), "--kind", "events"))
    now = stored(store_dir, b)
    assert now[(TODAY - timedelta(days=3), "download")] == had + 4
    # a partial export (fewer than the store has) never lowers a day
    (tmp_path / "less.csv").write_text(f"customer,date,event\n{b},{day},download\n", encoding="utf-8")
    ok(invoke("import", str(tmp_path / "less.csv"), "--kind", "events"))
    assert stored(store_dir, b) == now


def test_bad_rows_are_named_and_nothing_is_written(invoke, store_dir: Path, two: tuple[str, str],
                                                   tmp_path: Path) -> None:
    a, _ = two
    (tmp_path / "bad.csv").write_text(
        f"customer,timestamp,event,count\n{a},2026-11-20 10:00,page_view,\nnobody,2026-11-20,login,x\n"
        f"{a},yesterday-ish,login,1\n{a},2026-11-20,,0\n{a},2026-11-20,页面 浏览!,\n", encoding="utf-8")
    head = commits(store_dir)
    result = invoke("import", str(tmp_path / "bad.csv"), "--kind", "events")
    assert result.exit_code == 4
    lines = result.output.splitlines()
    assert any(ln.startswith("bad.csv:row 3, column customer: no customer 'nobody'") for ln in lines)
    assert any(ln.startswith("bad.csv:row 3, column count: 'x' is not a count") for ln in lines)
    assert any(ln.startswith("bad.csv:row 4, column timestamp:") for ln in lines)
    assert any(ln.startswith("bad.csv:row 5, column event: no event") for ln in lines)
    assert any(ln.startswith("bad.csv:row 5, column count: '0' is not a count") for ln in lines)
    assert any(ln.startswith("bad.csv:row 6, column event: '页面 浏览!' is not an activity name") for ln in lines)
    assert "Traceback" not in result.output and commits(store_dir) == head
    assert not stored(store_dir, a)
    missing = tmp_path / "nocol.csv"
    missing.write_text(f"customer,timestamp\n{a},2026-11-20\n", encoding="utf-8")
    result = invoke("import", str(missing), "--kind", "events")
    assert result.exit_code == 4 and "no column gives event for behaviour events" in result.output


def test_check_flags_a_damaged_activity_line(invoke, store_dir: Path, two: tuple[str, str]) -> None:
    a, _ = two
    journal = store_dir / "customers" / a[:2] / a / "journal" / "2026.yaml"
    journal.parent.mkdir(parents=True, exist_ok=True)
    with open(journal, "a", encoding="utf-8") as fh:
        fh.write("- {at: '2026-11-20T00:00:00+08:00', kind: activity.day, counts: {page_view: -2}}\n")
    result = invoke("check")
    assert result.exit_code != 0 and "page_view: -2 is not a count" in result.output
