"""Every problem of a row at once, and of a file's columns before any row: each says where and how to fix it.

``row_problems`` checks each field of a row on its own (dates, amounts, scores, words of the store's vocabulary,
the customer it refers to) so that one run names every problem of every row. ``column_problem`` finds a field a
kind needs that no column (and no constant) gives, names the columns that might hold it, the ``--map`` that fixes
it, and says when the headers look like another kind.
"""
from __future__ import annotations

import difflib
from typing import Any

from crmcli.domain import deals, interactions, money, tickets
from crmcli.errors import CrmError
from crmcli.io.import_dated import deal_order_problems, ticket_order_problems
from crmcli.io.import_plan import Source
from crmcli.io.import_planner import PlannerBase
from crmcli.io.import_values import BadValue, amount_message, day_cell, missing, moment_cell, money_text, text_cell
from crmcli.io.mapping import IMPORT_KINDS, SYNONYMS, Mapping, auto_map, normalize_header
from crmcli.io.mapping_file import is_date_field

DAY_FIELDS = {"close", "date", "start", "end", "birthday"}
# a field each kind needs (one of the alternatives), beyond what the handlers default
REQUIRED: dict[str, list[tuple[str, ...]]] = {
    "customers": [("name", "contact", "first_name", "last_name")],
    "contacts": [("name", "first_name", "last_name")],
    "interactions": [("customer",), ("at",), ("summary",)],
    "opps": [("customer",), ("title",)],
    "orders": [("customer",), ("amount",)],
    "contracts": [("customer",), ("value",), ("start",), ("end",)],
    "tickets": [("customer",), ("title",)],
    "tasks": [("customer",), ("text",)],
    "surveys": [("customer",), ("at",)],
    "history": [("customer",), ("id",), ("at",), ("kind",)],
    "events": [("customer",), ("at",), ("event",)],
}
NOUN = {"opps": "deals", "customers": "customers", "contacts": "contacts", "interactions": "interactions",
        "orders": "orders", "contracts": "contracts", "tickets": "tickets", "tasks": "tasks", "surveys": "surveys",
        "history": "deal and ticket events", "events": "behaviour events"}


def closest(word: str, allowed: list[str]) -> str:
    hits = difflib.get_close_matches(word.casefold(), [a.casefold() for a in allowed], n=1, cutoff=0.0)
    return next((a for a in allowed if hits and a.casefold() == hits[0]), allowed[0])


def vocabulary_message(column: str, value: str, allowed: list[str], noun: str, where: str | None) -> str:
    near = closest(value, allowed)
    add = f", or add {value!r} to {where}" if where else ""
    article = "an" if noun[0] in "aeiou" else "a"
    return (f"{value!r} is not {article} {noun}; allowed: {', '.join(allowed)}; closest: {near}. Map it: "
            f"--map-value '{column}:{value}={near}' (or values: in the mapping file){add}")


def vocabularies(kind: str, config: Any) -> dict[str, tuple[list[str], str, str | None]]:
    """field -> (allowed words, what they are, where crm.yaml lists them)."""
    if kind == "opps":
        return {"stage": (list(config.stages), "deal stage", "pipeline in crm.yaml")}
    if kind == "tickets":
        return {"priority": (list(tickets.priorities(config)), "ticket priority", "ticket_priorities in crm.yaml"),
                "category": (tickets.categories(config), "ticket category", "ticket_categories in crm.yaml"),
                "channel": (tickets.channels(config), "ticket channel", "ticket_channels in crm.yaml"),
                "status": (tickets.STATUSES, "ticket status", None)}
    if kind == "interactions":
        return {"kind": (list(config.interaction_types), "interaction type", "interaction_types in crm.yaml")}
    return {}


