"""`crm care`: birthdays, anniversaries, revisits, check-ins and holidays due this week, by kind."""
from __future__ import annotations

from datetime import date

import click

from crmcli.actions import care as actions
from crmcli.cli.common import (
    CONTEXT_SETTINGS,
    echo,
    exit_partial,
    format_option,
    get_app,
    records_option,
    report_skipped,
    skip_invalid_option,
)
from crmcli.domain import dates
from crmcli.domain.care import CareItem
from crmcli.render.tables import render

COLUMNS = ["kind", "date", "status", "name", "text", "owner", "greeting"]
DATA_COLUMNS = ["kind", "date", "status", "customer", "name", "text", "owner", "greeting"]


@click.command("care", context_settings=CONTEXT_SETTINGS)
@click.option("--owner", metavar="NAME", help="Only this person's customers.")
@click.option("--mine", is_flag=True, help="Only your customers.")
@click.option("--days", type=click.IntRange(1, 366), help="From today this many days, instead of this week.")
@click.option("--all", "include_done", is_flag=True, help="Also the items an interaction already cleared.")
@skip_invalid_option
@format_option()
@records_option
def care_cmd(owner: str | None, mine: bool, days: int | None, include_done: bool, skip_invalid: bool,
             fmt: str) -> None:
    """What the care calendar has due this week, by kind.

    Birthdays of customers and contacts, anniversaries (first contract, first
    order), revisits after orders and check-ins (rules under care: in crm.yaml),
    and public holidays (care: holidays: CN). Undone items of the look-back stay
    listed as overdue; logging an interaction with the customer (crm log) clears
    its items. A customer whose files cannot be read is named on stderr and
    the command fails (exit 4) unless --skip-invalid.

    \b
    Examples:
      crm care
      crm care --mine --days 14
      crm care --format json
    """
    store = get_app().store()
    problems: list[str] = []
    items, first, last = actions.due(store, owner=store.user() if mine else owner, days=days,
                                     include_done=include_done, problems=problems)
    report_skipped(problems, skip_invalid, "nothing shown")
    _show(items, first, last, fmt)
    exit_partial(len(problems), "unreadable customer", "the others' care items were shown")


def _show(items: list[CareItem], first: date, last: date, fmt: str) -> None:
    today = dates.now().date()
    rows = [i.row(today) for i in items]
    if fmt == "table":
        if not rows:
            click.echo(f"Nothing due from {first} to {last}.", err=True)
            return
        echo(f"Care from {first} to {last}")
        render(rows, fmt, columns=COLUMNS, headers=["kind", "date", "status", "customer", "text", "owner",
                                                    "greeting"])
    else:
        render(rows, fmt, columns=DATA_COLUMNS)
