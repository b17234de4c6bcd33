"""The registry of journal event kinds beyond plain interactions.

Each domain module (activities, sales, service) registers the event kinds it
writes, with a validator used by ``crm check`` and a describer used by the
timeline and history, as a module-level ``EVENT_KINDS`` tuple.
``load_all()`` imports them, so readers see every kind without importing the
domains themselves.
"""
from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# validator(entry, config) -> [(key path, message)]
Validator = Callable[[dict, Any], list[tuple[tuple[Any, ...], str]]]
# describer(entry) -> one line for a timeline ("stage proposal -> negotiation: ERP rollout")
Describer = Callable[[dict], str]

DOMAIN_MODULES = ["crmcli.domain.tasks", "crmcli.domain.deals", "crmcli.domain.orders", "crmcli.domain.contracts",
                  "crmcli.domain.tickets", "crmcli.domain.surveys"]


@dataclass(frozen=True)
class EventKind:
    kind: str
    validate: Validator
    describe: Describer


KINDS: dict[str, EventKind] = {}


def register(kind: str, *, validate: Validator, describe: Describer) -> None:
    KINDS[kind] = EventKind(kind, validate, describe)


def load_all() -> dict[str, EventKind]:
    for name in DOMAIN_MODULES:
        with contextlib.suppress(ModuleNotFoundError):
            module = importlib.import_module(name)
            for kind in getattr(module, "EVENT_KINDS", ()):  # a module's list of the kinds it writes
                KINDS.setdefault(kind.kind, kind)
    return KINDS
