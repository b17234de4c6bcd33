"""`crm log`, `crm timeline`, `crm task ...` and `crm agenda`."""
from __future__ import annotations

import sys
from typing import Any

import click

from crmcli.cli.common import CONTEXT_SETTINGS, done, echo, format_option, get_app, is_interactive, store_options

LIST_FORMATS = ["table", "json", "csv", "yaml", "md"]


@click.command("log", context_settings=CONTEXT_SETTINGS)
@click.argument("customer_ref", metavar="CUSTOMER", required=False)
@click.argument("kind", metavar="TYPE", required=False)
@click.argument("words", nargs=-1, metavar="[SUMMARY...]")
@click.option("-m", "--message", metavar="TEXT", help="The summary (instead of arguments; - reads standard input).")
@click.option("--at", "at", metavar="WHEN", help="When it happened (default: now), e.g. '14:30', 'yesterday 3pm'.")
@click.option("--duration", metavar="DURATION", help="How long, e.g. 15m, 1h30m, 90 (minutes); at most 24h.")
@click.option("--direction", type=click.Choice(["in", "out"]), help="Who reached out: in (they) or out (we).")
@click.option("--contact", metavar="NAME", help="Which of the customer's contacts (name, email or name prefix).")
@click.option("--outcome", metavar="TEXT", help="What came of it, e.g. 'quote requested'.")
@click.option("--tag", "tags", multiple=True, help="A tag; repeat for more.")
@click.option("--follow-up", "follow_up", metavar="WHEN", help="Also add a follow-up task due WHEN (same commit).")
@click.option("--task", "task_text", metavar="TEXT", help="Text of the follow-up task (default: from the summary).")
@click.option("--owner", metavar="NAME", help="Owner of the follow-up task (default: you).")
@click.option("--eml", type=click.Path(dir_okay=False), metavar="FILE",
              help="Log an email file: customer by address, subject, date and direction from its headers.")
@store_options
def log_cmd(customer_ref: str, kind: str, words: tuple[str, ...], message: str | None, at: str | None,
            duration: str | None, direction: str | None, contact: str | None, outcome: str | None,
            tags: tuple[str, ...], follow_up: str | None, task_text: str | None, owner: str | None,
            eml: str | None) -> None:
    """Log a call, email, meeting... with a customer, right after it happened.

    TYPE is one of interaction_types in crm.yaml (default: call, email,
    meeting, visit, chat, sms, note; a unique prefix will do). The summary
    comes from the remaining arguments, -m TEXT, standard input (-), or
    $EDITOR when none is given on a terminal.

    \b
    Examples:
      crm log acme call Discussed the renewal, they want a quote
      crm log acme meeting -m "Kick-off" --at "yesterday 15:00" --duration 1h30m
      crm log 基石 call 确认续约意向 --contact 李娜 --direction out --follow-up friday
      git log -1 --format=%B | crm log acme note -
      crm log --eml message.eml
    """
    from crmcli.actions import log as lib

    if eml:
        from pathlib import Path

        from crmcli.io import eml as mail

        planned = mail.log_eml(get_app().store(), Path(eml), customer_ref=customer_ref)
        echo(f"{planned.cid}  {planned.entry['at'][:16].replace('T', ' ')}  email: {planned.entry['summary']}")
        done(f"Logged email with {planned.name} ({planned.cid})", get_app().store())
        return
    if not customer_ref or not kind:
        raise click.UsageError(f"Missing argument '{'CUSTOMER' if not customer_ref else 'TYPE'}'.")
    store = get_app().store()
    draft = lib.prepare_interaction(store, customer_ref, kind, at=at, duration=duration, direction=direction,
                                    contact=contact, outcome=outcome, tags=tags, follow_up=follow_up,
                                    task_text=task_text, owner=owner)
    summary = _summary(words, message, f"{draft.entry['kind']} with {draft.customer.name}")
    logged = lib.commit_interaction(store, draft, summary)
    from crmcli.domain import dates

    when = dates.format_local(dates.parse_iso(logged.entry["at"]))
    echo(f"{logged.cid}  {when}  {logged.entry['kind']}: {lib.first_line(logged.entry['summary'], 60)}")
    follow = ""
    if logged.task is not None:
        echo(f"{logged.cid}/{logged.task['id']}  due {lib.show_due(lib.read_due(logged.task['due']))}  "
             f"{lib.first_line(logged.task['text'], 60)}")
        follow = f"; follow-up {logged.task['id']}"
    done(f"Logged {logged.entry['kind']} with {logged.customer.name} ({logged.cid}){follow}", store)


def _summary(words: tuple[str, ...], message: str | None, what: str) -> str | None:
    from crmcli.errors import Aborted, UsageError

    if message is not None and words:
        raise UsageError("give the summary as arguments or with -m, not both")
    if words == ("-",) or message == "-":
        return sys.stdin.read()
    if message is not None:
        return message
    if words:
        return " ".join(words)
    if not is_interactive():
        raise UsageError("no summary: give it as arguments, with -m TEXT, or on standard input with -")
    template = f"\n# Summary of the {what}. Lines starting with # are ignored; an empty text logs nothing.\n"
    edited = click.edit(template, extension=".txt")
    text = "\n".join(line for line in (edited or "").splitlines() if not line.startswith("#")).strip()
    if not text:
        raise Aborted("empty summary; nothing logged")
    return text


