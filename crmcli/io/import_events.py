"""Rows of interactions, deals, orders, contracts, tasks, surveys and tickets: each becomes journal events."""
from __future__ import annotations

import datetime as _dt
from typing import Any

from crmcli.domain import contracts, dates, durations, interactions
from crmcli.domain.customer import PERIOD_RE
from crmcli.errors import CrmError
from crmcli.io.import_plan import Source
from crmcli.io.import_planner import PlannerBase
from crmcli.io.import_values import (
    LOCAL_ID,
    MISSING,
    BadValue,
    dates_key,
    day_cell,
    is_day_cell,
    moment_cell,
    tags_cell,
    text_cell,
)


class EventRows(PlannerBase):
    def row_interactions(self, v: dict[str, Any], source: Source, number: int) -> str:
        cid = self._customer_ref(v)
        at = moment_cell("at", v.get("at"))
        if at is None:
            raise BadValue("at", MISSING["interactions", "at"])
        kind_text = text_cell(v.get("kind")) or "note"
        try:
            kind = interactions.interaction_type(self.store.config, kind_text)
        except CrmError as exc:
            raise BadValue("kind", str(exc)) from None
        direction = text_cell(v.get("direction"))
        if direction is not None:
            direction = {"inbound": "in", "outbound": "out", "呼入": "in", "呼出": "out"}.get(direction.lower(),
                                                                                          direction.lower())
            if direction not in interactions.DIRECTIONS:
                raise BadValue("direction", f"{v['direction']!r} is not a direction; use in or out")
        duration = None
        if v.get("duration") is not None:
            raw = v["duration"]
            try:
                td = (_dt.timedelta(minutes=raw) if isinstance(raw, (int, float))
                      else interactions.parse_duration(str(raw)))
                duration = durations.format_duration(interactions.parse_duration(td))
            except CrmError as exc:
                raise BadValue("duration", str(exc)) from None
        summary = text_cell(v.get("summary"))
        if not summary:
            raise BadValue("summary", MISSING["interactions", "summary"])
        entry: dict[str, Any] = {"at": at, "kind": kind, "by": text_cell(v.get("by")) or self.user,
                                 "contact": text_cell(v.get("contact")), "direction": direction, "duration": duration,
                                 "outcome": text_cell(v.get("outcome")), "tags": tags_cell(v.get("tags")),
                                 "summary": interactions.clean_text(summary)}
        entry = {k: val for k, val in entry.items() if val is not None}
        if self._seen(cid, (kind,), lambda e: (dates_key(e.get("at")), e.get("summary")), entry):
            return self._duplicate(f"the same {kind} at {at[:16]} is already in {cid}'s journal")
        self.plan.events.append((cid, entry))
        return "created"


    def row_orders(self, v: dict[str, Any], source: Source, number: int) -> str:
        cid = self._customer_ref(v)
        currency = self._currency(v.get("currency"))
        amount = self._amount("amount", v.get("amount"), currency=currency)
        day = day_cell("date", v.get("date")) or dates.now().date().isoformat()
        opp = (text_cell(v.get("opp")) or "").lower() or None
        if opp and not LOCAL_ID["opp"].match(opp):
            raise BadValue("opp", f"{opp!r} is not a deal id (like opp-9x2m)")
        entry = self._event("order.add", opp=opp, date=day, amount=amount, currency=currency,
                            product=text_cell(v.get("product")), by=text_cell(v.get("by")))
        if self._seen(cid, ("order.add",), lambda e: (str(e.get("date")), e.get("amount"), e.get("product")), entry):
            return self._duplicate(f"an order of {amount} on {day} is already at {cid}")
        self._validate_event(entry)
        self.plan.events.append((cid, entry))
        return "created"

    def row_contracts(self, v: dict[str, Any], source: Source, number: int) -> str:
        cid = self._customer_ref(v)
        currency = self._currency(v.get("currency"))
        value = self._amount("value", v.get("value"), currency=currency)
        start, end = day_cell("start", v.get("start")), day_cell("end", v.get("end"))
        if start is None or end is None:
            raise BadValue("start" if start is None else "end", MISSING["start"])
        if end < start:
            raise BadValue("end", f"{end} is before the start {start}; a contract ends after it starts")
        notice = "".join(str(text_cell(v.get("renew_notice")) or contracts.DEFAULT_NOTICE).lower().split())
        if not PERIOD_RE.match(notice):
            raise BadValue("renew_notice", f"{notice!r}: write a number and a unit (30d, 6w, 3m, 1y)")
        entry = self._event("contract.add", value=value, currency=currency, start=start, end=end,
                            renew_notice=notice, file=text_cell(v.get("file")), by=text_cell(v.get("by")))
        if self._seen(cid, ("contract.add",), lambda e: (str(e.get("start")), str(e.get("end")), e.get("value")),
                      entry):
            return self._duplicate(f"a contract from {start} to {end} is already at {cid}")
        self._validate_event(entry)
        self.plan.events.append((cid, entry))
        return "created"

    def row_tasks(self, v: dict[str, Any], source: Source, number: int) -> str:
        cid = self._customer_ref(v)
        text = text_cell(v.get("text"))
        if not text:
            raise BadValue("text", MISSING["tasks", "text"])
        raw_due = v.get("due")
        due: str | None
        if raw_due is None:
            due = None
        elif is_day_cell(raw_due):  # a due day, not a moment (an xlsx date cell reads back as midnight)
            due = day_cell("due", raw_due)
        else:
            due = moment_cell("due", raw_due)
        created = moment_cell("created", v.get("created"))
        status = (text_cell(v.get("status")) or ("done" if v.get("done_at") is not None else "open")).lower()
        if status not in ("open", "done"):
            raise BadValue("status", f"{status!r} is not a task status; use open or done")
        done_at = moment_cell("done_at", v.get("done_at"))
        if status == "done" and done_at is None:
            raise BadValue("done_at", "a done task needs the moment it was done")
        wanted = (text_cell(v.get("id")) or "").lower() or None
        if self._seen(cid, ("task.add",), lambda e: (e.get("id") if wanted else None, e.get("text")),
                      {"id": wanted, "text": text}, "id" if wanted else ""):
            return self._duplicate(f"task {wanted or text!r} is already at {cid}")
        tid = self._local_id(cid, "task", wanted)
        new = [self._event("task.add", at=created, id=tid, owner=text_cell(v.get("owner")), due=due,
                           text=interactions.clean_text(text, "task text"), by=text_cell(v.get("by")))]
        if status == "done":
            new.append({"at": done_at, "kind": "task.done", "task": tid, "by": self.user})
        self._validate_events(new)
        self.plan.events += [(cid, e) for e in new]
        return "created"

    def row_surveys(self, v: dict[str, Any], source: Source, number: int) -> str:
        cid = self._customer_ref(v)
        at = moment_cell("at", v.get("at"))
        if at is None:
            raise BadValue("at", MISSING["surveys", "at"])
        scores: dict[str, Any] = {}
        for fld in ("csat", "nps"):
            raw = v.get(fld)
            if raw is None:
                continue
            try:
                scores[fld] = int(str(raw))
            except ValueError:
                raise BadValue(fld, f"{raw!r} is not a whole number") from None
        if not scores:
            raise BadValue("csat", "no score; a survey answer has a csat or an nps")
        ticket = (text_cell(v.get("ticket")) or "").lower() or None
        if ticket and not LOCAL_ID["tkt"].match(ticket):
            raise BadValue("ticket", f"{ticket!r} is not a ticket id (like tkt-9x2m)")
        entry = self._event("survey.answer", at=at, ticket=ticket, **scores, comment=text_cell(v.get("comment")),
                            by=text_cell(v.get("by")))
        if self._seen(cid, ("survey.answer",), lambda e: (dates_key(e.get("at")), e.get("csat"), e.get("nps")),
                      entry):
            return self._duplicate(f"a survey answer at {at[:16]} is already in {cid}'s journal")
        self._validate_event(entry)
        self.plan.events.append((cid, entry))
        return "created"
