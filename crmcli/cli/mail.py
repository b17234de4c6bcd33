"""`crm mail CAMPAIGN --template FILE`: mail merge to .eml files or an mbox (crmcli.actions.mail)."""
from __future__ import annotations

from pathlib import Path

import click

from crmcli.actions import mail as action
from crmcli.cli.common import CONTEXT_SETTINGS, done, echo, format_option, get_app, store_options
from crmcli.render.tables import render

COLUMNS = ["customer", "name", "to", "subject", "status"]


@click.command("mail", context_settings=CONTEXT_SETTINGS)
@click.argument("campaign")
@click.option("--template", "-t", required=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Subject: line, a blank line, the body; Jinja2 ({{ contact.name }}, {{ customer.name }}).")
@click.option("--out", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
              help="Write one CUSTOMER-ID.eml per member into DIR.")
@click.option("--mbox", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every message into one mbox file.")
@click.option("--from", "sender", metavar="'NAME <EMAIL>'",
              help="The sender (default: mail.from in crm.yaml, else your git identity).")
@click.option("--send", is_flag=True,
              help="Send through the SMTP server of crm.yaml (mail: smtp:), after a --dry-run of the same.")
@click.option("--dry-run", is_flag=True, help="Render every message and list them; write or send nothing.")
@click.option("--log", is_flag=True,
              help="Also record each message as an outgoing email and a 'sent' response (one commit).")
@format_option()
@store_options(result_format=False)
def mail_cmd(campaign: str, template: Path, out: Path | None, mbox: Path | None, sender: str | None,
             send: bool, dry_run: bool, log: bool, fmt: str) -> None:
    """Mail merge: one personalized message per campaign member, as .eml files, an mbox, or sent by SMTP.

    Every message is rendered before anything is written, so a template error writes nothing.
    Members tagged unsubscribed or do-not-contact, and members without an email address, are skipped
    and listed. --send needs a --dry-run of the same first; it sends at most per_minute messages a
    minute, logs each batch as emails sent (one commit per batch), and never sends a message twice:
    after a crash or a refusal, run the same command again to send the rest.

    \b
    Examples:
      crm mail autumn-salon --template invite.txt --dry-run
      crm mail autumn-salon --template invite.txt --out outbox/
      crm mail autumn-salon --template invite.txt --mbox salon.mbox --log
      crm mail autumn-salon --template invite.txt --send
    """
    store = get_app().store()
    result = action.mail_merge(store, campaign, template, out=out, mbox=mbox, sender=sender, dry_run=dry_run,
                               log=log, send=send)
    columns = [c for c in COLUMNS if c != "name"] if fmt == "table" else COLUMNS  # the table fits a terminal
    render(result.rows(), fmt, columns=columns, empty="The campaign has no members.")
    n, skipped = len(result.messages), len(result.skipped)
    tail = f"; {skipped} skipped" if skipped else ""
    if dry_run:
        verb = "send" if send else "write"
        echo(f"Would {verb} {n} message{'s' if n != 1 else ''}{tail} (dry run: nothing written)", err=True)
        return
    if send:
        before = f"; {len(result.already)} sent before" if result.already else ""
        done(f"Sent {result.sent} message{'s' if result.sent != 1 else ''}{before}{tail}", store)
        return
    where = str(out) if out is not None else str(mbox)
    line = f"Wrote {n} message{'s' if n != 1 else ''} to {where}{tail}"
    if result.logged:
        done(line + "; logged each as an email sent", store)
    else:
        echo(line, err=True)
