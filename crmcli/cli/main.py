"""Entry point: the root group, lazy loading of command modules, error handling.

Command modules are imported only when their command runs, so ``crm log``
never pays for the report machinery (and never imports pandas).
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from crmcli import __version__
from crmcli.cli.common import CONTEXT_SETTINGS, App
from crmcli.errors import EXIT_ABORTED, CrmError, Input, InputError, Partial

# command name -> (module, attribute); order is the order of `crm --help`
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("crmcli.cli.store", "init_cmd"),
    "customer": ("crmcli.cli.customer", "customer"),
    "contact": ("crmcli.cli.contact", "contact"),
    "show": ("crmcli.cli.show", "show_cmd"),
    "search": ("crmcli.cli.search", "search_cmd"),
    "log": ("crmcli.cli.log", "log_cmd"),
    "timeline": ("crmcli.cli.timeline", "timeline_cmd"),
    "task": ("crmcli.cli.task", "task"),
    "agenda": ("crmcli.cli.agenda", "agenda_cmd"),
    "care": ("crmcli.cli.care", "care_cmd"),
    "lead": ("crmcli.cli.lead", "lead"),
    "campaign": ("crmcli.cli.campaign", "campaign"),
    "mail": ("crmcli.cli.mail", "mail_cmd"),
    "points": ("crmcli.cli.points", "points"),
    "ticket": ("crmcli.cli.ticket", "ticket"),
    "survey": ("crmcli.cli.survey", "survey"),
    "kb": ("crmcli.cli.kb", "kb"),
    "need": ("crmcli.cli.needs", "need"),
    "feedback": ("crmcli.cli.needs", "feedback"),
    "opp": ("crmcli.cli.opp", "opp"),
    "pipeline": ("crmcli.cli.pipeline", "pipeline_cmd"),
    "order": ("crmcli.cli.order", "order"),
    "contract": ("crmcli.cli.contract", "contract"),
    "import": ("crmcli.cli.transfer", "import_cmd"),
    "export": ("crmcli.cli.transfer", "export_cmd"),
    "history": ("crmcli.cli.store", "history_cmd"),
    "diff": ("crmcli.cli.sync", "diff_cmd"),
    "sync": ("crmcli.cli.sync", "sync_cmd"),
    "check": ("crmcli.cli.store", "check_cmd"),
    "reindex": ("crmcli.cli.store", "reindex_cmd"),
    "undo": ("crmcli.cli.store", "undo_cmd"),
    "report": ("crmcli.cli.report", "report"),
    "site": ("crmcli.cli.site", "site"),
    "serve": ("crmcli.cli.site", "serve_cmd"),
    "key": ("crmcli.cli.key", "key"),
    "completion": ("crmcli.cli.store", "completion_cmd"),
    "help": ("crmcli.cli.manpage", "help_cmd"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module = importlib.import_module(target[0])
        command: click.Command = getattr(module, target[1])
        if os.environ.get("_CRM_COMPLETE"):  # a shell asks for completions: teach the parameters our values
            from crmcli.cli.complete import attach

            attach(command)
        return command

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                           list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:  # Click suggests from loaded commands: none here yet
            raise click.exceptions.NoSuchCommand(exc.command_name, possibilities=COMMANDS, ctx=ctx) from None


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="crm")
@click.option("--records", metavar="DIR",
              help="Records store to use (default: $CRM_RECORDS, else the nearest crm.yaml upwards).")
@click.option("--author", metavar="'NAME <EMAIL>'", envvar="CRM_AUTHOR",
              help="Who is acting, for commits (default: $CRM_AUTHOR, else the git user).")
@click.option("--no-commit", is_flag=True, help="Change the files but make no git commit.")
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
@click.option("--quiet", "-q", is_flag=True,
              help="Say nothing on success (for cron); errors still go to stderr with a non-zero exit.")
@click.option("--color", "color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour: auto (on a terminal, unless NO_COLOR is set), always (for less -R), never.")
@click.pass_context
def cli(ctx: click.Context, records: str | None, author: str | None, no_commit: bool, debug: bool,
        quiet: bool, color: str) -> None:
    """crm: a CRM that lives in the terminal and in git.

    Every customer is a folder of YAML files; every change is a git commit.

    \b
    Examples:
      crm init ~/crm && cd ~/crm
      crm customer add "Acme Corp" --tier A --email jane@acme.example
      crm customer list --tier A
      crm history acme
    """
    from crmcli.render.fit import set_color_mode

    set_color_mode(color)
    ctx.obj = App(records=records, author=author, no_commit=no_commit, debug=debug, quiet=quiet)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or bool(os.environ.get("CRM_DEBUG"))
    try:
        code = cli.main(args=args, prog_name="crm", standalone_mode=False)
        sys.stdout.flush()  # a reader that went away (crm show acme | head -2) is seen here, not at exit
        sys.exit(code if isinstance(code, int) else 0)
    except click.exceptions.Exit as exc:
        sys.stdout.flush()
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        usage = _suggest_command(exc)
        usage.show()
        sys.exit(usage.exit_code)
    except click.Abort:
        click.echo("crm: aborted; nothing changed", err=True)
        sys.exit(EXIT_ABORTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except CrmError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        message = exc.worded(_as_option) if isinstance(exc, InputError) else str(exc)
        click.echo(_on_screen(f"crm: {'partial' if isinstance(exc, Partial) else 'error'}: {message}"), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("crm: interrupted; nothing changed", err=True)
        sys.exit(130)
    except BrokenPipeError:
        _silence_broken_pipe()
        sys.exit(0)
    except SystemExit as exc:
        # click turns a closed pipe (EPIPE) into exit 1 behind a PacifyFlushWrapper; the reader just stopped
        if exc.code == 1 and type(sys.stdout).__name__.endswith("PacifyFlushWrapper"):
            _silence_broken_pipe()
            sys.exit(0)
        raise
    except Exception as exc:  # noqa: BLE001 - last resort: one line unless --debug
        if debug:
            raise
        click.echo(_on_screen(f"crm: internal error: {type(exc).__name__}: {exc} (run with --debug for the "
                              "traceback; please report it)"), err=True)
        sys.exit(70)


def _on_screen(line: str) -> str:
    """An error line as it is for scripts, cron and logs; on a terminal, wrapped to its width (by display
    width, later lines indented two spaces) so that it is read whole, not cut or broken mid-word."""
    if not sys.stderr.isatty():
        return line
    import shutil

    from crmcli.render.fit import dwidth, wrap

    width = shutil.get_terminal_size().columns
    if dwidth(line) <= width or width < 40:
        return line
    first = wrap(line, width)[0]
    rest = wrap(line[len(first):].strip(), width - 2)
    return "\n".join([first, *("  " + part for part in rest)])


def _as_option(name: Input) -> str:
    """The option that gives a library input: ``follow_up`` -> ``--follow-up``."""
    return f"--{name.name.replace('_', '-')}" + (f" {name.metavar}" if name.metavar else "")


def _suggest_command(exc: click.UsageError) -> click.UsageError:
    """``crm custmer`` -> ``No such command 'custmer'. Did you mean 'customer'?`` (else the error as it was)."""
    import difflib

    message = exc.format_message()
    if not message.startswith("No such command") or "Did you mean" in message or exc.ctx is None:
        return exc
    group = exc.ctx.command
    name = message.split("'")[1] if "'" in message else ""
    commands = group.list_commands(exc.ctx) if isinstance(group, click.Group) else []
    near = difflib.get_close_matches(name, commands, n=2, cutoff=0.6)
    if not near:
        return exc
    return click.UsageError(f"{message.rstrip('.')}. Did you mean {' or '.join(repr(n) for n in near)}?", exc.ctx)


def _silence_broken_pipe() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def run(*args: Any) -> None:  # pragma: no cover - convenience for python -c
    main([str(a) for a in args])
