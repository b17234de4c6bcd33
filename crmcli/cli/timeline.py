"""`crm timeline`: parse, read crmcli.analysis.timeline, render (crmcli.render.timeline)."""
from __future__ import annotations

import click

from crmcli.analysis import timeline as lib
from crmcli.cli.common import (
    CONTEXT_SETTINGS,
    exit_partial,
    format_option,
    get_app,
    records_option,
    report_skipped,
    skip_invalid_option,
)
from crmcli.domain.interactions import parse_since, parse_until
from crmcli.domain.kinds import check_types
from crmcli.errors import UsageError
from crmcli.render.timeline import render_timeline


@click.command("timeline", context_settings=CONTEXT_SETTINGS)
@click.argument("customer_ref", metavar="[CUSTOMER]", required=False)
@click.option("--all", "all_", is_flag=True, help="Every customer: the team's activity feed (default --since 7d).")
@click.option("--since", metavar="WHEN", help="From this moment: 7d, 3m, 2026-11-01, last monday.")
@click.option("--until", metavar="WHEN", help="Before this moment; a bare day includes that day.")
@click.option("--type", "types", multiple=True, metavar="TYPE",
              help="Only this type: call, task, task.done, opp, interaction... Repeatable.")
@click.option("--owner", metavar="NAME", help="With --all: only customers this person owns.")
@click.option("--by", metavar="NAME", help="Only events by this person.")
@click.option("--limit", "-n", type=click.IntRange(min=1), help="Only the newest N events.")
@click.option("--reverse", is_flag=True, help="Oldest first.")
@skip_invalid_option
@format_option()
@records_option
def timeline_cmd(customer_ref: str | None, all_: bool, since: str | None, until: str | None,
                 types: tuple[str, ...], owner: str | None, by: str | None, limit: int | None, reverse: bool,
                 skip_invalid: bool, fmt: str) -> None:
    """A customer's story, newest first: interactions, tasks, deals, tickets...

    Each line: when (local time), what, who, and the summary. With --all,
    the same for every customer (the team's feed); there a customer whose
    files cannot be read is named on stderr and the command fails (exit 4)
    unless --skip-invalid.

    \b
    Examples:
      crm timeline acme
      crm timeline acme --since 3m --type call --type meeting
      crm timeline acme --format json | jq '.[0]'
      crm timeline --all --since 7d --owner alice
    """
    if bool(customer_ref) == all_:
        raise UsageError("give a CUSTOMER, or --all for every customer's events")
    if owner and not all_:
        raise UsageError("--owner goes with --all (a customer has one owner)")
    store = get_app().store()
    flt = lib.TimelineFilter(types=check_types(store.config, types), by=by, limit=limit, reverse=reverse)
    flt.since = parse_since(since) if since else None
    flt.until = parse_until(until) if until else None
    problems: list[str] = []
    if all_:
        rows = lib.team_feed(store, flt.since or parse_since("7d"), flt.until, owner, flt, problems=problems)
        report_skipped(problems, skip_invalid, "no feed shown")
    else:
        rows = lib.timeline(store, customer_ref or "", flt)
    render_timeline(rows, fmt, feed=all_)
    exit_partial(len(problems), "unreadable customer", "the others' events were shown")
