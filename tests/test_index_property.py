"""A property of the index (issue 15): whatever happens to the store, every store-wide query answers as a full parse.

Random sequences of crm writes, hand edits of the YAML files, a ``git pull`` from a second clone,
``git reset --hard HEAD~k``, a ``git checkout`` of an old commit (and back) and deletes of the index file.
After each step every indexed query (``--format json``) must equal two references: the same query with
no index at all (a full parse of the files into a new index; the caught-up index is put back afterwards,
so the next step starts from it), and, for profiles and tasks, the files folded here with PyYAML.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import _Main

QUERIES = (("customer", "list", "--format", "json"), ("task", "list", "--all", "--format", "json"),
           ("opp", "list", "--format", "json"), ("ticket", "list", "--format", "json"),
           ("agenda", "--days", "30", "--format", "json"), ("search", "acme", "--format", "json"),
           ("search", "北京", "--format", "json"), ("pipeline", "--format", "json"))
NAMES = ("Acme", "Acme Beijing", "北京基石", "Globex")
HAND = ("Hand", "hand@example.com")
STEPS = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(NAMES)),
    st.tuples(st.just("log"), st.integers(0, 9)),
    st.tuples(st.just("opp"), st.integers(0, 9)),
    st.tuples(st.just("advance"), st.integers(0, 9)),
    st.tuples(st.just("ticket"), st.integers(0, 9)),
    st.tuples(st.just("close"), st.integers(0, 9)),
    st.tuples(st.just("task"), st.integers(0, 9)),
    st.tuples(st.just("done"), st.integers(0, 9)),
    st.tuples(st.just("hand-profile"), st.integers(0, 9)),
    st.tuples(st.just("hand-journal"), st.integers(0, 9)),
    st.tuples(st.just("pull"), st.integers(0, 9)),
    st.tuples(st.just("reset"), st.integers(1, 3)),
    st.tuples(st.just("checkout"), st.integers(1, 4)),
    st.tuples(st.just("drop"), st.just(0)),
)


def git(root: Path, *args: str) -> str:
    r = subprocess.run(["git", "-c", f"user.name={HAND[0]}", "-c", f"user.email={HAND[1]}", *args], cwd=root,
                       capture_output=True, text=True)
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout


def crm(root: Path, *args: str) -> str:
    r = CliRunner().invoke(_Main(), ["--records", str(root), *args])  # type: ignore[arg-type]
    assert r.exit_code == 0, (args, r.output)
    return r.stdout


def index_files(root: Path) -> list[Path]:
    base = root / ".git" / "crm" / "cache" / "index.sqlite"
    return [base.with_name(base.name + suffix) for suffix in ("", "-wal", "-shm")]


# -- the files folded here, without crmcli ------------------------------------------------------------------------
def profiles(root: Path) -> dict[str, dict]:
    return {p.parent.name: yaml.load(p.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
            for p in sorted((root / "customers").glob("*/*/customer.yaml"))}


def tasks(root: Path) -> dict[tuple[str, str], str]:
    """Every task's status, folded from the journals in time order."""
    out: dict[tuple[str, str], str] = {}
    for folder in sorted((root / "customers").glob("*/*")):
        events = []
        for path in sorted(folder.glob("journal/*.yaml")):
            events += yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader) or []
        for e in sorted(events, key=lambda e: datetime.fromisoformat(e["at"])):
            ref = (folder.name, e.get("id") or e.get("task"))
            if e["kind"] == "task.add":
                out[ref] = "open"
            elif e["kind"] == "task.done" and ref in out:
                out[ref] = "done"
    return out


def open_refs(root: Path, kind: str, cid: str) -> list[str]:
    """Open deals or tickets of a customer, from ``crm`` itself (only to pick a target for a step)."""
    rows = json.loads(crm(root, *(("opp", "list", "--open") if kind == "opp" else ("ticket", "list", "--open")),
                          "--format", "json"))
    return sorted(f"{r['customer']}/{r['id']}" for r in rows if r["customer"] == cid)


# -- the steps ------------------------------------------------------------------------------------------------------
def commit_hand_edits(root: Path) -> None:
    """crm refuses to write over uncommitted hand edits: the user commits them first."""
    if git(root, "status", "--porcelain"):
        git(root, "add", "-A")
        git(root, "commit", "-qm", "by hand")


