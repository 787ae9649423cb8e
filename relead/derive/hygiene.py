"""Capture hygiene: every lead accounted for, duplicates found, touches nobody settled, and what
`make sync` brought back that needs a person (replies waiting, closed channels, blocks)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Mapping

from ..history import History, Record, last_touch_events
from ..model import Campaign, Lead
from .audience import in_audience
from .plan import resting
from .state import LeadState

__all__ = ["next_action", "next_actions", "Hygiene", "hygiene", "duplicate_groups", "unknown_touches", "given_up",
           "replies_waiting", "paused", "closed_channels", "policy_blocks", "CLOSED_CHANNELS"]

CLOSED_CHANNELS = ("email", "sms")      # the channels a bounce, an opt-out or a complaint closes


def next_action(state: LeadState, campaigns: Mapping[str, Campaign], today: dt.date) -> str | None:
    """What happens next for the lead, or why nothing needs to; None: lost in the system."""
    lead = state.lead
    if state.status in ("won", "recovered"):
        return "won"
    if state.status == "dead":
        return f"out of scope (review {state.dead_review_on})" if state.dead_review_on else "out of scope"
    if state.do_not_contact or state.unsubscribed:
        return "asked not to be contacted"
    if state.reply_waiting:
        return f"answer their reply of {state.last_response.day}, then record what came of it"
    if lead.follow_up is not None:
        return f"follow up on {lead.follow_up}"
    if lead.recycle_on is not None and lead.recycle_on > today:
        return f"recycle on {lead.recycle_on}"
    rest = _rest(state, campaigns)
    if rest is not None and rest[1] > today:
        outcome, until, then = rest
        why = "a no" if outcome == "not_interested" else "no answer"
        return f"{f'campaign {then}' if then else 'a new campaign'} from {until} (a rest after {why})"
    campaign = _campaign_for(state, campaigns, today)
    return f"campaign {campaign}" if campaign else None


def next_actions(states: Mapping[str, LeadState], campaigns: Mapping[str, Campaign],
                 today: dt.date) -> dict[str, str | None]:
    """:func:`next_action` of every lead, by id: worked out once for the checks, the lead pages
    and the exports. A text many leads share (``campaign nurture``) is one object."""
    shared: dict[str | None, str | None] = {}
    actions = {}
    for lead_id, st in states.items():
        action = next_action(st, campaigns, today)
        actions[lead_id] = shared.setdefault(action, action)
    return actions


def _rest(state: LeadState, campaigns: Mapping[str, Campaign]) -> tuple[str, dt.date, str] | None:
    """(outcome, the first day another campaign may take the lead, the `then` campaign) while the
    lead rests after its campaign (:func:`relead.derive.plan.resting`), else None."""
    cur = state.progress
    camp = campaigns.get(cur.campaign) if cur is not None else None
    rest = resting(camp, cur) if camp is not None else None
    if rest is None:
        return None
    rule = camp.outcomes.get(rest[0])
    then = rule.then if rule is not None and rule.then else ""
    if rest[0] == "not_interested" and not then:
        return None         # they said no and nothing is planned: a person takes it from there
    return rest[0], rest[1], then


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
    """Groups of likely duplicates: (why, ids in file order), each pair reported once.

    Groups come in the order their key was first seen. One pass, and nothing is kept
    for the keys seen once (nearly all of them): a list per key would be a few hundred
    thousand lists at 100,000 leads.
    """
    emails: dict[str, int] = {}
    phones: dict[str, int] = {}
    people: dict[str, int] = {}
    firsts: list[tuple[str, str]] = []          # (why, id) by the position a key was first seen at
    more: dict[int, list[str]] = {}             # position -> the later ids with that key
    for lead in leads:
        for table, why, key in (
                (emails, "the same email", lead.email.strip().lower() if lead.email else None),
                (phones, "the same phone", lead.phone or None),
                (people, "the same name and company",
                 _norm_text(lead.name) + "\x1f" + _norm_text(lead.company)
                 if lead.name and lead.company else None)):
            if key is None:
                continue
            at = table.setdefault(key, len(firsts))
            if at == len(firsts):
                firsts.append((why, lead.id))
            else:
                more.setdefault(at, []).append(lead.id)
    groups = []
    reported: set[frozenset[str]] = set()
    for at in sorted(more):
        why, first = firsts[at]
        ids = (first, *more[at])
        key = frozenset(ids)
        if key not in reported:
            reported.add(key)
            groups.append((why, ids))
    return groups


def unknown_touches(history: History) -> tuple[Record, ...]:
    """`attempting` with no result: the send may or may not have happened; a person decides."""
    return tuple(rec for rec in last_touch_events(history.records).values() if rec.event == "attempting")


def _newest_first(rec: Record) -> tuple[str, str]:
    return rec.day, rec.at


def replies_waiting(states: Mapping[str, LeadState]) -> tuple[str, ...]:
    """Leads whose last response is a reply nobody has recorded an outcome for: newest reply first
    (then by id)."""
    waiting = sorted((st for st in states.values() if st.reply_waiting), key=lambda st: st.lead.id)
    waiting.sort(key=lambda st: _newest_first(st.last_response), reverse=True)
    return tuple(st.lead.id for st in waiting)


def paused(states: Mapping[str, LeadState], today: dt.date) -> tuple[tuple[str, dt.date], ...]:
    """Leads away (an automatic reply): (id, the first day a touch may go out), for the pauses not
    over on ``today``, by id."""
    return tuple((lead_id, states[lead_id].paused_until) for lead_id in sorted(states)
                 if states[lead_id].paused_until is not None and states[lead_id].paused_until > today)


def closed_channels(states: Mapping[str, LeadState]) -> tuple[tuple[str, str], ...]:
    """(lead, channel) for every email or SMS channel closed for good (a bounce, three soft
    bounces, an opt-out, a complaint, a wrong number): the latest first (then by id, channel)."""
    found = sorted((lead_id, ch) for lead_id, st in states.items() if st.closed
                   for ch in CLOSED_CHANNELS if ch in st.closed)
    found.sort(key=lambda lc: _newest_first(states[lc[0]].closed[lc[1]]), reverse=True)
    return tuple(found)


def policy_blocks(history: History) -> tuple[Record, ...]:
    """Email a receiving server refused as a block against us (5.7.x: the lead is not blamed):
    newest first; one inbound message recorded twice (two runners) is listed once."""
    seen: set[tuple[str, str, str]] = set()
    found = []
    for rec in history.records:
        if rec.event != "policy_block":
            continue
        if rec.ref:
            key = (rec.lead, rec.ref, rec.note)
            if key in seen:
                continue
            seen.add(key)
        found.append(rec)
    found.sort(key=lambda r: (r.lead, r.at))
    found.sort(key=_newest_first, reverse=True)
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Hygiene:
    no_next_action: tuple[str, ...]
    incomplete_overdue: tuple[str, ...]
    uncontactable: tuple[str, ...]
    given_up_early: tuple[str, ...]
    duplicates: tuple[tuple[str, tuple[str, ...]], ...]
    unknown_touches: tuple[Record, ...]
    review_due: tuple[str, ...]       # out-of-scope leads whose review date has come
    # What `make sync` brought back that needs a person (see the functions of the same names):
    replies_waiting: tuple[str, ...] = ()               # answered, no outcome recorded: newest first
    paused: tuple[tuple[str, dt.date], ...] = ()        # (lead, no touch before): out of office, by id
    closed: tuple[tuple[str, str], ...] = ()            # (lead, "email" | "sms") closed for good
    policy_blocks: tuple[Record, ...] = ()              # blocks against us: newest first


def from_files(leads: Iterable[Lead], history: History) -> tuple:
    """What hygiene finds in the files alone, before any lead's state is derived (so a worker
    can find it meanwhile): duplicate groups, touches whose end is unknown, blocks against us."""
    return tuple(duplicate_groups(leads)), unknown_touches(history), policy_blocks(history)


def hygiene(states: Mapping[str, LeadState], campaigns: Mapping[str, Campaign], history: History,
            today: dt.date, *, touch_target: int, found: tuple | None = None,
            actions: Mapping[str, str | None] | None = None) -> Hygiene:
    """``found``: :func:`from_files` of the same leads and history, and ``actions``
    :func:`next_actions` of the same states, when they are already known."""
    duplicates, unknown, blocks = found if found is not None else \
        from_files((st.lead for st in states.values()), history)
    if actions is None:
        actions = next_actions(states, campaigns, today)
    no_next, overdue, uncontactable, early, review = [], [], [], [], []
    for lead_id in sorted(states):
        st = states[lead_id]
        lead = st.lead
        if actions[lead_id] is None:
            no_next.append(lead_id)
        if lead.incomplete and lead.follow_up is not None and lead.follow_up < today:
            overdue.append(lead_id)
        if not lead.has_contact:
            uncontactable.append(lead_id)
        if given_up(st, campaigns, today, touch_target):
            early.append(lead_id)
        if st.dead_review_on is not None and st.dead_review_on <= today:
            review.append(lead_id)
    return Hygiene(tuple(no_next), tuple(overdue), tuple(uncontactable), tuple(early), duplicates, unknown,
                   tuple(review), replies_waiting(states), paused(states, today), closed_channels(states), blocks)
