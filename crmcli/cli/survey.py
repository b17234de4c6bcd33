"""`crm survey`: record a customer's satisfaction answer."""
from __future__ import annotations

import click

from crmcli.actions import survey as actions
from crmcli.cli.common import CONTEXT_SETTINGS, done, get_app, store_options
from crmcli.domain.surveys import ScoreNeeded
from crmcli.errors import UsageError


@click.command("survey", context_settings=CONTEXT_SETTINGS)
@click.argument("customer_ref", metavar="CUSTOMER")
@click.option("--csat", metavar="1-5", help="Satisfaction, 1 (very unhappy) to 5 (very happy).")
@click.option("--nps", metavar="0-10", help="How likely to recommend us, 0 to 10.")
@click.option("--ticket", "ticket_ref", metavar="TICKET", help="The ticket the answer is about.")
@click.option("--message", "-m", "comment", help="What the customer said.")
@store_options
def survey(customer_ref: str, csat: str | None, nps: str | None, ticket_ref: str | None,
           comment: str | None) -> None:
    """Record a customer's satisfaction answer (CSAT and/or NPS).

    An answer with --ticket also becomes that ticket's CSAT.

    \b
    Examples:
      crm survey acme --csat 4 --nps 9 -m "Quick and friendly"
      crm survey acme --csat 2 --ticket tkt-3f9a -m "Took too long"
    """
    store = get_app().store()
    try:
        result = actions.record_survey(store, customer_ref, csat=csat, nps=nps, ticket=ticket_ref, comment=comment)
    except ScoreNeeded:
        raise UsageError("give --csat 1-5 or --nps 0-10 (or both)") from None
    done(f"Recorded survey from {result.customer_name} ({result.scores})", store, customer=customer_ref,
         scores=result.scores)
