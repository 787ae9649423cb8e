"""Capture hygiene: every lead accounted for, duplicates found, touches nobody settled."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Mapping

from .audience import in_audience
from .history import History, Record, last_touch_events
from .model import Campaign, Lead
from .state import LeadState

__all__ = ["next_action", "Hygiene", "hygiene", "duplicate_groups", "unknown_touches", "given_up"]



def next_action(state: LeadState, campaigns: Mapping[str, Campaign], today: dt.date) -> str | None:
    """What happens next for the lead, or why nothing needs to; None: lost in the system."""
    lead = state.lead
    if state.status in ("won", "recovered"):
        return "won"
    if state.status == "dead":
        return f"out of scope (review {state.dead_review_on})" if state.dead_review_on else "out of scope"
    if state.do_not_contact or state.unsubscribed:
        return "asked not to be contacted"
    if lead.follow_up is not None:
        return f"follow up on {lead.follow_up}"
    if lead.recycle_on is not None and lead.recycle_on > today:
        return f"recycle on {lead.recycle_on}"
    campaign = _campaign_for(state, campaigns, today)
    return f"campaign {campaign}" if campaign else None


def _campaign_for(state: LeadState, campaigns: Mapping[str, Campaign], today: dt.date) -> str | None:
    """The campaign that has the lead's next touch: named, running, or whose audience it is in."""
    lead = state.lead
    if lead.campaign in campaigns:
        return lead.campaign
    enrolled = state.enrolment
    if enrolled is not None and enrolled.campaign in campaigns:
        camp = campaigns[enrolled.campaign]
        last_day = dt.date.fromisoformat(enrolled.enrolment) + dt.timedelta(days=camp.steps[-1].day)
        answered = state.last_response is not None and state.last_response.day >= enrolled.day
        if last_day >= today and not answered:
            return camp.id
    for camp in sorted(campaigns.values(), key=lambda c: (-c.priority, c.id)):
        if in_audience(camp, state, today):
            return camp.id
    return None


def given_up(state: LeadState, campaigns: Mapping[str, Campaign], today: dt.date, target: int) -> bool:
    """Dead, or lost with no recycle date and no campaign, after fewer than ``target`` touches."""
    if state.touches >= target:
        return False
    if state.status == "dead":
        return True
    if state.status != "lost" or state.lead.recycle_on is not None or state.lead.campaign:
        return False
    return _campaign_for(state, campaigns, today) is None


def _norm_text(text: str) -> str:
    if text.isascii():
        return " ".join(text.lower().split())
    text = unicodedata.normalize("NFKD", text).casefold()
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


def duplicate_groups(leads: Iterable[Lead]) -> list[tuple[str, tuple[str, ...]]]:
    """Groups of likely duplicates: (why, ids in file order), each pair reported once."""
    keys: dict[tuple[str, str], list[str]] = {}
    for lead in leads:
        if lead.email:
            keys.setdefault(("the same email", lead.email.strip().lower()), []).append(lead.id)
        if lead.phone:
            keys.setdefault(("the same phone", lead.phone), []).append(lead.id)
        if lead.name and lead.company:
            keys.setdefault(("the same name and company",
                             _norm_text(lead.name) + "\x1f" + _norm_text(lead.company)), []).append(lead.id)
    groups = []
    reported: set[frozenset[str]] = set()
    for (why, _), ids in keys.items():
        if len(ids) > 1:
            key = frozenset(ids)
            if key not in reported:
                reported.add(key)
                groups.append((why, tuple(ids)))
    return groups


def unknown_touches(history: History) -> tuple[Record, ...]:
    """`attempting` with no result: the send may or may not have happened; a person decides."""
    return tuple(rec for rec in last_touch_events(history.records).values() if rec.event == "attempting")


@dataclass(frozen=True, slots=True)
class Hygiene:
    no_next_action: tuple[str, ...]
    incomplete_overdue: tuple[str, ...]
    uncontactable: tuple[str, ...]
    given_up_early: tuple[str, ...]
    duplicates: tuple[tuple[str, tuple[str, ...]], ...]
    unknown_touches: tuple[Record, ...]
    review_due: tuple[str, ...]       # out-of-scope leads whose review date has come


def hygiene(states: Mapping[str, LeadState], campaigns: Mapping[str, Campaign], history: History,
            today: dt.date, *, touch_target: int) -> Hygiene:
    no_next, overdue, uncontactable, early, review = [], [], [], [], []
    for lead_id in sorted(states):
        st = states[lead_id]
        lead = st.lead
        if next_action(st, campaigns, today) is None:
            no_next.append(lead_id)
        if lead.incomplete and lead.follow_up is not None and lead.follow_up < today:
            overdue.append(lead_id)
        if not lead.has_contact:
            uncontactable.append(lead_id)
        if given_up(st, campaigns, today, touch_target):
            early.append(lead_id)
        if st.dead_review_on is not None and st.dead_review_on <= today:
            review.append(lead_id)
    return Hygiene(tuple(no_next), tuple(overdue), tuple(uncontactable), tuple(early),
                   tuple(duplicate_groups(st.lead for st in states.values())),
                   unknown_touches(history), tuple(review))
