"""Email into the journal: ``crm log --eml message.eml`` and ``crm import mailbox.mbox``.

The customer is found by the correspondent's address (the customer's own ``email`` or a contact's);
the interaction is ``kind: email`` with the subject as summary, the Date header as ``at``, and
``direction: out`` when From is one of our addresses (``CRM_AUTHOR``/``--author``, git's user.email),
else ``in``. ``crm log --eml`` captures a lead from an incoming email whose sender no customer has: a new
customer at stage ``lead`` with ``source: email`` and the sender's address, written with the email in one commit.
"""
from __future__ import annotations

import contextlib
import email
import email.policy
import email.utils
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crmcli import yamlio
from crmcli.domain import dates, ids
from crmcli.domain.customer import Customer, validate_customer
from crmcli.domain.interactions import interaction_type
from crmcli.errors import CrmError, InvalidRecord, NotFound, UsageError
from crmcli.io.import_values import dates_key
from crmcli.store import git
from crmcli.store.index import customer_index
from crmcli.store.store import Store

MAX_SUMMARY = 200


@dataclass
class Mail:
    subject: str
    at: datetime | None
    sender: str
    recipients: list[str]
    message_id: str | None = None
    sender_name: str = ""


def parse_message(data: bytes | Any) -> Mail:
    msg = data if not isinstance(data, bytes) else email.message_from_bytes(data, policy=email.policy.default)
    sender = _addresses(msg.get_all("From", []))
    names = [" ".join(n.split()) for n, a in email.utils.getaddresses([str(v) for v in msg.get_all("From", [])])
             if "@" in a]
    recipients = _addresses([*msg.get_all("To", []), *msg.get_all("Cc", [])])
    at = None
    raw_date = msg.get("Date")
    if raw_date:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            at = email.utils.parsedate_to_datetime(str(raw_date))
            if at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
    subject = " ".join(str(msg.get("Subject") or "").split())
    return Mail(subject, at, sender[0] if sender else "", recipients, str(msg.get("Message-ID") or "") or None,
                names[0] if names else "")


def _addresses(values: Iterable[Any]) -> list[str]:
    return [addr.strip().lower() for _, addr in email.utils.getaddresses([str(v) for v in values]) if "@" in addr]


def our_addresses(store: Store) -> set[str]:
    """Addresses that mean "we" sent it: --author / CRM_AUTHOR, and git's user."""
    found: set[str] = set()
    for text in (store.author, os.environ.get("CRM_AUTHOR")):
        if text:
            with contextlib.suppress(CrmError):
                found.add(git.parse_ident(text).email.lower())
    if store.top is not None:
        with contextlib.suppress(CrmError):
            who, committer = git.identities(store.top, None)
            found |= {who.email.lower(), committer.email.lower()}
    return found


class AddressBook:
    """Customers by every email they carry (customer.yaml email, contacts' emails)."""

    def __init__(self, store: Store):
        self.by_email: dict[str, tuple[Customer, str | None]] = {}
        for c in customer_index(store):
            own = c.get("email")
            if isinstance(own, str):
                self.by_email.setdefault(own.strip().lower(), (c, None))
            for p in c.contacts:
                if isinstance(p, dict) and isinstance(p.get("email"), str):
                    self.by_email.setdefault(p["email"].strip().lower(), (c, str(p.get("name") or "") or None))


@dataclass
class Planned:
    cid: str
    name: str
    entry: dict
    lead: Customer | None = None  # a lead captured from the email, written with it


def new_lead(store: Store, mail: Mail) -> Customer:
    """A customer at stage ``lead`` (source ``email``) for the unknown sender of an incoming email (not saved)."""
    name = mail.sender_name.strip().strip("'\"").strip() or mail.sender
    kinds = store.config.kinds
    data: dict[str, Any] = {"name": name, "kind": "person" if "person" in kinds else kinds[0], "stage": "lead",
                            "source": "email", "email": mail.sender, "created": dates.iso(dates.now())}
    issues = validate_customer(data, store.config)
    if issues:
        raise InvalidRecord(f"cannot add a lead for {mail.sender}: {issues[0][1]}; add the customer yourself "
                            f"(crm customer add) and log the email with crm log CUSTOMER --eml FILE")
    twins = store._by_name(name)
    if twins:
        raise InvalidRecord(f"no customer has the address {mail.sender}, but {name!r} is a customer's name "
                            f"({', '.join(twins)}); add the address (crm contact add {twins[0]} {name!r} --email "
                            f"{mail.sender}) or name the customer: crm log {twins[0]} --eml FILE")
    for _ in range(20):
        cid = ids.new_customer_id(name)
        if not store.customer_dir(cid).exists():
            return Customer(cid, data)
    raise InvalidRecord("could not find a free customer id; try again")  # pragma: no cover - 32**4 space


