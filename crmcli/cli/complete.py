"""Shell completion of the values crm knows: customers, types, stages, tiers, owners, deal/ticket/task ids.

Only loaded while a shell asks for completions (``_CRM_COMPLETE`` is set): it gives each command's parameters
a Click ``shell_complete`` callback by name, and a callback never fails (no store: no suggestions).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click
from click.shell_completion import CompletionItem

from crmcli.actions import complete as words

Source = Callable[[Any, str], list[Any]]


def _store(ctx: click.Context) -> Any:
    from crmcli.store.location import open_store

    root = ctx.find_root()
    records = root.params.get("records") or ctx.params.get("records_") or os.environ.get("CRM_RECORDS")
    return open_store(records, guard=False)


def _callback(source: Source) -> Callable[[click.Context, click.Parameter, str], list[CompletionItem]]:
    def complete(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        try:
            found = source(_store(ctx), incomplete)
        except Exception:  # noqa: BLE001 - a completion must never print a traceback into the shell
            return []
        return [CompletionItem(w[0], help=w[1] or None) if isinstance(w, tuple) else CompletionItem(w)
                for w in found]

    return complete


def _source(group: str, param: click.Parameter) -> Source | None:
    name, metavar = param.name or "", getattr(param, "metavar", None) or ""
    if metavar in ("CUSTOMER", "CUSTOMER|ID") or name == "customer_ref":
        return words.customers
    if name == "kind" and metavar == "TYPE" or name == "types":
        return lambda store, text: words.vocabulary(store, "interaction_types", text)
    if name == "stage":
        what = "stages" if group == "opp" else "lifecycle_stages"
        return lambda store, text: words.vocabulary(store, what, text)
    if name == "tier":
        return lambda store, text: words.vocabulary(store, "tiers", text)
    if name == "kind" and group == "customer":
        return lambda store, text: words.vocabulary(store, "kinds", text)
    if name in ("owner", "assignee", "by", "user"):
        return words.owners
    prefix = {"opp_ref": "opp", "ticket_ref": "tkt"}.get(name)
    if name == "ref":
        prefix = {"opp": "opp", "ticket": "tkt", "task": "task"}.get(group)
    if prefix:
        return lambda store, text: words.record_ids(store, prefix, text)
    return None


def attach(command: click.Command, group: str = "") -> None:
    """Give every parameter of ``command`` (and of its subcommands) that names a known value a completion."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            attach(sub, command.name or group)
        return
    for param in command.params:
        if getattr(param, "_custom_shell_complete", None) is not None or isinstance(param.type, click.Choice):
            continue
        source = _source(group, param)
        if source is not None:
            param._custom_shell_complete = _callback(source)  # Click's own slot for shell_complete=
