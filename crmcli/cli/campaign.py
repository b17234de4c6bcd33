"""`crm campaign ...`: campaigns and events, their members and responses (crmcli.actions.campaign)."""
from __future__ import annotations

from pathlib import Path

import click

from crmcli.actions import campaign as action
from crmcli.actions.customer import CustomerFilter
from crmcli.cli.common import CONTEXT_SETTINGS, done, echo, format_option, get_app, records_option, store_options
from crmcli.domain import dates
from crmcli.domain.campaigns import KINDS, RESPONSES
from crmcli.domain.money import format_money
from crmcli.render.tables import key_values, render, render_data

LIST_COLUMNS = ["name", "kind", "title", "cost", "currency", "start", "end"]


@click.group("campaign", context_settings=CONTEXT_SETTINGS)
def campaign() -> None:
    """Campaigns and events: define them, add members, record each member's response.

    \b
    Examples:
      crm campaign add spring-webinar --kind webinar --cost 8000 --start 2026-03-01 --end 2026-03-31
      crm campaign member spring-webinar --tag saas --stage lead
      crm campaign respond spring-webinar acme --response attended
      crm report campaigns
    """


@campaign.command("add")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(KINDS), help="What kind of campaign it is.")
@click.option("--title", help="A longer name for people.")
@click.option("--cost", metavar="AMOUNT", help="What it cost (for cost per lead and ROI).")
@click.option("--currency", metavar="CODE", help="Currency of the cost (default: the store's).")
@click.option("--start", metavar="WHEN", help="First day.")
@click.option("--end", metavar="WHEN", help="Last day.")
@store_options
def campaign_add(name: str, kind: str, title: str | None, cost: str | None, currency: str | None,
                 start: str | None, end: str | None) -> None:
    """Define a campaign: writes campaigns/NAME.yaml in one commit.

    \b
    Examples:
      crm campaign add spring-webinar --kind webinar --cost 8000 --start 2026-03-01 --end 2026-03-31
      crm campaign add customer-dinner-2026 --kind event --title "Appreciation dinner" --cost 20000
    """
    store = get_app().store()
    c = action.add_campaign(store, name, kind, title=title, cost=cost, currency=currency,
                            start=action.parse_day(start, "start"), end=action.parse_day(end, "end"))
    echo(c.name)
    done(f"Added campaign {c.name} ({c.kind})", store)


@campaign.command("list")
@format_option()
@records_option
def campaign_list(fmt: str) -> None:
    """Every campaign, by start day.

    \b
    Examples:
      crm campaign list
      crm campaign list -f json
    """
    rows = action.list_rows(get_app().store())
    if fmt != "table":
        render(rows, fmt, columns=LIST_COLUMNS, empty="No campaigns yet.")
        return
    shown = [dict(r, cost=_money(r), id=r["name"]) for r in rows]  # one money style on the screen: ¥8,000
    columns = ["id", *(c for c in LIST_COLUMNS if c not in ("name", "currency"))]  # the name is the id: never cut
    render(shown, fmt, columns=columns, headers=["name", *columns[1:]], empty="No campaigns yet.", right=["cost"])


def _money(row: dict) -> str:
    return "" if row.get("cost") is None else format_money(row["cost"], row.get("currency") or "")


@campaign.command("show")
@click.argument("name")
@format_option(["text", "json", "yaml"], default="text")
@records_option
def campaign_show(name: str, fmt: str) -> None:
    """A campaign and its members, each with the responses recorded.

    \b
    Examples:
      crm campaign show spring-webinar
    """
    c, people = action.show(get_app().store(), name)
    if fmt != "text":
        render_data({**c.to_dict(), "members": [m.row() for m in people]}, fmt)
        return
    data = c.to_dict()
    data["cost"] = _money(data)
    data.pop("currency", None)
    if data.get("created"):
        data["created"] = dates.format_local(dates.parse_iso(str(data["created"])))
    key_values(list(data.items()) + [("members", len(people))])
    if people:
        echo("")
        render([m.row() for m in people], "table", columns=["customer", "name", "responses"], drop=["customer"])


