"""The README's text samples of the screens are true (issue 17): each is made again and compared.

A sample is a ``$ COLUMNS=N ... crm ...`` line of a ``console`` block in README.md and the lines under it, up to
the next ``$`` line or the end of the block. Each runs on a copy of the bundled ``records/`` store, with ``now``,
the time zone and the author pinned as for every README example (tests/test_docs.py ``ENV``), colour off, and
its output must be exactly the text the README shows (trailing spaces aside). Every screen has one.

To write them again after changing a screen: ``.venv/bin/python -m tests.test_samples --write``.
"""
from __future__ import annotations

import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from wcwidth import wcswidth

from tests.test_docs import ENV

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SAMPLE = re.compile(r"^\$ ((?:[A-Z_]+=\S* )*COLUMNS=(\d+) (?:[A-Z_]+=\S* )*crm .*)$")

# Every screen: the command (words after `crm`, before options) a README sample must show.
SCREENS = [
    "show", "timeline", "timeline --all", "agenda", "customer list", "search", "opp list", "pipeline",
    "ticket list", "task list", "contract list", "order list", "report weekly", "report pipeline",
    "report service", "report customers", "report needs", "report funnel", "report campaigns",
    "report referrals", "report loyalty", "care", "kb list", "campaign list",
]


@dataclass
class Sample:
    lineno: int  # of the `$` line
    command: str  # without the `$ `
    width: int
    shown: list[str]  # the output lines the README shows
    end: int  # the README line after the sample's last output line (0-based index into the lines)


def samples(lines: list[str]) -> list[Sample]:
    out: list[Sample] = []
    fence: str | None = None
    current: Sample | None = None
    for i, line in enumerate(lines):
        if line.startswith("```"):
            fence = line[3:].strip() if fence is None else None
            current = None
            continue
        if fence != "console":
            continue
        if line.startswith("$ "):
            m = SAMPLE.match(line)
            current = Sample(i + 1, m.group(1), int(m.group(2)), [], i + 1) if m else None
            if current:
                out.append(current)
        elif current is not None:
            current.shown.append(line)
            if line.strip():
                current.end = i + 1
    for s in out:
        while s.shown and not s.shown[-1].strip():
            s.shown.pop()
    return out


def screen_of(command: str) -> str:
    words = [w for w in shlex.split(command) if not re.fullmatch(r"[A-Z_]+=\S*", w)][1:]
    for screen in sorted(SCREENS, key=len, reverse=True):
        parts = screen.split()
        if words[:len(parts)] == parts or (parts[-1].startswith("--") and words[:len(parts) - 1] == parts[:-1]
                                            and parts[-1] in words):
            return screen
    return " ".join(words[:2])


def sample_store(root: Path) -> Path:
    shutil.copytree(ROOT / "records", root)
    git = ["git", "-c", "user.name=Sample", "-c", "user.email=sample@example.com", "-c", "init.defaultBranch=main"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "Sample records"]):
        subprocess.run([*git, *args], cwd=root, check=True)
    return root


class _Main:
    name = "crm"

    def main(self, args, prog_name=None, **extra):  # noqa: ANN001 - CliRunner protocol
        from crmcli.cli.main import main

        main(list(args))


def run(sample: Sample, store: Path) -> list[str]:
    """What the sample's command prints today, line by line, trailing spaces and blank lines at the end gone."""
    words = shlex.split(sample.command)
    env: dict[str, str | None] = {**ENV, "NO_COLOR": "1", "CRM_RECORDS": str(store), "FORCE_COLOR": None,
                                  "CRM_LANG": None}
    while re.fullmatch(r"[A-Z_]+=\S*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    result = CliRunner().invoke(_Main(), words[1:], env=env)  # type: ignore[arg-type]
    assert result.exit_code == 0, (sample.command, result.output)
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


SAMPLES = samples(README.read_text(encoding="utf-8").splitlines())


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_store(tmp_path_factory.mktemp("samples") / "crm")


@pytest.mark.parametrize("sample", SAMPLES, ids=[f"line{s.lineno}-{s.command[:40]}" for s in SAMPLES])
def test_a_readme_sample_is_what_the_command_prints(sample: Sample, store: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    shown = [line.rstrip() for line in sample.shown]
    printed = run(sample, store)
    diff = "\n".join(difflib.unified_diff(shown, printed, "README.md", "crm", lineterm=""))
    assert shown == printed, (f"README.md:{sample.lineno}: `{sample.command}` prints something else now; "
                              f"write the samples again (python -m tests.test_samples --write):\n{diff}")
    assert all(wcswidth(line) <= sample.width for line in shown), sample.command


def test_every_screen_has_a_sample_in_the_readme() -> None:
    shown = {screen_of(s.command) for s in SAMPLES}
    missing = [screen for screen in SCREENS if screen not in shown]
    assert not missing, f"README.md has no `$ COLUMNS=80 crm ...` sample of: {', '.join(missing)}"
    assert screen_of("COLUMNS=80 crm timeline --all -n 5") == "timeline --all"
    assert screen_of("COLUMNS=80 crm timeline acme -n 5") == "timeline"


def write() -> None:
    """Write every sample's output again into README.md (after a screen changed on purpose)."""
    import tempfile

    lines = README.read_text(encoding="utf-8").splitlines()
    with tempfile.TemporaryDirectory() as tmp:
        store = sample_store(Path(tmp) / "crm")
        os.environ.pop("COLUMNS", None)
        for s in reversed(samples(lines)):
            lines[s.lineno:s.end] = run(s, store)
    README.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.test_samples --write")
    write()
