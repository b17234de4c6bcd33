"""Survey action: record a customer's CSAT and/or NPS answer, optionally about one of its tickets."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crmcli.actions.complaints import survey_done
from crmcli.actions.ticket import customer_name
from crmcli.domain import dates
from crmcli.domain.surveys import ScoreNeeded, answer, parse_csat, parse_nps, scores_text
from crmcli.domain.text import checked_text
from crmcli.errors import InvalidRecord
from crmcli.store import refs as entities
from crmcli.store.store import Store


@dataclass(frozen=True)
class SurveyRecorded:
    """The answer written and whose it is."""

    customer: str
    customer_name: str
    entry: dict

    @property
    def scores(self) -> str:
        return scores_text(self.entry.get("csat"), self.entry.get("nps"))


def record_survey(store: Store, customer_ref: str, *, csat: Any = None, nps: Any = None,
                  ticket: str | None = None, comment: str | None = None) -> SurveyRecorded:
    """Append a ``survey.answer`` (``ScoreNeeded`` when it has neither score)."""
    csat_, nps_ = parse_csat(csat), parse_nps(nps)
    if csat_ is None and nps_ is None:
        raise ScoreNeeded()
    text = checked_text(comment, "survey comment", required=False)
    cid = store.resolve(customer_ref)
    tid = None
    if ticket:
        ref = ticket if "/" in ticket else f"{cid}/{ticket}"
        owner, tid, _ = entities.resolve_entity(store, ref, "tkt")
        if owner != cid:
            raise InvalidRecord(f"ticket {ticket} belongs to {owner}, not {cid}; give a ticket of this customer")
    name = customer_name(store, cid)
    entry = answer(dates.iso(dates.now()), store.user(), ticket=tid, csat=csat_, nps=nps_, comment=text)
    with store.transaction(f"Record survey from {name} ({scores_text(csat_, nps_)})", action="survey.answer",
                           customer=cid) as tx:
        tx.append_entry(cid, entry)
        for done in survey_done(store, cid, tid, dates.now()) if tid else []:  # a complaint's follow-up task
            tx.append_entry(cid, done)
    return SurveyRecorded(cid, name, entry)