class CheckedRows(PlannerBase):
    def row_problems(self, source: Source, v: dict[str, Any]) -> list[tuple[str, str]]:
        """Every problem of one row's fields, each on its own: (field, message)."""
        kind, mapping, config = source.kind, source.mapping, self.store.config
        out: list[tuple[str, str]] = []
        for fld, (allowed, noun, where) in vocabularies(kind, config).items():
            text = text_cell(v.get(fld))
            if text is None or any(a.casefold() == text.casefold() for a in allowed):
                continue
            if fld == "kind":
                try:
                    interactions.interaction_type(config, text)
                    continue
                except CrmError:
                    pass
            out.append((fld, vocabulary_message(mapping.column_of(fld), text, allowed, noun, where)))
        for fld, raw in v.items():
            if raw is None or not is_date_field(fld) or kind == "history":
                continue
            try:
                if fld in DAY_FIELDS or (kind == "tasks" and fld == "due"):
                    day_cell(fld, raw)
                else:
                    moment_cell(fld, raw)
            except BadValue as exc:
                out.append((fld, exc.message))
        for fld in ("amount", "value"):
            if v.get(fld) is not None and kind in ("opps", "orders", "contracts"):
                currency = (text_cell(v.get("currency")) or str(config.get("currency", "CNY"))).upper()
                try:
                    money.parse_amount(money_text(fld, v[fld], currency), fld, currency=currency)
                except BadValue as exc:
                    out.append((fld, exc.message))
                except CrmError as exc:
                    out.append((fld, amount_message(fld, v[fld], str(exc), currency)))
        for fld, (lo, hi) in (("csat", (1, 5)), ("nps", (0, 10))):
            raw = v.get(fld)
            if raw is None or kind not in ("tickets", "surveys"):
                continue
            try:
                number = float(str(raw).strip())
            except ValueError:
                number = float("nan")
            if not (number.is_integer() and lo <= number <= hi):
                out.append((fld, f"{raw!r} is not a score from {lo} to {hi} (map other scales with --map-value)"))
        if kind not in ("customers", "contacts") and text_cell(v.get("customer")):
            ref = str(text_cell(v.get("customer")))
            if self.pool.find(ref) is None:
                out.append(("customer", f"no customer {ref!r} (by id, external id, exact name or email) in the "
                                        "store or this file; import the customers first"))
        if kind == "opps" and v.get("amount") is None and text_cell(v.get("stage")):
            try:
                if deals.check_stage(config, str(text_cell(v.get("stage")))) == "won":
                    out.append(("amount", "a won deal needs its amount"))
            except CrmError:
                pass
        found = out + [p for p in self.cross_problems(source, v, bool(out)) if p not in out]
        return found + [p for p in super().row_problems(source, v) if p not in found]  # the kinds' own checks

    def cross_problems(self, source: Source, v: dict[str, Any], others: bool) -> list[tuple[str, str]]:
        """A field the row's kind needs whose cell is empty, and the problems between a row's fields (dates in the
        wrong order), each on its own; a field that is bad by itself is reported above, not compared here.
        ``others``: the row has other problems (a deal's one order problem the row's handler finds by itself)."""
        kind, config = source.kind, self.store.config
        out = [(alternatives[0], message) for alternatives in REQUIRED.get(kind, [])
               if (message := missing(kind, alternatives[0])) and all(v.get(a) is None for a in alternatives)]
        if kind == "surveys" and v.get("csat") is None and v.get("nps") is None:
            out.append(("csat", "no score; a survey answer has a csat or an nps"))
        if kind == "opps" and (others or out):
            try:
                stage = deals.check_stage(config, text_cell(v.get("stage")) or deals.open_stages(config)[0])
                out += deal_order_problems(v, stage, config)
            except CrmError:
                pass
        elif kind == "tickets":
            out += ticket_order_problems(v)
        elif kind == "contracts":
            try:
                start, end = day_cell("start", v.get("start")), day_cell("end", v.get("end"))
            except BadValue:
                start = end = None
            if start and end and end < start:
                out.append(("end", f"{end} is before the start {start}; a contract ends after it starts"))
        elif kind == "tasks":
            status = (text_cell(v.get("status")) or ("done" if v.get("done_at") is not None else "open")).lower()
            if status not in ("open", "done"):
                out.append(("status", f"{status!r} is not a task status; use open or done"))
            elif status == "done" and v.get("done_at") is None:
                out.append(("done_at", "a done task needs the moment it was done"))
        return out


