"""`crm opp ...`, `crm pipeline`, `crm order ...` and `crm contract ...`."""
from __future__ import annotations

from typing import Any

import click

from crmcli.cli.common import CONTEXT_SETTINGS, done, echo, format_option, get_app, store_options

LIST_COLUMNS = ["id", "customer_name", "title", "stage", "amount", "close", "owner"]
LIST_HEADERS = ["id", "customer", "title", "stage", "amount", "close", "owner"]
DATA_COLUMNS = ["id", "customer", "customer_name", "title", "stage", "probability", "category", "amount",
                "currency", "weighted", "close", "owner", "source", "product", "created", "closed_at", "reason"]
BAR_WIDTH = 24


def _report(outcome: Any, store: Any, message: str) -> None:
    if outcome.lifecycle:
        old, new = outcome.lifecycle
        echo(f"{outcome.name} is now a {new} (was {old})", err=True)
    done(message, store)


def _money(amount: Any, currency: Any) -> str:
    from crmcli.actions.opp import format_money

    return format_money(amount, currency)


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
@format_option(["text", "json", "yaml"], default="text")
@store_options
def opp_add(customer_ref: str, title: str, amount: str, currency: str | None, close: str | None,
            stage: str | None, owner: str | None, source: str | None, product: str | None, fmt: str) -> None:
    """Open a deal for a customer; prints the new id.

    Opening a deal makes a lead a prospect.

    \b
    Examples:
      crm opp add acme "ERP rollout" --amount 120000 --close 2026-12-31 --stage proposal
      crm opp add 基石 "年度维保" --amount 48000 --owner 王芳 --product support
    """
    from crmcli.actions import opp as sales

    store = get_app().store()
    out = sales.add_opportunity(store, customer_ref, title, amount=amount, currency=currency, close=close,
                                stage=stage, owner=owner, source=source, product=product)
    assert out.opp is not None
    if fmt == "text":
        echo(out.opp.id)
    else:
        _render_opp(out.opp, store, fmt)
    _report(out, store, out.message.replace("Open opportunity", "Opened", 1))


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
    from crmcli.actions import opp as sales

    store = get_app().store()
    out = sales.advance(store, ref, stage)
    _report(out, store, out.message)


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
    from crmcli.actions import opp as sales

    store = get_app().store()
    out = sales.win(store, ref, amount=amount, order=order)
    _report(out, store, out.message)


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
    from crmcli.actions import opp as sales

    store = get_app().store()
    out = sales.lose(store, ref, reason=reason)
    _report(out, store, out.message)


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
    from crmcli.actions import opp as sales

    store = get_app().store()
    out = sales.reopen(store, ref, stage=stage)
    _report(out, store, out.message)


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
    from crmcli.actions import opp as sales

    store = get_app().store()
    out = sales.edit_opportunity(store, ref, list(assignments))
    if out is None:
        done("No change.")
        return
    _report(out, store, out.message)


@opp.command("list")
@click.option("--stage", help="Only deals at this stage.")
@click.option("--owner", help="Only deals of this owner.")
@click.option("--open", "open_only", is_flag=True, help="Only open deals (not won or lost).")
@click.option("--closing-before", metavar="WHEN", help="Only deals expected to close on or before this day.")
@click.option("--customer", "customer_ref", metavar="CUSTOMER", help="Only this customer's deals.")
@format_option()
@store_options
def opp_list(stage: str | None, owner: str | None, open_only: bool, closing_before: str | None,
             customer_ref: str | None, fmt: str) -> None:
    """List deals across all customers, soonest expected close first.

    \b
    Examples:
      crm opp list --open --owner alice
      crm opp list --stage negotiation --closing-before "in 2 weeks"
      crm opp list --customer acme --format json
    """
    from crmcli.actions import opp as sales
    from crmcli.render.tables import render

    store = get_app().store()
    flt = sales.OppFilter(stage=stage, owner=owner, open_only=open_only, closing_before=closing_before,
                          customer=customer_ref)
    opps = sales.list_opportunities(store, flt)
    if fmt == "table":
        rows = [dict(o.to_dict(store.config), amount=_money(o.amount, o.currency)) for o in opps]
        render(rows, fmt, columns=LIST_COLUMNS, headers=LIST_HEADERS, empty="No deals match.")
    else:
        render([o.to_dict(store.config) for o in opps], fmt, columns=DATA_COLUMNS)


