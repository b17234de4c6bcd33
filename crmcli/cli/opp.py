"""`crm opp ...`: open deals and move them through the pipeline."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from crmcli.actions import opp as actions
from crmcli.actions.opp import Outcome
from crmcli.cli.common import (
    CONTEXT_SETTINGS,
    done,
    echo,
    format_option,
    get_app,
    json_mode,
    limit_option,
    more_rows,
    records_option,
    screenful,
    store_options,
)
from crmcli.domain.deals import Opportunity
from crmcli.domain.money import format_money
from crmcli.errors import FieldError, InvalidRecord
from crmcli.render.opp import opp_fields, stage_history
from crmcli.render.tables import key_values, render, render_data

LIST_COLUMNS = ["id", "customer_name", "title", "stage", "amount", "close", "owner"]
LIST_HEADERS = ["id", "customer", "title", "stage", "amount", "close", "owner"]
DATA_COLUMNS = ["id", "customer", "customer_name", "title", "stage", "probability", "category", "amount",
                "currency", "weighted", "close", "owner", "source", "product", "created", "closed_at", "reason"]


@contextmanager
def option_words() -> Iterator[None]:
    """Word the library's field errors with this command's options (``close`` -> ``--close``)."""
    try:
        yield
    except FieldError as exc:
        raise exc.as_options() from None


def report(outcome: Outcome, store: Any, message: str) -> None:
    """Say what a sales command changed: the lifecycle move, if any, then the commit line."""
    if outcome.lifecycle:
        old, new = outcome.lifecycle
        if not get_app().quiet and not json_mode():
            echo(f"{outcome.name} is now a {new} (was {old})", err=True)
    ids = [e.get("id") or e.get("opp") for e in outcome.events if isinstance(e, dict)]
    done(message, store, customer=outcome.cid, ids=[i for i in dict.fromkeys(ids) if i] or None,
         lifecycle=None if not outcome.lifecycle else dict(zip(("from", "to"), outcome.lifecycle, strict=True)))


# -- opportunities ---------------------------------------------------------------------------------------
@click.group(context_settings=CONTEXT_SETTINGS)
def opp() -> None:
    """Open deals and move them through the pipeline to won or lost.

    Stages, their order and probabilities come from the pipeline in crm.yaml.
    A deal is named by its id (opp-9x2m), a unique prefix of it, or CUSTOMER/ID.

    \b
    Examples:
      crm opp add acme "ERP rollout" --amount 120000 --close 2026-12-31
      crm opp advance opp-9x2m            # to the next stage
      crm opp advance opp-9x2m negotiation
      crm opp win opp-9x2m --order
      crm opp list --open --closing-before "in 30 days"
    """


@opp.command("add")
@click.argument("customer_ref", metavar="CUSTOMER")
@click.argument("title")
@click.option("--amount", required=True, metavar="N", help="Expected deal value, e.g. 120000 or 99.50.")
@click.option("--currency", metavar="CODE", help="Three-letter code (default: currency in crm.yaml).")
@click.option("--close", "close", metavar="WHEN", help="Expected close date, e.g. 2026-12-31 or 'in 30 days'.")
@click.option("--stage", help="Starting stage (default: the first stage of the pipeline).")
@click.option("--owner", help="Who works the deal (default: you).")
@click.option("--source", help="Where the deal came from.")
@click.option("--product", help="What is being sold.")
@click.option("--campaign", help="The campaign the deal came from (default: its customer's).")
@format_option(["text", "json", "yaml"], default="text")
@store_options(result_format=False)
def opp_add(customer_ref: str, title: str, amount: str, currency: str | None, close: str | None,
            stage: str | None, owner: str | None, source: str | None, product: str | None, campaign: str | None,
            fmt: str) -> None:
    """Open a deal for a customer; prints the new id.

    Opening a deal makes a lead a prospect.

    \b
    Examples:
      crm opp add acme "ERP rollout" --amount 120000 --close 2026-12-31 --stage proposal
      crm opp add 基石 "年度维保" --amount 48000 --owner 王芳 --product support
    """
    store = get_app().store()
    with option_words():
        out = actions.add_opportunity(store, customer_ref, title, amount=amount, currency=currency, close=close,
                                      stage=stage, owner=owner, source=source, product=product,
                                      campaign=campaign)
    assert out.opp is not None
    if fmt == "text":
        echo(out.opp.id)
    else:
        _render_opp(out.opp, store, fmt)
    report(out, store, out.message.replace("Open opportunity", "Opened", 1))


@opp.command("advance")
@click.argument("ref", metavar="ID")
@click.argument("stage", required=False)
@store_options
def opp_advance(ref: str, stage: str | None) -> None:
    """Move a deal to the next stage, or to STAGE (a jump or a step back is recorded too).

    \b
    Examples:
      crm opp advance opp-9x2m
      crm opp advance acme/opp-9x2m negotiation
      crm opp advance 9x2m qualified      # back a step
    """
    store = get_app().store()
    out = actions.advance(store, ref, stage)
    report(out, store, out.message)


@opp.command("win")
@click.argument("ref", metavar="ID")
@click.option("--amount", metavar="N", help="Final value, if it differs from the deal's amount.")
@click.option("--order", is_flag=True, help="Also record the order (today, the won amount, the deal's product).")
@store_options
def opp_win(ref: str, amount: str | None, order: bool) -> None:
    """Mark a deal won; the customer becomes a customer (or repeat).

    \b
    Examples:
      crm opp win opp-9x2m
      crm opp win opp-9x2m --amount 115000 --order
    """
    store = get_app().store()
    out = actions.win(store, ref, amount=amount, order=order)
    report(out, store, out.message)


@opp.command("lose")
@click.argument("ref", metavar="ID")
@click.option("--reason", metavar="TEXT", help="Why it was lost (required; kept for reports).")
@store_options
def opp_lose(ref: str, reason: str | None) -> None:
    """Mark a deal lost, with the reason.

    \b
    Examples:
      crm opp lose opp-9x2m --reason "went with a competitor on price"
    """
    store = get_app().store()
    if reason is None or not reason.strip():
        raise InvalidRecord("losing a deal needs a reason: --reason TEXT (e.g. --reason 'price too high')")
    out = actions.lose(store, ref, reason=reason)
    report(out, store, out.message)


@opp.command("reopen")
@click.argument("ref", metavar="ID")
@click.option("--stage", help="Stage to reopen at (default: the one it closed from).")
@store_options
def opp_reopen(ref: str, stage: str | None) -> None:
    """Reopen a won or lost deal.

    \b
    Examples:
      crm opp reopen opp-9x2m
      crm opp reopen opp-9x2m --stage proposal
    """
    store = get_app().store()
    out = actions.reopen(store, ref, stage=stage)
    report(out, store, out.message)


@opp.command("edit")
@click.argument("ref", metavar="ID")
@click.option("--set", "assignments", multiple=True, required=True, metavar="FIELD=VALUE",
              help="title, amount, currency, close, owner, source or product (FIELD= clears). Repeatable.")
@store_options
def opp_edit(ref: str, assignments: tuple[str, ...]) -> None:
    """Change a deal's fields (the stage changes through advance, win, lose and reopen).

    \b
    Examples:
      crm opp edit opp-9x2m --set amount=150000 --set close=2027-01-31
      crm opp edit opp-9x2m --set owner=bob --set product=
    """
    store = get_app().store()
    out = actions.edit_opportunity(store, ref, list(assignments))
    if out is None:
        done("No change.")
        return
    report(out, store, out.message)


@opp.command("list")
@click.option("--stage", help="Only deals at this stage.")
@click.option("--owner", help="Only deals of this owner.")
@click.option("--open", "open_only", is_flag=True, help="Only open deals (not won or lost).")
@click.option("--closing-before", metavar="WHEN", help="Only deals expected to close on or before this day.")
@click.option("--customer", "customer_ref", metavar="CUSTOMER", help="Only this customer's deals.")
@limit_option
@format_option()
@records_option
def opp_list(stage: str | None, owner: str | None, open_only: bool, closing_before: str | None,
             customer_ref: str | None, limit: int | None, fmt: str) -> None:
    """List deals across all customers, soonest expected close first.

    \b
    Examples:
      crm opp list --open --owner alice
      crm opp list --stage negotiation --closing-before "in 2 weeks"
      crm opp list --customer acme --format json
    """
    store = get_app().store()
    flt = actions.OppFilter(stage=stage, owner=owner, open_only=open_only, closing_before=closing_before,
                            customer=customer_ref)
    with option_words():
        opps = actions.list_opportunities(store, flt, detail=fmt != "table")
    opps, left = screenful(opps, limit, fmt)
    if fmt == "table":
        rows = [dict(o.to_dict(store.config), amount=format_money(o.amount, o.currency),
                     _fg_stage={"won": "green", "lost": "red"}.get(o.stage)) for o in opps]
        render(rows, fmt, columns=LIST_COLUMNS, headers=LIST_HEADERS, empty="No deals match.", drop=["owner"],
               right=["amount"])
        more_rows(left, fmt)
    else:
        render([o.to_dict(store.config) for o in opps], fmt, columns=DATA_COLUMNS)


@opp.command("show")
@click.argument("ref", metavar="ID")
@format_option(["text", "json", "yaml"], default="text")
@records_option
def opp_show(ref: str, fmt: str) -> None:
    """Show a deal and every stage change it went through.

    \b
    Examples:
      crm opp show opp-9x2m
      crm opp show acme/opp-9x2m --format yaml
    """
    store = get_app().store()
    _, _, o, _ = actions.load_opportunity(store, ref)
    _render_opp(o, store, fmt)


def _render_opp(o: Opportunity, store: Any, fmt: str) -> None:
    config = store.config
    if fmt != "text":
        render_data(o.to_dict(config), fmt)
        return
    key_values(opp_fields(o, config))
    echo("")
    echo("Stage history")
    render(stage_history(o), "table", columns=["at", "by", "change"])
