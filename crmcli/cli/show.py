"""`crm show`: the 360-degree customer overview."""
from __future__ import annotations

import sys

import click

from crmcli.analysis.overview import customer_overview
from crmcli.cli.common import CONTEXT_SETTINGS, format_option, get_app, records_option
from crmcli.render.overview import print_overview
from crmcli.render.tables import render_data


@click.command("show", context_settings=CONTEXT_SETTINGS)
@click.argument("customer_ref", metavar="CUSTOMER")
@click.option("--events", "-n", "events", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many of the latest timeline entries to show.")
@format_option(["text", "json", "yaml"], default="text")
@records_option
def show_cmd(customer_ref: str, events: int, fmt: str) -> None:
    """The whole relationship with a customer on one screen, with its health score and warnings.

    Core profile, key metrics (revenue, pipeline, last contact, next task,
    contract end, loyalty points and tier, referrals, health), contacts,
    open deals, open tickets with their SLA, open tasks, the latest timeline
    entries, then warnings (each with its reason) and how the health score
    was made (weights in crm.yaml, health:).
    Reads only that customer's folder (a name, and the customers it referred,
    are looked up in the index).
    CUSTOMER is an id or its prefix, or the name, part of it, its pinyin
    or initials (crm show 北京, crm show jsxz).

    \b
    Examples:
      crm show acme
      crm show 深圳市基石协作科技有限公司 --events 20
      crm show 基石
      crm show acme --format json | jq '.warnings'
    """
    store = get_app().store()
    data = customer_overview(store, customer_ref, events=events)
    if fmt != "text":
        render_data(data, fmt)
        return
    print_overview(data, sys.stdout)
