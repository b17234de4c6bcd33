"""`crm mail CAMPAIGN --template FILE`: one message per member (crmcli.io.mailmerge), written as .eml files or an
mbox; ``--log`` records each as an outgoing email and a ``sent`` response, in one commit."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmcli.actions.campaign import Member, members
from crmcli.domain import campaigns as domain
from crmcli.domain import dates
from crmcli.domain.campaigns import Campaign
from crmcli.domain.interactions import interaction_entry
from crmcli.domain.text import first_line
from crmcli.errors import UsageError
from crmcli.io import mailmerge
from crmcli.io.mailmerge import Message
from crmcli.store import campaigns as files
from crmcli.store.store import Store

DO_NOT_CONTACT_TAGS = ("unsubscribed", "do-not-contact")


@dataclass
class MailResult:
    campaign: Campaign
    messages: list[Message] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (id, name, why)
    written: list[Path] = field(default_factory=list)
    logged: bool = False
    dry_run: bool = False

    def rows(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"customer": m.customer, "name": m.name, "to": m.to, "subject": m.subject,
                                      "status": "would write" if self.dry_run else "written"}
                                     for m in self.messages]
        out += [{"customer": cid, "name": name, "to": None, "subject": None, "status": f"skipped: {why}"}
                for cid, name, why in self.skipped]
        return out


def do_not_contact(data: dict) -> bool:
    """Unsubscribed or do-not-contact: a tag of that name, or ``do_not_contact: true`` (top level or extra)."""
    tags = {str(t).strip().casefold() for t in data.get("tags") or [] if t is not None}
    extra: dict = data["extra"] if isinstance(data.get("extra"), dict) else {}
    flag = data.get("do_not_contact", extra.get("do_not_contact"))
    return bool(tags & set(DO_NOT_CONTACT_TAGS)) or flag is True or str(flag).strip().lower() in ("yes", "true")


def recipient(data: dict) -> tuple[dict[str, Any], str] | None:
    """(contact, address): the primary contact with an email, else the first such, else the customer's own."""
    people = [p for p in data.get("contacts") or [] if isinstance(p, dict) and p.get("email")]
    people.sort(key=lambda p: not p.get("primary"))
    if people:
        return people[0], str(people[0]["email"])
    if data.get("email"):
        return {"name": data.get("name"), "email": data["email"]}, str(data["email"])
    return None


def _sender(store: Store, given: str | None) -> str:
    if given:
        return given
    configured = (store.config.get("mail") or {}).get("from") if isinstance(store.config.get("mail"), dict) else None
    return str(configured) if configured else str(store.identities()[0])


def mail_merge(store: Store, name: str, template: Path, *, out: Path | None = None, mbox: Path | None = None,
               sender: str | None = None, dry_run: bool = False, log: bool = False) -> MailResult:
    """Render every member's message (all of them before anything is written), then write, then log."""
    if not dry_run and (out is None) == (mbox is None):
        raise UsageError("say where the messages go: --out DIR (one .eml each) or --mbox FILE (not both), "
                         "or --dry-run to see them first")
    campaign = files.load(store, name)
    base = mailmerge.load_template(template)
    compiled: dict[Path, mailmerge.Template] = {template: base}
    result = MailResult(campaign, dry_run=dry_run)
    sender = _sender(store, sender)
    now = dates.now()
    for m in members(store, campaign):
        message = _one(store, m, campaign, template, compiled, sender, now, result)
        if message is not None:
            result.messages.append(message)
    if dry_run or not result.messages:
        return result
    if out is not None:
        result.written = mailmerge.write_eml(out, result.messages)
    elif mbox is not None:
        mailmerge.write_mbox(mbox, result.messages)
        result.written = [mbox]
    if log:
        _log(store, campaign, result.messages, now)
        result.logged = True
    return result


def _one(store: Store, m: Member, campaign: Campaign, template: Path, compiled: dict[Path, mailmerge.Template],
         sender: str, now: Any, result: MailResult) -> Message | None:
    data = m.data
    if do_not_contact(data):
        result.skipped.append((m.customer, m.name, "do not contact"))
        return None
    found = recipient(data)
    if found is None:
        result.skipped.append((m.customer, m.name, "no email address"))
        return None
    contact, address = found
    extra: dict = data["extra"] if isinstance(data.get("extra"), dict) else {}
    path = mailmerge.for_language(template, data.get("language") or extra.get("language"))
    if path not in compiled:
        compiled[path] = mailmerge.load_template(path)
    values = {"customer": {**data, "id": m.customer, "extra": extra}, "contact": contact,
              "campaign": campaign.to_dict(),
              "sender": sender}
    headers, body = mailmerge.render(compiled[path], values, f"customer {m.customer}")
    to = f"{contact.get('name')} <{address}>" if contact.get("name") else address
    msg = mailmerge.build(sender, to, headers, body, now=now,
                          extra={"X-Crm-Customer": m.customer, "X-Crm-Campaign": campaign.name})
    return Message(m.customer, m.name, address, headers["subject"], msg)


def _log(store: Store, campaign: Campaign, messages: list[Message], now: Any) -> None:
    """Each message as an outgoing ``email`` interaction and a ``sent`` response, in one commit."""
    by = store.user()
    typed = "email" in store.config.interaction_types
    n = len(messages)
    with store.transaction(f"Mail campaign {campaign.name}: {n} message{'s' if n != 1 else ''}",
                           action="campaign.mail", customer=messages[0].customer if n == 1 else None,
                           bulk=n > 20) as tx:
        for m in messages:
            if typed:
                contact = str(m.message["To"]).rpartition("<")[0].strip() or None
                entry = interaction_entry("email", now, by, contact=contact, direction="out")
                entry["summary"] = first_line(m.subject, 200)
                tx.append_entry(m.customer, entry)
            tx.append_entry(m.customer, domain.response_entry(dates.iso(now), by, campaign.name, "sent"))
