"""`crm order ...`: record what customers bought."""
from __future__ import annotations

import click

from crmcli.actions.order import add_order, list_orders
from crmcli.cli.common import CONTEXT_SETTINGS, format_option, get_app, records_option, store_options
from crmcli.cli.opp import option_words, report
from crmcli.domain.money import format_money
from crmcli.render.tables import render


# -- orders ------------------------------------------------------------------------------------------------
@click.group(context_settings=CONTEXT_SETTINGS)
def order() -> None:
    """Record what customers bought (revenue, lifetime value, segments).

    \b
    Examples:
      crm order add acme --amount 50000 --product licences
      crm order list --since 2026-01-01
    """


@order.command("add")
@click.argument("customer_ref", metavar="CUSTOMER")
@click.option("--amount", required=True, metavar="N", help="Order value, e.g. 50000 or 99.50.")
@click.option("--date", "day", metavar="WHEN", help="Order date (default: today).")
@click.option("--product", help="What was bought.")
@click.option("--opp", "opp_ref", metavar="ID", help="The deal this order comes from.")
@click.option("--currency", metavar="CODE", help="Three-letter code (default: currency in crm.yaml).")
@store_options
def order_add(customer_ref: str, amount: str, day: str | None, product: str | None, opp_ref: str | None,
              currency: str | None) -> None:
    """Record an order; a first order makes a customer, a second one a repeat customer.

    \b
    Examples:
      crm order add acme --amount 50000 --product "ERP licences" --date 2026-11-02
      crm order add acme --amount 120000 --opp opp-9x2m
    """
    store = get_app().store()
    with option_words():
        out = add_order(store, customer_ref, amount=amount, date=day, product=product, opp=opp_ref,
                        currency=currency)
    report(out, store, out.message.replace("Add order", "Added order", 1))


@order.command("list")
@click.option("--customer", "customer_ref", metavar="CUSTOMER", help="Only this customer's orders.")
@click.option("--since", metavar="WHEN", help="Only orders on or after this day.")
@format_option()
@records_option
def order_list(customer_ref: str | None, since: str | None, fmt: str) -> None:
    """List orders, oldest first.

    \b
    Examples:
      crm order list --customer acme
      crm order list --since 2026-01-01 --format csv
    """
    store = get_app().store()
    with option_words():
        rows = list_orders(store, customer=customer_ref, since=since)
    if fmt == "table":
        rows = [dict(r, amount=format_money(r["amount"], r["currency"])) for r in rows]
        render(rows, fmt, columns=["date", "name", "amount", "product", "opp"],
               headers=["date", "customer", "amount", "product", "deal"], empty="No orders.",
               drop=["opp", "product"], right=["amount"])
    else:
        render(rows, fmt, columns=["date", "customer", "name", "amount", "currency", "product", "opp", "by"])
