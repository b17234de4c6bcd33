"""The store-wide lists answered from the folded deals, tickets and tasks in the index equal a fold of the files.

`crm opp|ticket|task list --customer X` folds that customer's journal files (no index); the store-wide list
answers from the rows the index keeps. On the bundled sample, and after a sequence of writes and hand edits,
every record of the store-wide list equals the one the per-customer fold gives, field by field, and none is
missing or extra.
"""
from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.terminal import on_a_terminal
from tests.websample import make_sample

LISTS = {  # (store-wide arguments, per-customer arguments)
    "opps": (["opp", "list"], ["opp", "list"]),
    "open opps": (["opp", "list", "--open"], ["opp", "list", "--open"]),
    "tickets": (["ticket", "list"], ["ticket", "list"]),
    "open tickets": (["ticket", "list", "--open"], ["ticket", "list", "--open"]),
    "tasks": (["task", "list", "--all"], ["task", "list", "--all"]),
    "open tasks": (["task", "list"], ["task", "list"]),
}


def run(root: Path, *args: str) -> str:
    from click.testing import CliRunner

    from tests.conftest import _Main

    r = CliRunner().invoke(_Main(), ["--records", str(root), *args])  # type: ignore[arg-type]
    assert r.exit_code == 0, (args, r.output)
    return r.stdout


def keyed(rows: list[dict]) -> dict[tuple[str, str], dict]:
    out = {}
    for row in rows:
        row = {k: v for k, v in row.items() if k not in ("sla", "first_response_breached", "resolution_breached")}
        out[(row["customer"], row["id"])] = row
    return out


def assert_lists_equal_the_files(root: Path) -> None:
    ids = [c["id"] for c in json.loads(run(root, "customer", "list", "--format", "json"))]
    assert ids
    lists = dict(LISTS)
    deal = json.loads(run(root, "opp", "list", "--format", "json"))[0]
    ticket = json.loads(run(root, "ticket", "list", "--format", "json"))[0]
    for what, args in {"deals of an owner at a stage": ["opp", "list", "--owner", deal["owner"].upper(),
                                                        "--stage", deal["stage"]],
                       "tickets of a priority and status": ["ticket", "list", "--priority", ticket["priority"],
                                                            "--status", ticket["status"]],
                       "done tasks": ["task", "list", "--done"]}.items():
        lists[what] = (args, args)
    for what, (everywhere, one) in lists.items():
        listed = json.loads(run(root, *everywhere, "--format", "json"))
        folded: list[dict] = []
        for cid in ids:
            folded += json.loads(run(root, *one, "--customer", cid, "--format", "json"))
        assert keyed(listed) == keyed(folded), what
        assert len(listed) == len(folded), what
    board = json.loads(run(root, "pipeline", "--format", "json"))
    opps = json.loads(run(root, "opp", "list", "--open", "--format", "json"))
    for row in board:
        assert row["count"] == sum(1 for o in opps if o["stage"] == row["stage"] and o["currency"] == "CNY"), row


@pytest.fixture()
def sample(tmp_path: Path) -> Path:
    return make_sample(tmp_path)


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def test_lists_from_the_index_equal_the_fold_of_the_sample(sample: Path) -> None:
    assert json.loads(run(sample, "opp", "list", "--format", "json"))
    assert json.loads(run(sample, "ticket", "list", "--format", "json"))
    assert json.loads(run(sample, "task", "list", "--all", "--format", "json"))
    assert_lists_equal_the_files(sample)


