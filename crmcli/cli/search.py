"""`crm search`: text anywhere in the store, Chinese, full-width and phone numbers included."""
from __future__ import annotations

import sys
from typing import Any

import click

from crmcli.analysis.search import search
from crmcli.cli.common import (
    CONTEXT_SETTINGS,
    echo,
    exit_partial,
    format_option,
    get_app,
    records_option,
    report_skipped,
    shortened,
    skip_invalid_option,
)
from crmcli.render.tables import render, style, use_color

SEARCH_TYPES = ["customer", "contact", "interaction", "opp", "ticket", "task", "survey"]


@click.command("search", context_settings=CONTEXT_SETTINGS)
@click.argument("words", nargs=-1, required=True, metavar="TEXT...")
@click.option("--type", "-t", "types", multiple=True, type=click.Choice(SEARCH_TYPES, case_sensitive=False),
              help="Only this kind of record; repeatable.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many results.")
@skip_invalid_option
@format_option(["table", "json", "csv", "yaml", "md"])
@records_option
def search_cmd(words: tuple[str, ...], types: tuple[str, ...], limit: int | None, skip_invalid: bool,
               fmt: str) -> None:
    """Find text in customers, contacts, interactions, deals, tickets, tasks and surveys.

    Case does not matter, full-width characters match their plain forms,
    and phone numbers match without spaces, dashes or a +86/+1 prefix.
    Each result names the customer, where the text was found, and shows it
    in context. A customer whose files cannot be read is named on stderr and
    the command fails (exit 4) unless --skip-invalid.

    \b
    Examples:
      crm search 李娜
      crm search 13800138000
      crm search export --type ticket --type interaction
      crm search "renewal" --format json --limit 20
    """
    store = get_app().store()
    problems: list[str] = []
    rows = search(store, " ".join(words), types, limit, problems=problems)
    report_skipped(problems, skip_invalid, "nothing searched")
    _show(store, rows, fmt)
    exit_partial(len(problems), "unreadable customer", "the others were searched")


def _show(store: Any, rows: list[dict], fmt: str) -> None:
    if fmt != "table":
        render(rows, fmt, columns=["type", "customer", "name", "field", "snippet", "ref", "at"])
        return
    colour = use_color(sys.stdout)
    shown = []
    for r in shortened(store, rows, "ref"):  # a customer's short id; a record's own id
        text = r["snippet"]
        if colour and r["match"] and r["match"] in text:
            text = text.replace(r["match"], style(r["match"], sys.stdout, fg="yellow", bold=True), 1)
        ref = r["ref"].split("/", 1)[1] if "/" in r["ref"] else r["ref"]
        shown.append(dict(r, snippet=text, ref=ref, when=(r["when"] or "")[:10]))
    if not shown:
        echo("Nothing found.", err=True)
        return
    render(shown, "table", columns=["type", "name", "field", "snippet", "ref", "when"],
           headers=["type", "customer", "field", "found", "id", "date"], drop=["when", "field", "ref"])