def _candidates(mapping: Mapping, fld: str) -> list[str]:
    free = [h for i, h in enumerate(mapping.headers) if h and i not in mapping.fields]
    spellings = [normalize_header(s) for s in SYNONYMS[mapping.kind].get(fld, [fld])] + [fld]

    def score(header: str) -> float:
        key = normalize_header(header)
        return max(difflib.SequenceMatcher(None, key, s).ratio() for s in spellings)

    return sorted(free, key=score, reverse=True)[:3]


def _scores(headers: list[str]) -> dict[str, int]:
    return {k: len(auto_map(headers, k).fields) for k in IMPORT_KINDS if k != "history"}


def looks_like(headers: list[str], kind: str, margin: int = 1) -> str | None:
    """Another kind whose columns the headers fit better (by ``margin`` columns or more), when there is one."""
    scores = _scores(headers)
    best = max(scores, key=lambda k: scores[k])
    if best != kind and scores[best] >= scores.get(kind, 0) + margin:
        return best
    return None


def other_kind_problem(mapping: Mapping) -> str | None:
    """When no --kind was given: a file whose columns fit another kind clearly better is refused, naming it."""
    other = looks_like(mapping.headers, mapping.kind, margin=3)
    if other is None:
        return None
    scores = _scores(mapping.headers)
    return (f"the columns look like {NOUN[other]} ({scores[other]} of {len(mapping.headers)} columns known), "
            f"not {NOUN[mapping.kind]} ({scores[mapping.kind]}): try --kind {other} (or --kind {mapping.kind} to "
            f"import them as {NOUN[mapping.kind]})")


def column_problem(mapping: Mapping) -> str | None:
    """One line when a field the kind needs has no column and no constant; None when all are there."""
    have = set(mapping.fields.values()) | set(mapping.constants)
    for options in REQUIRED.get(mapping.kind, []):
        if have & set(options):
            continue
        fld = options[0]
        found = _candidates(mapping, fld)
        hint = (f"; columns that might hold it: {', '.join(found)} (like --map '{found[0]}={fld}')" if found
                else "; every column is mapped to something else: check the mapping (--dry-run shows it)")
        other = looks_like(mapping.headers, mapping.kind)
        also = f"; the columns look like {NOUN[other]}: try --kind {other}" if other else ""
        return f"no column gives {fld} for {NOUN[mapping.kind]}{hint}{also}"
    return None


def detected_mapping(source: Source, config: Any) -> str:
    """The mapping of ``source`` as a mapping file, with a guess for every word outside the store's vocabulary."""
    from crmcli.io.mapping_file import spec_text

    mapping = source.mapping
    guesses: dict[str, dict[str, Any]] = {}
    for fld, (allowed, _noun, _where) in vocabularies(source.kind, config).items():
        if not mapping.has(fld):
            continue
        index = next(i for i, f in mapping.fields.items() if f == fld)
        seen: dict[str, Any] = {}
        for _, cells in source.table.rows:
            text = text_cell(cells[index]) if index < len(cells) else None
            if text is None or text.casefold() in mapping.values.get(fld, {}) or text in seen:
                continue
            if not any(a.casefold() == text.casefold() for a in allowed):
                seen[text] = closest(text, allowed)
        if seen:
            guesses[mapping.column_of(fld)] = seen
    constants: dict[str, Any] = {}
    if source.kind in ("opps", "orders", "contracts") and not mapping.has("currency"):
        constants["currency"] = str(config.get("currency", "CNY"))
    return spec_text(mapping, guesses, constants)
