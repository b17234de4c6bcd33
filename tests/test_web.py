"""`crm site build` on the bundled sample: every page there, every internal link resolving, numbers equal to
`crm show --format json`, `crm pipeline`, `crm ticket list` and the reports' JSON; incremental rebuilds; labels."""
from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.websample import crm, crm_json, make_sample, read_page

REPORTS = ["weekly", "pipeline", "service", "customers"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def site(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "public"
    crm(sample, "site", "build", "-o", str(out))
    return out


def _customers(sample: Path) -> list[dict]:
    return crm_json(sample, "customer", "list", "--format", "json")


def test_every_customer_has_a_page_and_every_link_resolves(sample: Path, site: Path) -> None:
    folders = sorted(p.name for p in (sample / "customers").glob("*/*") if (p / "customer.yaml").is_file())
    assert len(folders) == 12
    assert sorted(p.stem for p in (site / "customers").glob("*.html") if p.stem != "index") == folders
    pages = sorted(site.rglob("*.html"))
    assert {p.relative_to(site).as_posix() for p in pages} >= {
        "index.html", "pipeline.html", "tickets.html", "customers/index.html",
        *(f"reports/{r}.html" for r in REPORTS)}
    checked = 0
    for page in pages:
        parsed = read_page(page)
        assert parsed.meta.get("viewport", "").startswith("width=device-width"), page
        assert "@media print" in page.read_text(encoding="utf-8"), page  # printable: navigation left out
        assert re.search(r"Same in a terminal: crm \w+", parsed.words), page
        for href in parsed.links:
            url = urlsplit(href)
            assert not url.scheme and not href.startswith("/"), (page, href)  # relative: works from disk
            if url.path:
                target = (page.parent / unquote(url.path)).resolve()
                assert target.is_file(), (page, href)
                checked += 1
    assert checked > 100
    listed = read_page(site / "customers" / "index.html")
    for c in _customers(sample):
        assert f"{c['id']}.html" in " ".join(listed.links)


def test_customer_pages_show_what_crm_show_shows(sample: Path, site: Path) -> None:
    keys = ["revenue_this_year", "revenue_lifetime", "open_deals", "pipeline_total", "pipeline_weighted",
            "days_since_contact", "health"]
    for c in _customers(sample):
        data = crm_json(sample, "show", c["id"], "--format", "json")
        page = read_page(site / "customers" / f"{c['id']}.html")
        words = page.words
        assert f"Customer id: {c['id']}" in words and f"crm show {c['id']}" in words
        assert data["name"] in words
        for key in keys:
            want = data["metrics"][key]
            got = page.data[key]
            assert (got == "" if want is None else float(got) == float(want)), (c["id"], key, got, want)
        for row in data["opportunities"] + data["tickets"] + data["tasks"]:
            assert row["id"] in words, (c["id"], row["id"])
        for w in data["warnings"]:
            assert " ".join(w["reason"].split()) in words
        for comp in data["health"]["components"]:
            assert " ".join(comp["explanation"].split()) in words


def test_report_pages_and_home_equal_the_commands(sample: Path, site: Path) -> None:
    for name in REPORTS:
        rep = crm_json(sample, "report", name, "--format", "json")
        page = read_page(site / "reports" / f"{name}.html")
        assert rep["headline"], name
        for h in rep["headline"]:
            if h["value"] is not None:
                assert float(page.data[h["key"]]) == pytest.approx(float(h["value"])), (name, h)
        for s in rep["sections"]:
            assert s["title"] in page.words
        assert f"crm report {name}" in page.words
    home = read_page(site / "index.html")
    pipe = crm_json(sample, "report", "pipeline", "--format", "json")
    total = next(r for s in pipe["sections"] if s["key"] == "by_stage" for r in s["rows"] if r["stage"] == "total")
    assert float(home.data["open_deals"]) == total["deals"]
    assert float(home.data["pipeline_amount"]) == total["amount"]
    assert float(home.data["pipeline_weighted"]) == total["weighted"]
    assert int(home.data["customers"]) == len(_customers(sample))
    open_tickets = crm_json(sample, "ticket", "list", "--open", "--format", "json")
    assert int(home.data["open_tickets"]) == len(open_tickets)
    board = read_page(site / "pipeline.html")
    for row in crm_json(sample, "pipeline", "--format", "json"):
        stage = board.stages[row["stage"]]
        assert int(stage["data-count"]) == row["count"]
        assert float(stage["data-amount"]) == float(row["total"])
        assert float(stage["data-weighted"]) == float(row["weighted"])
    queue = read_page(site / "tickets.html").words
    for t in open_tickets:
        assert t["id"] in queue


def test_weekly_headline_compares_with_the_week_before(sample: Path) -> None:
    def summary(week: str) -> dict:
        rep = crm_json(sample, "report", "weekly", "--week", week, "--format", "json")
        rows = next(s["rows"] for s in rep["sections"] if s["key"] == "summary")
        return {r["what"]: r for r in rows} | {"_headline": {h["key"]: h for h in rep["headline"]}}

    this, before = summary("2026-W47"), summary("2026-W46")
    head = this["_headline"]
    assert head["interactions"]["value"] == this["interactions"]["count"]
    assert head["interactions"]["previous"] == before["interactions"]["count"]
    assert head["won_value"]["value"] == this["deals won"]["amount"]
    assert head["won_value"]["previous"] == before["deals won"]["amount"]
    assert head["tickets_breached"]["previous"] == before["tickets breached"]["count"]
    page = crm(sample, "report", "weekly", "--week", "2026-W47", "--format", "html").stdout
    assert '<meta name="viewport"' in page and "vs previous week" in page and 'class="axis-label"' in page
    assert "@media print" in page and 'class="scroll"' in page
    assert "2026-11-23 10:00 (UTC+08:00)" in page  # the footer's local time


def test_empty_store_report_says_so(tmp_path: Path) -> None:
    root = tmp_path / "crm"
    crm(tmp_path, "init", str(root))
    for name in REPORTS:
        page = crm(root, "report", name, "--format", "html").stdout
        assert "No records for this report yet." in page, name
    out = tmp_path / "site"
    crm(root, "site", "build", "-o", str(out))
    assert "No customers yet." in (out / "customers" / "index.html").read_text(encoding="utf-8")


def _manifest(out: Path) -> dict:
    return json.loads((out / ".crm-site.json").read_text(encoding="utf-8"))


def test_a_rebuild_rewrites_only_the_changed_customer(tmp_path: Path) -> None:
    root = make_sample(tmp_path)
    out = tmp_path / "public"
    first = crm(root, "site", "build", "-o", str(out)).stderr
    assert "12 customer pages made" in first
    before = {p.name: p.stat().st_mtime_ns for p in (out / "customers").glob("*.html")}
    again = crm(root, "site", "build", "-o", str(out), env={"CRM_NOW": "2026-11-23T10:15:00+08:00"}).stderr
    assert "0 page(s) written (0 customer pages made), 20 unchanged" in again
    cid = _customers(root)[0]["id"]
    crm(root, "log", cid, "call", "talked about the web view", env={"CRM_NOW": "2026-11-23T09:00:00+08:00"})
    third = crm(root, "site", "build", "-o", str(out)).stderr
    assert "(1 customer pages made)" in third
    after = {p.name: p.stat().st_mtime_ns for p in (out / "customers").glob("*.html")}
    changed = sorted(name for name in before if before[name] != after[name])
    assert changed == ["index.html", f"{cid}.html"] or changed == [f"{cid}.html"]
    assert "talked about the web view" in (out / "customers" / f"{cid}.html").read_text(encoding="utf-8")
    assert cid in _manifest(out)["stamps"]
    (out / "customers" / f"{cid}.html").unlink()  # a missing page is made again
    assert "(1 customer pages made)" in crm(root, "site", "build", "-o", str(out)).stderr


def test_chinese_labels_and_a_foreign_folder_refused(tmp_path: Path) -> None:
    root = make_sample(tmp_path)
    with open(root / "crm.yaml", "a", encoding="utf-8") as f:
        f.write("language: zh\n")
    out = tmp_path / "zh"
    crm(root, "site", "build", "-o", str(out))
    home = read_page(out / "index.html")
    assert home.lang == "zh" and "首页" in home.words and "关键数字" in home.words
    assert "周报" in read_page(out / "reports" / "weekly.html").words
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me", encoding="utf-8")
    proc = crm(root, "site", "build", "-o", str(other), check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "not empty" in proc.stderr
    assert (other / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_an_unreadable_customer_is_named_and_the_rest_built(tmp_path: Path) -> None:
    root = make_sample(tmp_path)
    broken = sorted((root / "customers").glob("*/*/customer.yaml"))[0]
    broken.write_text("name: [unclosed\n", encoding="utf-8")
    past = broken.stat().st_mtime - 3600  # an edit of an hour ago: its stamp settled
    os.utime(broken, (past, past))
    out = tmp_path / "public"
    proc = crm(root, "site", "build", "-o", str(out), check=False)
    assert proc.returncode == 9, proc.stderr
    assert f"{broken.parent.name}/customer.yaml:" in proc.stderr
    assert "crm: partial: 1 unreadable customer" in proc.stderr
    assert len(list((out / "customers").glob("*.html"))) == 12  # 11 customers and the list
    assert not (out / "customers" / f"{broken.parent.name}.html").exists()
    before = _mtimes(out)  # built again: named again, and nothing else made again for it
    proc = crm(root, "site", "build", "-o", str(out), check=False, env={"CRM_NOW": "2026-11-23T10:05:00+08:00"})
    assert proc.returncode == 9 and f"{broken.parent.name}/customer.yaml:" in proc.stderr
    assert "0 page(s) written (0 customer pages made)" in proc.stderr and _mtimes(out) == before


class _Agenda(HTMLParser):
    """The rows of the home page's agenda table: each a list of cell texts, and the customer link's target."""

    def __init__(self, text: str):
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self._inside = self._body = False
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section" and a.get("id") == "agenda":
            self._inside = True
        elif self._inside and tag == "tbody":
            self._body = True
        elif self._body and tag == "tr":
            self.rows.append([])
            self.links.append("")
        elif self._body and tag == "td":
            self._cell = []
        elif self._body and tag == "a":
            self.links[-1] = a.get("href") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag in ("tbody", "section"):
            self._inside = self._body = self._inside and tag != "section"

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def assert_home_is_the_agenda(root: Path, site: Path) -> None:
    """The home page's agenda is `crm agenda --format json`: same items, same order, same numbers."""
    items = crm_json(root, "agenda", "--format", "json")
    home = (site / "index.html").read_text(encoding="utf-8")
    data = read_page(site / "index.html").data
    assert int(data["agenda"]) == len(items)
    assert int(data["tasks_overdue"]) == sum(1 for i in items if i["overdue"] and i["kind"] == "task")
    table = _Agenda(home)
    assert len(table.rows) == min(len(items), 100)
    for row, link, item in zip(table.rows, table.links, items, strict=False):
        due, kind, customer, text, ref, owner = row
        assert due.startswith(item["date"] + (f" {item['time']}" if item["time"] else "")), (row, item)
        assert due.endswith("overdue") == item["overdue"], (row, item)
        assert (kind, text, ref, owner) == (item["kind"], item["text"], item["ref"] or "", item["owner"] or "")
        assert link == f"customers/{item['customer']}.html" and item["customer"] in customer


def test_home_agenda_is_crm_agenda(sample: Path, site: Path) -> None:
    items = crm_json(sample, "agenda", "--format", "json")
    assert {i["kind"] for i in items} >= {"task", "touch"}, items  # the sample has more than tasks to show
    assert_home_is_the_agenda(sample, site)


def _mtimes(out: Path) -> dict[str, int]:
    return {p.relative_to(out).as_posix(): p.stat().st_mtime_ns for p in out.rglob("*.html")}


def test_a_rebuild_makes_again_only_the_pages_whose_records_changed(tmp_path: Path) -> None:
    root = make_sample(tmp_path)
    out = tmp_path / "public"
    crm(root, "site", "build", "-o", str(out))
    cid = "northwind-traders-5hk9"  # at risk for want of contact: a call changes its health
    assert cid in {c["id"] for c in _customers(root)}
    store_wide = {"customers/index.html", "pipeline.html", "tickets.html", "reports/pipeline.html",
                  "reports/service.html", "reports/weekly.html"}

    # a call logged now: the customer's page, the agenda and the customers report (health) change; the board,
    # the queue, the customer list and the reports about deals, service and last week are kept as they were
    before = _mtimes(out)
    crm(root, "log", cid, "call", "checked the web view", env={"CRM_NOW": "2026-11-23T09:30:00+08:00"})
    crm(root, "site", "build", "-o", str(out), env={"CRM_NOW": "2026-11-23T10:05:00+08:00"})  # a page made again
    # shows another time, so is written again
    after = _mtimes(out)
    changed = {rel for rel in after if after[rel] != before.get(rel)}
    assert f"customers/{cid}.html" in changed and "index.html" in changed
    assert not changed & store_wide, changed
    assert changed <= {f"customers/{cid}.html", "index.html", "reports/customers.html"}, changed
    assert_home_is_the_agenda(root, out)

    # a deal and a task: the board, the pipeline report and the agenda follow, equal to the commands
    crm(root, "opp", "add", cid, "Web view rollout", "--amount", "12345", "--stage", "qualified")
    crm(root, "task", "add", cid, "Send the web view link", "--due", "2026-11-24")
    before = _mtimes(out)
    crm(root, "site", "build", "-o", str(out), env={"CRM_NOW": "2026-11-23T10:10:00+08:00"})
    after = _mtimes(out)
    changed = {rel for rel in after if after[rel] != before.get(rel)}
    assert {"pipeline.html", "reports/pipeline.html", "index.html"} <= changed, changed
    assert_home_is_the_agenda(root, out)
    board = read_page(out / "pipeline.html")
    for row in crm_json(root, "pipeline", "--format", "json"):
        assert int(board.stages[row["stage"]]["data-count"]) == row["count"]
        assert float(board.stages[row["stage"]]["data-amount"]) == float(row["total"])
    home = read_page(out / "index.html").data
    for name in ("pipeline", "customers", "weekly"):
        rep = crm_json(root, "report", name, "--format", "json")
        page = read_page(out / "reports" / f"{name}.html")
        for h in rep["headline"]:
            if h["value"] is not None:
                assert float(page.data[h["key"]]) == pytest.approx(float(h["value"])), (name, h)
                if name == "pipeline" and h["key"] in home:
                    assert float(home[h["key"]]) == pytest.approx(float(h["value"])), h
    assert int(home["customers"]) == len(_customers(root))
    # the customers report reused the health of the customers that did not change: its at-risk list is still
    # the command's, in the same order, with the same scores
    risk = next(s["rows"] for s in crm_json(root, "report", "customers", "--format", "json")["sections"]
                if s["key"] == "churn_risk")
    assert risk
    words = read_page(out / "reports" / "customers.html").words
    section = words[words.index("Churn risk"):]
    places = [section.index(f"{r['customer']} ") for r in risk]
    assert places == sorted(places), risk
    for r in risk:
        assert f"{r['customer']} {r['name']} {r['owner'] or ''}".replace("  ", " ").strip() in section, r
        assert f" {r['health']} " in section[section.index(r["customer"]):], r

    # nothing changed: no page about the store is made again (the customer's own page may be, once: its files
    # were written a moment before the last build, so their stamps were not trusted yet, as git does)
    past = (root / "crm.yaml").stat().st_mtime - 3600
    for path in (root / "customers").rglob("*.yaml"):  # whatever the machine's speed, settled by the next build
        if path.stat().st_mtime > past + 1800:
            os.utime(path, (past, past))
    before = _mtimes(out)
    again = crm(root, "site", "build", "-o", str(out), env={"CRM_NOW": "2026-11-23T10:15:00+08:00"}).stderr
    after = _mtimes(out)
    assert {rel for rel in after if after[rel] != before[rel]} <= {f"customers/{cid}.html"}, again
    before = _mtimes(out)
    again = crm(root, "site", "build", "-o", str(out), env={"CRM_NOW": "2026-11-23T10:20:00+08:00"}).stderr
    assert "0 page(s) written (0 customer pages made)" in again and _mtimes(out) == before


def test_a_referral_remakes_the_referrers_page(tmp_path: Path) -> None:
    """A customer's page counts the customers whose referred_by names it: their change remakes it too."""
    root = make_sample(tmp_path)
    out = tmp_path / "public"
    crm(root, "site", "build", "-o", str(out))
    referrer, referred = "acme-robotics-inc-ahrj", "northwind-traders-5hk9"
    assert referred not in (out / "customers" / f"{referrer}.html").read_text(encoding="utf-8")
    crm(root, "customer", "edit", referred, "--set", f"referred_by={referrer}")
    crm(root, "site", "build", "-o", str(out), env={"CRM_NOW": "2026-11-23T10:05:00+08:00"})
    page = read_page(out / "customers" / f"{referrer}.html")
    assert referred in page.words
    data = crm_json(root, "show", referrer, "--format", "json")
    assert float(page.data["health"]) == float(data["metrics"]["health"])
