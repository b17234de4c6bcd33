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


RESPONSE_COLUMNS = ("response", "反馈", "响应")
AT_COLUMNS = ("at", "date", "when", "日期", "时间")
NOTE_COLUMNS = ("note", "备注")


@dataclass
class FileRow:
    """One customer a members file names, with the response it records (``response`` column), if any."""

    customer: str
    response: str | None = None
    at: str | None = None
    note: str | None = None


def _column(headers: list[str], names: tuple[str, ...]) -> int | None:
    found = [headers.index(h) for h in names if h in headers]
    return found[0] if found else None


def _rows_from_file(store: Store, file: Path) -> list[FileRow]:
    """Customers a CSV names: its ``customer``/``id``/``name`` column, else (no such header) its first column;
    with a ``response`` column (and optionally ``at``/``date`` and ``note``), each row's response too."""
    table = read_csv(file)
    headers = [h.strip().casefold() for h in table.headers]
    named = [headers.index(h) for h in REF_COLUMNS if h in headers]
    col = named[0] if named else 0
    answer, when, note = (_column(headers, names) if named else None
                          for names in (RESPONSE_COLUMNS, AT_COLUMNS, NOTE_COLUMNS))
    lines = [(row, values) for row, values in table.rows]
    if not named:  # a plain list: the first line is a customer too
        lines.insert(0, (1, table.headers))

    def cell(values: list[Any], i: int | None) -> str:
        return str(values[i] or "").strip() if i is not None and i < len(values) else ""

    found = []
    for row, values in lines:
        value = cell(values, col)
        if not value:
            continue
        try:
            item = FileRow(store.resolve(value))
            response = cell(values, answer).casefold()
            if response:
                if response not in domain.RESPONSES:
                    raise InvalidRecord(f"response {cell(values, answer)!r} is not one of: "
                                        f"{', '.join(domain.RESPONSES)}")
                item.response = response
                item.at = dates.iso(dates.parse_when(cell(values, when), prefer="past")) if cell(values, when) \
                    else None
                item.note = first_line(cell(values, note), 500) or None
        except dates.DateError as exc:
            raise InvalidRecord(f"{file.name}:{row}: {exc}; fix the row and retry (nothing was added)") from None
        except CrmError as exc:
            raise type(exc)(f"{file.name}:{row}: {exc}; fix the row and retry (nothing was added)") from None
        found.append(item)
    return found


@dataclass
class Change:
    campaign: Campaign
    customers: list[tuple[str, str]] = field(default_factory=list)  # (id, name) changed
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (id, name) already so
    dry_run: bool = False
    responses: dict[str, list[str]] = field(default_factory=dict)  # id -> responses recorded from the file


def add_members(store: Store, name: str, refs: tuple[str, ...] = (), *, flt: CustomerFilter | None = None,
                file: Path | None = None, dry_run: bool = False) -> Change:
    """Members one by one (``refs``), by the filters of ``customer list`` (``flt``) and/or from a file; one commit.

    A file's ``response`` column also records each row's response (a ``campaign.response`` event, at the row's
    ``at``/``date`` or now, with its ``note``), for new members and members already in alike; a response the
    member already gave is not recorded again, so reading the same file twice changes nothing.
    """
    campaign = files.load(store, name)
    wanted = [store.resolve(r) for r in refs]
    if flt is not None:
        wanted += [c.id for c in list_customers(store, flt, sort="id")]
    rows = _rows_from_file(store, file) if file is not None else []
    wanted += [r.customer for r in rows]
    if not wanted:
        raise UsageError("no customers: name them, give a filter (--tag, --stage, --query ...) or --from-file FILE")
    given = {m.customer: set(m.responses) for m in members(store, campaign)}
    result = Change(campaign, dry_run=dry_run)
    for cid in dict.fromkeys(wanted):
        pair = (cid, store.load_customer(cid, validate=False).name)
        (result.skipped if cid in given else result.customers).append(pair)
    # A response the member already gave is recorded once: the same file read again adds nothing.
    answered, seen = [], set()
    for r in rows:
        if r.response and r.response not in given.get(r.customer, ()) and (r.customer, r.response) not in seen:
            seen.add((r.customer, r.response))
            answered.append(r)
    for r in answered:
        result.responses.setdefault(r.customer, []).append(r.response or "")
    if dry_run or not (result.customers or answered):
        return result
    now, by = dates.iso(dates.now()), store.user()
    n, k = len(result.customers), len(answered)
    joined = f"Add {n} member{'s' if n != 1 else ''} to campaign {campaign.name}"
    answers = f"{k} response{'s' if k != 1 else ''}"
    message = (f"{joined}, {answers}" if k else joined) if n else f"Record {answers} of campaign {campaign.name}"
    touched = {cid for cid, _ in result.customers} | {r.customer for r in answered}
    with store.transaction(message, action="campaign.member", customer=next(iter(touched)) if len(touched) == 1
                           else None, bulk=len(touched) > 20) as tx:
        for cid, _ in result.customers:
            tx.append_entry(cid, domain.member_entry(now, by, campaign.name))
        converts = set()
        for r in answered:
            tx.append_entry(r.customer, domain.response_entry(r.at or now, by, campaign.name, r.response or "",
                                                              r.note))
            if r.response == "converted":
                converts.add(r.customer)
        for cid in sorted(converts):  # as crm campaign respond: the campaign becomes the customer's own
            fresh = store.load_customer(cid)
            if not fresh.get("campaign"):
                fresh.data["campaign"] = campaign.name
                tx.write_customer(fresh)
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