def _window(since: str | None, until: str | None) -> tuple[Any, Any]:
    from crmcli.actions import log as lib

    return (lib.parse_since(since) if since else None), (lib.parse_until(until) if until else None)


@click.command("timeline", context_settings=CONTEXT_SETTINGS)
@click.argument("customer_ref", metavar="[CUSTOMER]", required=False)
@click.option("--all", "all_", is_flag=True, help="Every customer: the team's activity feed (default --since 7d).")
@click.option("--since", metavar="WHEN", help="From this moment: 7d, 3m, 2026-11-01, last monday.")
@click.option("--until", metavar="WHEN", help="Before this moment; a bare day includes that day.")
@click.option("--type", "types", multiple=True, metavar="TYPE",
              help="Only this type: call, task, task.done, opp, interaction... Repeatable.")
@click.option("--owner", metavar="NAME", help="With --all: only customers this person owns.")
@click.option("--by", metavar="NAME", help="Only events by this person.")
@click.option("--limit", "-n", type=click.IntRange(min=1), help="Only the newest N events.")
@click.option("--reverse", is_flag=True, help="Oldest first.")
@format_option(LIST_FORMATS)
@store_options
def timeline_cmd(customer_ref: str | None, all_: bool, since: str | None, until: str | None,
                 types: tuple[str, ...], owner: str | None, by: str | None, limit: int | None, reverse: bool,
                 fmt: str) -> None:
    """A customer's story, newest first: interactions, tasks, deals, tickets...

    Each line: when (local time), what, who, and the summary. With --all,
    the same for every customer (the team's feed).

    \b
    Examples:
      crm timeline acme
      crm timeline acme --since 3m --type call --type meeting
      crm timeline acme --format json | jq '.[0]'
      crm timeline --all --since 7d --owner alice
    """
    from crmcli.actions import log as lib
    from crmcli.errors import UsageError
    from crmcli.render.tables import render

    if bool(customer_ref) == all_:
        raise UsageError("give a CUSTOMER, or --all for every customer's events")
    if owner and not all_:
        raise UsageError("--owner goes with --all (a customer has one owner)")
    store = get_app().store()
    flt = lib.TimelineFilter(types=lib.check_types(store, types), by=by, limit=limit, reverse=reverse)
    flt.since, flt.until = _window(since, until)
    if all_:
        rows = lib.team_feed(store, flt.since or lib.parse_since("7d"), flt.until, owner, flt)
        columns = ["when", "name", "what", "who", "summary"]
    else:
        rows = lib.timeline(store, customer_ref or "", flt)
        columns = ["when", "what", "who", "summary"]
    if fmt == "table":
        rows = [dict(r, summary=lib.first_line(r["summary"], 80)) for r in rows]
        headers = ["when", "customer", "what", "who", "summary"] if all_ else None
        render(rows, fmt, columns=columns, headers=headers, empty="No events match.")
    else:
        columns = ["at", "customer", "name", "kind", "who", "what", "summary"]
        render(rows, fmt, columns=columns + (["event"] if fmt in ("json", "yaml") else []))


@click.group("task", context_settings=CONTEXT_SETTINGS)
def task() -> None:
    """Follow-up tasks: add, complete, reopen, list.

    \b
    Examples:
      crm task add acme "Send the quote" --due friday
      crm task list --overdue
      crm task done task-9x2m
    """


@task.command("add")
@click.argument("customer_ref", metavar="CUSTOMER")
@click.argument("words", nargs=-1, required=True, metavar="TEXT...")
@click.option("--due", metavar="WHEN", help="When it is due: friday, 2026-11-25, 'tomorrow 9am', 'in 3 days'.")
@click.option("--owner", metavar="NAME", help="Who does it (default: you).")
@store_options
def task_add(customer_ref: str, words: tuple[str, ...], due: str | None, owner: str | None) -> None:
    """Add a task to a customer; prints CUSTOMER/task-xxxx.

    \b
    Examples:
      crm task add acme "Send the quote" --due friday
      crm task add 基石 发送续约报价 --due "2026-11-27 10:00" --owner 王芳
    """
    from crmcli.actions import log as lib

    store = get_app().store()
    t = lib.add_task(store, customer_ref, " ".join(words), due=due, owner=owner)
    echo(t.ref)
    due_part = f" due {lib.show_due(t.due)}" if t.due else ""
    done(f"Added task {t.id} for {t.name}{due_part}: {lib.first_line(t.text, 60)}", store)


def _task_change(ref: str, reopen: bool) -> None:
    from crmcli.actions import log as lib

    store = get_app().store()
    t = lib.reopen_task(store, ref) if reopen else lib.complete_task(store, ref)
    echo(t.ref)
    done(f"{'Reopened' if reopen else 'Completed'} task {t.id} of {t.name}: {lib.first_line(t.text, 60)}", store)


