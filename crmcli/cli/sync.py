"""`crm sync` and `crm diff`: team work over git."""
from __future__ import annotations

import sys

import click

from crmcli.actions.sync import NoRemote, resolve_base, store_diff, sync
from crmcli.cli.common import (
    CONTEXT_SETTINGS,
    echo,
    format_option,
    get_app,
    json_mode,
    note_result,
    records_option,
    say,
    store_options,
)
from crmcli.errors import UsageError
from crmcli.render.tables import render_data


@click.command("sync", context_settings=CONTEXT_SETTINGS)
@click.option("--merge", is_flag=True, help="Merge instead of rebasing local commits onto the remote's.")
@click.option("--no-push", is_flag=True, help="Only bring changes in.")
@store_options
def sync_cmd(merge: bool, no_push: bool) -> None:
    """Pull teammates' changes and push yours, in one line of output.

    Fetches, rebases local commits onto the remote branch (--merge to merge),
    and pushes. Commits nothing: uncommitted record changes stop it. A real
    conflict (two people changed the same field) is aborted and named, so the
    store is never left half-merged. With no git remote there is nothing to
    sync: one note on stderr (none with -q) and exit 0, so cron can run it.

    \b
    Examples:
      crm sync
      crm sync --merge
      git remote add origin git@example.com:team/crm.git && crm sync
    """

    store = get_app().store()
    try:
        result = sync(store, merge=merge, push=not no_push)
    except NoRemote as exc:
        note_result(synced=False, remote=None, note=str(exc))
        if not get_app().quiet and not json_mode():
            click.echo(f"crm: note: {exc}; nothing to sync", err=True)
        return
    note_result(synced=True, remote=result.remote, branch=result.branch, incoming=result.incoming,
                outgoing=result.outgoing, pushed=result.pushed, changed_customers=result.incoming_customers)
    say(result.summary())
    if result.incoming_customers and not get_app().quiet and not json_mode():
        shown = ", ".join(result.incoming_customers[:5])
        more = f" and {len(result.incoming_customers) - 5} more" if len(result.incoming_customers) > 5 else ""
        click.echo(f"Changed by others: {shown}{more}", err=True)


@click.command("diff", context_settings=CONTEXT_SETTINGS)
@click.argument("rev", required=False)
@click.option("--since", metavar="WHEN", help="Compare with the store as it was then (default: 7d).")
@format_option(["text", "json", "yaml"], default="text")
@records_option
def diff_cmd(rev: str | None, since: str | None, fmt: str) -> None:
    """What changed in the whole store since a time or a commit, by customer, in words.

    Includes changes not yet committed.

    \b
    Examples:
      crm diff --since monday
      crm diff --since 2w --format json
      crm diff origin/main            # what I have that the team has not seen
    """

    if rev and since:
        raise UsageError("give either REV or --since, not both")
    store = get_app().store()
    diffs = store_diff(store, resolve_base(store, since, rev))
    if fmt != "text":
        render_data([d.to_dict() for d in diffs], fmt)
        return
    from crmcli.render.fit import fit_line, screen_width

    width = screen_width(sys.stdout)
    for d in diffs:
        echo(fit_line(f"{d.name} ({d.customer}): {', '.join(d.changes) if d.changes else 'files changed'}", width))
    if not diffs:
        click.echo("No changes.", err=True)
