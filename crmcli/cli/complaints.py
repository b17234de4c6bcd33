"""`crm ticket escalate`: escalate unresolved complaints by the rules in crm.yaml (for cron or by hand)."""
from __future__ import annotations

import click

from crmcli.actions import complaints as actions
from crmcli.cli.common import done, format_option, get_app, store_options
from crmcli.render.tables import render

COLUMNS = ["ticket", "customer_name", "title", "hours_open", "to", "task"]
HEADERS = ["ticket", "customer", "title", "open (h)", "escalated to", "task"]


@click.command("escalate")
@click.option("--dry-run", "-n", is_flag=True, help="Only list what would be escalated; write nothing.")
@format_option()
@store_options(result_format=False)
def ticket_escalate(dry_run: bool, fmt: str) -> None:
    """Escalate unresolved complaints past complaints.escalate_after_hours (crm.yaml).

    Each gets a ticket.escalate event and a task, due now, for complaints.escalate_to,
    all in one commit; a complaint is escalated once until it is reopened. Run it
    from cron (e.g. hourly) or by hand.

    \b
    Examples:
      crm ticket escalate --dry-run
      crm ticket escalate
    """
    store = get_app().store()
    found = actions.escalate(store, dry_run=dry_run)
    rows = [{"ticket": e.ticket, "customer": e.customer, "customer_name": e.customer_name, "title": e.title,
             "hours_open": e.hours_open, "to": e.to, "task": e.task} for e in found]
    if fmt == "table":
        render(rows, fmt, columns=COLUMNS, headers=HEADERS, empty="No complaint is due for escalation.")
    else:
        render(rows, fmt, columns=["ticket", "customer", *COLUMNS[1:]])
    if found and not dry_run:
        done(f"Escalated {len(found)} complaint{'s' if len(found) != 1 else ''} to {found[0].to}", store)
