"""`crm ticket ...`: open, work, close, show and list support tickets."""
from __future__ import annotations

from typing import Any

import click

from crmcli.actions import kb as kb_actions
from crmcli.actions import ticket as actions
from crmcli.cli.common import (
    CONTEXT_SETTINGS,
    done,
    echo,
    format_option,
    get_app,
    limit_option,
    more_rows,
    records_option,
    screenful,
    store_options,
)
from crmcli.cli.complaints import ticket_escalate
from crmcli.domain import dates
from crmcli.domain.tickets import ResolutionNeeded, Ticket
from crmcli.errors import UsageError
from crmcli.render import kb as kb_screens
from crmcli.render import tickets as screens
from crmcli.render.tables import render, render_data


@click.group(context_settings=CONTEXT_SETTINGS)
def ticket() -> None:
    """Open, work and close support tickets, measured against SLA targets.

    TICKET is an id (tkt-3f9a), a unique prefix of one (3f9a, tkt-3f), or
    CUSTOMER/ID when the same id exists at two customers. SLA hours per
    priority are set under ticket_priorities in crm.yaml.

    \b
    Examples:
      crm ticket open acme "Login fails" --priority high --category bug -m "Since the update"
      crm ticket comment tkt-3f9a "Reproduced; fix on the way"
      crm ticket close tkt-3f9a --resolution "Config fixed" --csat 5
      crm ticket list --open --breached
    """


def _ref_arg(fn: Any) -> Any:
    return click.argument("ref", metavar="TICKET")(fn)


@ticket.command("open")
@click.argument("customer_ref", metavar="CUSTOMER")
@click.argument("title")
@click.option("--priority", "-p", help="low, normal (default), high or urgent (ticket_priorities in crm.yaml).")
@click.option("--category", "-c", help="question (default), request, bug or complaint (ticket_categories).")
@click.option("--channel", help="How it came in: phone, email, chat, web or visit (ticket_channels).")
@click.option("--assignee", "-a", help="Who works on it (default: from ticket_routing in crm.yaml, else nobody).")
@click.option("--contact", help="The customer's person who raised it (name or email).")
@click.option("--product", help="The product it is about (routing rules may use it).")
@click.option("--tag", "-t", "tags", multiple=True, metavar="TAG", help="A tag, e.g. the cause (repeatable).")
@click.option("--message", "-m", "text", help="What the customer reported.")
@format_option(["text", "json", "yaml"], default="text")
@store_options(result_format=False)
def ticket_open(customer_ref: str, title: str, priority: str | None, category: str | None,
                channel: str | None, assignee: str | None, contact: str | None, product: str | None,
                tags: tuple[str, ...], text: str | None, fmt: str) -> None:
    """Open a ticket for a customer; prints the new ticket id.

    \b
    Examples:
      crm ticket open acme "Login fails" --priority high --category bug --channel email
      crm ticket open acme "Invoice is wrong" -c complaint -p urgent --contact jane@acme.example
      crm ticket open 基石 "无法导出报表" --assignee 王芳 -m "客户电话反馈"
    """
    store = get_app().store()
    t = actions.open_ticket(store, customer_ref, title, priority=priority, category=category, channel=channel,
                            assignee=assignee, contact=contact, text=text, product=product,
                            tags=tuple(x for given in tags for x in given.split(",")))
    _print_ticket(store, t, fmt)
    sla = t.sla(store.config)
    due = (f"; first response due {screens.at_text(sla.first_response.due)}, "
           f"resolution due {screens.at_text(sla.resolution.due)}") if sla.resolution.due else ""
    routed = f"; assigned to {t.assignee}" if t.assignee and not assignee else ""
    done(f"Opened ticket {t.id} for {t.customer_name} ({t.customer}){due}{routed}", store)


def _print_ticket(store: Any, t: Ticket, fmt: str) -> None:
    if fmt == "text":
        echo(t.id)
    else:
        render_data(screens.ticket_data(t, store.config), fmt)


@ticket.command("comment")
@_ref_arg
@click.argument("text", required=False)
@click.option("--internal", is_flag=True, help="A note for the team; it is not a response to the customer.")
@click.option("--kb", "article", metavar="ARTICLE",
              help="Link a knowledge-base article (TEXT then defaults to its title); internal ones only --internal.")
@store_options
def ticket_comment(ref: str, text: str | None, internal: bool, article: str | None) -> None:
    """Add a comment (or an internal note) to a ticket, optionally linking an article.

    A comment that is not --internal counts as the first response for the SLA.

    \b
    Examples:
      crm ticket comment tkt-3f9a "Reproduced; a fix ships tonight"
      crm ticket comment acme/tkt-3f9a "Customer runs 2.4.1" --internal
      crm ticket comment tkt-3f9a --kb reset-sso
    """
    store = get_app().store()
    t = actions.comment(store, ref, text, internal=internal, kb=article)
    linked = f" (linked kb/{t.comments[-1]['kb']}.md)" if article and t.comments else ""
    done(f"{'Noted on' if internal else 'Commented on'} {t.id} of {t.customer_name}{linked}", store, ticket=t.id,
         customer=t.customer)


