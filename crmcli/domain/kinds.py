"""The registry of journal event kinds beyond plain interactions.

Each domain module (activities, sales, service) registers the event kinds it
writes, with a validator used by ``crm check`` and a describer used by the
timeline and history. Modules register on import, or list them in a module-level
``EVENT_KINDS`` tuple (``crmcli.domain.deals``, ``orders``, ``contracts``); ``load_all()``
imports them and reads those tuples, so readers see every kind without importing the
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

DOMAIN_MODULES = ["crmcli.actions.log", "crmcli.domain.deals", "crmcli.domain.orders", "crmcli.domain.contracts",
                  "crmcli.actions.ticket"]


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
            for k in getattr(module, "EVENT_KINDS", ()):
                KINDS[k.kind] = k
    return KINDS