@opp.command("show")
@click.argument("ref", metavar="ID")
@format_option(["text", "json", "yaml"], default="text")
@store_options
def opp_show(ref: str, fmt: str) -> None:
    """Show a deal and every stage change it went through.

    \b
    Examples:
      crm opp show opp-9x2m
      crm opp show acme/opp-9x2m --format yaml
    """
    from crmcli.actions import opp as sales

    store = get_app().store()
    _, _, o, _ = sales.load_opportunity(store, ref)
    _render_opp(o, store, fmt)


def _render_opp(o: Any, store: Any, fmt: str) -> None:
    from crmcli.render.tables import key_values, render, render_data

    config = store.config
    if fmt != "text":
        render_data(o.to_dict(config), fmt)
        return
    pairs = [("id", o.ref), ("customer", f"{o.customer_name} ({o.customer})"), ("title", o.title),
             ("stage", f"{o.stage} ({o.probability(config)}%, {o.category(config)})"),
             ("amount", _money(o.amount, o.currency)), ("weighted", _money(o.weighted(config), o.currency)),
             ("close", o.close), ("owner", o.owner), ("source", o.source), ("product", o.product),
             ("created", f"{_when(o.created)} by {o.created_by}"),
             ("closed", _when(o.closed_at) if o.closed_at else None), ("reason", o.reason)]
    key_values([(k, v) for k, v in pairs if v not in (None, "")])
    echo("")
    echo("Stage history")
    rows = [{"at": _when(at), "by": by, "change": f"{a} -> {b}" if a else f"opened at {b}"}
            for at, by, a, b in o.history]
    render(rows, "table", columns=["at", "by", "change"])


def _when(at: str | None) -> str:
    from crmcli.domain import dates

    if not at:
        return ""
    try:
        return dates.format_local(dates.parse_iso(at))
    except dates.DateError:
        return at


# -- the board ---------------------------------------------------------------------------------------------
@click.command("pipeline", context_settings=CONTEXT_SETTINGS)
@click.option("--owner", help="Only this owner's deals.")
@click.option("--currency", metavar="CODE", help="Count deals in this currency (default: currency in crm.yaml).")
@click.option("--as-of", metavar="WHEN", help="The pipeline as it stood then (a day means its end).")
@format_option()
@store_options
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
    from crmcli.actions import opp as sales

    store = get_app().store()
    when = None
    if as_of:
        from datetime import time

        from crmcli.domain import dates
        from crmcli.errors import InvalidRecord

        try:
            when = dates.parse_when(as_of, date_only_time=time(23, 59, 59))
        except dates.DateError as exc:
            raise InvalidRecord(f"--as-of: {exc}") from None
    board = sales.pipeline_board(store, owner, currency=currency, as_of=when)
    if fmt != "table":
        from crmcli.render.tables import render

        rows = [dict(r, currency=board.currency) for r in board]
        render(rows, fmt, columns=["stage", "probability", "category", "count", "total", "weighted", "currency"])
        return
    echo(_board_text(board, owner, when))


