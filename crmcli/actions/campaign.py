"""Campaigns: ``crm campaign add / list / show / member / respond``: a file per campaign, members and responses as
journal events, each command one commit."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from crmcli import yamlio
from crmcli.actions.customer import CustomerFilter, list_customers
from crmcli.analysis.journals import journal_dicts
from crmcli.domain import campaigns as domain
from crmcli.domain import dates
from crmcli.domain.campaigns import Campaign
from crmcli.domain.text import first_line
from crmcli.errors import CrmError, InvalidRecord, Problem, UsageError
from crmcli.io.csvio import read_csv
from crmcli.store import campaigns as files
from crmcli.store.index import customer_index
from crmcli.store.store import Store

REF_COLUMNS = ("customer", "id", "name", "客户", "客户名称", "名称")


def add_campaign(store: Store, name: str, kind: str, *, title: str | None = None, cost: Any = None,
                 currency: str | None = None, start: date | None = None, end: date | None = None) -> Campaign:
    """Write ``campaigns/NAME.yaml`` in one commit; a second campaign of the same name is refused."""
    existing = files.find(store, name)
    if existing is not None:
        raise UsageError(f"campaign {existing.name!r} already exists ({store.rel(files.path(store, existing.name))}); "
                         "pick another name")
    campaign = domain.new_campaign(name, kind, title=title, cost=cost,
                                   currency=currency or str(store.config.get("currency", "CNY")),
                                   start=start, end=end, created=dates.iso(dates.now()))
    with store.transaction(f"Add campaign {campaign.name} ({campaign.kind})", action="campaign.add") as tx:
        tx.write(files.path(store, campaign.name), yamlio.dumps(campaign.to_dict()))
    return campaign


@dataclass
class Member:
    customer: str
    name: str
    responses: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict, repr=False)

    def row(self) -> dict[str, Any]:
        return {"customer": self.customer, "name": self.name, "responses": ", ".join(self.responses) or None}


def members(store: Store, campaign: Campaign) -> list[Member]:
    """The campaign's members (customers with its ``campaign.*`` events), by name, with their responses."""
    out = []
    for c in customer_index(store):
        got = domain.memberships(journal_dicts(store, c.id, (b"campaign.",))).get(domain.key(campaign.name))
        if got is not None:
            out.append(Member(c.id, c.name, got, c.data))
    return sorted(out, key=lambda m: (m.name.casefold(), m.customer))


def _refs_from_file(store: Store, file: Path) -> list[str]:
    """Customers a CSV names: its ``customer``/``id``/``name`` column, else (no such header) its first column."""
    table = read_csv(file)
    headers = [h.strip().casefold() for h in table.headers]
    named = [headers.index(h) for h in REF_COLUMNS if h in headers]
    col = named[0] if named else 0
    lines = [(row, values) for row, values in table.rows]
    if not named:  # a plain list: the first line is a customer too
        lines.insert(0, (1, table.headers))
    found = []
    for row, values in lines:
        value = values[col].strip() if col < len(values) else ""
        if not value:
            continue
        try:
            found.append(store.resolve(value))
        except CrmError as exc:
            raise type(exc)(f"{file.name}:{row}: {exc}; fix the row and retry (nothing was added)") from None
    return found


@dataclass
class Change:
    campaign: Campaign
    customers: list[tuple[str, str]] = field(default_factory=list)  # (id, name) changed
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (id, name) already so
    dry_run: bool = False


