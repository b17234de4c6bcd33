"""`crm log`: parse, call crmcli.actions.log, print what was logged (crmcli.render.timeline)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from crmcli.actions import log as action
from crmcli.cli.common import CONTEXT_SETTINGS, done, get_app, is_interactive, say, store_options
from crmcli.errors import Aborted, UsageError
from crmcli.render.timeline import event_line, logged_lines


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
@click.option("--no-lead", "no_lead", is_flag=True,
              help="With --eml: refuse an email from an unknown sender instead of adding it as a lead.")
@store_options
def log_cmd(customer_ref: str, kind: str, words: tuple[str, ...], message: str | None, at: str | None,
            duration: str | None, direction: str | None, contact: str | None, outcome: str | None,
            tags: tuple[str, ...], follow_up: str | None, task_text: str | None, owner: str | None,
            eml: str | None, no_lead: bool) -> None:
    """Log a call, email, meeting... with a customer, right after it happened.

    TYPE is one of interaction_types in crm.yaml (default: call, email,
    meeting, visit, chat, sms, note; a unique prefix will do). The summary
    comes from the remaining arguments, -m TEXT, standard input (-), or
    $EDITOR when none is given on a terminal.

    With --eml, an incoming email from an address no customer has adds its
    sender as a lead (stage lead, source email) in the same commit.

    \b
    Examples:
      crm log acme call Discussed the renewal, they want a quote
      crm log acme meeting -m "Kick-off" --at "yesterday 15:00" --duration 1h30m
      crm log 深圳市基石协作科技有限公司 call 确认续约意向 --contact 李娜 --direction out --follow-up friday
      git log -1 --format=%B | crm log acme note -
      crm log --eml message.eml
    """
    if eml:
        from crmcli.io import eml as mail  # the email parser (45 ms of imports) only for --eml

        planned = mail.log_eml(get_app().store(), Path(eml), customer_ref=customer_ref, lead=not no_lead)
        from crmcli.domain import dates

        when = dates.format_local(dates.parse_iso(planned.entry["at"]))  # the one date-time style, local
        if planned.lead is not None:
            say(f"New lead {planned.name} ({planned.cid}), source email; crm lead assign gives it an owner")
        say(event_line(planned.cid, when, "email", planned.entry["summary"]))
        what = "Added lead and logged email" if planned.lead is not None else "Logged email"
        done(f"{what} with {planned.name} ({planned.cid})", get_app().store(), customer=planned.cid,
             logged=[{"kind": "email", "at": planned.entry["at"], "summary": planned.entry["summary"]}],
             lead=planned.lead is not None)
        return
    if not customer_ref or not kind:
        raise click.UsageError(f"Missing argument '{'CUSTOMER' if not customer_ref else 'TYPE'}'.")
    store = get_app().store()
    draft = action.prepare_interaction(store, customer_ref, kind, at=at, duration=duration, direction=direction,
                                       contact=contact, outcome=outcome, tags=tags, follow_up=follow_up,
                                       task_text=task_text, owner=owner)
    summary = _summary(words, message, f"{draft.entry['kind']} with {draft.customer.name}")
    logged = action.commit_interaction(store, draft, summary)
    for line in logged_lines(logged.cid, logged.at, logged.entry["kind"], logged.entry["summary"], logged.task,
                             logged.due):
        say(line)
    follow = f"; follow-up {logged.task['id']}" if logged.task is not None else ""
    task = None if logged.task is None else {"id": logged.task["id"], "ref": f"{logged.cid}/{logged.task['id']}",
                                             "due": logged.task.get("due"), "text": logged.task.get("text")}
    done(f"Logged {logged.entry['kind']} with {logged.customer.name} ({logged.cid}){follow}", store,
         customer=logged.cid, logged=[{"kind": logged.entry["kind"], "at": logged.entry["at"],
                                       "summary": logged.entry["summary"]}], task=task)


def _summary(words: tuple[str, ...], message: str | None, what: str) -> str | None:
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
