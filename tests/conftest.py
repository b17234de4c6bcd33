"""Every test gets its own records store in its own temporary git repository."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from crmcli.cli.main import cli

AUTHOR = ("Alice Example", "alice@example.com")


@pytest.fixture(autouse=True)
def git_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A known git identity and no user or system git config leaking in."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
    monkeypatch.setenv("GIT_AUTHOR_NAME", AUTHOR[0])
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", AUTHOR[1])
    monkeypatch.setenv("GIT_COMMITTER_NAME", AUTHOR[0])
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", AUTHOR[1])
    monkeypatch.setenv("CRM_TZ", "Asia/Shanghai")
    monkeypatch.setenv("NO_COLOR", "1")
    for var in ("CRM_RECORDS", "CRM_AUTHOR", "CRM_NOW", "CRM_DEBUG", "CRM_IDENTITY", "EDITOR", "VISUAL", "COLUMNS",
                "FORCE_COLOR", "CRM_LANG"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh store (its own git repo), and the current directory set to it."""
    root = tmp_path / "crm"
    result = CliRunner().invoke(cli, ["init", str(root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(root)
    return root


class Crm:
    """Run the real `crm` entry point in a subprocess."""

    def __init__(self, cwd: Path):
        self.cwd = cwd

    def __call__(self, *args: str, input: str | None = None, env: dict | None = None,
                 cwd: Path | None = None) -> subprocess.CompletedProcess:
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run([sys.executable, "-m", "crmcli", *args], cwd=cwd or self.cwd, input=input,
                              capture_output=True, text=True, env=full_env, timeout=120)


@pytest.fixture
def crm(store_dir: Path) -> Crm:
    return Crm(store_dir)


@pytest.fixture
def invoke(store_dir: Path):
    """Call the CLI in-process (CliRunner); returns the Result."""
    def run(*args: str, input: str | None = None):
        return CliRunner().invoke(_Main(), list(args), input=input)  # type: ignore[arg-type]
    return run


class _Main:
    """Adapter so CliRunner exercises main()'s error handling and exit codes."""

    name = "crm"

    def main(self, args, prog_name=None, **extra):  # noqa: ANN001 - CliRunner protocol
        from crmcli.cli.main import main

        main(list(args))


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def commits(cwd: Path) -> list[str]:
    return git(cwd, "log", "--format=%s").splitlines()


def snapshot(root: Path) -> tuple:
    """Every file (hash) and folder outside .git/.crm, HEAD, and git status: "exactly as it was"."""
    import hashlib

    files = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts[0] in (".git", ".crm"):
            continue
        files[rel.as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
    return (files, git(root, "rev-parse", "HEAD"),
            git(root, "status", "--porcelain", "--untracked-files=all"))
