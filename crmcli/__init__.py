"""crmcli: a CRM that lives in the terminal and in git.

The library is importable without Click; the CLI in ``crmcli.cli`` is a thin
layer over it. Public names are loaded on first use so that ``import crmcli``
stays cheap for the command-line entry point.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "CrmError": "crmcli.errors",
    "Problem": "crmcli.errors",
    "Store": "crmcli.store.store",
    "open_store": "crmcli.store.store",
    "init_store": "crmcli.store.store",
    "Customer": "crmcli.domain.customer",
    "Contact": "crmcli.domain.customer",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'crmcli' has no attribute {name!r}")

    return getattr(importlib.import_module(module), name)
