"""The local time zone: ``CRM_TZ``, else the store's ``timezone`` in crm.yaml, else the system's (None)."""
from __future__ import annotations

import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crmcli.errors import DateError

_store_zone: str | None = None


def set_store_zone(name: str | None) -> None:
    """The store's ``timezone`` in crm.yaml (set when the store is opened); ``CRM_TZ`` still wins."""
    global _store_zone
    _store_zone = str(name).strip() if name else None


def zone_problem(name: str) -> str | None:
    """Why ``name`` is no IANA time zone, or None."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai or Europe/Berlin"
    return None


def crm_zone() -> ZoneInfo | None:
    """CRM_TZ, else the store's ``timezone``, else None (the system zone)."""
    name = os.environ.get("CRM_TZ", "").strip()
    where = "CRM_TZ"
    if not name:
        name, where = (_store_zone or ""), "crm.yaml timezone"
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise DateError(f"unknown time zone in {where}: {name!r}") from None
