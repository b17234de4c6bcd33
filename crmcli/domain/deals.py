"""The sales journal kinds: validation for ``crm check``, one line each for the timeline.

``opp.open`` / ``opp.stage`` / ``opp.set`` / ``opp.won`` / ``opp.lost`` / ``opp.reopen``,
``order.add`` and ``contract.add`` register here when ``crmcli.actions.opp`` is imported.
"""
from __future__ import annotations

import math
import re
from typing import Any

from crmcli.actions.opp import CURRENCY_RE, EDITABLE, format_money
from crmcli.config import Config
from crmcli.domain.customer import PERIOD_RE, check_date
from crmcli.domain.kinds import register

Issues = list[tuple[tuple[Any, ...], str]]


def _check_amount(e: dict, key: str, issues: Issues, *, required: bool = True) -> None:
    if key not in e and not required:
        return
    v = e.get(key)
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
        issues.append(((key,), f"{key} {v!r} must be a number of 0 or more"))


def _check_ref(e: dict, key: str, issues: Issues) -> None:
    if not isinstance(e.get(key), str) or not re.fullmatch(r"opp-[0-9a-z]{4,}", e[key]):
        issues.append(((key,), f"{key} {e.get(key)!r} must be an opportunity id like opp-9x2m"))


def _check_stage_field(e: dict, key: str, config: Config, issues: Issues) -> None:
    if e.get(key) not in config.stages:
        issues.append(((key,), f"stage {e.get(key)!r} is not one of: {', '.join(config.stages)}"))


def _check_common(e: dict, issues: Issues) -> None:
    if not isinstance(e.get("by"), str) or not e.get("by"):
        issues.append((("by",), "by (who did it) is missing"))
    if "currency" in e and not (isinstance(e["currency"], str) and CURRENCY_RE.match(e["currency"])):
        issues.append((("currency",), f"currency {e['currency']!r} must be a three-letter code like CNY"))


def _validate_open(e: dict, config: Config) -> Issues:
    issues: Issues = []
    _check_common(e, issues)
    _check_ref(e, "id", issues)
    if not isinstance(e.get("title"), str) or not e["title"].strip():
        issues.append((("title",), "title is missing"))
    _check_amount(e, "amount", issues)
    _check_stage_field(e, "stage", config, issues)
    if e.get("close") is not None and (msg := check_date(e["close"], "close")):
        issues.append((("close",), msg))
    return issues


def _validate_stage(e: dict, config: Config) -> Issues:
    issues: Issues = []
    _check_common(e, issues)
    _check_ref(e, "opp", issues)
    _check_stage_field(e, "from", config, issues)
    _check_stage_field(e, "to", config, issues)
    return issues


def _validate_set(e: dict, config: Config) -> Issues:
    issues: Issues = []
    _check_common(e, issues)
    _check_ref(e, "opp", issues)
    changes = e.get("changes")
    if not isinstance(changes, dict) or not changes:
        return issues + [(("changes",), "changes must map fields to their new values")]
    for key, value in changes.items():
        if key not in EDITABLE:
            issues.append((("changes", key), f"{key} is not an opportunity field ({', '.join(EDITABLE)})"))
        elif key == "amount":
            _check_amount(changes, "amount", issues)
        elif key == "close" and value is not None and (msg := check_date(value, "close")):
            issues.append((("changes", key), msg))
    return issues


def _validate_won(e: dict, config: Config) -> Issues:
    issues: Issues = []
    _check_common(e, issues)
    _check_ref(e, "opp", issues)
    _check_amount(e, "amount", issues, required=False)
    return issues


def _validate_lost(e: dict, config: Config) -> Issues:
    issues = _validate_won(e, config)
    if not isinstance(e.get("reason"), str) or not e["reason"].strip():
        issues.append((("reason",), "reason (why the deal was lost) is missing"))
    return issues


def _validate_reopen(e: dict, config: Config) -> Issues:
    issues: Issues = []
    _check_common(e, issues)
    _check_ref(e, "opp", issues)
    _check_stage_field(e, "stage", config, issues)
    return issues


def _label(e: dict) -> str:
    return str(e.get("title") or e.get("opp") or e.get("id") or "?")


def _describe_set(e: dict) -> str:
    raw = e.get("changes")
    changes: dict = raw if isinstance(raw, dict) else {}
    parts = [f"{k} {'cleared' if v is None else v}" for k, v in changes.items()]
    return f"edited opp {e.get('opp')}: {', '.join(parts) or 'no change'}"


def _describe_lost(e: dict) -> str:
    reason = str(e.get("reason") or "").strip().splitlines()
    return f"lost {_label(e)}" + (f": {reason[0]}" if reason else "")


register("opp.open", validate=_validate_open,
         describe=lambda e: f"opened opp {_label(e)} ({format_money(e.get('amount'), e.get('currency'))}, "
                            f"{e.get('stage')})")
register("opp.stage", validate=_validate_stage,
         describe=lambda e: f"opp {_label(e)}: {e.get('from')} -> {e.get('to')}")
register("opp.set", validate=_validate_set, describe=_describe_set)
register("opp.won", validate=_validate_won,
         describe=lambda e: f"won {_label(e)}" + (f" ({format_money(e['amount'], e.get('currency'))})"
                                                  if e.get("amount") is not None else ""))
register("opp.lost", validate=_validate_lost, describe=_describe_lost)
register("opp.reopen", validate=_validate_reopen,
         describe=lambda e: f"reopened opp {_label(e)} at {e.get('stage')}")


# -- orders and contracts
def _validate_order(e: dict, config: Config) -> Issues:
    issues: Issues = []
    _check_common(e, issues)
    _check_amount(e, "amount", issues)
    if msg := check_date(e.get("date"), "date"):
        issues.append((("date",), msg))
    if e.get("opp") is not None:
        _check_ref(e, "opp", issues)
    return issues


def _validate_contract(e: dict, config: Config) -> Issues:
    issues: Issues = []
    _check_common(e, issues)
    _check_amount(e, "value", issues)
    for key in ("start", "end"):
        if msg := check_date(e.get(key), key):
            issues.append(((key,), msg))
    if not issues and str(e["end"]) < str(e["start"]):
        issues.append((("end",), f"end {e['end']} is before start {e['start']}"))
    notice = e.get("renew_notice")
    if notice is not None and not (isinstance(notice, str) and PERIOD_RE.match(notice.strip())):
        issues.append((("renew_notice",), f"renew_notice {notice!r} is not a period (like 30d, 6w, 3m)"))
    if e.get("file") is not None and not isinstance(e.get("file"), str):
        issues.append((("file",), "file must be a path"))
    return issues


def _describe_order(e: dict) -> str:
    text = f"order {format_money(e.get('amount'), e.get('currency'))}"
    if e.get("product"):
        text += f": {e['product']}"
    return text + (f" (from {e['opp']})" if e.get("opp") else "")


register("order.add", validate=_validate_order, describe=_describe_order)
register("contract.add", validate=_validate_contract,
         describe=lambda e: f"contract {format_money(e.get('value'), e.get('currency'))}, "
                            f"{e.get('start')} to {e.get('end')}")
