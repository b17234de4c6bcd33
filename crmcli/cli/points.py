"""`crm points`: a customer's loyalty points (crmcli.actions.points): show, earn, redeem, expire, adjust, award."""
from __future__ import annotations

from typing import Any

import click

from crmcli.actions import points as action
from crmcli.cli.common import CONTEXT_SETTINGS, done, echo, format_option, get_app, records_option, store_options
from crmcli.domain import dates
from crmcli.render.tables import key_values, render, render_data


class PointsGroup(click.Group):
    """``crm points CUSTOMER`` is ``crm points show CUSTOMER``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["show", *args]
        return super().parse_args(ctx, args)


@click.group("points", cls=PointsGroup, context_settings=CONTEXT_SETTINGS)
def points() -> None:
    """Loyalty points: a ledger of earn, redeem, expire and adjust events per customer.

    \b
    Examples:
      crm points acme
      crm points redeem acme 500 --reason "Gift card"
      crm points award --dry-run
    """


def _show(acct: Any, fmt: str) -> None:
    if fmt != "text":
        render_data(acct.data(), fmt)
        return
    d = acct.data()
    key_values([("customer", f"{d['name']} ({d['customer']})"), ("balance", d["balance"]),
                ("tier", d["tier"] or "(none)"), ("earned", d["earned"]), ("redeemed", d["redeemed"]),
                ("expired", d["expired"]), ("adjusted", d["adjusted"])])
    if acct.ledger.history:
        echo("")
        rows = [{"when": dates.format_local(dates.parse_iso(str(e["at"]))), "event": e["kind"],
                 "points": e.get("points"), "what": e.get("reason") or (f"{e.get('from') or '-'} -> "
                                                                        f"{e.get('to') or '-'}"
                                                                        if e["kind"] == "loyalty.tier" else "")}
                for e in acct.ledger.history]
        render(rows, "table", columns=["when", "event", "points", "what"])


@points.command("show")
@click.argument("customer_ref", metavar="CUSTOMER")
@format_option(["text", "json", "yaml"], default="text")
@records_option
def points_show(customer_ref: str, fmt: str) -> None:
    """A customer's balance, tier and points history (also: crm points CUSTOMER).

    \b
    Examples:
      crm points acme
      crm points show acme -f json
    """
    _show(action.account(get_app().store(), customer_ref), fmt)


def _changer(kind: str, helptext: str, signed: bool = False) -> None:
    @points.command(kind.split(".")[1], help=helptext,
                    context_settings={**CONTEXT_SETTINGS, "ignore_unknown_options": signed})  # adjust -50
    @click.argument("customer_ref", metavar="CUSTOMER")
    @click.argument("amount", metavar="POINTS", type=int)
    @click.option("--reason", metavar="TEXT", required=signed, help="Why (required for adjust).")
    @store_options
    def cmd(customer_ref: str, amount: int, reason: str | None) -> None:
        store = get_app().store()
        acct, entry = action.change(store, customer_ref, kind, amount, reason)
        echo(f"{acct.customer.id}  balance {acct.ledger.balance}" + (f"  tier {acct.ledger.tier}"
                                                                     if acct.ledger.tier else ""))
        done(f"{kind.split('.')[1].capitalize()} {abs(amount)} points for {acct.customer.name}", store)


_changer("points.earn", "Add points a customer earned.\n\n\b\nExamples:\n  crm points earn acme 100 --reason Event")
_changer("points.redeem", "Spend points (refused beyond the balance).\n\n\b\nExamples:\n"
         "  crm points redeem acme 500 --reason \"Gift card\"")
_changer("points.expire", "Take points off that expired (at most the balance).\n\n\b\nExamples:\n"
         "  crm points expire acme 200")
_changer("points.adjust", "Correct a balance up or down, with a reason.\n\n\b\nExamples:\n"
         "  crm points adjust acme -50 --reason \"Double count\"", signed=True)


@points.command("award")
@click.option("--dry-run", is_flag=True, help="Show what would be awarded; change nothing.")
@format_option()
@store_options(result_format=False)
def points_award(dry_run: bool, fmt: str) -> None:
    """Apply the earning rules of crm.yaml (orders, referrals, surveys) and tier changes to every customer.

    Each order, referral and survey pays once (its points.earn carries a ref); one commit.

    \b
    Examples:
      crm points award --dry-run
      crm points award
    """
    store = get_app().store()
    result = action.award(store, dry_run=dry_run)
    render(result.rows, fmt, columns=["customer", "name", "event", "points", "what"], empty="Nothing to award.")
    n = len(result.rows)
    if dry_run:
        echo(f"Would add {n} event{'s' if n != 1 else ''} (dry run: nothing changed)", err=True)
    elif n:
        done(f"Awarded: {n} event{'s' if n != 1 else ''}", store)