def add_members(store: Store, name: str, refs: tuple[str, ...] = (), *, flt: CustomerFilter | None = None,
                file: Path | None = None, dry_run: bool = False) -> Change:
    """Members one by one (``refs``), by the filters of ``customer list`` (``flt``) and/or from a file; one commit."""
    campaign = files.load(store, name)
    wanted = [store.resolve(r) for r in refs]
    if flt is not None:
        wanted += [c.id for c in list_customers(store, flt, sort="id")]
    if file is not None:
        wanted += _refs_from_file(store, file)
    if not wanted:
        raise UsageError("no customers: name them, give a filter (--tag, --stage, --query ...) or --from-file FILE")
    current = {m.customer for m in members(store, campaign)}
    result = Change(campaign, dry_run=dry_run)
    for cid in dict.fromkeys(wanted):
        pair = (cid, store.load_customer(cid, validate=False).name)
        (result.skipped if cid in current else result.customers).append(pair)
    if dry_run or not result.customers:
        return result
    at, by = dates.iso(dates.now()), store.user()
    n = len(result.customers)
    with store.transaction(f"Add {n} member{'s' if n != 1 else ''} to campaign {campaign.name}",
                           action="campaign.member", customer=result.customers[0][0] if n == 1 else None,
                           bulk=n > 20) as tx:
        for cid, _ in result.customers:
            tx.append_entry(cid, domain.member_entry(at, by, campaign.name))
    return result


def respond(store: Store, name: str, refs: tuple[str, ...], response: str, *, everyone: bool = False,
            at: str | None = None, note: str | None = None) -> Change:
    """A ``campaign.response`` for each customer (or every member), joining them first if need be; one commit.

    ``converted`` also makes the campaign the customer's own (``campaign`` in customer.yaml) when it has none.
    """
    campaign = files.load(store, name)
    if bool(refs) == everyone:
        raise UsageError("name the customers who answered, or pass --all-members (not both)")
    when = dates.parse_when(at, prefer="past") if at else dates.now()
    stamp, by = dates.iso(when), store.user()
    entry = domain.response_entry(stamp, by, campaign.name, response, first_line(note, 500) if note else None)
    current = {m.customer: m for m in members(store, campaign)}
    cids = list(current) if everyone else list(dict.fromkeys(store.resolve(r) for r in refs))
    result = Change(campaign)
    if not cids:
        raise UsageError(f"campaign {campaign.name} has no members yet; add some with crm campaign member")
    n = len(cids)
    with store.transaction(f"Record {response} for {n} member{'s' if n != 1 else ''} of campaign {campaign.name}",
                           action="campaign.response", customer=cids[0] if n == 1 else None, bulk=n > 20) as tx:
        for cid in cids:
            customer = store.load_customer(cid, validate=False)
            if cid not in current:
                tx.append_entry(cid, domain.member_entry(stamp, by, campaign.name))
            tx.append_entry(cid, dict(entry))
            if response == "converted" and not customer.get("campaign"):
                fresh = store.load_customer(cid)
                fresh.data["campaign"] = campaign.name
                tx.write_customer(fresh)
            result.customers.append((cid, customer.name))
    return result


def check_campaign(store: Store, name: str | None) -> str | None:
    """The stored spelling of a campaign a customer or deal names; NotFound when there is none."""
    return files.load(store, name).name if name else None


def list_rows(store: Store) -> list[dict[str, Any]]:
    return [c.to_dict() for c in files.all_campaigns(store)]


def show(store: Store, name: str) -> tuple[Campaign, list[Member]]:
    campaign = files.load(store, name)
    return campaign, members(store, campaign)


def parse_day(text: str | None, what: str) -> date | None:
    if not text:
        return None
    try:
        return dates.parse_date(text)
    except dates.DateError as exc:
        raise InvalidRecord(f"{what}: {exc}") from None


def check_campaign_files(store: Store, results: Any = None) -> Iterator[Problem]:
    """``crm check``: every ``campaigns/*.yaml`` readable and valid, its name matching its file name."""
    for path in files.files(store):
        rel = store.rel(path)
        try:
            text = store.read_text(path)
            data = yamlio.loads(text, rel)
        except CrmError as exc:
            yield Problem(rel, None, str(exc).removeprefix(f"{rel}: "))
            continue
        for keys, message in domain.validate(data):
            yield Problem(rel, yamlio.key_line(text, keys) if keys else None, message)
        if isinstance(data, dict) and isinstance(data.get("name"), str) and data["name"] != path.stem:
            yield Problem(rel, yamlio.key_line(text, ("name",)), f"name {data['name']!r} differs from the file "
                          f"name; rename the file to {data['name']}.yaml or fix the name")
