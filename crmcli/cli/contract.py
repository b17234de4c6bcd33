"""`crm contract ...`: record signed contracts; renewals coming due show in the agenda."""
from __future__ import annotations

import click

from crmcli.actions.contract import add_contract, list_contracts
from crmcli.analysis.renewals import renewals_due
from crmcli.cli.common import CONTEXT_SETTINGS, format_option, get_app, records_option, store_options
from crmcli.cli.opp import option_words, report
from crmcli.domain import dates, durations
from crmcli.domain.money import format_money
from crmcli.errors import InvalidRecord
from crmcli.render.tables import render


# -- contracts ---------------------------------------------------------------------------------------------
@click.group(context_settings=CONTEXT_SETTINGS)
def contract() -> None:
    """Record signed contracts; renewals coming due show in the agenda.

    \b
    Examples:
      crm contract add acme --value 100000 --start 2026-01-01 --end 2026-12-31 --renew-notice 60d
      crm contract list --customer acme
    """


@contract.command("add")
@click.argument("customer_ref", metavar="CUSTOMER")
@click.option("--value", required=True, metavar="N", help="Contract value.")
@click.option("--start", required=True, metavar="WHEN", help="First day of the term.")
@click.option("--end", required=True, metavar="WHEN", help="Last day of the term.")
@click.option("--renew-notice", metavar="PERIOD", default="30d", show_default=True,
              help="How long before the end to start the renewal (30d, 6w, 3m).")
@click.option("--file", "file", metavar="PATH", help="The signed document (its path is recorded; not copied).")
@click.option("--currency", metavar="CODE", help="Three-letter code (default: currency in crm.yaml).")
@store_options
def contract_add(customer_ref: str, value: str, start: str, end: str, renew_notice: str, file: str | None,
                 currency: str | None) -> None:
    """Record a signed contract.

    \b
    Examples:
      crm contract add acme --value 100000 --start 2026-01-01 --end 2026-12-31
      crm contract add acme --value 80000 --start 2027-01-01 --end 2027-12-31 \\
          --renew-notice 60d --file contracts/acme-2027.pdf
    """
    store = get_app().store()
    with option_words():
        out = add_contract(store, customer_ref, value=value, start=start, end=end,
                           renew_notice=renew_notice, file=file, currency=currency)
    report(out, store, out.message.replace("Add contract", "Added contract", 1))


@contract.command("list")
@click.option("--customer", "customer_ref", metavar="CUSTOMER", help="Only this customer's contracts.")
@click.option("--active", "active_on", metavar="WHEN", help="Only contracts running on this day.")
@click.option("--renewing", metavar="PERIOD", help="Only contracts due for renewal within this period (e.g. 60d).")
@format_option()
@records_option
def contract_list(customer_ref: str | None, active_on: str | None, renewing: str | None, fmt: str) -> None:
    """List contracts, soonest ending first.

    \b
    Examples:
      crm contract list --customer acme
      crm contract list --renewing 60d
      crm contract list --active today --format json
    """
    store = get_app().store()
    if renewing:
        try:
            span = durations.parse_period(renewing)
        except dates.DateError as exc:
            raise InvalidRecord(f"--renewing: {exc}") from None
        today = dates.now()
        due = renewals_due(store, today, today + span)
        rows = [{"customer": r["customer"], "name": r["name"], **r["contract"]} for r in due]
        if customer_ref:
            cid = store.resolve(customer_ref)
            rows = [r for r in rows if r["customer"] == cid]
    else:
        with option_words():
            rows = list_contracts(store, customer=customer_ref, active_on=active_on)
    if fmt == "table":
        rows = [dict(r, value=format_money(r["value"], r["currency"])) for r in rows]
        render(rows, fmt, columns=["name", "value", "start", "end", "notice", "file"],
               headers=["customer", "value", "start", "end", "renew from", "file"], empty="No contracts.",
               drop=["file", "notice"], right=["value"])
    else:
        render(rows, fmt, columns=["customer", "name", "value", "currency", "start", "end", "renew_notice",
                                   "notice", "file"])
