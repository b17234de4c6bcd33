"""`crm init`, `crm check`, `crm reindex`, `crm history`, `crm undo`, `crm completion`."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from crmcli.actions.check import run_checks
from crmcli.actions.history import record_history
from crmcli.actions.reindex import reindex
from crmcli.actions.undo import undo_last, undo_target
from crmcli.cli.common import (
    CONTEXT_SETTINGS,
    confirm,
    done,
    echo,
    format_option,
    get_app,
    note_result,
    print_result,
    quiet_option,
    records_option,
    result_line,
    say,
    store_options,
)
from crmcli.cli.main import cli
from crmcli.errors import EXIT_PROBLEMS, UsageError
from crmcli.render.tables import render_data
from crmcli.store.location import init_store


@click.command("init", context_settings=CONTEXT_SETTINGS)
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--name", help="Name of the store (default: the folder's name).")
@click.option("--author", "author_", metavar="'NAME <EMAIL>'", help="Who is acting (default: the git user).")
@click.option("--no-commit", "no_commit_", is_flag=True, help="Create the files but make no git commit.")
@click.option("--private", is_flag=True,
              help="Owner-only permissions (0700 folders, 0600 files), kept by 'private: true' in crm.yaml.")
@click.option("--currency", metavar="CODE",
              help="The store's currency, a three-letter code (default: CNY); amounts without one are in it.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one JSON document on stdout (root, commit) instead of the lines for people.")
@quiet_option
def init_cmd(directory: str, name: str | None, author_: str | None, no_commit_: bool, private: bool,
             currency: str | None, fmt: str) -> None:
    """Create a records store (and a git repository when not inside one).

    --private makes the store readable by you alone on this machine: the
    folder becomes 0700, and everything crm and git create in it 0600/0700,
    now and later (private: true in crm.yaml).

    \b
    Examples:
      crm init ~/crm
      crm init ~/crm --private
      crm init . --name "Acme sales"
      crm init ~/crm-us --currency USD
    """

    app = get_app()
    app.fmt = fmt
    if currency is not None and not re.fullmatch(r"[A-Za-z]{3}", currency.strip()):
        raise UsageError(f"--currency {currency!r}: give a three-letter code (like USD, EUR, CNY)")
    store = init_store(Path(directory), name=name, author=author_ or app.author,
                       commit=not (no_commit_ or app.no_commit), private=private,
                       currency=currency.strip().upper() if currency else None)
    app._store = store
    result_line(str(store.root))
    done(f"Created records store in {store.rel(store.root)}; next: crm customer add NAME", store,
         root=str(store.root))
    print_result()


@click.command("check", context_settings=CONTEXT_SETTINGS)
@click.option("--all", "full", is_flag=True,
              help="Re-read every file (both cores) instead of only what changed since the last check.")
@format_option(["text", "json"], default="text")
@records_option
def check_cmd(full: bool, fmt: str) -> None:
    """Validate every record; print path:line: problem, exit 1 if any.

    Finds unreadable YAML, unknown stages and tiers, bad dates and emails,
    duplicate ids and emails, and leftover git conflict markers. Only the
    customers git says changed since the last check (and those with a
    problem then) are read again, and the index's rows of each customer
    read are compared with its files: rows that disagree are reported and
    rebuilt.

    \b
    Examples:
      crm check
      crm check --all
      crm check --format json | jq length
    """

    store = get_app().store(guard=False)  # a tracked or symlinked .crm is reported, not refused
    problems = run_checks(store, full=full)
    if fmt == "json":
        render_data([{"path": p.path, "line": p.line, "message": p.message} for p in problems], "json")
    else:
        for p in problems:
            echo(str(p))
        count = len(problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} found" if count else "No problems found.",
                   err=True)
    if problems:
        sys.exit(EXIT_PROBLEMS)


@click.command("reindex", context_settings=CONTEXT_SETTINGS)
@store_options
def reindex_cmd() -> None:
    """Rebuild the derived index (customers, contacts, search text) from the files.

    Never needed for correct answers: every command catches the index up
    with git and with hand edits by itself. Use it to reclaim space or after
    copying a store's .git folder by hand.

    \b
    Examples:
      crm reindex
    """

    store = get_app().store()
    if sys.stderr.isatty():
        click.echo("Reading every customer's files and writing the index...", err=True)
    r = reindex(store)
    unreadable = f", {r.unreadable} unreadable (see crm check)" if r.unreadable else ""
    note_result(customers=r.customers, contacts=r.contacts, unreadable=r.unreadable)
    say(f"Indexed {r.customers} customer{'s' if r.customers != 1 else ''} and {r.contacts} "
         f"contact{'s' if r.contacts != 1 else ''}{unreadable} in {r.seconds:.1f}s "
         f"(search: FTS5 {r.tokenizer}) into {store.rel(r.path)}")


@click.command("history", context_settings=CONTEXT_SETTINGS)
@click.argument("customer_ref", metavar="CUSTOMER|ID")
@click.option("--limit", "-n", type=click.IntRange(min=1), help="Only the newest N changes.")
@format_option(["text", "json", "yaml"], default="text")
@records_option
def history_cmd(customer_ref: str, limit: int | None, fmt: str) -> None:
    """Changes to a customer, deal, ticket or task, newest first, field by field, with who and when.

    \b
    Examples:
      crm history acme
      crm history acme -n 5 --format json
      crm history opp-9x2m            # one deal's stage changes, wins and edits
    """
    from crmcli.render.tables import render_data, style

    store = get_app().store()
    _, changes = record_history(store, customer_ref, limit=limit)
    if fmt != "text":
        render_data([c.to_dict() for c in changes], fmt)
        return
    from crmcli.domain import dates
    from crmcli.render.fit import fit_line, screen_width

    out = sys.stdout
    width = screen_width(out)
    for c in changes:
        when = dates.format_local(dates.parse_iso(c.date))
        echo(fit_line(f"{style(c.commit[:8], out, fg='yellow')}  {when}  {c.author}  {c.subject}", width))
        for line in c.details:
            echo(fit_line(f"    {line}", width))
    if not changes:
        click.echo("No commits touch this customer yet.", err=True)


@click.command("undo", context_settings=CONTEXT_SETTINGS)
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
@store_options
def undo_cmd(yes: bool) -> None:
    """Revert the last change made by crm (as a new commit); refuse anything else.

    Run it again to step further back: undo never undoes an undo, it skips
    earlier undos and the changes they reverted. To bring an undone change
    back, revert the undo commit with git (git revert).

    \b
    Examples:
      crm undo
      crm undo --yes
    """

    store = get_app().store()
    if not yes:
        _, subject = undo_target(store)
        confirm(f'Undo "{subject}"?', yes)
    result = undo_last(store)
    done(f'Undid "{result.subject}" ({result.commit[:8]})', store, undone=result.commit)


@click.command("completion", context_settings=CONTEXT_SETTINGS)
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion_cmd(shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish.

    \b
    Examples:
      eval "$(crm completion bash)"          # in ~/.bashrc
      crm completion fish > ~/.config/fish/completions/crm.fish
    """
    from click.shell_completion import get_completion_class


    cls = get_completion_class(shell)
    assert cls is not None
    echo(cls(cli, {}, "crm", "_CRM_COMPLETE").source())
