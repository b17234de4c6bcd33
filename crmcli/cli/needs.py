"""`crm need ...` and `crm feedback ...`: what customers ask for and tell us, with a status and an owner."""
from __future__ import annotations

from typing import Any

import click

from crmcli.actions import needs as actions
from crmcli.cli.common import CONTEXT_SETTINGS, done, echo, format_option, get_app, records_option, store_options
from crmcli.domain.needs import Item
from crmcli.render.tables import render

STATUS_HELP = "new, planned, done or declined."
NEED_COLUMNS = ["id", "name", "text", "product", "priority", "tags", "owner", "status"]
FEEDBACK_COLUMNS = ["id", "name", "type", "text", "product", "channel", "owner", "status", "ticket"]
DATA_COLUMNS = ["ref", "id", "customer", "name", "type", "text", "product", "priority", "tags", "channel", "owner",
                "status", "created", "by", "ticket"]


def _tags(tags: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(t for given in tags for t in given.split(","))


def _list(items: list[Item], fmt: str, columns: list[str], empty: str) -> None:
    rows = [i.row() for i in items]
    if fmt == "table":
        for r in rows:
            r["tags"] = ", ".join(r["tags"])
        render(rows, fmt, columns=columns, headers=[c if c != "name" else "customer" for c in columns], empty=empty)
    else:
        render(rows, fmt, columns=DATA_COLUMNS)


@click.group(context_settings=CONTEXT_SETTINGS)
def need() -> None:
    """Needs: what customers ask for, with a product, priority, tags, status and owner.

    NEED is an id (need-3f9a), a unique prefix of one, or CUSTOMER/ID.
    crm report needs ranks them across customers, weighted by customer value.

    \b
    Examples:
      crm need add acme "SSO with Azure AD" --product Portal --priority high --tag sso
      crm need status need-3f9a planned --owner bob
      crm need list --status new
    """


@need.command("add")
@click.argument("customer_ref", metavar="CUSTOMER")
@click.argument("text")
@click.option("--product", help="The product it is about.")
@click.option("--priority", "-p", type=click.Choice(["low", "normal", "high"]), help="How much it matters to them.")
@click.option("--tag", "-t", "tags", multiple=True, metavar="TAG",
              help="A tag naming the need across customers (repeatable); crm report needs groups by it.")
@click.option("--owner", "-o", help="Who follows it up (default: you).")
@store_options
def need_add(customer_ref: str, text: str, product: str | None, priority: str | None, tags: tuple[str, ...],
             owner: str | None) -> None:
    """Record a customer's need; prints its id.

    \b
    Examples:
      crm need add acme "SSO with Azure AD" --product Portal --priority high --tag sso
      crm need add 基石 "报表导出为 PDF" --tag pdf导出
    """
    store = get_app().store()
    item = actions.add_need(store, customer_ref, text, product=product, priority=priority, tags=_tags(tags),
                            owner=owner)
    echo(item.id)
    done(f"Added need {item.id} of {item.customer_name}", store)


def _status(family: str) -> Any:
    @click.command("status")
    @click.argument("ref", metavar=family.upper())
    @click.argument("status")
    @click.option("--owner", "-o", help="Give it to someone at the same time.")
    @store_options
    def status_cmd(ref: str, status: str, owner: str | None) -> None:
        store = get_app().store()
        item = actions.set_status(store, family, ref, status, owner=owner)
        whose = f" (owner {item.owner})" if item.owner else ""
        done(f"{family.capitalize()} {item.id} of {item.customer_name} is now {item.status}{whose}", store)

    status_cmd.help = (f"Set a {family}'s status: {STATUS_HELP}\n\n\b\nExamples:\n"
                       f"  crm {family} status {'need' if family == 'need' else 'fb'}-3f9a planned --owner bob")
    return status_cmd


need.add_command(_status("need"))


@need.command("list")
@click.option("--status", "-s", help="Only this status: " + STATUS_HELP)
@click.option("--product", help="Only this product.")
@click.option("--owner", "-o", help="Only this owner's.")
@click.option("--customer", "customer_ref", metavar="CUSTOMER", help="Only this customer's.")
@format_option()
@records_option
def need_list(status: str | None, product: str | None, owner: str | None, customer_ref: str | None,
              fmt: str) -> None:
    """List needs, newest first.

    \b
    Examples:
      crm need list --status new --product Portal
      crm need list --customer acme --format json
    """
    store = get_app().store()
    items = actions.list_items(store, "need", status=status, product=product, owner=owner, customer=customer_ref)
    _list(items, fmt, NEED_COLUMNS, "No needs match.")


@click.group(context_settings=CONTEXT_SETTINGS)
def feedback() -> None:
    """Feedback from any channel: praise, suggestions and problems, with a status and owner.

    A problem can open a ticket in the same commit (--ticket). FEEDBACK is an id
    (fb-3f9a), a unique prefix of one, or CUSTOMER/ID.

    \b
    Examples:
      crm feedback add acme "Love the new dashboard" --type praise --channel email
      crm feedback add acme "Export crashes on big files" --type problem --ticket
    """


@feedback.command("add")
@click.argument("customer_ref", metavar="CUSTOMER")
@click.argument("text")
@click.option("--type", "kind", required=True, type=click.Choice(["praise", "suggestion", "problem"]),
              help="What kind of feedback.")
@click.option("--channel", help="Where it came from (email, phone, app review, visit...).")
@click.option("--product", help="The product it is about.")
@click.option("--owner", "-o", help="Who follows it up (default: you).")
@click.option("--ticket", is_flag=True, help="A problem only: open a ticket from it in the same commit.")
@click.option("--category", "-c", help="The ticket's category with --ticket (default: bug).")
@click.option("--priority", "-p", help="The ticket's priority with --ticket (default: normal).")
@store_options
def feedback_add(customer_ref: str, text: str, kind: str, channel: str | None, product: str | None,
                 owner: str | None, ticket: bool, category: str | None, priority: str | None) -> None:
    """Record feedback; prints its id (and the ticket's with --ticket).

    \b
    Examples:
      crm feedback add acme "Love the new dashboard" --type praise --channel email
      crm feedback add acme "Export crashes on big files" --type problem --ticket --priority high
    """
    store = get_app().store()
    item, opened = actions.add_feedback(store, customer_ref, kind, text, channel=channel, product=product,
                                        owner=owner, ticket=ticket, category=category, priority=priority)
    echo(item.id)
    if opened is not None:
        echo(opened.id)
    also = f" and opened ticket {opened.id}" if opened else ""
    done(f"Added {item.type} feedback {item.id} of {item.customer_name}{also}", store)


feedback.add_command(_status("feedback"))


@feedback.command("list")
@click.option("--type", "kind", type=click.Choice(["praise", "suggestion", "problem"]), help="Only this type.")
@click.option("--status", "-s", help="Only this status: " + STATUS_HELP)
@click.option("--product", help="Only this product.")
@click.option("--owner", "-o", help="Only this owner's.")
@click.option("--customer", "customer_ref", metavar="CUSTOMER", help="Only this customer's.")
@format_option()
@records_option
def feedback_list(kind: str | None, status: str | None, product: str | None, owner: str | None,
                  customer_ref: str | None, fmt: str) -> None:
    """List feedback, newest first.

    \b
    Examples:
      crm feedback list --type problem --status new
      crm feedback list --customer acme --format csv
    """
    store = get_app().store()
    items = actions.list_items(store, "feedback", status=status, kind=kind, product=product, owner=owner,
                               customer=customer_ref)
    _list(items, fmt, FEEDBACK_COLUMNS, "No feedback matches.")
