"""Rows of deals and tickets with their dates: each becomes its events, written at the times the file gives.

A deal row makes ``opp.open`` at its created (or engaged) time, an ``opp.stage`` for each stage date given, then
``opp.won`` / ``opp.lost`` at its won/lost date (the close date when there is no separate one). A ticket row makes
``ticket.open`` at its opening, a public ``ticket.comment`` at its first response, a ``ticket.status`` for each
status date, ``resolved`` at its resolution and ``ticket.close`` (with the CSAT) at its close. Dates that are
missing are optional: a deal opens at the earliest date it has (or the moment of the import when it has none).
"""
from __future__ import annotations

from typing import Any

from crmcli.domain import dates, deals, tickets
from crmcli.errors import InvalidRecord
from crmcli.io.import_plan import Source
from crmcli.io.import_planner import PlannerBase
from crmcli.io.import_values import LOCAL_ID, MISSING, BadValue, day_cell, instant, moment_cell, text_cell

FIRST_RESPONSE_TEXT = "first response (imported)"


def _at_day(day: str | None) -> str | None:
    return moment_cell("close", day) if day else None


def deal_times(v: dict[str, Any], stage: str, config: Any) -> tuple[str | None, str | None, str | None,
                                                                    list[tuple[str, str]]]:
    """A deal row's opening, closing moment, close day and (at, stage) of each stage date, oldest first, as its
    events get them (a bad date raises BadValue)."""
    close = day_cell("close", v.get("close"))
    created = moment_cell("created", v.get("created"))
    closed_at = moment_cell("closed_at", v.get("closed_at"))
    open_stages = deals.open_stages(config)
    steps: list[tuple[str, str]] = []  # (at, stage) of each stage date given
    for key in [k for k in v if k.startswith("stage_at.")]:
        at = moment_cell(key, v.get(key))
        name = key[len("stage_at."):]
        if at is not None and name in open_stages:
            steps.append((at, name))
    steps.sort(key=lambda s: (instant(s[0]), open_stages.index(s[1])))
    if stage in deals.CLOSED and closed_at is None:
        closed_at = _at_day(close)  # a closed deal's close date is the day it closed
    known = [t for t in [created, *(a for a, _ in steps), closed_at] if t]
    if created is None:
        created = min(known, key=instant) if known else None
    return created, closed_at, close, steps


def deal_order_problems(v: dict[str, Any], stage: str, config: Any) -> list[tuple[str, str]]:
    """A deal row closed before it was created (nothing when one of its dates is bad: that is its own problem)."""
    try:
        created, closed_at, _, _ = deal_times(v, stage, config)
    except BadValue:
        return []
    return _closed_before(created, closed_at)


def _closed_before(created: str | None, closed_at: str | None) -> list[tuple[str, str]]:
    if created and closed_at and instant(closed_at) < instant(created):
        return [("closed_at", f"{closed_at[:10]} is before the deal was created ({created[:10]})")]
    return []


def ticket_order_problems(v: dict[str, Any]) -> list[tuple[str, str]]:
    """Each time of a ticket row before its opening (a bad date is its own problem, not compared)."""
    def moment(fld: str) -> str | None:
        try:
            return moment_cell(fld, v.get(fld))
        except BadValue:
            return None

    opened, out = moment("opened_at"), []
    for fld in ("first_response_at", "resolved_at", "closed_at"):
        at = moment(fld)
        if at and opened and instant(at) < instant(opened):
            out.append((fld, f"{at[:16]} is before the ticket was opened ({opened[:16]})"))
    return out


