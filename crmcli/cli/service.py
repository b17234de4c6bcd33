"""`crm ticket ...` and `crm survey`."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from crmcli.cli.common import CONTEXT_SETTINGS, done, echo, format_option, get_app, store_options

LIST_COLUMNS = ["id", "customer_name", "title", "priority", "category", "status", "assignee", "opened", "due",
                "sla"]
LIST_HEADERS = ["id", "customer", "title", "priority", "category", "status", "assignee", "opened", "due", "sla"]
DATA_COLUMNS = ["ref", "id", "customer", "customer_name", "title", "priority", "category", "channel", "status",
                "assignee", "contact", "opened_at", "first_response_due", "first_response_at",
                "first_response_breached", "resolution_due", "resolved_at", "resolution_breached", "closed_at",
                "csat"]


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
@click.option("--assignee", "-a", help="Who works on it (default: nobody yet).")
@click.option("--contact", help="The customer's person who raised it (name or email).")
@click.option("--message", "-m", "text", help="What the customer reported.")
@format_option(["text", "json", "yaml"], default="text")
@store_options
def ticket_open(customer_ref: str, title: str, priority: str | None, category: str | None,
                channel: str | None, assignee: str | None, contact: str | None, text: str | None,
                fmt: str) -> None:
    """Open a ticket for a customer; prints the new ticket id.

    \b
    Examples:
      crm ticket open acme "Login fails" --priority high --category bug --channel email
      crm ticket open acme "Invoice is wrong" -c complaint -p urgent --contact jane@acme.example
      crm ticket open 基石 "无法导出报表" --assignee 王芳 -m "客户电话反馈"
    """
    from crmcli.actions import ticket as service

    store = get_app().store()
    t = service.open_ticket(store, customer_ref, title, priority=priority, category=category, channel=channel,
                            assignee=assignee, contact=contact, text=text)
    _print_ticket(store, t, fmt)
    sla = t.sla(store.config)
    due = f"; first response due {_at(sla.first_response.due)}, resolution due {_at(sla.resolution.due)}" \
        if sla.resolution.due else ""
    done(f"Opened ticket {t.id} for {t.customer_name} ({t.customer}){due}", store)


def _print_ticket(store: Any, t: Any, fmt: str) -> None:
    from crmcli.render.tables import render_data

    if fmt == "text":
        echo(t.id)
    else:
        render_data(t.to_dict(store.config), fmt)


def _at(dt: datetime | None) -> str:
    from crmcli.domain import dates

    return dates.format_local(dt) if dt is not None else ""


@ticket.command("comment")
@_ref_arg
@click.argument("text")
@click.option("--internal", is_flag=True, help="A note for the team; it is not a response to the customer.")
@store_options
def ticket_comment(ref: str, text: str, internal: bool) -> None:
    """Add a comment (or an internal note) to a ticket.

    A comment that is not --internal counts as the first response for the SLA.

    \b
    Examples:
      crm ticket comment tkt-3f9a "Reproduced; a fix ships tonight"
      crm ticket comment acme/tkt-3f9a "Customer runs 2.4.1" --internal
    """
    from crmcli.actions import ticket as service

    store = get_app().store()
    t = service.comment(store, ref, text, internal=internal)
    done(f"{'Noted on' if internal else 'Commented on'} {t.id} of {t.customer_name}", store)


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
    from crmcli.actions import ticket as service

    store = get_app().store()
    t = service.assign(store, ref, user)
    done(f"Assigned {t.id} of {t.customer_name} to {t.assignee}", store)


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
    from crmcli.actions import ticket as service

    store = get_app().store()
    t = service.set_status(store, ref, status)
    done(f"{t.id} of {t.customer_name} is now {t.status}", store)


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
    from crmcli.actions import ticket as service

    store = get_app().store()
    t = service.close(store, ref, resolution, csat=csat)
    met = "" if not t.sla(store.config).breached else " (SLA breached: " + \
        ", ".join(t.sla(store.config).breaches()) + ")"
    done(f"Closed {t.id} of {t.customer_name}{met}", store)


@ticket.command("reopen")
@_ref_arg
@store_options
def ticket_reopen(ref: str) -> None:
    """Reopen a resolved or closed ticket (its resolution clock runs again).

    \b
    Examples:
      crm ticket reopen tkt-3f9a
    """
    from crmcli.actions import ticket as service

    store = get_app().store()
    t = service.reopen(store, ref)
    done(f"Reopened {t.id} of {t.customer_name}", store)


@ticket.command("list")
@click.option("--open", "open_", is_flag=True, help="Only tickets not yet resolved or closed.")
@click.option("--status", help="Only tickets in this status.")
@click.option("--assignee", "-a", help="Only tickets of this person.")
@click.option("--priority", "-p", help="Only this priority.")
@click.option("--category", "-c", help="Only this category (complaint lists complaints).")
@click.option("--breached", is_flag=True, help="Only tickets that missed a first-response or resolution target.")
@click.option("--customer", "customer_ref", metavar="CUSTOMER", help="Only this customer's tickets.")
@format_option()
@store_options
def ticket_list(open_: bool, status: str | None, assignee: str | None, priority: str | None,
                category: str | None, breached: bool, customer_ref: str | None, fmt: str) -> None:
    """List tickets; open ones first, soonest due first. The sla column flags breaches.

    \b
    Examples:
      crm ticket list --open --assignee bob
      crm ticket list --breached --priority urgent
      crm ticket list --customer acme --category complaint --format json
    """
    from crmcli.actions import ticket as service
    from crmcli.domain import dates
    from crmcli.render.tables import render

    store = get_app().store()
    now = dates.now()
    flt = service.TicketFilter(open=open_, status=status, assignee=assignee, priority=priority,
                               category=category, breached=breached, customer=customer_ref)
    rows = []
    for t in service.list_tickets(store, flt, now=now):
        sla = t.sla(store.config, now)
        if fmt == "table":
            rows.append({"id": t.id, "customer_name": t.customer_name, "title": t.title, "priority": t.priority,
                         "category": t.category, "status": t.status, "assignee": t.assignee,
                         "opened": _at(t.opened_at), "due": _at(sla.resolution.due) if t.is_open else "",
                         "sla": _sla_flag(sla)})
            continue
        data = t.to_dict(store.config, now)
        data.update(ref=t.ref, first_response_due=data["sla"]["first_response"]["due"],
                    first_response_breached=sla.first_response.breached,
                    resolution_due=data["sla"]["resolution"]["due"], resolution_breached=sla.resolution.breached)
        rows.append(data)
    if fmt == "table":
        render(rows, fmt, columns=LIST_COLUMNS, headers=LIST_HEADERS, empty="No tickets match.")
    else:
        render(rows, fmt, columns=DATA_COLUMNS)


def _sla_flag(sla: Any) -> str:
    if sla.breached:
        return "BREACHED " + "+".join("response" if b == "first response" else b for b in sla.breaches())
    if sla.resolution.due is None:
        return ""
    return "met" if sla.resolution.met_at is not None else "ok"


@ticket.command("show")
@_ref_arg
@format_option(["text", "json", "yaml"], default="text")
@store_options
def ticket_show(ref: str, fmt: str) -> None:
    """Show a ticket: its fields, SLA targets, comments and every change.

    \b
    Examples:
      crm ticket show tkt-3f9a
      crm ticket show acme/tkt-3f --format yaml
    """
    from crmcli.actions import ticket as service
    from crmcli.domain import dates
    from crmcli.render.tables import key_values, render_data

    store = get_app().store()
    t = service.show_ticket(store, ref)
    now = dates.now()
    if fmt != "text":
        render_data(t.to_dict(store.config, now), fmt)
        return
    sla = t.sla(store.config, now)
    opened = f"{_at(t.opened_at)} by {t.opened_by}" if t.opened_by else _at(t.opened_at)
    rows: list[tuple[str, Any]] = [
        ("ticket", t.id), ("customer", f"{t.customer_name} ({t.customer})"), ("title", t.title),
        ("status", t.status), ("priority", t.priority), ("category", t.category), ("channel", t.channel),
        ("assignee", t.assignee), ("contact", t.contact), ("opened", opened),
        ("response SLA", _clock_text(sla.first_response, now)),
        ("resolution SLA", _clock_text(sla.resolution, now)),
    ]
    if t.closed_at:
        rows.append(("closed", _at(t.closed_at)))
    rows += [("resolution", t.resolution), ("csat", t.csat), ("description", t.text)]
    key_values([(k, v) for k, v in rows if v not in (None, "")])
    if t.comments:
        echo("")
        echo("Comments")
        for c in t.comments:
            note = "(internal) " if c["internal"] else ""
            lines = c["text"].splitlines() or [""]
            echo(f"  {_at(c['at'])}  {c['by'] or '?'}: {note}{lines[0]}")
            for more in lines[1:]:
                echo(f"      {more}")
    echo("")
    echo("History")
    for h in t.history:
        echo(f"  {_at(h['at'])}  {h['by'] or '?'}: {h['what']}")


def _clock_text(clock: Any, now: datetime) -> str:
    from crmcli.domain.dates import format_duration

    if clock.due is None:
        return "no target for this priority in crm.yaml"
    due = _at(clock.due)
    if clock.met_at is not None:
        if clock.breached:
            return f"BREACHED: met {_at(clock.met_at)}, {format_duration(clock.met_at - clock.due)} after {due}"
        return f"met {_at(clock.met_at)} (due {due})"
    if clock.breached:
        return f"BREACHED: due {due}, overdue by {format_duration(now - clock.due)}"
    return f"due {due} (in {format_duration(clock.due - now)})"


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
    from crmcli.actions import ticket as service

    store = get_app().store()
    entry = service.record_survey(store, customer_ref, csat=csat, nps=nps, ticket=ticket_ref, comment=comment)
    what = ", ".join(f"{n} {entry[k]}" for n, k in (("CSAT", "csat"), ("NPS", "nps")) if k in entry)
    done(f"Recorded survey from {store.load_customer(store.resolve(customer_ref), validate=False).name} "
         f"({what})", store)
