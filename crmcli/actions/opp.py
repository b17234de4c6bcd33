"""Deals: ``crm opp add / advance / win / lose / reopen / edit / show / list``.

Each command resolves the deal through the store, builds its journal events through
``crmcli.domain.deals``, and writes them, and the customer's lifecycle stage when the facts move it,
in one transaction (one commit). It returns an ``Outcome`` for the CLI to print.
``Outcome``, ``event`` and ``commit_events`` are shared with ``crmcli.actions.order`` and
``crmcli.actions.contract``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from crmcli.actions.customer import parse_assignment
from crmcli.analysis.renewals import Journal, records_with
from crmcli.domain import dates
from crmcli.domain.customer import Customer
from crmcli.domain.deals import (
    EDITABLE,
    Opportunity,
    check_stage,
    customer_opportunities,
    lifecycle_change,
    next_stage,
    open_stages,
    parse_day,
)
from crmcli.domain.journal import entity_events, new_entry
from crmcli.domain.money import format_money, parse_amount, parse_currency
from crmcli.domain.text import check_text
from crmcli.errors import InvalidRecord, UsageError
from crmcli.store import campaigns as campaign_files
from crmcli.store.index import Index, open_index
from crmcli.store.index_reads import FileRow
from crmcli.store.refs import new_local_id, resolve_entity
from crmcli.store.store import Entry, Store


def now_iso() -> str:
    return dates.iso(dates.now())


@dataclass
class Outcome:
    """What a sales command changed, for the CLI to report."""

    cid: str
    name: str
    message: str
    events: list[dict]
    opp: Opportunity | None = None
    lifecycle: tuple[str, str] | None = None


def event(store: Store, kind: str, **fields: Any) -> dict:
    """A journal entry stamped now, by the acting user."""
    return new_entry(kind, now_iso(), store.user(), **fields)


def commit_events(store: Store, cid: str, customer: Customer, journal: list[Entry], new: list[dict],
                  message: str, action: str, opp: Opportunity | None = None) -> Outcome:
    """Append ``new`` and move the lifecycle forward if due, in one transaction."""
    entries = list(journal) + [Entry(e, "", i) for i, e in enumerate(new)]
    change = lifecycle_change(store.config, customer, entries)
    full = message
    if change:
        full += f"\n\nLifecycle: {change[0]} -> {change[1]}"
        customer.data["stage"] = change[1]
    with store.transaction(full, action=action, customer=cid) as tx:
        if len(store.load_journal(cid)) != len(journal):  # another command wrote in between: do not guess
            raise InvalidRecord(f"{customer.name}'s journal changed while this command ran; run it again")
        for e in new:
            tx.append_entry(cid, e)
        if change:
            tx.write_customer(customer)
    if opp is not None:
        opp = Opportunity.from_events(opp.events + [e for e in new if e.get("opp") == opp.id], cid) or opp
        opp.customer_name = customer.name
    return Outcome(cid, customer.name, message, new, opp, change)


def load_opportunity(store: Store, ref: str) -> tuple[str, Customer, Opportunity, list[Entry]]:
    cid, oid, journal = resolve_entity(store, ref, "opp")
    opp = Opportunity.from_events(entity_events(journal, "opp").get(oid, []), cid)
    if opp is None:
        raise InvalidRecord(f"{cid}/{oid} has events but no opp.open; run crm check")
    customer = store.load_customer(cid, validate=False)
    opp.customer_name = customer.name
    return cid, customer, opp, journal


# -- commands ----------------------------------------------------------------------------------------
def add_opportunity(store: Store, customer_ref: str, title: str, *, amount: Any, currency: str | None = None,
                    close: str | None = None, stage: str | None = None, owner: str | None = None,
                    source: str | None = None, product: str | None = None, campaign: str | None = None) -> Outcome:
    config = store.config
    campaign = campaign_files.load(store, campaign).name if campaign else ""  # the campaign it came from
    title = check_text(title, "title")
    code = parse_currency(currency, config)
    value = parse_amount(amount, currency=code)
    stage = check_stage(config, stage, open_only=True) if stage else open_stages(config)[0]
    close_day = parse_day(close, "close") if close else None
    cid = store.resolve(customer_ref)
    customer = store.load_customer(cid, validate=False)
    journal = store.load_journal(cid)
    oid = new_local_id(entity_events(journal, "opp"), "opp")
    new = event(store, "opp.open", id=oid, title=title, amount=value, currency=code, stage=stage,
                close=close_day, owner=(owner or "").strip() or store.user(), source=(source or "").strip(),
                product=(product or "").strip(), campaign=campaign)
    opp = Opportunity.from_events([new], cid)
    assert opp is not None
    message = f"Open opportunity {oid} for {customer.name}: {title} ({format_money(value, code)})"
    outcome = commit_events(store, cid, customer, journal, [new], message, "opp.open", opp)
    return outcome


def _require_open(opp: Opportunity) -> None:
    if not opp.is_open:
        raise InvalidRecord(f"{opp.id} ({opp.title}) is already {opp.stage}; reopen it first: "
                            f"crm opp reopen {opp.ref}")


def advance(store: Store, ref: str, to: str | None = None) -> Outcome:
    """Move a deal to ``to`` (default: the next open stage); a jump or a step back is allowed."""
    config = store.config
    target = check_stage(config, to) if to else None
    cid, customer, opp, journal = load_opportunity(store, ref)
    _require_open(opp)
    if target is None:
        target = next_stage(config, opp.stage)
        if target is None:
            raise UsageError(f"{opp.id} is at {opp.stage}, the last open stage; close it with "
                             f"crm opp win {opp.ref} or crm opp lose {opp.ref} --reason TEXT")
    if target == "won":
        return _win(store, cid, customer, opp, journal)
    if target == "lost":
        raise UsageError(f"losing a deal needs a reason: crm opp lose {opp.ref} --reason TEXT")
    if target == opp.stage:
        raise InvalidRecord(f"{opp.id} is already at {target}")
    names = config.stages
    back = opp.stage in names and names.index(target) < names.index(opp.stage)
    new = event(store, "opp.stage", opp=opp.id, **{"from": opp.stage, "to": target}, title=opp.title)
    verb = f"Move {opp.id} of {customer.name} back" if back else f"Advance {opp.id} of {customer.name}"
    return commit_events(store, cid, customer, journal, [new], f"{verb}: {opp.stage} -> {target}",
                         "opp.stage", opp)


def win(store: Store, ref: str, *, amount: Any = None, order: bool = False) -> Outcome:
    cid, customer, opp, journal = load_opportunity(store, ref)
    return _win(store, cid, customer, opp, journal, amount=amount, order=order)


def _win(store: Store, cid: str, customer: Customer, opp: Opportunity, journal: list[Entry], *,
         amount: Any = None, order: bool = False) -> Outcome:
    value = parse_amount(amount, currency=opp.currency) if amount is not None else opp.amount
    _require_open(opp)
    new = [event(store, "opp.won", opp=opp.id, amount=value, currency=opp.currency, title=opp.title)]
    money = format_money(value, opp.currency)
    message = f"Win {opp.id} of {customer.name}: {opp.title} ({money})"
    if order:
        new.append(event(store, "order.add", date=dates.now().date().isoformat(), amount=value,
                         currency=opp.currency, product=opp.product, opp=opp.id))
        message += " with an order"
    return commit_events(store, cid, customer, journal, new, message, "opp.won", opp)


def lose(store: Store, ref: str, *, reason: str | None) -> Outcome:
    if reason is None or not str(reason).strip():
        raise InvalidRecord("losing a deal needs a reason (like 'price too high')")
    text = check_text(reason, "reason", limit=2000)
    cid, customer, opp, journal = load_opportunity(store, ref)
    _require_open(opp)
    new = event(store, "opp.lost", opp=opp.id, title=opp.title, reason=text)
    short = text.splitlines()[0][:60]
    return commit_events(store, cid, customer, journal, [new],
                         f"Lose {opp.id} of {customer.name}: {opp.title} ({short})", "opp.lost", opp)


def reopen(store: Store, ref: str, *, stage: str | None = None) -> Outcome:
    config = store.config
    target = check_stage(config, stage, open_only=True) if stage else None
    cid, customer, opp, journal = load_opportunity(store, ref)
    if opp.is_open:
        raise InvalidRecord(f"{opp.id} ({opp.title}) is open at {opp.stage}; only won or lost deals reopen")
    target = target or opp.reopen_stage(config)
    new = event(store, "opp.reopen", opp=opp.id, stage=target, title=opp.title)
    return commit_events(store, cid, customer, journal, [new],
                         f"Reopen {opp.id} of {customer.name} at {target}", "opp.reopen", opp)


def edit_opportunity(store: Store, ref: str, assignments: list[str] | list[tuple[str, str]]) -> Outcome | None:
    """Apply ``FIELD=VALUE`` changes (``FIELD=`` clears); None when nothing changes."""
    config = store.config
    pairs = [parse_assignment(a) if isinstance(a, str) else a for a in assignments]
    if not pairs:
        raise UsageError(f"nothing to change; give --set FIELD=VALUE ({', '.join(EDITABLE)})")
    cid, customer, opp, journal = load_opportunity(store, ref)
    changes: dict[str, Any] = {}
    for key, raw in pairs:
        key = key.strip().lower()
        if key == "stage":
            raise UsageError("change the stage with crm opp advance, win, lose or reopen")
        if key not in EDITABLE:
            raise UsageError(f"--set {key}: unknown field; fields: {', '.join(EDITABLE)}")
        if raw == "" and key in ("title", "amount", "currency"):
            raise InvalidRecord(f"{key} cannot be cleared")
        value: Any
        if raw == "":
            value = None
        elif key == "title":
            value = check_text(raw, "title")
        elif key == "amount":
            new_currency = dict(pairs).get("currency", "").strip().upper() or opp.currency
            value = parse_amount(raw, currency=new_currency)
        elif key == "currency":
            value = parse_currency(raw, config)
        elif key == "close":
            value = parse_day(raw, "close")
        else:
            value = check_text(raw, key)
        if getattr(opp, key) != value:
            changes[key] = value
    if not changes:
        return None
    new = event(store, "opp.set", opp=opp.id, changes=changes)
    summary = ", ".join(f"{k} {'cleared' if v is None else v}" for k, v in changes.items())
    return commit_events(store, cid, customer, journal, [new], f"Edit {opp.id} of {customer.name}: {summary}",
                         "opp.set", opp)


# -- reading many ------------------------------------------------------------------------------------
@dataclass
class OppFilter:
    stage: str | None = None
    owner: str | None = None
    open_only: bool = False
    closing_before: str | None = None  # WHEN; deals with a close date on or before that day
    customer: str | None = None


def list_opportunities(store: Store, flt: OppFilter | None = None, *, detail: bool = True) -> list[Opportunity]:
    """Deals across the store matching ``flt``, by close date (undated last), then customer (without ``detail``,
    deals read from the index lack their stage history)."""
    flt = flt or OppFilter()
    stage = check_stage(store.config, flt.stage) if flt.stage else None
    before = parse_day(flt.closing_before, "closing_before") if flt.closing_before else None
    groups: Iterable[tuple[Journal, str | None, list[Opportunity]]]
    if flt.customer:
        journal = Journal.of(store, store.resolve(flt.customer))
        groups = [(journal, None, customer_opportunities(journal.entries, journal.cid))]
        return _matching(groups, stage, before, flt)
    # SQL on the folded deals in the index picks them; the same tests below decide
    wanted = {"stage = ?": stage, "open = 1": flt.open_only,
              "owner = ?": flt.owner.strip().casefold() if flt.owner else None}
    with open_index(store) as index:
        groups = records_with(index, "opps", _fold_opps, " AND ".join(c for c, v in wanted.items() if v),
                              tuple(v for c, v in wanted.items() if v and "?" in c), detail=detail)
        return _matching(groups, stage, before, flt)


def _fold_opps(index: Index, cid: str, rows: list[FileRow]) -> list[Opportunity]:
    return customer_opportunities(index.entries(cid, rows), cid)


def _matching(groups: Iterable[tuple[Journal, str | None, list[Opportunity]]], stage: str | None,
              before: str | None, flt: OppFilter) -> list[Opportunity]:
    out = []
    for journal, name, opps in groups:
        for opp in opps:
            if stage and opp.stage != stage:
                continue
            if flt.open_only and not opp.is_open:
                continue
            if flt.owner and (opp.owner or "").casefold() != flt.owner.strip().casefold():
                continue
            if before and not (opp.close and opp.close <= before):
                continue
            if name is None:
                name = journal.name
            opp.customer_name = name
            out.append(opp)
    return sorted(out, key=lambda o: (o.close is None, o.close or "", o.customer_name.casefold(), o.id))