@task.command("done")
@click.argument("ref", metavar="ID")
@store_options
def task_done(ref: str) -> None:
    """Mark a task done. ID is task-xxxx (a unique prefix will do) or CUSTOMER/task-xxxx.

    \b
    Examples:
      crm task done task-9x2m
      crm task done acme/9x2m
    """
    _task_change(ref, reopen=False)


@task.command("reopen")
@click.argument("ref", metavar="ID")
@store_options
def task_reopen(ref: str) -> None:
    """Open a done task again.

    \b
    Examples:
      crm task reopen task-9x2m
    """
    _task_change(ref, reopen=True)


@task.command("list")
@click.option("--customer", "customer_ref", metavar="CUSTOMER", help="Only this customer's tasks.")
@click.option("--owner", metavar="NAME", help="Only tasks this person owns.")
@click.option("--mine", is_flag=True, help="Only tasks you own.")
@click.option("--overdue", is_flag=True, help="Only tasks past their due time.")
@click.option("--due", "due", multiple=True, type=click.Choice(["today", "week"]),
              help="Only tasks due today, or this week (today and the next 6 days).")
@click.option("--done", "status", flag_value="done", help="Done tasks instead of open ones.")
@click.option("--all", "status", flag_value="all", help="Open and done tasks.")
@format_option(LIST_FORMATS)
@store_options
def task_list(customer_ref: str | None, owner: str | None, mine: bool, overdue: bool, due: tuple[str, ...],
              status: str | None, fmt: str) -> None:
    """List open tasks, soonest due first (across all customers unless --customer).

    \b
    Examples:
      crm task list --mine --overdue --due today
      crm task list --customer acme --all
      crm task list --due week --format csv
    """
    from crmcli.actions import log as lib
    from crmcli.render.tables import render

    store = get_app().store()
    flt = lib.TaskFilter(customer=customer_ref, owner=store.user() if mine else owner, overdue=overdue,
                         due=due, status=status or "open")
    rows = [t.row() for t in lib.list_tasks(store, flt)]
    if fmt == "table":
        rows = [dict(r, text=lib.first_line(r["text"], 60)) for r in rows]
        columns = ["due_local", "ref", "name", "owner", "text"] + (["status"] if flt.status == "all" else [])
        render(rows, fmt, columns=columns, headers=["due", "task", "customer", "owner", "text", "status"],
               empty="No tasks match.")
    else:
        render(rows, fmt, columns=["ref", "id", "customer", "name", "due", "owner", "text", "status",
                                   "created", "by", "done_at"])


@click.command("agenda", context_settings=CONTEXT_SETTINGS)
@click.option("--owner", metavar="NAME", help="Only this person's tasks and customers.")
@click.option("--mine", is_flag=True, help="Only your tasks and customers.")
@click.option("--days", type=click.IntRange(1, 366), default=7, show_default=True, help="How many days ahead.")
@format_option(LIST_FORMATS)
@store_options
def agenda_cmd(owner: str | None, mine: bool, days: int, fmt: str) -> None:
    """What needs doing, by day: overdue tasks, today's, the coming days'.

    Also customers losing touch (touch_every in customer.yaml lapsed),
    contract renewals, and birthdays of customers and contacts.

    \b
    Examples:
      crm agenda
      crm agenda --mine --days 14
      crm agenda --format json
    """
    from crmcli.actions import log as lib
    from crmcli.render.tables import render

    store = get_app().store()
    items = lib.agenda(store, owner=store.user() if mine else owner, days=days)
    if fmt != "table":
        render([i.row() for i in items], fmt, columns=["date", "overdue", "time", "kind", "customer", "name",
                                                       "text", "ref", "owner"])
        return
    if not items:
        click.echo(f"Nothing on the agenda for the next {days} days.", err=True)
        return
    _print_agenda(items)


def _print_agenda(items: list[Any]) -> None:
    from datetime import timedelta

    from tabulate import tabulate

    from crmcli.domain import dates
    from crmcli.render.tables import style

    today = dates.now().date()
    groups: dict[str, list[Any]] = {}
    for item in items:
        if item.overdue:
            label = "Overdue"
        else:
            word = {today: "Today", today + timedelta(days=1): "Tomorrow"}.get(item.day, item.day.strftime("%A"))
            label = f"{word}, {item.day.isoformat()}"
        groups.setdefault(label, []).append(item)
    first = True
    for label, group in groups.items():
        if not first:
            echo("")
        first = False
        echo(style(label, sys.stdout, bold=True, fg="red" if label == "Overdue" else None))
        rows = [[" ".join(filter(None, [i.day.isoformat() if i.overdue else "", i.time or ""])),
                 i.kind, i.name, i.text, i.ref or "", i.owner or ""] for i in group]
        if not any(r[0] for r in rows):
            rows = [r[1:] for r in rows]
        for line in tabulate(rows, tablefmt="plain", disable_numparse=True).splitlines():
            echo("  " + line)