def plan_mail(store: Store, mail: Mail, book: AddressBook, ours: set[str], *, customer_ref: str | None = None,
              kind: str = "email", lead: bool = False) -> Planned:
    outgoing = mail.sender in ours
    others = mail.recipients if outgoing else [mail.sender]
    customer: Customer | None = None
    person: str | None = None
    if customer_ref:
        customer = store.load_customer(store.resolve(customer_ref), validate=False)
        for addr in others:
            hit = book.by_email.get(addr)
            if hit and hit[0].id == customer.id:
                person = hit[1]
                break
    else:
        for addr in others:
            if addr in book.by_email:
                customer, person = book.by_email[addr]
                break
    captured = None
    if customer is None and lead and not outgoing and mail.sender:
        customer = captured = new_lead(store, mail)
    if customer is None:
        who = ", ".join(others) or "(no address)"
        raise NotFound(f"no customer has the address {who}; add it (crm contact add CUSTOMER NAME --email "
                       f"{others[0] if others else 'ADDRESS'}) or name the customer: crm log CUSTOMER --eml FILE")
    at = dates.iso(mail.at) if mail.at else dates.iso(dates.now())
    summary = mail.subject or "(no subject)"
    if len(summary) > MAX_SUMMARY:
        summary = summary[:MAX_SUMMARY - 1] + "…"
    entry: dict[str, Any] = {"at": at, "kind": interaction_type(store.config, kind), "by": store.user(),
                             "contact": person, "direction": "out" if outgoing else "in", "summary": summary}
    return Planned(customer.id, customer.name, {k: v for k, v in entry.items() if v is not None}, captured)


def _already(store: Store, cid: str, entry: dict) -> bool:
    wanted = (entry["kind"], dates_key(entry["at"]), entry.get("summary"))
    return any((e.kind, dates_key(e.at), e.data.get("summary")) == wanted for e in store.load_journal(cid))


def log_eml(store: Store, path: Path, *, customer_ref: str | None = None, lead: bool = True) -> Planned:
    """Log one .eml file as an email interaction: one commit. An incoming email from an address no customer has
    adds a lead for its sender in the same commit (``lead=False``: refused instead)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"--eml {path}: cannot read it ({exc.strerror or exc})") from None
    mail = parse_message(data)
    if not mail.sender:
        written = email.message_from_bytes(data).get("From")
        if written:
            raise InvalidRecord(f"{path.name}: its From header {str(written).strip()!r} has no email address; "
                                "crm needs the sender's address to find or add the customer")
        raise InvalidRecord(f"{path.name}: no From header; is it an email (.eml) file?")
    planned = plan_mail(store, mail, AddressBook(store), our_addresses(store), customer_ref=customer_ref,
                        lead=lead)
    if planned.lead is None and _already(store, planned.cid, planned.entry):
        raise InvalidRecord(f"{path.name} is already logged for {planned.name} ({planned.cid}); nothing changed")
    message = (f"Add lead {planned.name} ({planned.cid}) from an email and log it" if planned.lead is not None
               else f"Log email with {planned.name} ({planned.cid})")
    with store.transaction(message, action="customer.add" if planned.lead is not None else "interaction.add",
                           customer=planned.cid) as tx:
        if planned.lead is not None:
            tx.write_customer(planned.lead)
        tx.append_entry(planned.cid, planned.entry)
    return planned


@dataclass
class MailboxResult:
    logged: list[Planned] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    commit: str | None = None


def import_mbox(store: Store, path: Path, *, dry_run: bool = False,
                progress: Callable[[int, int], Any] | None = None) -> MailboxResult:
    """Every message of an mbox whose correspondent is a customer, as email interactions: one commit."""
    import mailbox

    box = mailbox.mbox(str(path), create=False)
    book, ours = AddressBook(store), our_addresses(store)
    result = MailboxResult()
    seen: set[tuple[str, str, str]] = set()
    try:
        messages = list(box)
    finally:
        box.close()

    for i, raw in enumerate(messages, start=1):
        mail = parse_message(email.message_from_bytes(raw.as_bytes(), policy=email.policy.default))
        try:
            planned = plan_mail(store, mail, book, ours)
        except NotFound:
            result.skipped.append(f"{path.name}:message {i}: no customer has {mail.sender or 'the sender'} "
                                  f"({mail.subject[:40]!r})")
            continue
        key = (planned.cid, dates_key(planned.entry["at"]), planned.entry["summary"])
        if key in seen or _already(store, planned.cid, planned.entry):
            result.skipped.append(f"{path.name}:message {i}: already logged ({mail.subject[:40]!r})")
            continue
        seen.add(key)
        result.logged.append(planned)
    if dry_run or not result.logged:
        return result
    by_file: dict[tuple[str, str], list[str]] = {}
    for p in result.logged:
        by_file.setdefault((p.cid, p.entry["at"][:4]), []).append(yamlio.dump_entry(p.entry))
    n = len(result.logged)
    with store.transaction(f"Import {n:,} email{'s' if n != 1 else ''} from {path.name}", action="import",
                           bulk=True) as tx:
        for j, ((cid, year), lines) in enumerate(by_file.items(), start=1):
            tx.append(store.journal_file(cid, year), "".join(lines))
            if progress is not None:
                progress(j, len(by_file))
    result.commit = store.last_commit
    return result
