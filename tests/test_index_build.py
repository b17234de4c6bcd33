"""The cold index build with worker processes gives exactly the rows of the single-process build."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crmcli.store.index_build import PARALLEL_FROM
from tests.terminal import on_a_terminal


def index_file(root: Path) -> Path:
    return root / ".git" / "crm" / "cache" / "index.sqlite"


def crm(root: Path, *args: str, jobs: int, **kwargs) -> subprocess.CompletedProcess:  # noqa: ANN003
    env = {**os.environ, "CRM_JOBS": str(jobs)}
    return subprocess.run([sys.executable, "-m", "crmcli", *args], cwd=root, env=env, timeout=300, **kwargs)


def every_row(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table (FTS5's own tables too), by row id; stat times left out (the files are the same,
    but whether a time counts as "too recent to trust" depends on when the build ran)."""
    db = sqlite3.connect(path)
    out = {}
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        columns = [f'"{c[1]}"' for c in db.execute(f"PRAGMA table_info({name})") if c[1] != "st_mtime"]
        try:
            out[name] = db.execute(f"SELECT rowid, {', '.join(columns)} FROM {name} ORDER BY rowid").fetchall()
        except sqlite3.OperationalError:  # a table without row ids (the facts; FTS5's texts_config, texts_idx)
            out[name] = sorted(db.execute(f"SELECT {', '.join(columns)} FROM {name}").fetchall(), key=repr)
    db.close()
    return out


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated store just large enough for the worker processes, with an unreadable profile and an odd journal."""
    from bench.generate import generate_store

    root = tmp_path_factory.mktemp("build") / "crm"
    generate_store(root, PARALLEL_FROM + 40, per=3, quiet=True, jobs=1)
    folders = sorted((root / "customers").glob("*/*"))
    (folders[7] / "customer.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    journal = folders[11] / "journal"
    journal.mkdir(exist_ok=True)
    (journal / "2024.yaml").write_bytes(b"- {at: '2024-01-02T10:00:00+08:00', kind: note, summary: \xff}\n")
    return root


def test_two_processes_build_the_same_rows_as_one(big: Path, tmp_path: Path) -> None:
    copies = {}
    for jobs in (2, 1):
        index_file(big).unlink(missing_ok=True)
        r = crm(big, "reindex", jobs=jobs, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(f"Indexed {PARALLEL_FROM + 39} customers and ")
        assert "1 unreadable" in r.stdout
        assert r.stderr == ""  # no progress bar without a terminal
        copies[jobs] = tmp_path / f"index-{jobs}.sqlite"
        shutil.copy(index_file(big), copies[jobs])
    two, one = every_row(copies[2]), every_row(copies[1])
    assert len(one["customers"]) == PARALLEL_FROM + 40 and len(one["events"]) > PARALLEL_FROM
    assert two == one


def _on_a_terminal(root: Path, jobs: int) -> str:
    """``crm reindex`` with stderr on a pseudo-terminal: what it showed there."""
    r, shown = on_a_terminal([sys.executable, "-m", "crmcli", "reindex"], stream="stderr", cwd=root,
                             env={**os.environ, "CRM_JOBS": str(jobs)}, stdout=subprocess.DEVNULL)
    assert r.returncode == 0, shown
    return shown


def test_the_build_shows_a_progress_bar_on_a_terminal_only(big: Path) -> None:
    shown = _on_a_terminal(big, jobs=2)
    assert "Indexing customers [" in shown and f"] {PARALLEL_FROM + 40}/{PARALLEL_FROM + 40}" in shown
    assert "Indexing customers" not in _on_a_terminal(big, jobs=1)  # one core: the ordinary catch-up builds it
