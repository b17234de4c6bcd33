"""Issue 13: nothing from a clone, a sync or another user on the machine can read or write what it must not."""
from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Crm

# -- point 12: private by default where it matters (crm init --private, private: true) --


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The common default umask, under which git and crm create world-readable files."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _readable_by_others(root: Path) -> list[str]:
    """Every file or folder under root (root and .git included) that group or others may use."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{path.relative_to(root.parent)} {stat.S_IMODE(mode):o}")
    return found


def _use(crm: Crm) -> None:
    p = crm("customer", "add", "Acme Corp", "--email", "jane@acme.example")
    assert p.returncode == 0, p.stderr
    for args in (("log", "acme", "call", "Discussed the renewal"), ("task", "add", "acme", "Send the quote")):
        p = crm(*args)
        assert p.returncode == 0, (args, p.stderr)


def test_init_private_makes_the_store_owner_only(tmp_path: Path, umask_022: None) -> None:
    crm = Crm(tmp_path)
    # Without --private the store and its git objects are readable by every user of the machine.
    assert crm("init", "open").returncode == 0
    _use(Crm(tmp_path / "open"))
    assert any(line.startswith("open/crm.yaml ") for line in _readable_by_others(tmp_path / "open"))
    assert any(line.startswith("open/.git/objects/") for line in _readable_by_others(tmp_path / "open"))

    p = crm("init", "secret", "--private")
    assert p.returncode == 0, p.stderr
    root = tmp_path / "secret"
    assert "private: true\n" in (root / "crm.yaml").read_text(encoding="utf-8")
    _use(Crm(root))
    assert _readable_by_others(root) == []
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE((root / "crm.yaml").stat().st_mode) == 0o600
    assert Crm(root)("check").returncode == 0


def test_private_setting_in_crm_yaml_is_honoured_by_later_writes(crm: Crm, store_dir: Path, umask_022: None) -> None:
    os.chmod(store_dir, 0o755)
    config = store_dir / "crm.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "private: true\n", encoding="utf-8")
    assert crm("--no-commit", "customer", "add", "Beta").returncode == 0  # the setting is read, not committed yet
    new = [p for p in _readable_by_others(store_dir) if "customers/be" in p]
    assert new == []
    assert stat.S_IMODE(store_dir.stat().st_mode) == 0o700  # the folder shuts everything below it
    _use(crm)
    journal = next((store_dir / "customers" / "ac").glob("*/journal/*.yaml"))
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    assert stat.S_IMODE(journal.parent.stat().st_mode) == 0o700


def test_private_setting_must_be_true_or_false(crm: Crm, store_dir: Path) -> None:
    config = store_dir / "crm.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "private: 'yes'\n", encoding="utf-8")
    p = crm("customer", "list")
    line = len(config.read_text(encoding="utf-8").splitlines())
    assert (p.returncode, p.stderr) == (4, f"crm: error: {store_dir / 'crm.yaml'}:{line}: private must be true or "
                                           "false (true: the store's files are readable by their owner only)\n")