def step(root: Path, clone: Path, kind: str, a: int | str, n: int) -> None:
    ids = sorted(profiles(root))
    cid = ids[a % len(ids)] if ids and isinstance(a, int) else ""
    if not cid and kind not in ("add", "pull", "reset", "checkout", "drop"):
        return  # a reset took every customer away
    if kind in ("add", "log", "opp", "advance", "ticket", "close", "task", "done", "pull"):
        commit_hand_edits(root)
    if kind == "add":
        crm(root, "customer", "add", str(a), "--force", "--touch-every", "2w")
    elif kind == "log":
        crm(root, "log", cid, "call", f"talked {n}")
    elif kind == "opp":
        crm(root, "opp", "add", cid, f"deal {n}", "--amount", str(1000 + n), "--currency", "USD")
    elif kind == "advance" and open_refs(root, "opp", cid):
        crm(root, "opp", "advance", open_refs(root, "opp", cid)[0], *(["won"] if n % 2 else []))
    elif kind == "ticket":
        crm(root, "ticket", "open", cid, f"broken {n}", "--priority", "high" if n % 2 else "normal")
    elif kind == "close" and open_refs(root, "ticket", cid):
        crm(root, "ticket", "close", open_refs(root, "ticket", cid)[0], "--resolution", "fixed")
    elif kind == "task":
        crm(root, "task", "add", cid, f"call back {n}", "--due", "tomorrow" if n % 2 else "today")
    elif kind == "done":
        todo = sorted(k for k, v in tasks(root).items() if k[0] == cid and v == "open")
        if todo:
            crm(root, "task", "done", "/".join(todo[0]))
    elif kind == "hand-profile":  # a new name and tier, typed into the file
        path = next((root / "customers").glob(f"*/{cid}/customer.yaml"))
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith(("name:", "tier:"))]
        path.write_text("\n".join([f"name: {NAMES[n % len(NAMES)]} {n}", "tier: " + "ABC"[n % 3], *lines]) + "\n",
                        encoding="utf-8")
    elif kind == "hand-journal":  # a task (or a note) appended to this year's journal by hand
        now = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0)
        path = next((root / "customers").glob(f"*/{cid}")) / "journal" / f"{now.year}.yaml"
        path.parent.mkdir(exist_ok=True)
        line = f"kind: task.add, id: task-hand{n}, by: Hand, owner: Hand, due: '{now.date()}', text: by hand" \
            if n % 2 else "kind: note, by: Hand, summary: by hand"
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"- {{at: '{now.isoformat()}', {line}}}\n")
    elif kind == "pull":  # a colleague syncs, adds a customer and logs a call; we pull
        git(clone, "pull", "-q", "--no-rebase", str(root), "HEAD")
        other = crm(clone, "customer", "add", f"Acme Pulled {n}", "--force").strip()
        crm(clone, "log", other, "call", "from the clone")
        git(root, "pull", "-q", "--no-rebase", "--no-edit", str(clone), "HEAD")
    elif kind in ("reset", "checkout"):
        count = int(git(root, "rev-list", "--count", "HEAD"))
        git(root, "checkout", "-q", "--", ".")  # both drop hand edits
        git(root, "clean", "-qfd", "customers")
        back = min(int(a), count - 1)
        if kind == "reset":
            git(root, "reset", "-q", "--hard", f"HEAD~{back}")
        else:  # look at an old commit, query it, and come back
            branch = git(root, "symbolic-ref", "--short", "HEAD").strip()
            git(root, "checkout", "-q", f"HEAD~{back}")
            assert_queries_equal_a_full_parse(root)
            git(root, "checkout", "-q", branch)
    elif kind == "drop":
        for path in index_files(root):
            path.unlink(missing_ok=True)


def assert_queries_equal_a_full_parse(root: Path) -> None:
    answers = {q: crm(root, *q) for q in QUERIES}  # through the index, caught up with whatever happened
    aside = root.parent / "index-aside"
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir()
    for path in index_files(root):
        if path.exists():
            os.replace(path, aside / path.name)
    try:
        rebuilt = {q: crm(root, *q) for q in QUERIES}  # no index: every file parsed into a new one
    finally:
        for path in index_files(root):
            path.unlink(missing_ok=True)
            if (aside / path.name).exists():
                os.replace(aside / path.name, path)  # the next step goes on from the caught-up index
    for q in QUERIES:
        assert json.loads(answers[q]) == json.loads(rebuilt[q]), q
    listed = json.loads(answers[QUERIES[0]])
    assert {r["id"]: (r["name"], r.get("tier")) for r in listed} == \
        {cid: (d["name"], d.get("tier")) for cid, d in profiles(root).items()}
    assert {(t["customer"], t["id"]): t["status"] for t in json.loads(answers[QUERIES[1]])} == tasks(root)


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """A small store, copied for each example (hypothesis runs them all within one call of the test)."""
    root = tmp_path / "template" / "crm"
    crm(root.parent, "init", str(root))
    crm(root, "customer", "add", "Acme", "--touch-every", "1w", "--tier", "A")
    crm(root, "customer", "add", "北京基石协作", "--contact", "Li Na <li@example.cn>")
    return root


def fresh_store(template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("prop")
    root = base / "crm"
    shutil.copytree(template, root, symlinks=True)
    git(base, "clone", "-q", str(root), str(base / "clone"))
    return root, base / "clone"


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEPS, min_size=3, max_size=5))
def test_every_query_equals_a_full_parse_after_any_steps(template: Path, tmp_path_factory: pytest.TempPathFactory,
                                                        steps: list) -> None:
    root, clone = fresh_store(template, tmp_path_factory)
    for n, (kind, a) in enumerate(steps):
        step(root, clone, kind, a, n)
        assert_queries_equal_a_full_parse(root)


def test_every_kind_of_step_in_one_run(template: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The property's steps in a fixed order, so that each kind is taken on every run whatever hypothesis draws."""
    root, clone = fresh_store(template, tmp_path_factory)
    steps = [("task", 0), ("opp", 0), ("ticket", 1), ("hand-profile", 1), ("hand-journal", 1), ("pull", 0),
             ("log", 0), ("done", 0), ("advance", 0), ("close", 1), ("hand-journal", 0), ("checkout", 9),
             ("add", "Globex"), ("reset", 1), ("drop", 0), ("hand-profile", 0)]
    for n, (kind, a) in enumerate(steps):
        step(root, clone, kind, a, n)
        assert_queries_equal_a_full_parse(root)