def _board_text(board: Any, owner: str | None, when: Any) -> str:
    from wcwidth import wcswidth

    from crmcli.domain import dates

    cur = board.currency
    rows = [(r["stage"], f"{r['probability']}%", str(r["count"]), _money(r["total"], cur),
             _money(r["weighted"], cur), r) for r in board]
    count = sum(r["count"] for r in board)
    total = sum(r["total"] for r in board)
    weighted = sum(r["weighted"] for r in board)
    head = ("stage", "prob", "deals", "total", "weighted")
    foot = ("total", "", str(count), _money(total, cur), _money(weighted, cur))
    cells = [head, *[r[:5] for r in rows], foot]
    widths = [max(wcswidth(c[i]) for c in cells) for i in range(5)]
    biggest = max((r["total"] for r in board), default=0) or 1

    def line(c: tuple, bar: str = "") -> str:
        first = c[0] + " " * (widths[0] - wcswidth(c[0]))
        rest = "  ".join(" " * (widths[i] - wcswidth(c[i])) + c[i] for i in range(1, 5))
        return f"{first}  {rest}  {bar}".rstrip()

    title = f"Pipeline: open deals in {cur}"
    if owner:
        title += f" of {owner}"
    if when is not None:
        title += f", as of {dates.format_local(when)}"
    out = [title, "", line(head), "  ".join("-" * w for w in widths)]
    for *c, r in rows:
        full = round(r["total"] / biggest * BAR_WIDTH)
        solid = min(full, round(r["weighted"] / biggest * BAR_WIDTH))
        if r["total"] and not full:
            full = 1
        out.append(line(tuple(c), "█" * solid + "░" * (full - solid)))
    out.append("  ".join("-" * w for w in widths))
    out.append(line(foot))
    if board.skipped:
        other = ", ".join(f"{n} in {c}" for c, n in sorted(board.skipped.items()))
        out.append(f"(not counted: {other}; see crm pipeline --currency CODE)")
    return "\n".join(out)


# -- orders ------------------------------------------------------------------------------------------------
@click.group(context_settings=CONTEXT_SETTINGS)
def order() -> None:
    """Record what customers bought (revenue, lifetime value, segments).

    \b
    Examples:
      crm order add acme --amount 50000 --product licences
      crm order list --since 2026-01-01
    """


@order.command("add")
@click.argument("customer_ref", metavar="CUSTOMER")
@click.option("--amount", required=True, metavar="N", help="Order value, e.g. 50000 or 99.50.")
@click.option("--date", "day", metavar="WHEN", help="Order date (default: today).")
@click.option("--product", help="What was bought.")
@click.option("--opp", "opp_ref", metavar="ID", help="The deal this order comes from.")
@click.option("--currency", metavar="CODE", help="Three-letter code (default: currency in crm.yaml).")
@store_options
def order_add(customer_ref: str, amount: str, day: str | None, product: str | None, opp_ref: str | None,
              currency: str | None) -> None:
    """Record an order; a first order makes a customer, a second one a repeat customer.

    \b
    Examples:
      crm order add acme --amount 50000 --product "ERP licences" --date 2026-11-02
      crm order add acme --amount 120000 --opp opp-9x2m
    """
    from crmcli.actions import contract as contracts

    store = get_app().store()
    out = contracts.add_order(store, customer_ref, amount=amount, date=day, product=product, opp=opp_ref,
                              currency=currency)
    _report(out, store, out.message.replace("Add order", "Added order", 1))


@order.command("list")
@click.option("--customer", "customer_ref", metavar="CUSTOMER", help="Only this customer's orders.")
@click.option("--since", metavar="WHEN", help="Only orders on or after this day.")
@format_option()
@store_options
def order_list(customer_ref: str | None, since: str | None, fmt: str) -> None:
    """List orders, oldest first.

    \b
    Examples:
      crm order list --customer acme
      crm order list --since 2026-01-01 --format csv
    """
    from crmcli.actions import contract as contracts
    from crmcli.render.tables import render

    store = get_app().store()
    rows = contracts.list_orders(store, customer=customer_ref, since=since)
    if fmt == "table":
        rows = [dict(r, amount=_money(r["amount"], r["currency"])) for r in rows]
        render(rows, fmt, columns=["date", "name", "amount", "product", "opp"],
               headers=["date", "customer", "amount", "product", "opp"], empty="No orders.")
    else:
        render(rows, fmt, columns=["date", "customer", "name", "amount", "currency", "product", "opp", "by"])


