"""Every journal event kind beyond plain interactions, in one explicit list, and how any event reads in one line.

Each domain module lists the kinds it writes in ``EVENT_KINDS`` (a validator used by ``crm check`` and the
importer, a describer used by the timeline and history); ``MODULES`` below is the one place that names them.
Nothing registers itself as a side effect of being imported.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable

from crmcli.config import Config
from crmcli.domain import (
    activity,
    campaigns,
    contracts,
    deals,
    escalation,
    leads,
    loyalty,
    needs,
    orders,
    surveys,
    tasks,
    tickets,
)
from crmcli.domain.interactions import TEXT_KEYS
from crmcli.domain.journal import EventKind
from crmcli.domain.text import first_line
from crmcli.errors import Input, InputError

MODULES = (tasks, deals, orders, contracts, tickets, surveys, escalation, needs, leads, campaigns, loyalty, activity)
KINDS: dict[str, EventKind] = {k.kind: k for module in MODULES for k in module.EVENT_KINDS}


# -- describing events ------------------------------------------------------------
def event_parts(entry: dict, context: dict[str, str] | None = None) -> tuple[str, str]:
    """(what, text) of an event for a timeline line: ``call (out, 15m, with Li Na)``, its summary."""
    kind = str(entry.get("kind", "event"))
    if "." not in kind:
        details = [str(entry[k]) for k in ("direction", "duration") if entry.get(k)]
        if entry.get("contact"):
            details.append(f"with {entry['contact']}")
        what = f"{kind} ({', '.join(details)})" if details else kind
        text = first_line(entry.get("summary"))
        if entry.get("outcome"):
            text = f"{text} [outcome: {first_line(entry['outcome'])}]".strip()
        return what, text
    if kind in ("task.done", "task.reopen") and context and entry.get("task") in context:
        return kind, f"{context[entry['task']]} [{entry['task']}]"
    registered = KINDS.get(kind)
    if registered is not None:
        with contextlib.suppress(Exception):
            return kind, first_line(registered.describe(entry))
    return kind, next((first_line(entry[k]) for k in TEXT_KEYS if entry.get(k)), "")


def describe_event(entry: dict) -> str:
    """One line for any journal event: registered kinds describe themselves."""
    what, text = event_parts(entry)
    return f"{what}: {text}" if text else what


# -- choosing events ----------------------------------------------------------------
def check_types(config: Config, types: Iterable[str]) -> tuple[str, ...]:
    """Event types to show: interaction types, 'interaction', a family (task) or any dotted kind."""
    known = set(config.interaction_types) | set(KINDS) | {"customer.add", "interaction"}
    families = {k.split(".")[0] for k in known if "." in k}
    for t in types:
        if t not in known and t not in families and "." not in t:  # any dotted kind: a newer tool's events
            raise InputError(Input("type"), f" {t!r}: use an interaction type, 'interaction', a family "
                             f"({', '.join(sorted(families))}) or an event kind (like task.done)")
    return tuple(types)


def type_matches(kind: str, types: tuple[str, ...]) -> bool:
    return not types or any(kind == t or kind.startswith(t + ".") or (t == "interaction" and "." not in kind)
                            for t in types)
