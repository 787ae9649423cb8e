"""Each lead's derived state: status, funnel path, reachability and where its latest
enrolment stands, from leads.yaml and history/.

A pure function of the model: ``derive_states(model)`` is what every later
derivation (funnel, priorities, hygiene, the plan) starts from.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from ..history import SYNC_RECORDED, Record
from ..model import Lead, Model, Settings
from .enrolment import Progress, read_progress

__all__ = ["LeadState", "OutcomeRules", "derive_state", "derive_states", "STAGE_RESPONSES", "TOUCH_COUNTED",
           "PAUSE_DAYS", "SOFT_BOUNCES", "record_address", "paused_until"]

# Responses that move a lead to a funnel stage (interested: the stage its campaign says).
STAGE_RESPONSES = {"appointment": "appointment", "proposal": "proposal", "won": "won"}
TOUCH_COUNTED = ("sent", "settled_sent")
# A touch's other records: what they say is read from the plan, not here. Two in three records are
# touches, so they are passed over first.
_TOUCH_NOT_COUNTED = frozenset(("attempting", "failed", "deferred", "skipped", "settled_not_sent"))
_CALL_OUTCOMES = ("called", "no_answer", "voicemail")
_ALL_CHANNEL_STOPS = ("unsubscribed", "do_not_contact")
_NOT_ANSWERS = frozenset(("policy_block", "sms_help"))   # recorded for people; nothing changes for the lead
PAUSE_DAYS = 14                 # an automatic reply that gives no date pauses the lead this long
SOFT_BOUNCES = (3, 14)          # this many soft bounces within this many days make a hard one
_UNTIL = re.compile(r"^until (\d{4}-\d{2}-\d{2})")
_NOTE_ADDRESS = re.compile(r"^([^\s:@]+@[^\s:@]+):")
# A wrong number with this ref (Twilio's "landline or unreachable carrier", which a sync records)
# cannot take SMS but can still be called.
_SMS_ONLY_WRONG_NUMBER = frozenset(("30006",))


def record_address(rec: Record) -> str:
    """The address a bounce record names (its note starts ``address:``), lower-cased; "" if none."""
    m = _NOTE_ADDRESS.match(rec.note)
    return m.group(1).lower() if m else ""


def paused_until(rec: Record) -> dt.date:
    """The first day a touch may go out after an automatic reply: its note's ``until``, else
    :data:`PAUSE_DAYS` after it came."""
    m = _UNTIL.match(rec.note)
    if m:
        try:
            return dt.date.fromisoformat(m.group(1))
        except ValueError:
            pass
    return dt.date.fromisoformat(rec.day) + dt.timedelta(days=PAUSE_DAYS)


@dataclass(frozen=True, slots=True)
class LeadState:
    lead: Lead
    status: str
    reached: Mapping[str, dt.date]      # leads.yaml's dates, moved on by responses in history
    furthest: int                       # index of the furthest stage ever reached (0 at least)
    category: str | None                # of the lost reason
    touches: int                        # before relead (leads.yaml) + sent since (history)
    do_not_contact: bool                # leads.yaml, or recorded
    unsubscribed: bool                  # every channel stopped by the lead
    email_usable: bool
    sms_usable: bool
    phone_usable: bool                  # for calls
    last_response: Record | None
    enrolment: Record | None            # the latest `enrolled` record
    dead_review_on: dt.date | None      # out_of_scope recorded: when to look again
    progress: Progress | None           # where the latest enrolment stands
    entered: Mapping[str, str]          # campaign -> its last enrolment day
    paused_until: dt.date | None = None     # an automatic reply (out of office): no touch before this day
    closed: Mapping[str, Record] = field(default_factory=lambda: _NO_CLOSED)   # channel -> what closed it for good

    @property
    def reply_waiting(self) -> bool:
        """The lead answered and nobody has recorded what came of it yet."""
        return self.last_response is not None and self.last_response.event == "replied"

    @property
    def contactable(self) -> bool:
        """Can be contacted: email or phone, not do_not_contact, not opted out (who the priorities rank)."""
        return (not self.do_not_contact and not self.unsubscribed
                and (self.email_usable or self.phone_usable))

    @property
    def rankable(self) -> bool:
        return self.status == "lost" and self.contactable


DEFAULT_REVIEW_DAYS = 365
_NO_ENTRIES: Mapping[str, str] = MappingProxyType({})
_NO_CLOSED: Mapping[str, Record] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class OutcomeRules:
    """Per campaign id ("" for none): where `interested` lands, when out-of-scope is reviewed."""

    interested_stage: Mapping[str, str]
    review_days: Mapping[str, int]

    @classmethod
    def of(cls, model: Model) -> "OutcomeRules":
        default = model.settings.funnel[1]
        stages, review = {"": default}, {"": DEFAULT_REVIEW_DAYS}
        for cid, camp in model.campaigns.items():
            rule = camp.outcomes.get("interested")
            stages[cid] = rule.stage if rule is not None and rule.stage else default
            rule = camp.outcomes.get("out_of_scope")
            review[cid] = rule.review_after_days if rule is not None and rule.review_after_days \
                else DEFAULT_REVIEW_DAYS
        return cls(stages, review)


def derive_states(model: Model) -> dict[str, LeadState]:
    settings = model.settings
    rules = OutcomeRules.of(model)
    history = model.history.by_lead
    return {lead.id: derive_state(lead, history.get(lead.id, ()), settings, rules)
            for lead in model.leads}


def derive_state(lead: Lead, records: tuple[Record, ...], settings: Settings,
                 rules: OutcomeRules) -> LeadState:
    funnel = settings.funnel
    reached = lead.reached
    lost = lead.lost
    touches = lead.touches
    dnc = lead.do_not_contact
    unsubscribed = wrong_number = False
    last_response = enrolment = pause = None
    out_of_scope_on = None
    review_days = DEFAULT_REVIEW_DAYS
    entered: Mapping[str, str] = _NO_ENTRIES
    closed: dict[str, Record] = {}
    if records:
        reached = dict(reached)
        address = lead.email.lower()
        soft: dict[str, str] = {}      # a soft bounce's ref (the bounce message) -> its day
        seen_sync: set[tuple[str, str, str]] | None = None      # made for the few leads sync wrote about
        for rec in records:
            ev = rec.event
            if ev in TOUCH_COUNTED:
                touches += 1
                continue
            if ev in _TOUCH_NOT_COUNTED:
                continue
            if ev == "enrolled":
                enrolment = rec
                if entered is _NO_ENTRIES:
                    entered = {}
                entered[rec.campaign] = rec.enrolment or rec.day
                continue
            if ev in SYNC_RECORDED and rec.ref:
                # Two runners may both have recorded one inbound message: it counts once.
                key = (ev, rec.ref, rec.note)
                if seen_sync is None:
                    seen_sync = set()
                elif key in seen_sync:
                    continue
                seen_sync.add(key)
            if ev in _NOT_ANSWERS:
                continue
            if ev == "auto_reply":
                until = paused_until(rec)
                pause = until if pause is None or until > pause else pause
                continue
            if ev == "soft_bounce":
                if record_address(rec) in ("", address):
                    soft[rec.ref or rec.at] = rec.day
                    if _soft_bounces_hard(soft.values()):
                        closed["email"] = rec
                continue
            if ev == "opted_in":
                if rec.channel in closed and closed[rec.channel].event == "opted_out":
                    del closed[rec.channel]
                continue
            if ev in _CALL_OUTCOMES:
                last_response = rec
                if not rec.touch:       # a call nobody planned: still a touch
                    touches += 1
                continue
            last_response = rec
            stage = STAGE_RESPONSES.get(ev)
            if ev == "interested":
                stage = rules.interested_stage.get(rec.campaign, funnel[1])
            if stage is not None and stage in funnel:
                _reach(reached, stage, dt.date.fromisoformat(rec.day), lost.date if lost else None)
            elif stage is not None:
                pass  # a stage this team's funnel does not have
            elif ev in _ALL_CHANNEL_STOPS:
                unsubscribed = unsubscribed or ev == "unsubscribed"
                dnc = dnc or ev == "do_not_contact"
            elif ev == "opted_out" and rec.channel in ("email", "sms"):
                closed[rec.channel] = rec
            elif ev == "complained":
                closed["email"] = rec
            elif ev == "bounced":
                if record_address(rec) in ("", address):   # a corrected address is good again
                    closed["email"] = rec
            elif ev == "wrong_number":
                wrong_number = wrong_number or rec.ref not in _SMS_ONLY_WRONG_NUMBER
                closed.setdefault("sms", rec)
            elif ev == "out_of_scope":
                out_of_scope_on = dt.date.fromisoformat(rec.day)
                review_days = rules.review_days.get(rec.campaign, DEFAULT_REVIEW_DAYS)
    furthest = 0   # every lead in the file has entered the funnel, dated or not
    for i, stage in enumerate(funnel):
        if stage in reached:
            furthest = i
    category = settings.lost_reasons[lost.reason].category if lost else None
    status = _status(reached, lost, category, funnel[-1], out_of_scope_on is not None)
    phone_usable = bool(lead.phone) and not wrong_number
    return LeadState(
        lead=lead, status=status, reached=reached, furthest=furthest, category=category,
        touches=touches, do_not_contact=dnc, unsubscribed=unsubscribed,
        email_usable=bool(lead.email) and lead.consent_email and "email" not in closed,
        sms_usable=phone_usable and lead.consent_sms and "sms" not in closed,
        phone_usable=phone_usable, last_response=last_response, enrolment=enrolment,
        dead_review_on=(out_of_scope_on + dt.timedelta(days=review_days)) if out_of_scope_on else None,
        progress=read_progress(records, enrolment) if enrolment is not None else None, entered=entered,
        paused_until=pause, closed=MappingProxyType(closed) if closed else _NO_CLOSED)


def _soft_bounces_hard(days) -> bool:
    """:data:`SOFT_BOUNCES`: enough soft bounces close together to give up on the address."""
    n, window = SOFT_BOUNCES
    ordered = sorted(dt.date.fromisoformat(d) for d in days)
    return any((ordered[i + n - 1] - ordered[i]).days < window for i in range(len(ordered) - n + 1))


def _reach(reached: dict, stage: str, day: dt.date, lost_on: dt.date | None) -> None:
    """A response reached ``stage`` on ``day``: a first time, or again after the loss."""
    prior = reached.get(stage)
    if prior is None or (lost_on is not None and prior <= lost_on < day):
        reached[stage] = day


def _status(reached, lost, category, won_stage, out_of_scope_recorded) -> str:
    won_on = reached.get(won_stage)
    if lost is None:
        if won_on is not None:
            return "won"
        return "dead" if out_of_scope_recorded else "open"
    if won_on is not None and won_on > lost.date:
        return "recovered"
    if any(day > lost.date for stage, day in reached.items() if stage != won_stage):
        return "back_in_funnel"
    if category == "out_of_scope" or out_of_scope_recorded:
        return "dead"
    return "lost"
