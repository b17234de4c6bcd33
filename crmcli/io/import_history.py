"""Rows of the history kind: every event of a deal or ticket replayed exactly, at its time, once."""
from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from crmcli.analysis.rows import HISTORY_KINDS
from crmcli.domain import deals
from crmcli.domain.kinds import KINDS
from crmcli.io.import_plan import Source
from crmcli.io.import_planner import PlannerBase
from crmcli.io.import_values import LOCAL_ID, BadValue, dates_key, moment_cell, text_cell


class HistoryRows(PlannerBase):
    def row_history(self, v: dict[str, Any], source: Source, number: int) -> str:
        """One event of a deal or ticket, replayed exactly (rows come in time order, see ``in_time_order``)."""

        cid = self._customer_ref(v)
        kind = (text_cell(v.get("kind")) or "").lower()
        if not kind.startswith(HISTORY_KINDS) or kind not in KINDS:
            raise BadValue("kind", f"{kind!r} is not a deal or ticket event (like opp.open, opp.stage, "
                                   "ticket.comment, ticket.close)")
        prefix, ref_key, noun = ("opp", "opp", "deal") if kind.startswith("opp.") else ("tkt", "ticket", "ticket")
        lid = (text_cell(v.get("id")) or "").lower()
        if not LOCAL_ID[prefix].match(lid):
            raise BadValue("id", f"{lid!r} is not a {noun} id (like {prefix}-9x2m)")
        at = moment_cell("at", v.get("at"))
        if at is None:
            raise BadValue("at", "no time; say when it happened (like 2026-11-20 14:30)")
        fields = history_fields(v.get("fields"))
        if prefix == "opp":  # stage names match as on the opps sheet: case-insensitively
            stages = deals.stage_names(self.store.config)
            for key in ("stage", "from", "to"):
                if isinstance(fields.get(key), str):
                    hits = [st for st in stages if st.casefold() == fields[key].casefold()]
                    if not hits:
                        raise BadValue("fields", f"{key} {fields[key]!r} is not a stage; use one of: "
                                                 f"{', '.join(stages)}")
                    fields[key] = hits[0]
        opening = kind.endswith(".open")
        entry = {"at": at, "kind": kind, ("id" if opening else ref_key): lid, "by": text_cell(v.get("by")) or self.user,
                 **fields}
        used = self._ids(cid, prefix)
        if opening and lid in used:
            return self._duplicate(f"{noun} {lid} is already at {cid}")
        if not opening and lid not in used:
            raise BadValue("id", f"no {noun} {lid} at {cid} in the store or this file; the history needs its "
                                 f"{kind.split('.')[0]}.open row")
        if not opening and self._already_there(cid, entry):
            return self._duplicate(f"{kind} of {lid} at {at[:16]} is already in {cid}'s journal")
        self._validate_event(entry, {k: "fields" for k in fields})
        self.plan.events.append((cid, entry))
        if not opening:
            return "created"
        used.add(lid)
        self.from_history.add((cid, lid))
        self.plan.count("opps" if prefix == "opp" else "tickets").created += 1  # a new deal or ticket
        return "counted"

    def _already_there(self, cid: str, entry: dict) -> bool:
        """True when the store has this very event (same fields, same moment) more often than the rows of this
        file before it: two equal events in one second (two stage steps) both come back, and only once."""
        if cid not in self.history_index:
            self.history_index[cid] = Counter(event_key(e.data) for e in self.pool.journal(cid)
                                              if str(e.kind).startswith(HISTORY_KINDS))
        key = event_key(entry)
        used = self.history_used.get((cid, key), 0)
        if used < self.history_index[cid][key]:
            self.history_used[(cid, key)] = used + 1
            return True
        return False




def event_key(data: dict) -> tuple[str, str]:
    rest = {k: v for k, v in data.items() if k != "at"}
    return dates_key(data.get("at")), json.dumps(rest, sort_keys=True, ensure_ascii=False, default=str)

HISTORY_OWN_COLUMNS = ("at", "kind", "by", "id", "opp", "ticket")


def history_fields(raw: Any) -> dict[str, Any]:
    """The ``fields`` cell of a history row: a JSON object of the event's other fields."""
    if raw is None:
        return {}
    if isinstance(raw, dict):
        fields = dict(raw)
    else:
        try:
            fields = json.loads(str(raw))
        except ValueError:
            raise BadValue("fields", f"{text_cell(raw)!r} is not a JSON object (like {{\"from\": \"lead\", "
                                     "\"to\": \"proposal\"}})") from None
        if not isinstance(fields, dict):
            raise BadValue("fields", "must be a JSON object of the event's fields")
    own = [k for k in HISTORY_OWN_COLUMNS if k in fields]
    if own:
        raise BadValue("fields", f"{own[0]} has its own column; leave it out of fields")
    for key, value in fields.items():  # the file is data: plain names and plain values only
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", key):
            raise BadValue("fields", f"{key!r} is not a field name (lower-case letters, digits and _)")
        inner = value.values() if key == "changes" and isinstance(value, dict) else [value]
        if any(v is not None and not isinstance(v, (str, int, float, bool)) for v in inner):
            raise BadValue("fields", f"{key} must be text, a number, true or false")
    return fields