@ticket.command("assign")
@_ref_arg
@click.argument("user")
@store_options
def ticket_assign(ref: str, user: str) -> None:
    """Give a ticket to someone.

    \b
    Examples:
      crm ticket assign tkt-3f9a bob
    """
    store = get_app().store()
    t = actions.assign(store, ref, user)
    done(f"Assigned {t.id} of {t.customer_name} to {t.assignee}", store, ticket=t.id, customer=t.customer,
         assignee=t.assignee)


@ticket.command("status")
@_ref_arg
@click.argument("status")
@store_options
def ticket_status(ref: str, status: str) -> None:
    """Move a ticket to open, in-progress, waiting or resolved.

    Closing needs a resolution: use crm ticket close. A status change counts as
    the first response for the SLA; resolved stops the resolution clock.

    \b
    Examples:
      crm ticket status tkt-3f9a in-progress
      crm ticket status tkt-3f9a waiting
      crm ticket status tkt-3f9a resolved
    """
    store = get_app().store()
    try:
        t = actions.set_status(store, ref, status)
    except ResolutionNeeded:
        raise UsageError(f"close a ticket with: crm ticket close {ref} --resolution TEXT") from None
    done(f"{t.id} of {t.customer_name} is now {t.status}", store, ticket=t.id, customer=t.customer, status=t.status)


@ticket.command("close")
@_ref_arg
@click.option("--resolution", "-r", help="How it was resolved (required).")
@click.option("--csat", metavar="1-5", help="The customer's satisfaction with the outcome.")
@store_options
def ticket_close(ref: str, resolution: str | None, csat: str | None) -> None:
    """Close a ticket with its resolution (and optionally the customer's CSAT).

    \b
    Examples:
      crm ticket close tkt-3f9a --resolution "Reset the SSO config" --csat 5
      crm ticket close acme/tkt-3f9a -r "Duplicate of tkt-77aa"
    """
    store = get_app().store()
    try:
        t = actions.close(store, ref, resolution, csat=csat)
    except ResolutionNeeded:
        raise UsageError(f"say how it was resolved: crm ticket close {ref} --resolution TEXT") from None
    met = "" if not t.sla(store.config).breached else " (SLA breached: " + \
        ", ".join(t.sla(store.config).breaches()) + ")"
    done(f"Closed {t.id} of {t.customer_name}{met}", store, ticket=t.id, customer=t.customer, status=t.status)


@ticket.command("reopen")
@_ref_arg
@store_options
def ticket_reopen(ref: str) -> None:
    """Reopen a resolved or closed ticket (its resolution clock runs again).

    \b
    Examples:
      crm ticket reopen tkt-3f9a
    """
    store = get_app().store()
    t = actions.reopen(store, ref)
    done(f"Reopened {t.id} of {t.customer_name}", store, ticket=t.id, customer=t.customer, status=t.status)


@ticket.command("list")
@click.option("--open", "open_", is_flag=True, help="Only tickets not yet resolved or closed.")
@click.option("--status", help="Only tickets in this status.")
@click.option("--assignee", "-a", help="Only tickets of this person.")
@click.option("--priority", "-p", help="Only this priority.")
@click.option("--category", "-c", help="Only this category (complaint lists complaints).")
@click.option("--breached", is_flag=True, help="Only tickets that missed a first-response or resolution target.")
@click.option("--customer", "customer_ref", metavar="CUSTOMER", help="Only this customer's tickets.")
@limit_option
@format_option()
@records_option
def ticket_list(open_: bool, status: str | None, assignee: str | None, priority: str | None,
                category: str | None, breached: bool, customer_ref: str | None, limit: int | None, fmt: str) -> None:
    """List tickets; open ones first, soonest due first. The sla column flags breaches.

    \b
    Examples:
      crm ticket list --open --assignee bob
      crm ticket list --breached --priority urgent
      crm ticket list --customer acme --category complaint --format json
    """
    store = get_app().store()
    now = dates.now()
    flt = actions.TicketFilter(open=open_, status=status, assignee=assignee, priority=priority,
                               category=category, breached=breached, customer=customer_ref)
    shown, left = screenful(actions.list_tickets(store, flt, now=now, detail=fmt != "table"), limit, fmt)
    rows = screens.list_rows(shown, store.config, now, fmt)
    if fmt == "table":
        render(rows, fmt, columns=screens.LIST_COLUMNS, headers=screens.LIST_HEADERS, empty="No tickets match.",
               drop=screens.LIST_DROP)
        more_rows(left, fmt)
    else:
        render(rows, fmt, columns=screens.DATA_COLUMNS)


@ticket.command("show")
@_ref_arg
@format_option(["text", "json", "yaml"], default="text")
@records_option
def ticket_show(ref: str, fmt: str) -> None:
    """Show a ticket: its fields, SLA targets, comments, every change, and articles that may help.

    \b
    Examples:
      crm ticket show tkt-3f9a
      crm ticket show acme/tkt-3f --format yaml
    """
    store = get_app().store()
    t = actions.show_ticket(store, ref)
    now = dates.now()
    suggested = kb_actions.suggest_for_ticket(store, t)
    if fmt != "text":
        render_data({**screens.ticket_data(t, store.config, now), **kb_screens.ticket_articles(t, suggested)}, fmt)
        return
    screens.show(t, store.config, now)
    kb_screens.suggestions(suggested)


ticket.add_command(ticket_escalate)
