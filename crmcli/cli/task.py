"""`crm task add/done/reopen/list`: parse, call crmcli.actions.task (or read crmcli.analysis.journals), print."""
from __future__ import annotations

import click

from crmcli.actions import task as action
from crmcli.analysis.journals import TaskFilter, list_tasks
from crmcli.cli.common import (
    CONTEXT_SETTINGS,
    done,
    format_option,
    get_app,
    limit_option,
    more_rows,
    records_option,
    result_line,
    screenful,
    shortened,
    store_options,
)
from crmcli.domain import dates
from crmcli.domain.tasks import show_due
from crmcli.domain.text import first_line
from crmcli.render.tables import render


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
    store = get_app().store()
    t = action.add_task(store, customer_ref, " ".join(words), due=due, owner=owner)
    result_line(t.ref)
    due_part = f" due {show_due(t.due)}" if t.due else ""
    done(f"Added task {t.id} for {t.name}{due_part}: {first_line(t.text, 60)}", store, task=t.id, ref=t.ref,
         due=t.due)


def _task_change(ref: str, reopen: bool) -> None:
    store = get_app().store()
    t = action.reopen_task(store, ref) if reopen else action.complete_task(store, ref)
    result_line(t.ref)
    done(f"{'Reopened' if reopen else 'Completed'} task {t.id} of {t.name}: {first_line(t.text, 60)}", store,
         task=t.id, ref=t.ref)


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
@limit_option
@format_option()
@records_option
def task_list(customer_ref: str | None, owner: str | None, mine: bool, overdue: bool, due: tuple[str, ...],
              status: str | None, limit: int | None, fmt: str) -> None:
    """List open tasks, soonest due first (across all customers unless --customer).

    \b
    Examples:
      crm task list --mine --overdue --due today
      crm task list --customer acme --all
      crm task list --due week --format csv
    """
    store = get_app().store()
    flt = TaskFilter(customer=customer_ref, owner=store.user() if mine else owner, overdue=overdue,
                     due=due, status=status or "open")
    tasks, left = screenful(list_tasks(store, flt), limit, fmt)
    rows = [t.row() for t in tasks]
    if fmt == "table":
        now = dates.now()
        rows = [dict(r, text=first_line(r["text"], 60), _fg_due_local="red" if t.is_overdue(now) else None)
                for r, t in zip(shortened(store, rows, "ref"), tasks, strict=True)]
        columns = ["due_local", "ref", "name", "owner", "text"] + (["status"] if flt.status == "all" else [])
        render(rows, fmt, columns=columns, headers=["due", "task", "customer", "owner", "text", "status"],
               empty="No tasks match.", drop=["owner"])
        more_rows(left, fmt)
    else:
        render(rows, fmt, columns=["ref", "id", "customer", "name", "due", "owner", "text", "status",
                                   "created", "by", "done_at"])