def test_lists_from_the_index_follow_writes_and_hand_edits(sample: Path) -> None:
    assert_lists_equal_the_files(sample)  # the index is built and warm
    cid = json.loads(run(sample, "customer", "list", "--format", "json"))[0]["id"]
    opp = json.loads(run(sample, "opp", "add", cid, "Index deal", "--amount", "1234", "--format", "json"))["id"]
    run(sample, "opp", "advance", f"{cid}/{opp}")
    ticket = json.loads(run(sample, "ticket", "open", cid, "Index ticket", "--priority", "high",
                            "--format", "json"))["id"]
    run(sample, "ticket", "comment", f"{cid}/{ticket}", "looking at it")
    run(sample, "task", "add", cid, "call back", "--due", "tomorrow")
    assert_lists_equal_the_files(sample)
    run(sample, "ticket", "close", f"{cid}/{ticket}", "--resolution", "fixed")
    run(sample, "opp", "win", f"{cid}/{opp}")
    # by hand, left uncommitted: a new deal and a task done in this year's journal
    now = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0)
    journal = next((sample / "customers").glob(f"*/{cid}")) / "journal" / f"{now.year}.yaml"
    task = json.loads(run(sample, "task", "list", "--customer", cid, "--format", "json"))[0]["id"]
    with open(journal, "a", encoding="utf-8") as fh:
        fh.write(f"- {{at: '{now.isoformat()}', kind: opp.open, id: opp-hand1, by: Hand, title: by hand, "
                 "amount: 5, currency: CNY, stage: lead, owner: Hand}\n"
                 f"- {{at: '{now.isoformat()}', kind: task.done, task: {task}, by: Hand}}\n")
    assert_lists_equal_the_files(sample)
    git(sample, "checkout", "--", ".")  # the hand edit undone: the index follows back
    assert "opp-hand1" not in run(sample, "opp", "list", "--format", "json")
    assert_lists_equal_the_files(sample)


def test_a_long_list_on_a_terminal_shows_a_screenful_and_says_how_many_more(sample: Path) -> None:
    import os
    import sys

    cid = json.loads(run(sample, "customer", "list", "--format", "json"))[0]["id"]
    journal = next((sample / "customers").glob(f"*/{cid}")) / "journal" / "2025.yaml"
    with open(journal, "a", encoding="utf-8") as fh:
        for i in range(150):
            fh.write(f"- {{at: '2025-03-01T09:00:00+08:00', kind: task.add, id: task-many{i:03d}, by: Hand, "
                     f"owner: Hand, due: '2025-04-{1 + i % 28:02d}', text: call {i}}}\n")
    git(sample, "add", "-A")
    git(sample, "-c", "user.name=Hand", "-c", "user.email=hand@example.com", "commit", "-qm", "many tasks")
    total = len(json.loads(run(sample, "task", "list", "--format", "json")))
    assert total > 150
    piped = run(sample, "task", "list")
    assert "more; --limit" not in piped and len(piped.splitlines()) == total + 2  # header, rule, every row
    assert len(run(sample, "task", "list", "--limit", "3", "--format", "csv").splitlines()) == 4

    p, shown = on_a_terminal([sys.executable, "-m", "crmcli", "--records", str(sample), "task", "list"],
                             env={**os.environ, "TERM": "xterm", "COLUMNS": "200"})
    assert p.returncode == 0, p.stderr
    lines = shown.splitlines()
    assert lines[-1] == f"… {total - 100:,} more; --limit N shows N rows, --limit 0 all of them"
    assert len(lines) == 2 + 100 + 1


def test_hand_made_folders_git_names_are_taken_as_the_full_walk_takes_them(sample: Path, tmp_path: Path) -> None:
    """A new folder git's status names is read; a hidden or symlinked one is not, with or without the index."""
    before = {c["id"] for c in json.loads(run(sample, "customer", "list", "--format", "json"))}  # warm index
    outside = tmp_path / "outside" / "zz-evil-ab12"
    outside.mkdir(parents=True)
    (outside / "customer.yaml").write_text("name: Evil Link\n", encoding="utf-8")
    (sample / "customers" / "zz").mkdir()
    (sample / "customers" / "zz" / "zz-evil-ab12").symlink_to(outside)
    for name in (".zhidden-ab12", "zz-new-ab12"):
        folder = sample / "customers" / name[:2] / name
        folder.mkdir(parents=True)
        (folder / "customer.yaml").write_text(f"name: By Hand {name}\n", encoding="utf-8")
    warm = {c["id"] for c in json.loads(run(sample, "customer", "list", "--format", "json"))}
    (sample / ".git" / "crm" / "cache" / "index.sqlite").unlink()
    cold = {c["id"] for c in json.loads(run(sample, "customer", "list", "--format", "json"))}
    assert warm == cold == before | {"zz-new-ab12"}
