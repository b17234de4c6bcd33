"""The store's ``crm.yaml``: format version, vocabularies and rules.

Everything a team may want to tune lives here, with defaults that make a new
store useful at once. Unknown keys are kept so that newer tools or people can
add settings without this version dropping them.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmcli import crypto, yamlio
from crmcli.domain import durations, zones
from crmcli.errors import InvalidRecord, StoreError

FORMAT_VERSION = 1
CONFIG_NAME = "crm.yaml"

DEFAULTS: dict[str, Any] = {
    "format": FORMAT_VERSION,
    "name": "crm",
    "autocommit": True,
    "currency": "CNY",
    "kinds": ["company", "person"],
    "lifecycle_stages": ["lead", "prospect", "customer", "repeat", "loyal", "churned"],
    "tiers": ["A", "B", "C", "D"],
    "interaction_types": ["call", "email", "meeting", "visit", "chat", "sms", "note"],
    "pipeline": [
        {"stage": "lead", "probability": 10, "category": "pipeline"},
        {"stage": "qualified", "probability": 25, "category": "pipeline"},
        {"stage": "proposal", "probability": 50, "category": "best-case"},
        {"stage": "negotiation", "probability": 75, "category": "commit"},
        {"stage": "won", "probability": 100, "category": "closed"},
        {"stage": "lost", "probability": 0, "category": "omitted"},
    ],
    "ticket_priorities": {
        "low": {"first_response_hours": 48, "resolution_hours": 240},
        "normal": {"first_response_hours": 24, "resolution_hours": 72},
        "high": {"first_response_hours": 4, "resolution_hours": 24},
        "urgent": {"first_response_hours": 1, "resolution_hours": 8},
    },
    "ticket_categories": ["question", "request", "bug", "complaint"],
    "ticket_channels": ["phone", "email", "chat", "web", "visit"],
    # The customer health score (crm show, crm customer list --sort health / --at-risk): crmcli/health.py
    "health": {
        "weights": {"recency": 30, "service": 25, "satisfaction": 15, "revenue": 20, "tasks": 10, "loyalty": 10},
        "default_cadence": "90d",     # contact cadence for customers without touch_every
        "complaint_threshold": 2,     # this many complaints ...
        "complaint_window": "30d",    # ... within this window is a warning
        "revenue_period": "365d",     # revenue of the last period against the one before
        "revenue_drop": 20,           # warn when revenue fell by at least this many percent
        "at_risk_below": 50,          # a score below this is "at risk"
    },
}

KEY_ORDER = list(DEFAULTS)


@dataclass
class Config:
    data: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULTS))
    path: str = CONFIG_NAME

    def __getitem__(self, key: str) -> Any:
        if key in self.data:
            return self.data[key]
        return DEFAULTS[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, DEFAULTS.get(key, default))

    @property
    def autocommit(self) -> bool:
        return bool(self["autocommit"])

    @property
    def private(self) -> bool:
        """``private: true``: files and folders crm and git create are the owner's only (umask 077)."""
        return self.data.get("private") is True

    @property
    def stages(self) -> list[str]:
        return [s["stage"] for s in self["pipeline"]]

    @property
    def lifecycle_stages(self) -> list[str]:
        return list(self["lifecycle_stages"])

    @property
    def tiers(self) -> list[str]:
        return [str(t) for t in self["tiers"]]

    @property
    def kinds(self) -> list[str]:
        return list(self["kinds"])

    @property
    def interaction_types(self) -> list[str]:
        return list(self["interaction_types"])


def default_config_text(name: str = "crm", *, private: bool = False, currency: str | None = None) -> str:
    data = copy.deepcopy(DEFAULTS)
    data["name"] = name
    if currency:
        data["currency"] = currency
    if private:  # right after autocommit, where a reader of crm.yaml looks for store-wide switches
        data = {k: v for key, value in data.items()
                for k, v in ([(key, value), ("private", True)] if key == "autocommit" else [(key, value)])}
    return yamlio.dumps(data)


def load_config(root: Path) -> Config:
    path = root / CONFIG_NAME
    rel = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"{rel}: cannot read the store's config ({exc.strerror})") from None
    data = yamlio.loads(text, rel) or {}
    if not isinstance(data, dict):
        raise InvalidRecord(f"{rel}:1: crm.yaml must be a mapping of settings")
    version = data.get("format", FORMAT_VERSION)
    if not isinstance(version, int) or version < 1:
        line = yamlio.key_line(text, ("format",))
        raise InvalidRecord(f"{rel}:{line}: format must be a whole number (this crm writes {FORMAT_VERSION})")
    if version > FORMAT_VERSION:
        raise StoreError(
            f"{rel}: records format {version} is newer than this crm understands ({FORMAT_VERSION}); "
            "upgrade crmcli (pip install -U crmcli)"
        )
    _validate(data, text, rel)
    return Config(data=data, path=rel)


