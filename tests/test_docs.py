"""The README is tested: every command is in its reference, and every example in it runs.

1. Every command of the real Click tree (each leaf: ``customer add``, ``opp advance``, ``report weekly``,
   ``key gen``, ``completion``...) is defined in the README's "Command reference" (between
   ``<!-- COMMANDS -->`` and ``<!-- /COMMANDS -->``):
   a table row starting with `` `crm customer add ``, a heading holding `` `crm log` ``, a paragraph starting
   with `` `crm agenda ``, or a synopsis line ``crm ticket open ...`` in an untagged fenced block. The
   reverse holds too: every ``crm X Y`` written anywhere in the README names a real command, and every
   option a definition lists (``--tier``, ``-m``) is an option of that command.
2. Every README example runs. The ``sh``/``bash``/``console`` blocks that run ``crm`` are run in order, one
   test per README section (its ``##``/``###`` heading), in a fresh store seeded as that section assumes
   (``SEEDS``), with ``CRM_NOW``, ``CRM_TZ`` and ``CRM_AUTHOR`` pinned. crm runs in-process (``main()`` under
   Click's CliRunner), so exit codes are the real ones.

   - Each line must exit 0. A line that fails on purpose ends with ``# exit N`` (the code it must exit with).
   - In ``console`` blocks, lines starting with ``$ `` are commands and the others their output. Ids are
     random, so an id a command's shown output introduces (``opp-azs8``) is replaced in later lines by the
     id the run printed. Files an example assumes the user has (a spreadsheet to import) are in ``FILES``.
   - A tiny shell: ``A && B``, ``cd DIR``, ``~``, ``> FILE``, ``eval "$(crm ...)"`` (runs the crm part) and
     ``NAME=value crm ...`` (an environment variable for that command, e.g. ``COLUMNS=80``).
   - A line that cannot run in a test is skipped only by a rule in ``SKIP`` (pattern and reason); any other
     line that does not run crm fails the test, so nothing is skipped silently.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from crmcli.cli.main import cli, main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
LINES = README.read_text(encoding="utf-8").splitlines()

ENV = {"CRM_NOW": "2026-11-23T10:00:00+08:00", "CRM_TZ": "Asia/Shanghai",
       "CRM_AUTHOR": "Alice Example <alice@example.com>"}

# Lines of README examples that cannot run in a test: (regex searched in the line, reason).
SKIP: list[tuple[str, str]] = [
    (r"^make ", "builds this project; `make test` runs this very file"),
    (r"^python3 -m pip install", "installs the package (pip install)"),
    (r"^git remote add", "adds a network remote"),
    (r"^crm sync\b", "fetches from and pushes to a remote"),
    (r"^git log\b", "plain git, shown for reference"),
    (r"^\S+ \S+ \S+ \S+ \S+\s+cd ", "a crontab entry"),
    (r"> ~/", "writes into the user's shell configuration"),
]

# README section (heading text) -> the store its examples assume:
#   "none": no store (the examples make one), "new": an empty store, "sample": a copy of records/,
#   "sample+sensitive": the sample with the `sensitive_fields` line of that section's crm.yaml snippet.
SEEDS: dict[str, str] = {
    "crmcli — a CRM that lives in the terminal and in git": "new",
    "Install for daily use": "none",
    "Quick tour": "none",
    "Customers and contacts": "sample+sensitive",
    "Activities: logging, the timeline, tasks and the agenda": "sample",
    "Sales: deals, the pipeline, orders and contracts": "sample",
    "Service: tickets, SLA, complaints and surveys": "sample",
    "Overview, health and search": "sample",
    "Growth: leads, the funnel, campaigns and mail": "sample",
    "Screens, colour and languages": "sample",
    "Reports": "sample",
    "Web view: a static site and `crm serve`": "sample",
    "Import and export": "sample",
    "Working as a team": "sample",
}

# Files a section's examples assume the user has, written into the store before they run.
FILES: dict[str, dict[str, bytes]] = {
    "Growth: leads, the funnel, campaigns and mail": {  # the template `crm mail --template invite.txt` reads
        "invite.txt": (b"Subject: {{ campaign.title }}: an invitation for {{ customer.name }}\n\n"
                       b"Dear {{ contact.name }},\n\nWe would be glad to see you at our {{ campaign.title }} on "
                       b"{{ campaign.start }}.\n\n{{ sender }}\n"),
    },
    "Import and export": {  # the spreadsheet `crm import 客户.csv` reads, as its dry-run output describes
        "客户.csv": ("客户名称,联系人,邮箱,电话,行业,负责人\n"
                   "杭州云栖数据有限公司,赵敏,zhao.min@yunqi.example.cn,0571 8888 1234,软件,王芳\n"
                   "苏州河畔制造有限公司,钱伟,qian.wei@hepan.example.cn,0512 6666 5678,制造,李雷\n").encode("gb18030"),
        # the website export `crm import web-events.csv --kind events` reads
        "web-events.csv": (b"customer,timestamp,event,count\n"
                           b"globex-health-gmbh-g8xg,2026-11-22T09:15:00+08:00,Page View,\n"
                           b"k.weber@globex-health.example,2026-11-22T09:20:00+08:00,download,2\n"),
    },
}

ID = re.compile(r"\b(?:opp|tkt|task)-[a-z0-9]{4}\b")
EXIT = re.compile(r"#\s*exit (\d+)\s*$")


# ---- the command tree --------------------------------------------------------------------------------------

def command_tree() -> dict[str, click.Command]:
    """Every command by its path ("customer add"), groups and leaves."""
    out: dict[str, click.Command] = {}

    def walk(group: click.Group, prefix: str) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            assert cmd is not None, name
            path = f"{prefix}{name}"
            out[path] = cmd
            if isinstance(cmd, click.Group):
                walk(cmd, path + " ")

    walk(cli, "")
    return out


TREE = command_tree()
LEAVES = sorted(p for p, c in TREE.items() if not isinstance(c, click.Group))


def resolve(words: list[str]) -> tuple[str, str | None]:
    """The command path `crm WORDS...` names, and an error when it names none."""
    path = ""
    group: click.Command = cli
    while words and words[0] in ("--records", "--author", "--no-commit", "--debug", "--color"):  # global options
        words = words[2:] if words[0] in ("--records", "--author", "--color") else words[1:]
    if not words or words[0] in ("...", "--version", "-h", "--help"):
        return "", None
    for word in words:
        if not isinstance(group, click.Group):
            break
        if not re.fullmatch(r"[a-z][a-z-]*", word):
            break
        candidate = f"{path} {word}".strip()
        if candidate not in TREE:
            return candidate, f"no command `crm {candidate}`"
        path, group = candidate, TREE[candidate]
    if not path:
        return "", "no command after `crm`"
    return path, None


# ---- the README --------------------------------------------------------------------------------------------

def reference_lines() -> list[tuple[int, str]]:
    start = LINES.index("<!-- COMMANDS -->")
    end = LINES.index("<!-- /COMMANDS -->")
    return [(i + 1, LINES[i]) for i in range(start, end)]


def definitions() -> dict[str, int]:
    """Command path -> README line of its definition in the command reference."""
    found: dict[str, int] = {}
    for lineno, path, _ in definition_texts():
        found.setdefault(path, lineno)
    return found


def definition_texts() -> list[tuple[int, str, str]]:
    """(README line, command path, the synopsis text) of each definition in the command reference."""
    found: list[tuple[int, str, str]] = []
    fence: str | None = None
    for lineno, line in reference_lines():
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
            continue
        texts: list[str] = []
        if fence is not None:
            if fence == "" and line.startswith(" ") and found and found[-1][0] == lineno - 1:
                last = found.pop()  # a synopsis continued on the next line
                found.append((lineno, last[1], last[2] + line))
            elif fence == "" and line.startswith("crm "):
                texts.append(line)
        elif line.startswith("| `crm "):
            texts.append(line.split("`")[1])
        elif line.startswith("#"):
            texts += [s for s in re.findall(r"`([^`]*)`", line) if s.startswith("crm ")]
        elif line.startswith("`crm "):
            texts.append(line.split("`")[1])
        for text in texts:
            path, error = resolve(text.split()[1:])
            if error is None:
                found.append((lineno, path, text))
    return found


def mentions() -> list[tuple[int, str]]:
    """Every `crm ...` the README writes: inline code, and command lines of fenced blocks."""
    out = []
    fence = False
    for lineno, line in enumerate(LINES, 1):
        if line.startswith("```"):
            fence = not fence
            continue
        if fence:
            for part in re.split(r"&&|\$\(", line.removeprefix("$ ")):
                part = part.strip().strip('"')
                if part.startswith("crm "):
                    out.append((lineno, part))
        else:
            out += [(lineno, s) for s in re.findall(r"`(crm [^`]*)`", line)]
    return out


@pytest.mark.parametrize("path", LEAVES)
def test_every_command_is_in_the_command_reference(path: str) -> None:
    defined = definitions()
    assert path in defined, (
        f"`crm {path}` is missing from README.md's Command reference: add a table row `crm {path} ...`")


def test_every_command_the_readme_names_exists() -> None:
    wrong = []
    for lineno, text in mentions():
        words = text.replace("\\|", "|").split()[1:]
        _, error = resolve(words)
        if error:
            wrong.append(f"README.md:{lineno}: {text!r}: {error}")
    assert not wrong, "\n".join(wrong)


def test_every_option_the_reference_names_exists() -> None:
    store_options = {"--records", "--author", "--no-commit", "-h", "--help"}
    wrong = []
    for lineno, path, text in definition_texts():
        known = {o for p in TREE[path].params for o in (*p.opts, *p.secondary_opts)} | store_options
        for option in re.findall(r"(?<![\w-])--?[a-z][a-z-]*", text):
            if option not in known:
                wrong.append(f"README.md:{lineno}: `crm {path}` has no option {option}")
    assert not wrong, "\n".join(wrong)


def test_the_reference_covers_every_top_level_command() -> None:
    defined = {p.split()[0] for p in definitions()}
    assert defined == set(TREE) - {p for p in TREE if " " in p}


# ---- the examples ------------------------------------------------------------------------------------------

@dataclass
class Line:
    lineno: int
    text: str
    output: list[str] = field(default_factory=list)  # shown output (console blocks)


@dataclass
class Section:
    heading: str
    lineno: int
    lines: list[Line] = field(default_factory=list)
    snippets: list[str] = field(default_factory=list)  # its yaml blocks


def sections() -> list[Section]:
    out: list[Section] = []
    current = Section("", 1)
    fence: str | None = None
    block: list[str] = []
    for lineno, line in enumerate(LINES, 1):
        if fence is None:
            m = re.match(r"(#{1,3}) (.*)", line)
            if m:
                current = Section(m.group(2), lineno)
                out.append(current)
            elif line.startswith("```"):
                fence, block = line[3:].strip(), []
            continue
        if not line.startswith("```"):
            block.append(line)
            if fence in ("sh", "bash"):
                if line.strip() and not line.lstrip().startswith("#"):
                    current.lines.append(Line(lineno, line.strip()))
            elif fence == "console":
                if line.startswith("$ "):
                    current.lines.append(Line(lineno, line[2:].strip()))
                elif current.lines and line.strip():
                    current.lines[-1].output.append(line)
            continue
        if fence == "yaml":
            current.snippets.append("\n".join(block))
        fence = None
    return [s for s in out if any(re.search(r"(^|&& |\$\()([A-Z_]+=\S* )*crm ", ln.text) for ln in s.lines)]


SECTIONS = sections()


def skip_reason(text: str) -> str | None:
    for pattern, reason in SKIP:
        if re.search(pattern, text):
            return reason
    return None


class Shell:
    def __init__(self, cwd: Path, home: Path):
        self.cwd, self.home = cwd, home
        self.ids: dict[str, str] = {}

    def expand(self, word: str) -> str:
        if word == "~" or word.startswith("~/"):
            word = str(self.home) + word[1:]
        return ID.sub(lambda m: self.ids.get(m.group(0), m.group(0)), word)

    def crm(self, args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
        os.chdir(self.cwd)
        result = CliRunner().invoke(_Main(), args, env=env)  # type: ignore[arg-type]
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    def run(self, line: Line) -> tuple[int, str]:
        """Run one example line; (exit code, output) of its last command."""
        code, output = 0, ""
        words = shlex.split(EXIT.sub("", line.text), comments=True)
        commands: list[list[str]] = [[]]
        for w in words:
            if w == "&&":
                commands.append([])
            else:
                commands[-1].append(w)
        for command in commands:
            redirect = None
            if ">" in command:
                at = command.index(">")
                command, redirect = command[:at], command[at + 1]
            if command[0] == "eval" and command[1].startswith("$(crm "):
                command = shlex.split(command[1][2:-1])
            command = [self.expand(w) for w in command]
            env = {}
            while command and re.fullmatch(r"[A-Z_]+=\S*", command[0]):  # COLUMNS=80 crm ...: for that command
                name, _, value = command.pop(0).partition("=")
                env[name] = value
            if command[0] == "cd":
                self.cwd = self.cwd / command[1]
                assert self.cwd.is_dir(), f"README.md:{line.lineno}: cd: no folder {self.cwd}"
                continue
            assert command[0] == "crm", (
                f"README.md:{line.lineno}: {line.text!r} is no crm command: run it or add a SKIP rule")
            code, output = self.crm(command[1:], env)
            if redirect:
                (self.cwd / self.expand(redirect)).write_text(output, encoding="utf-8")
            if code:
                break
        return code, output

    def learn_ids(self, line: Line, output: str) -> None:
        shown = [i for i in dict.fromkeys(ID.findall("\n".join(line.output))) if i not in self.ids]
        real = [i for i in dict.fromkeys(ID.findall(output)) if i not in self.ids.values()]
        for doc_id, run_id in zip(shown, real, strict=False):
            if doc_id.split("-")[0] == run_id.split("-")[0]:
                self.ids[doc_id] = run_id


class _Main:
    """CliRunner adapter that runs main(), so exit codes and error lines are the real ones."""

    name = "crm"

    def main(self, args, prog_name=None, **extra):  # noqa: ANN001 - CliRunner protocol
        main(list(args))


def seed(kind: str, section: Section, tmp: Path) -> Path:
    if kind == "none":
        return tmp
    root = tmp / "crm"
    if kind == "new":
        assert CliRunner().invoke(cli, ["init", str(root)]).exit_code == 0
        return root
    shutil.copytree(ROOT / "records", root)
    if kind == "sample+sensitive":
        wanted = [ln for s in section.snippets for ln in s.splitlines() if ln.startswith("sensitive_fields:")]
        with open(root / "crm.yaml", "a", encoding="utf-8") as f:
            f.write(wanted[0] + "\n")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "Sample records"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


@pytest.mark.parametrize("section", SECTIONS, ids=[f"line{s.lineno}-{s.heading[:30]}" for s in SECTIONS])
def test_readme_examples_run(section: Section, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert section.heading in SEEDS, f"README.md:{section.lineno}: add section {section.heading!r} to SEEDS"
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    home = Path(os.environ["HOME"])
    monkeypatch.chdir(tmp_path)
    shell = Shell(seed(SEEDS[section.heading], section, tmp_path), home)
    for name, content in FILES.get(section.heading, {}).items():
        (shell.cwd / name).write_bytes(content)
    for line in section.lines:
        if skip_reason(line.text):
            continue
        m = EXIT.search(line.text)
        expected = int(m.group(1)) if m else 0
        code, output = shell.run(line)
        assert code == expected, (
            f"README.md:{line.lineno}: {line.text!r} exited {code}, expected {expected}:\n{output}")
        shell.learn_ids(line, output)


def test_every_skip_rule_is_used() -> None:
    texts = [ln.text for s in SECTIONS for ln in s.lines]
    for pattern, reason in SKIP:
        assert any(re.search(pattern, t) for t in texts), f"SKIP rule {pattern!r} ({reason}) matches no example"
