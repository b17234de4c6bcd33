"""`crm pipeline`: the open deals at a glance, per stage."""
from __future__ import annotations

import sys
from datetime import time

import click

from crmcli.actions.pipeline import pipeline_board
from crmcli.cli.common import CONTEXT_SETTINGS, echo, format_option, get_app, records_option
from crmcli.domain import dates
from crmcli.errors import InvalidRecord
from crmcli.render.board import board_text
from crmcli.render.tables import render


@click.command("pipeline", context_settings=CONTEXT_SETTINGS)
@click.option("--owner", help="Only this owner's deals.")
@click.option("--currency", metavar="CODE", help="Count deals in this currency (default: currency in crm.yaml).")
@click.option("--as-of", metavar="WHEN", help="The pipeline as it stood then (a day means its end).")
@format_option()
@records_option
def pipeline_cmd(owner: str | None, currency: str | None, as_of: str | None, fmt: str) -> None:
    """The open deals at a glance: per stage the count, total and weighted amount.

    Weighted = amount x the stage's probability. In the bars, █ is the weighted
    part of a stage's total and ░ the rest, scaled to the largest stage.

    \b
    Examples:
      crm pipeline
      crm pipeline --owner alice
      crm pipeline --as-of 2026-09-30 --format csv
    """
    store = get_app().store()
    when = None
    if as_of:
        try:
            when = dates.parse_when(as_of, date_only_time=time(23, 59, 59))
        except dates.DateError as exc:
            raise InvalidRecord(f"--as-of: {exc}") from None
    board = pipeline_board(store, owner, currency=currency, as_of=when)
    if fmt != "table":
        rows = [dict(r, currency=board.currency) for r in board]
        render(rows, fmt, columns=["stage", "probability", "category", "count", "total", "weighted", "currency"])
        return
    from crmcli.render.fit import fit_lines, screen_width

    echo("\n".join(fit_lines(board_text(board, owner, when, sys.stdout).splitlines(), screen_width(sys.stdout))))
