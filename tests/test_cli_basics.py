"""The command line itself: version, help everywhere, completion, errors, imports, colour."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest

from crmcli import __version__
from crmcli.cli.main import COMMANDS, cli
from crmcli.render import tables as render
from tests.conftest import commits
from tests.terminal import on_a_terminal


def all_commands() -> list[list[str]]:
    """Every command and subcommand path, e.g. ["customer", "add"]."""
    ctx = click.Context(cli)
    paths: list[list[str]] = []

    def walk(cmd: click.Command, path: list[str]) -> None:
        paths.append(path)
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None, path + [name]
                walk(sub, path + [name])

    for name in COMMANDS:
        cmd = cli.get_command(ctx, name)
        assert cmd is not None, name
        walk(cmd, [name])
    return paths


def test_version(invoke) -> None:
    r = invoke("--version")
    assert (r.exit_code, r.stdout) == (0, f"crm, version {__version__}\n")


def test_help_on_every_command_and_subcommand(invoke) -> None:
    paths = all_commands()
    for expected in (["init"], ["customer", "add"], ["customer", "list"], ["customer", "show"], ["customer", "edit"],
                     ["customer", "rm"], ["contact", "add"], ["history"], ["check"], ["undo"], ["completion"]):
        assert expected in paths
    for path in [[], *paths]:
        for flag in ("-h", "--help"):
            r = invoke(*path, flag)
            assert r.exit_code == 0, (path, r.output)
            assert r.stdout.startswith(f"Usage: crm {' '.join(path)}".rstrip() + " "), path
            assert "Examples:\n" in r.stdout, f"crm {' '.join(path)} --help has no Examples:"
            assert r.stderr == ""


def test_root_help_lists_every_command_in_order(invoke) -> None:
    r = invoke("--help")
    listed = [line.split()[0] for line in r.stdout.split("Commands:\n", 1)[1].splitlines() if line.strip()]
    assert listed == list(COMMANDS)


def test_usage_errors_exit_2(invoke) -> None:
    r = invoke("nope")
    assert r.exit_code == 2
    assert "No such command 'nope'" in r.stderr
    r = invoke("customer", "add")
    assert r.exit_code == 2 and "Missing argument 'NAME'" in r.stderr
    r = invoke("customer", "list", "--format", "xml")
    assert r.exit_code == 2 and "'xml' is not one of" in r.stderr
    r = invoke("customer", "list", "--limit", "0")
    assert r.exit_code == 2


@pytest.mark.parametrize(("shell", "marker"), [
    ("bash", "_CRM_COMPLETE=bash_complete"),
    ("zsh", "#compdef crm"),
    ("fish", "complete --no-files --command crm"),
])
def test_completion_scripts(invoke, shell: str, marker: str) -> None:
    r = invoke("completion", shell)
    assert r.exit_code == 0, r.output
    assert marker in r.stdout


def test_completion_rejects_other_shells_and_completes_for_real(invoke, crm, store_dir: Path) -> None:
    r = invoke("completion", "powershell")
    assert r.exit_code == 2
    p = crm(env={"_CRM_COMPLETE": "bash_complete", "COMP_WORDS": "crm cus", "COMP_CWORD": "1"})
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["plain,customer"]
    p = crm(env={"_CRM_COMPLETE": "bash_complete", "COMP_WORDS": "crm customer l", "COMP_CWORD": "2"})
    assert p.stdout.splitlines() == ["plain,list"]


# -- errors ---------------------------------------------------------------------------------------------------


def test_debug_shows_the_traceback_only_when_asked(invoke, store_dir: Path, monkeypatch) -> None:
    r = invoke("customer", "show", "nobody")
    assert r.exit_code == 3
    assert r.stderr == "crm: error: no customer 'nobody'; see crm customer list\n"
    r = invoke("--debug", "customer", "show", "nobody")
    assert r.exit_code == 3
    assert r.stderr.startswith("Traceback (most recent call last):\n")
    assert "crmcli.errors.NotFound: no customer 'nobody'" in r.stderr
    assert r.stderr.endswith("crm: error: no customer 'nobody'; see crm customer list\n")
    monkeypatch.setenv("CRM_DEBUG", "1")
    assert "Traceback" in invoke("customer", "show", "nobody").stderr


def test_internal_errors_are_one_line_without_debug(invoke, store_dir: Path, monkeypatch) -> None:
    def kaboom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr("crmcli.actions.customer.list_customers", kaboom)
    before = commits(store_dir)
    r = invoke("customer", "list")
    assert r.exit_code == 70
    assert r.stderr == ("crm: internal error: RuntimeError: kaboom (run with --debug for the traceback; please "
                        "report it)\n")
    r = invoke("--debug", "customer", "list")
    assert isinstance(r.exception, RuntimeError)
    assert commits(store_dir) == before


def test_errors_through_the_real_entry_point(crm, store_dir: Path, tmp_path: Path) -> None:
    p = crm("customer", "list", cwd=tmp_path)
    assert p.returncode == 5
    assert p.stderr == ("crm: error: no records store found here or above; create one with: crm init [DIR], "
                        "or point to one with --records DIR or CRM_RECORDS\n")
    p = crm("customer", "show", "nobody")
    assert (p.returncode, p.stdout) == (3, "")
    assert "Traceback" not in p.stderr
    p = crm("--debug", "customer", "show", "nobody")
    assert p.returncode == 3 and "Traceback (most recent call last)" in p.stderr
    p = crm("--version")
    assert (p.returncode, p.stdout) == (0, f"crm, version {__version__}\n")


# -- imports ----------------------------------------------------------------------------------------------------


def test_everyday_commands_do_not_import_pandas_or_openpyxl(store_dir: Path) -> None:
    script = textwrap.dedent("""
        import sys
        from crmcli.cli.main import main

        def run(*args):
            try:
                main(list(args))
            except SystemExit as exc:
                assert exc.code in (0, None), (args, exc.code)

        run("customer", "add", "Acme Corp", "--tier", "B", "--contact", "李娜 <li.na@example.cn>")
        run("customer", "add", "深圳市基石协作科技有限公司")
        run("customer", "list")
        run("customer", "list", "--format", "csv")
        run("customer", "show", "acme")
        run("customer", "edit", "acme", "--set", "tier=A")
        run("contact", "add", "acme", "Jane", "--email", "jane@acme.example")
        run("history", "acme")
        run("check")
        run("undo", "--yes")
        print("HEAVY", sorted(m for m in sys.modules if m.split(".")[0] in ("pandas", "openpyxl", "numpy")))
        """)
    p = subprocess.run([sys.executable, "-c", script], cwd=store_dir, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1] == "HEAVY []"
    p = subprocess.run([sys.executable, "-X", "importtime", "-m", "crmcli", "customer", "list"], cwd=store_dir,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0
    imported = [line.rsplit("|", 1)[-1].strip() for line in p.stderr.splitlines() if line.startswith("import time:")]
    assert "crmcli.actions.customer" in imported and "tabulate" in imported  # the command really ran
    assert not [m for m in imported if m.split(".")[0] in ("pandas", "openpyxl", "numpy")]


# -- colour ------------------------------------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert render.style("x", _Tty(), fg="yellow", bold=True) == "\x1b[1;33mx\x1b[0m"
    assert render.style("x", io.StringIO(), fg="yellow") == "x"
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: only a non-empty NO_COLOR turns colour off
    assert render.style("x", _Tty(), fg="yellow") == "\x1b[33mx\x1b[0m"
    monkeypatch.setenv("NO_COLOR", "1")
    assert render.style("x", _Tty(), fg="yellow") == "x"
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert render.style("x", _Tty(), fg="yellow") == "x"


def _on_a_terminal(cwd: Path, args: list[str], env: dict[str, str]) -> str:
    p, shown = on_a_terminal([sys.executable, "-m", "crmcli", *args], cwd=cwd, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    return shown


def test_no_color_is_respected_on_a_terminal(invoke, store_dir: Path) -> None:
    cid = invoke("customer", "add", "Acme Corp").stdout.strip()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm"
    coloured = _on_a_terminal(store_dir, ["history", cid], env)
    assert "\x1b[33m" in coloured
    plain = _on_a_terminal(store_dir, ["history", cid], {**env, "NO_COLOR": "1"})
    assert "\x1b[" not in plain
    assert plain.splitlines()[1] == "    created"


def _leaf_commands(cmd, path):  # noqa: ANN001, ANN202 - click objects
    import click

    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            yield from _leaf_commands(cmd.get_command(ctx, name), [*path, name])
    else:
        yield " ".join(path), cmd


def test_no_command_declares_an_option_twice():
    """Shared decorators (store_options adds --format) must not clash with a command's own options."""
    from crmcli.cli.main import cli

    clashes = []
    for name, cmd in _leaf_commands(cli, ["crm"]):
        seen: set[str] = set()
        for param in cmd.params:
            for opt in [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]:
                if opt in seen:
                    clashes.append(f"{name} {opt}")
                seen.add(opt)
    assert clashes == []
