"""`crm mail CAMPAIGN --template FILE`: one message per member (crmcli.io.mailmerge), written as .eml files or an
mbox; ``--log`` records each as an outgoing email and a ``sent`` response, in one commit."""
from __future__ import annotations

import hashlib
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
from crmcli.io import mailmerge, smtpsend
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
    sending: bool = False  # through SMTP (--send)
    sent: int = 0  # sent through SMTP by this run
    already: set[str] = field(default_factory=set)  # sent by an earlier run (the resumable log): not again

    def rows(self) -> list[dict[str, Any]]:
        verb = ("would send" if self.dry_run else "sent") if self.sending else \
            ("would write" if self.dry_run else "written")
        out: list[dict[str, Any]] = [{"customer": m.customer, "name": m.name, "to": m.to, "subject": m.subject,
                                      "status": "sent before" if m.customer in self.already else verb}
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
               sender: str | None = None, dry_run: bool = False, log: bool = False, send: bool = False) -> MailResult:
    """Render every member's message (all of them before anything is written), then write or send, then log."""
    if not dry_run and int(out is not None) + int(mbox is not None) + int(send) != 1:
        raise UsageError("say where the messages go: --out DIR (one .eml each), --mbox FILE or --send (one of "
                         "them), or --dry-run to see them first")
    settings = smtpsend.Settings.from_config(store.config.get("mail")) if send else None
    campaign = files.load(store, name)
    base = mailmerge.load_template(template)
    compiled: dict[Path, mailmerge.Template] = {template: base}
    result = MailResult(campaign, dry_run=dry_run, sending=send)
    sender = _sender(store, sender)
    now = dates.now()
    for m in members(store, campaign):
        message = _one(store, m, campaign, template, compiled, sender, now, result)
        if message is not None:
            result.messages.append(message)
    state = store.state_dir / "mail" / f"{campaign.name}--{template.stem}"
    stamp = _stamp(template, result.messages)
    if dry_run:
        state.parent.mkdir(parents=True, exist_ok=True)
        state.with_suffix(".dryrun").write_text(stamp + "\n", encoding="utf-8")
        return result
    if settings is not None:
        _send(store, campaign, settings, state, stamp, result, now)
        return result
    if not result.messages:
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


def _stamp(template: Path, messages: list[Message]) -> str:
    """What a dry run saw: the template files and every recipient and subject."""
    digest = hashlib.sha256()
    for path in sorted(template.parent.glob(f"{template.stem}*{template.suffix}")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for m in messages:
        digest.update(f"{m.customer}\0{m.to}\0{m.subject}\n".encode())
    return digest.hexdigest()


def _send(store: Store, campaign: Campaign, settings: smtpsend.Settings, state: Path, stamp: str,
          result: MailResult, now: Any) -> None:
    """Through SMTP, after a matching dry run; each batch of sent messages logged in one commit."""
    try:
        seen = state.with_suffix(".dryrun").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        seen = ""
    if seen != stamp:
        raise UsageError("run the same command with --dry-run first (the template or the members changed since "
                         "the last dry run, or there was none), check the list, then --send")
    log = state.with_suffix(".sent")
    earlier = smtpsend.read_log(log)
    result.already = {m.customer for m in result.messages if m.customer in earlier}
    answered = {m.customer for m in members(store, campaign) if "sent" in m.responses}
    batch = [m for m in result.messages if m.customer in earlier and m.customer not in answered]  # a crash's

    def flush() -> None:
        if batch:
            _log(store, campaign, list(batch), now)
            result.logged = True
            batch.clear()

    def on_sent(m: Message) -> None:
        batch.append(m)
        if len(batch) >= settings.batch:
            flush()

    try:
        result.sent = smtpsend.send_all(settings, result.messages, log, on_sent=on_sent)
    finally:
        flush()