@campaign.command("member")
@click.argument("name")
@click.argument("customers", nargs=-1, metavar="[CUSTOMER]...")
@click.option("--tag", "tags", multiple=True, help="Customers with this tag (repeat: all of them).")
@click.option("--owner")
@click.option("--stage")
@click.option("--tier")
@click.option("--industry")
@click.option("--kind")
@click.option("--source")
@click.option("--query", help="Text in the name, id, contacts, emails or phones (as customer list).")
@click.option("--from-file", "from_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="A CSV of customers: its customer, id or name column, else its first column; a response "
                   "column (with at/date and note) records each row's response.")
@click.option("--dry-run", is_flag=True, help="Show who would join; change nothing.")
@format_option()
@store_options(result_format=False)
def campaign_member(name: str, customers: tuple[str, ...], tags: tuple[str, ...], owner: str | None,
                    stage: str | None, tier: str | None, industry: str | None, kind: str | None,
                    source: str | None, query: str | None, from_file: Path | None, dry_run: bool, fmt: str) -> None:
    """Add members: customers named one by one, a segment (the filters of customer list), or a file.

    Each new member gets a campaign.member event; customers already in are skipped. A file with a
    response column (invited, sent, registered, attended, replied, converted; at or date and note
    optional) also records each row's response as a campaign.response event. One commit.

    \b
    Examples:
      crm campaign member spring-webinar acme globex
      crm campaign member spring-webinar --stage lead --source website --dry-run
      crm campaign member spring-webinar --from-file attendees.csv
      crm campaign member spring-webinar --from-file responses.csv   # customer,response,date,note
    """
    store = get_app().store()
    fields = {k: v for k, v in {"owner": owner, "stage": stage, "tier": tier, "industry": industry,
                                "kind": kind, "source": source}.items() if v}
    flt = CustomerFilter(tags=tags, query=query, fields=fields) if (fields or tags or query) else None
    result = action.add_members(store, name, customers, flt=flt, file=from_file, dry_run=dry_run)
    rows: list[dict[str, str | None]] = [{"customer": cid, "name": n, "status": "would join" if dry_run
                                          else "joined"} for cid, n in result.customers]
    rows += [{"customer": cid, "name": n, "status": "already a member"} for cid, n in result.skipped]
    columns = ["customer", "name", "status"]
    if result.responses:
        columns.append("response")
        for r in rows:
            r["response"] = ", ".join(result.responses.get(str(r["customer"]), [])) or None
    render(rows, fmt, columns=columns)
    n, k = len(result.customers), sum(len(v) for v in result.responses.values())
    answers = f", {k} response{'s' if k != 1 else ''}" if k else ""
    if dry_run:
        echo(f"Would add {n} member{'s' if n != 1 else ''}{answers} to {result.campaign.name} "
             "(dry run: nothing changed)", err=True)
    elif n or k:
        done(f"Added {n} member{'s' if n != 1 else ''}{answers} to campaign {result.campaign.name}", store)
    else:
        echo(f"Nobody new to add to {result.campaign.name}", err=True)


@campaign.command("respond")
@click.argument("name")
@click.argument("customers", nargs=-1, metavar="[CUSTOMER]...")
@click.option("--response", "-r", required=True, type=click.Choice(RESPONSES), help="What the member did.")
@click.option("--all-members", "everyone", is_flag=True, help="Every member (e.g. --response sent).")
@click.option("--at", metavar="WHEN", help="When (default: now).")
@click.option("--note", metavar="TEXT", help="A line about it.")
@store_options
def campaign_respond(name: str, customers: tuple[str, ...], response: str, everyone: bool, at: str | None,
                     note: str | None) -> None:
    """Record a response (invited, sent, registered, attended, replied, converted) of members, one commit.

    A customer not yet a member joins in the same commit. converted also sets the customer's
    campaign (in customer.yaml) when it has none, so its deals count for this campaign.

    \b
    Examples:
      crm campaign respond spring-webinar acme globex --response attended
      crm campaign respond spring-webinar --all-members --response sent
      crm campaign respond spring-webinar acme -r converted --note "Asked for a quote"
    """
    store = get_app().store()
    result = action.respond(store, name, customers, response, everyone=everyone, at=at, note=note)
    render([{"customer": cid, "name": n, "response": response} for cid, n in result.customers], "table",
           columns=["customer", "name", "response"])
    k = len(result.customers)
    done(f"Recorded {response} for {k} member{'s' if k != 1 else ''} of campaign {result.campaign.name}", store)