def _validate(data: dict, text: str, rel: str) -> None:
    def fail(key: str, message: str) -> None:
        raise InvalidRecord(f"{rel}:{yamlio.key_line(text, (key,))}: {message}")

    for key in ("kinds", "lifecycle_stages", "tiers", "interaction_types", "ticket_categories", "ticket_channels"):
        value = data.get(key)
        if value is not None and (not isinstance(value, list) or not value):
            fail(key, f"{key} must be a non-empty list")
    zone = data.get("timezone")
    if zone is not None:
        problem = zones.zone_problem(str(zone)) if isinstance(zone, str) and zone.strip() else "empty"
        if problem:
            fail("timezone", f"timezone: {problem if problem != 'empty' else 'give an IANA name'} "
                             "(e.g. Asia/Shanghai); CRM_TZ overrides it")
    lang = data.get("language")
    if lang is not None and str(lang).lower() not in ("en", "zh", "zh-cn", "zh_cn"):
        fail("language", f"language {lang!r} must be en or zh")
    if "private" in data and not isinstance(data["private"], bool):
        fail("private", "private must be true or false (true: the store's files are readable by their owner only)")
    for kind in data.get("interaction_types") or []:
        if not isinstance(kind, str) or "." in kind or not kind:
            fail("interaction_types", f"interaction type {kind!r} must be a word without dots")
    pipeline = data.get("pipeline")
    if pipeline is not None:
        if not isinstance(pipeline, list) or not all(isinstance(s, dict) and "stage" in s for s in pipeline):
            fail("pipeline", "pipeline must be a list of {stage, probability, category}")
        names = [s["stage"] for s in pipeline]
        for required in ("won", "lost"):
            if required not in names:
                fail("pipeline", f"pipeline needs a '{required}' stage")
        for s in pipeline:
            p = s.get("probability", 0)
            if not isinstance(p, (int, float)) or not 0 <= p <= 100:
                fail("pipeline", f"stage {s['stage']!r}: probability must be 0-100")
    if "sensitive_fields" in data or "recipients" in data:

        crypto.validate_config(data, fail)
    health = data.get("health")
    if health is not None:
        _validate_health(health, fail)
    prios = data.get("ticket_priorities")
    if prios is not None:
        if not isinstance(prios, dict) or not prios:
            fail("ticket_priorities", "ticket_priorities must map each priority to its SLA hours")
        for name, sla in prios.items():
            if not isinstance(sla, dict):
                fail("ticket_priorities", f"priority {name!r} must have first_response_hours and resolution_hours")
            for k in ("first_response_hours", "resolution_hours"):
                v = sla.get(k)
                if not isinstance(v, (int, float)) or v <= 0:
                    fail("ticket_priorities", f"priority {name!r}: {k} must be a positive number of hours")


HEALTH_COMPONENTS = ("recency", "service", "satisfaction", "revenue", "tasks", "loyalty")


def _validate_health(health: Any, fail: Any) -> None:
    def number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    if not isinstance(health, dict):
        fail("health", "health must be a mapping of settings (weights, default_cadence, ...)")
    weights = health.get("weights")
    if weights is not None:
        if not isinstance(weights, dict):
            fail("health", f"health weights must map components ({', '.join(HEALTH_COMPONENTS)}) to numbers")
        for name, value in weights.items():
            if name not in HEALTH_COMPONENTS:
                fail("health", f"unknown health component {name!r}; use: {', '.join(HEALTH_COMPONENTS)}")
            if not number(value) or value < 0:
                fail("health", f"health weight of {name!r} must be a number of 0 or more")
        if weights and not any(weights.get(n, DEFAULTS["health"]["weights"][n]) for n in HEALTH_COMPONENTS):
            fail("health", "health weights are all 0; give at least one component a weight")
    for key in ("default_cadence", "complaint_window", "revenue_period"):
        value = health.get(key)
        if value is not None:
            try:
                durations.parse_period(str(value))
            except InvalidRecord:
                fail("health", f"health {key} {value!r} must be a period like 30d, 6w, 3m or 1y")
    threshold = health.get("complaint_threshold")
    if threshold is not None and (not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1):
        fail("health", "health complaint_threshold must be a whole number of 1 or more")
    for key in ("revenue_drop", "at_risk_below"):
        value = health.get(key)
        if value is not None and (not number(value) or not 0 <= value <= 100):
            fail("health", f"health {key} must be a number from 0 to 100")
