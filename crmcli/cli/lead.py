"""`crm lead assign`: give unowned leads an owner by the rules in crm.yaml (crmcli.actions.lead), print the plan."""
from __future__ import annotations

import click

from crmcli.actions import lead as action
from crmcli.cli.common import CONTEXT_SETTINGS, done, echo, format_option, get_app, store_options
from crmcli.render.tables import render

COLUMNS = ["customer", "name", "owner", "rule", "task", "due"]


@click.group("lead", context_settings=CONTEXT_SETTINGS)
def lead() -> None:
    """Leads: assign unowned leads to people by the rules in crm.yaml.

    \b
    Examples:
      crm lead assign --dry-run
      crm lead assign
    """


@lead.command("assign")
@click.option("--dry-run", is_flag=True, help="Show who would get which lead; change nothing.")
@format_option()
@store_options(result_format=False)
def lead_assign(dry_run: bool, fmt: str) -> None:
    """Give every lead without an owner one, by the first rule that fits (leads: assign: in crm.yaml).

    Each assigned lead gets its owner, a lead.assign event and a first-touch task for the owner
    (due in first_touch_days), all in one commit.

    \b
    Examples:
      crm lead assign --dry-run
      crm lead assign --format json
    """
    store = get_app().store()
    result = action.assign_leads(store, dry_run=dry_run)
    rows = result.rows()
    if rows or fmt != "table":
        render(rows, fmt, columns=COLUMNS)
    n, missed = len(result.assignments), len(result.unmatched)
    tail = f"; {missed} lead{'s' if missed != 1 else ''} no rule fits" if missed else ""
    if dry_run:
        echo(f"Would assign {n} lead{'s' if n != 1 else ''}{tail} (dry run: nothing changed)", err=True)
    elif n:
        done(f"Assigned {n} lead{'s' if n != 1 else ''}, each with a first-touch task{tail}", store)
    else:
        echo(f"No unowned leads to assign{tail}", err=True)
