"""`crm agenda`: parse, call crmcli.actions.agenda, print (crmcli.render.agenda)."""
from __future__ import annotations

import dataclasses
import sys
from typing import Any

import click

from crmcli.actions.agenda import AgendaItem, agenda
from crmcli.cli.common import (
    CONTEXT_SETTINGS,
    echo,
    exit_partial,
    format_option,
    get_app,
    records_option,
    report_skipped,
    shortened,
    skip_invalid_option,
)
from crmcli.domain import dates
from crmcli.render.agenda import agenda_lines
from crmcli.render.tables import render


@click.command("agenda", context_settings=CONTEXT_SETTINGS)
@click.option("--owner", metavar="NAME", help="Only this person's tasks and customers.")
@click.option("--mine", is_flag=True, help="Only your tasks and customers.")
@click.option("--days", type=click.IntRange(1, 366), default=7, show_default=True, help="How many days ahead.")
@skip_invalid_option
@format_option()
@records_option
def agenda_cmd(owner: str | None, mine: bool, days: int, skip_invalid: bool, fmt: str) -> None:
    """What needs doing, by day: overdue tasks, today's, the coming days'.

    Also customers losing touch (touch_every in customer.yaml lapsed),
    contract renewals, and birthdays of customers and contacts. A customer
    whose files cannot be read is named on stderr and the command fails
    (exit 4) unless --skip-invalid.

    \b
    Examples:
      crm agenda
      crm agenda --mine --days 14
      crm agenda --format json
    """
    store = get_app().store()
    problems: list[str] = []
    items = agenda(store, owner=store.user() if mine else owner, days=days, problems=problems)
    report_skipped(problems, skip_invalid, "no agenda shown")
    _show(store, items, days, fmt)
    exit_partial(len(problems), "unreadable customer", "the others' agenda was shown")


def _show(store: Any, items: list[AgendaItem], days: int, fmt: str) -> None:
    if fmt != "table":
        render([i.row() for i in items], fmt, columns=["date", "overdue", "time", "kind", "customer", "name",
                                                       "text", "ref", "owner"])
        return
    if not items:
        click.echo(f"Nothing on the agenda for the next {days} days.", err=True)
        return
    refs = shortened(store, [{"ref": i.ref} for i in items], "ref")  # short customer ids, as in every table
    items = [dataclasses.replace(i, ref=r["ref"]) for i, r in zip(items, refs, strict=True)]
    for line in agenda_lines(items, dates.now().date(), sys.stdout):
        echo(line)
