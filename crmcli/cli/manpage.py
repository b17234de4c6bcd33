"""`crm help`: a command's help, or the whole manual as a man page (roff) made from the Click tree."""
from __future__ import annotations

import re

import click

from crmcli import __version__
from crmcli.cli.common import CONTEXT_SETTINGS, echo

# README's "Exit codes" table, which tests/test_unix.py checks this against
EXIT_CODES = [
    (0, "success"),
    (1, "crm check found problems"),
    (2, "bad command line (unknown option, missing argument, options that do not go together)"),
    (3, "unknown or ambiguous customer or record id"),
    (4, "invalid value or record (bad email, date, duration, interaction type, stage, tier, broken YAML; "
        "a file whose text encoding cannot be told)"),
    (5, "no records store found, or its format is newer than this crm"),
    (6, "git failed or refused (unknown identity, detached HEAD, a rebase in progress, remote unreachable)"),
    (7, "another crm command held the lock too long (CRM_LOCK_TIMEOUT, default 60 s)"),
    (8, "aborted: you answered no, or a question needed an answer and there was no terminal (pass --yes)"),
    (9, "partial: --skip-invalid left something out; the rest was done"),
    (70, "internal error (a bug: run again with --debug and report the traceback)"),
    (130, "interrupted"),
]
ENVIRONMENT = [
    ("CRM_RECORDS", "the store to use"),
    ("CRM_AUTHOR", "'Name <email>' recorded as the author of commits and as by:"),
    ("CRM_TZ", "IANA time zone for input and display (default: the system's)"),
    ("CRM_NOW", "pin \"now\" (ISO date-time), for reproducible scripts and tests"),
    ("CRM_LOCK_TIMEOUT", "seconds to wait for another crm command (default 60)"),
    ("CRM_IDENTITY", "your age identity file for the sensitive fields (default ~/.config/crm/identity.txt)"),
    ("NO_COLOR", "no colour, ever"),
    ("EDITOR", "editor for crm customer edit and crm log without a summary"),
]


def _esc(text: str) -> str:
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(("\\&" + line) if line[:1] in (".", "'") else line for line in text.split("\n"))


def _paragraphs(text: str) -> list[str]:
    """Help text as roff paragraphs: ``\\b`` blocks (examples) kept line by line, the rest filled."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", click.unstyle(text or "").strip()):
        if block.lstrip().startswith("\b"):
            lines = block.lstrip()[1:].strip("\n").split("\n")
            out.append(".nf\n" + "\n".join(_esc(line.rstrip()) for line in lines) + "\n.fi")
        elif block.strip():
            out.append(_esc(" ".join(line.strip() for line in block.split("\n"))))
    return [p if i == 0 else ".PP\n" + p for i, p in enumerate(out)]


def _options(cmd: click.Command, ctx: click.Context) -> list[str]:
    out = []
    for param in cmd.get_params(ctx):
        record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
        if record and not getattr(param, "hidden", False):
            out.append(f".TP\n\\fB{_esc(record[0])}\\fR\n{_esc(record[1]) if record[1] else ''}".rstrip())
    return out


def _leaves(group: click.Group, ctx: click.Context, prefix: str) -> list[tuple[str, click.Command, click.Context]]:
    found = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None or getattr(cmd, "hidden", False):
            continue
        sub = click.Context(cmd, info_name=name, parent=ctx)
        if isinstance(cmd, click.Group):
            found += _leaves(cmd, sub, f"{prefix}{name} ")
        else:
            found.append((f"{prefix}{name}", cmd, sub))
    return found


def man_page(root: click.Group) -> str:
    """The manual: synopsis, description, global options, every command with its options, exit status, environment."""
    ctx = click.Context(root, info_name="crm")
    help_text = click.unstyle(root.help or "")
    summary = help_text.split("\n", 1)[0].removeprefix("crm: ").rstrip(".")
    lines = [f'.TH CRM 1 "" "crmcli {__version__}" "User Commands"', ".SH NAME", f"crm \\- {_esc(summary)}",
             ".SH SYNOPSIS", ".B crm", "[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]...",
             ".SH DESCRIPTION", *_paragraphs(help_text.split("\n", 1)[1] if "\n" in help_text else ""),
             ".SH GLOBAL OPTIONS", *_options(root, ctx), ".SH COMMANDS"]
    for path, cmd, sub in _leaves(root, ctx, ""):
        pieces = " ".join(cmd.collect_usage_pieces(sub))
        lines += [f".SS crm {_esc(path)} {_esc(pieces)}", *_paragraphs(cmd.help or cmd.short_help or "")]
        options = _options(cmd, sub)
        if options:
            lines += [".PP", "Options:", ".RS", *options, ".RE"]
    lines += [".SH EXIT STATUS"]
    for code, meaning in EXIT_CODES:
        lines += [".TP", f"\\fB{code}\\fR", _esc(meaning)]
    lines += [".SH ENVIRONMENT"]
    for name, meaning in ENVIRONMENT:
        lines += [".TP", f"\\fB{name}\\fR", _esc(meaning)]
    lines += [".SH FILES", ".TP", "\\fBcrm.yaml\\fR", "the store's settings (the nearest one upwards marks the store)",
              ".TP", "\\fBcustomers/\\fISHARD\\fB/\\fIID\\fB/customer.yaml\\fR, \\fBjournal/\\fIYEAR\\fB.yaml\\fR",
              "a customer's profile and its append-only events", ".SH SEE ALSO", "\\fBgit\\fR(1)"]
    return "\n".join(lines) + "\n"


@click.command("help", context_settings=CONTEXT_SETTINGS)
@click.argument("words", nargs=-1, metavar="[COMMAND]...")
@click.option("--man", is_flag=True, help="Print the whole manual as a man page (roff), for man -l or MANPATH.")
@click.pass_context
def help_cmd(ctx: click.Context, words: tuple[str, ...], man: bool) -> None:
    """Help on a command (as COMMAND --help), or the whole manual as a man page.

    \b
    Examples:
      crm help log
      crm help customer edit
      crm help --man | man -l -
      crm help --man > ~/.local/share/man/man1/crm.1     # then: man crm
    """
    root = ctx.find_root().command
    assert isinstance(root, click.Group)
    if man:
        click.echo(man_page(root), nl=False)
        return
    cmd: click.Command = root
    sub = ctx.find_root()
    for word in words:
        nxt = cmd.get_command(sub, word) if isinstance(cmd, click.Group) else None
        if nxt is None:
            raise click.UsageError(f"no command 'crm {' '.join(words)}'; see crm --help")
        cmd, sub = nxt, click.Context(nxt, info_name=word, parent=sub)
    echo(cmd.get_help(sub))