# -- contracts ---------------------------------------------------------------------------------------------
@click.group(context_settings=CONTEXT_SETTINGS)
def contract() -> None:
    """Record signed contracts; renewals coming due show in the agenda.

    \b
    Examples:
      crm contract add acme --value 100000 --start 2026-01-01 --end 2026-12-31 --renew-notice 60d
      crm contract list --customer acme
    """


@contract.command("add")
@click.argument("customer_ref", metavar="CUSTOMER")
@click.option("--value", required=True, metavar="N", help="Contract value.")
@click.option("--start", required=True, metavar="WHEN", help="First day of the term.")
@click.option("--end", required=True, metavar="WHEN", help="Last day of the term.")
@click.option("--renew-notice", metavar="PERIOD", default="30d", show_default=True,
              help="How long before the end to start the renewal (30d, 6w, 3m).")
@click.option("--file", "file", metavar="PATH", help="The signed document (its path is recorded; not copied).")
@click.option("--currency", metavar="CODE", help="Three-letter code (default: currency in crm.yaml).")
@store_options
def contract_add(customer_ref: str, value: str, start: str, end: str, renew_notice: str, file: str | None,
                 currency: str | None) -> None:
    """Record a signed contract.

    \b
    Examples:
      crm contract add acme --value 100000 --start 2026-01-01 --end 2026-12-31
      crm contract add acme --value 80000 --start 2027-01-01 --end 2027-12-31 \\
          --renew-notice 60d --file contracts/acme-2027.pdf
    """
    from crmcli.actions import contract as contracts

    store = get_app().store()
    out = contracts.add_contract(store, customer_ref, value=value, start=start, end=end,
                                 renew_notice=renew_notice, file=file, currency=currency)
    _report(out, store, out.message.replace("Add contract", "Added contract", 1))


@contract.command("list")
@click.option("--customer", "customer_ref", metavar="CUSTOMER", help="Only this customer's contracts.")
@click.option("--active", "active_on", metavar="WHEN", help="Only contracts running on this day.")
@click.option("--renewing", metavar="PERIOD", help="Only contracts due for renewal within this period (e.g. 60d).")
@format_option()
@store_options
def contract_list(customer_ref: str | None, active_on: str | None, renewing: str | None, fmt: str) -> None:
    """List contracts, soonest ending first.

    \b
    Examples:
      crm contract list --customer acme
      crm contract list --renewing 60d
      crm contract list --active today --format json
    """
    from crmcli.actions import contract as contracts
    from crmcli.domain import dates
    from crmcli.errors import InvalidRecord
    from crmcli.render.tables import render

    store = get_app().store()
    if renewing:
        try:
            span = dates.parse_period(renewing)
        except dates.DateError as exc:
            raise InvalidRecord(f"--renewing: {exc}") from None
        today = dates.now()
        due = contracts.renewals_due(store, today, today + span)
        rows = [{"customer": r["customer"], "name": r["name"], **r["contract"]} for r in due]
        if customer_ref:
            cid = store.resolve(customer_ref)
            rows = [r for r in rows if r["customer"] == cid]
    else:
        rows = contracts.list_contracts(store, customer=customer_ref, active_on=active_on)
    if fmt == "table":
        rows = [dict(r, value=_money(r["value"], r["currency"])) for r in rows]
        render(rows, fmt, columns=["name", "value", "start", "end", "notice", "file"],
               headers=["customer", "value", "start", "end", "renew from", "file"], empty="No contracts.")
    else:
        render(rows, fmt, columns=["customer", "name", "value", "currency", "start", "end", "renew_notice",
                                   "notice", "file"])