class DatedRows(PlannerBase):
    def row_opps(self, v: dict[str, Any], source: Source, number: int) -> str:
        cid = self._customer_ref(v)
        title = text_cell(v.get("title"))
        if not title:
            raise BadValue("title", MISSING["opps", "title"])
        currency = self._currency(v.get("currency"))
        config = self.store.config
        try:  # the stage rule of `crm opp add`, closing stages allowed: the deal is closed right after
            stage = deals.check_stage(config, text_cell(v.get("stage")) or deals.open_stages(config)[0])
        except InvalidRecord as exc:
            raise BadValue("stage", str(exc)) from None
        amount = self._amount("amount", v.get("amount"), required=stage == "won", currency=currency)
        created, closed_at, close, steps = deal_times(v, stage, config)
        for fld, message in _closed_before(created, closed_at):
            raise BadValue(fld, message)
        open_stages = deals.open_stages(config)
        wanted = self._wanted_id(v, "opp")
        seen = self._known(cid, "opp", "deal", wanted, title, created, created or dates.iso(dates.now()))
        if seen is not None:
            return seen
        oid = self._local_id(cid, "opp", wanted)
        if steps:  # opened at the first stage, unless the first stage date is the opening itself
            open_stage = steps[0][1] if created and instant(steps[0][0]) <= instant(created) else open_stages[0]
        else:
            open_stage = stage if stage not in deals.CLOSED else open_stages[0]
        new = [self._event("opp.open", at=created, id=oid, title=title, amount=amount, currency=currency,
                           stage=open_stage, close=close, owner=text_cell(v.get("owner")) or self.user,
                           source=text_cell(v.get("source")), product=text_cell(v.get("product")))]
        current = open_stage
        for at, name in steps:
            if name != current:
                new.append(self._event("opp.stage", at=at, opp=oid, **{"from": current, "to": name}))
                current = name
        if stage not in deals.CLOSED and stage != current:
            new.append(self._event("opp.stage", at=max([t for t in [created, *(a for a, _ in steps)] if t],
                                                       key=instant, default=None),
                                   opp=oid, **{"from": current, "to": stage}))
        if stage == "won":
            new.append(self._event("opp.won", at=closed_at, opp=oid, amount=amount, currency=currency, title=title))
        elif stage == "lost":
            new.append(self._event("opp.lost", at=closed_at, opp=oid, title=title,
                                   reason=text_cell(v.get("lost_reason")) or "lost before the import"))
        self._validate_events(new)
        self.plan.events += [(cid, e) for e in new]
        return "created"

    def row_tickets(self, v: dict[str, Any], source: Source, number: int) -> str:
        cid = self._customer_ref(v)
        title = text_cell(v.get("title"))
        if not title:
            raise BadValue("title", MISSING["tickets", "title"])
        config = self.store.config

        def choice(fld: str, allowed: list[str], default: str | None) -> str | None:
            text = text_cell(v.get(fld))
            if text is None:
                return default
            hits = [a for a in allowed if a.casefold() == text.casefold()]
            if not hits:
                raise BadValue(fld, f"{text!r} is not one of: {', '.join(allowed)}")
            return hits[0]

        prios = list(tickets.priorities(config))
        priority = choice("priority", prios, "normal" if "normal" in prios else prios[0])
        category = choice("category", tickets.categories(config), tickets.categories(config)[0])
        channel = choice("channel", tickets.channels(config), None)
        status = choice("status", tickets.STATUSES, None)
        csat = self._score(v.get("csat"))
        opened = moment_cell("opened_at", v.get("opened_at"))
        first = moment_cell("first_response_at", v.get("first_response_at"))
        resolved = moment_cell("resolved_at", v.get("resolved_at"))
        closed = moment_cell("closed_at", v.get("closed_at"))
        raw_moves = [(moment_cell(k, v.get(k)), k[len("status_at."):]) for k in v if k.startswith("status_at.")]
        moves = [(str(at), to) for at, to in raw_moves
                 if at is not None and to in ("in-progress", "waiting", "resolved")]
        if resolved:
            moves.append((resolved, "resolved"))
        problems = ticket_order_problems(v)
        if problems:
            raise BadValue(*problems[0], others=problems[1:])
        if status is None:
            status = "closed" if closed else ("resolved" if resolved else "open")
        wanted = self._wanted_id(v, "tkt")
        seen = self._known(cid, "tkt", "ticket", wanted, title, opened, opened or "")
        if seen is not None:
            return seen
        tid = self._local_id(cid, "tkt", wanted)
        opened = opened or dates.iso(dates.now())
        timed: list[tuple[str, int, dict]] = []
        if first:
            timed.append((first, 0, self._event("ticket.comment", at=first, ticket=tid, text=FIRST_RESPONSE_TEXT)))
        for at, to in moves:
            timed.append((at, 1, {"at": at, "kind": "ticket.status", "to": to}))
        last = max([opened, *(t for t, _, _ in timed)], key=instant)
        if status == "closed" and not closed:
            closed = resolved or last
        if status in ("in-progress", "waiting", "resolved") and not any(to == status for _, to in moves):
            timed.append((last, 1, {"at": last, "kind": "ticket.status", "to": status}))
        if closed:
            timed.append((closed, 2, self._event("ticket.close", at=closed, ticket=tid, csat=csat,
                                                 resolution=text_cell(v.get("resolution"))
                                                 or "closed before the import")))
        elif csat is not None:
            answered = moment_cell("answered_at", v.get("answered_at")) or resolved or last
            timed.append((answered, 3, self._event("survey.answer", at=answered, ticket=tid, csat=csat)))
        timed.sort(key=lambda x: (instant(x[0]), x[1]))
        new = [self._event("ticket.open", at=opened, id=tid, title=title, priority=priority, category=category,
                           channel=channel, assignee=text_cell(v.get("assignee")), contact=text_cell(v.get("contact")),
                           text=text_cell(v.get("text")))]
        state = "open"
        for _, _, e in timed:
            if e["kind"] == "ticket.status":
                if e["to"] == state:
                    continue
                e = self._event("ticket.status", at=e["at"], ticket=tid, **{"from": state, "to": e["to"]})
                state = e["to"]
            new.append(e)
        self._validate_events(new)
        self.plan.events += [(cid, e) for e in new]
        return "created"

    def _known(self, cid: str, prefix: str, what: str, wanted: str | None, title: str, at: str | None,
               seen_at: str) -> str | None:
        """Why a deal or ticket row adds nothing ("counted" by this file's history sheet, or a duplicate of one
        the customer has), else None; by id when the row gives one, else by title (and opening time)."""
        if wanted and (cid, wanted) in self.from_history:
            return "counted"  # made from its events by the history sheet of this file
        if wanted and wanted in self._ids(cid, prefix):
            return self._duplicate(f"{what} {wanted} is already at {cid}")
        tag = "id" if wanted else ("title+at" if at else "title")
        if self._seen(cid, (f"{'ticket' if prefix == 'tkt' else prefix}.open",),
                      lambda e: (e.get("id") if wanted else None, e.get("title"),
                                 instant(str(e.get("at"))) if tag == "title+at" else None),
                      {"id": wanted, "title": title, "at": seen_at}, tag):
            return self._duplicate(f"{what} {wanted or title!r} is already at {cid}")
        return None

    @staticmethod
    def _wanted_id(v: dict[str, Any], prefix: str) -> str | None:
        """A crm id from the id column; another CRM's id (``1C1I7A6R``) is not one: the row is matched by title
        and time instead."""
        wanted = (text_cell(v.get("id")) or "").lower() or None
        return wanted if wanted and LOCAL_ID[prefix].match(wanted) else None

    @staticmethod
    def _score(raw: Any) -> int | None:
        if raw is None:
            return None
        try:
            number = float(str(raw).strip())
        except ValueError:
            raise BadValue("csat", f"{raw!r} is not a score from 1 to 5") from None
        if not number.is_integer() or not 1 <= number <= 5:
            raise BadValue("csat", f"{raw!r} is not a score from 1 to 5 (map other scales with --map-value)")
        return int(number)
