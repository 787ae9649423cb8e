"""The day's plan: who is enrolled in which campaign, and which touch each lead gets today.

A pure function of (model, states, today). ``outreach`` sends it; the dashboard's
Today page shows it. Nothing here reads the clock: time-of-day rules (send
window, quiet hours) are checked at send time.

Rules (docs/outreach.md says them for users):

* A lead is in at most one campaign at a time. An explicit ``campaign:`` in
  leads.yaml enrols it directly; otherwise the highest-``priority`` campaign
  whose audience it matches, best-ranked leads first, up to the campaign's
  ``max_new_per_day`` (enrolments already recorded today count).
* A lead is not enrolled again in a campaign it has been through, unless a
  ``recycle_on`` date has arrived since.
* Step due days count from the enrolment day (business days when
  ``steps_in_business_days``), and a late step pushes the later ones back so the
  gaps between steps are kept. Nothing is planned on a day that is not a
  business day.
* At most one touch per lead per day, at most ``per_lead_per_7_days`` in any 7
  days, at most ``daily_caps`` per channel per day (what was recorded today counts).
* A sequence stops on any answer, ``unsubscribed``, ``do_not_contact``, a spam
  complaint or a status change; then the campaign's ``outcomes`` apply:
  ``interested`` gives the owner a task, so does a reply (answer it),
  ``not_interested`` and ``no_response`` (after the last step) hand the lead to the
  ``then`` campaign after a rest (:func:`resting`). A bounce, a wrong number or an
  opt-out of one channel closes that channel only. An automatic reply (out of office) pauses the sequence until
  the day it gives; then it goes on where it was.
* A step whose channel cannot reach the lead (no consent, bounced, opted out)
  is skipped, recorded as such, and the sequence moves on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

from ..gcpause import collector_paused
from ..history import Record, touch_id
from ..model import Campaign, Model, Sending
from .audience import in_audience
from .enrolment import (COUNTS_AS_TOUCH, DONE_EVENTS, INTERESTED_STEP, REPLY_STEP, STOPPING_EVENTS, TASK_STEPS,
                        Progress)
from .priorities import Priority
from .state import LeadState

__all__ = ["Enrolment", "Touch", "Skip", "Stop", "DayPlan", "plan_day", "assign_variant", "resting", "REST_DAYS",
           "add_business_days", "INTERESTED_STEP", "REPLY_STEP", "TASK_STEPS", "DONE_EVENTS", "STOPPING_EVENTS"]

_FINISHED_STATUSES = frozenset(("won", "recovered", "back_in_funnel", "dead"))
# A reply older than this without an outcome is listed as waiting (the dashboard), not handed out.
REPLY_TASK_WINDOW = dt.timedelta(days=30)
# After a "no", or a sequence's end with no answer, no campaign takes the lead for this long
# (unless the outcome says otherwise): nurture is a couple of times a year, not the next week.
REST_DAYS = 90


@dataclass(frozen=True, slots=True)
class Enrolment:
    lead: str
    campaign: str
    variant: str
    why: str


@dataclass(frozen=True, slots=True)
class Touch:
    id: str
    lead: str
    campaign: str
    enrolment: str            # YYYY-MM-DD
    step: int                 # 0-based; INTERESTED_STEP / REPLY_STEP for the owner's follow-up tasks
    channel: str
    message: str              # key under content/messages ("" for the interested task)
    variant: str
    owner: str
    why: str
    first_sms: bool = False   # the campaign's first SMS to this lead: says how to opt out

    @property
    def is_task(self) -> bool:
        return self.channel in ("call", "mail")


@dataclass(frozen=True, slots=True)
class Skip:
    """A step that will never be sent (recorded as `skipped`), or a touch put off (not recorded)."""

    lead: str
    campaign: str
    step: int
    channel: str
    reason: str
    touch: str = ""           # set when the step is skipped for good
    enrolment: str = ""
    variant: str = ""


@dataclass(frozen=True, slots=True)
class Stop:
    lead: str
    campaign: str
    reason: str


@dataclass(frozen=True)
class DayPlan:
    day: dt.date
    sending_day: bool
    enrolments: tuple[Enrolment, ...] = ()
    touches: tuple[Touch, ...] = ()
    skipped: tuple[Skip, ...] = ()      # recorded: these steps are done
    deferred: tuple[Skip, ...] = ()     # not recorded: due again on a later day
    stopped: tuple[Stop, ...] = ()

    def by_channel(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for t in self.touches:
            counts[t.channel] = counts.get(t.channel, 0) + 1
        return counts


def assign_variant(campaign: Campaign, lead_id: str) -> str:
    """Stable per lead and campaign: the same lead always gets the same variant."""
    if not campaign.variants:
        return ""
    keys = sorted(v.key for v in campaign.variants)
    h = int.from_bytes(hashlib.blake2b(f"{lead_id}\x1f{campaign.id}".encode(), digest_size=8).digest(), "big")
    return keys[h % len(keys)]


def add_business_days(start: dt.date, days: int, sending: Sending) -> dt.date:
    return _add_business_days(start, days, sending.business_days, sending.holidays)


@lru_cache(maxsize=1 << 16)
def _add_business_days(start: dt.date, days: int, weekdays: tuple[int, ...],
                       holidays: frozenset[dt.date]) -> dt.date:
    """Whole weeks at a time (each has len(weekdays) business days, less its holidays), then
    day by day: the same day as stepping one day at a time, without 125 steps per lead."""
    day = start
    per_week = len(weekdays)
    if per_week == 0:
        raise ValueError("no business days: sending.business_days is empty")
    while days > 2 * per_week:
        weeks = days // per_week - 1
        end = day + dt.timedelta(weeks=weeks)
        off = sum(1 for h in holidays if day < h <= end and h.weekday() in weekdays)
        day, days = end, days - (weeks * per_week - off)
    while days > 0:
        day += dt.timedelta(days=1)
        if day.weekday() in weekdays and day not in holidays:
            days -= 1
    return day


def _recent_touches(records: tuple[Record, ...], since: str) -> dict[str, set[str]] | None:
    """Day -> the touches that count towards the limits, from ``since`` on (a lead's records
    are in day order: read from the back); one deferred after its attempt does not count."""
    recent = n = len(records)
    while recent and records[recent - 1][0] >= since:      # Record.day
        recent -= 1
    if recent == n:
        return None
    touched: dict[str, set[str]] = {}
    for rec in records[recent:]:
        ev = rec.event
        if ev in COUNTS_AS_TOUCH:
            touched.setdefault(rec.day, set()).add(rec.touch)
        elif ev == "deferred" and rec.day in touched:
            touched[rec.day].discard(rec.touch)
    return touched


_NO_TOUCHES: Mapping[str, set[str]] = MappingProxyType({})


def plan_day(model: Model, states: Mapping[str, LeadState], priorities: tuple[Priority, ...],
             today: dt.date) -> DayPlan:
    with collector_paused():
        return _plan_day(model, states, priorities, today)


def _plan_day(model: Model, states: Mapping[str, LeadState], priorities: tuple[Priority, ...],
              today: dt.date) -> DayPlan:
    settings = model.settings
    sending = settings.sending
    campaigns = model.campaigns
    day = today.isoformat()
    if not sending.is_business_day(today):
        return DayPlan(today, False)

    week_ago = (today - dt.timedelta(days=6)).isoformat()
    by_lead = model.history.by_lead
    touched = {lid: t for lid, recs in by_lead.items() if (t := _recent_touches(recs, week_ago)) is not None}
    order = {p.lead.id: p.rank for p in priorities}
    # Best-ranked first (priorities are in rank order already), then the unranked by id.
    ranked_ids = [p.lead.id for p in priorities] + sorted(lid for lid in states if lid not in order)
    # Leads with an enrolment, in the same order: step 1 needs only these.
    enrolled_ids = [lid for lid in ranked_ids if states[lid].progress is not None]

    enrolments: list[Enrolment] = []
    stopped: list[Stop] = []
    active: dict[str, Progress] = {}
    handoff: dict[str, tuple[str, str]] = {}     # lead -> (campaign, why)
    waiting: set[str] = set()                    # finished a campaign, no-response wait not over
    tasks: list[Touch] = []
    new_today: dict[str, int] = {}

    # 1. Where each enrolled lead stands: running, or stopped/finished with an outcome.
    for lid in enrolled_ids:
        st = states[lid]
        cur = st.progress
        if cur.day == day:      # enrolments recorded today count towards max_new_per_day
            new_today[cur.campaign] = new_today.get(cur.campaign, 0) + 1
        if cur.campaign not in campaigns:
            continue
        camp = campaigns[cur.campaign]
        if cur.stopped_by is not None:
            ev = cur.stopped_by.event
            if ev == "interested" and not cur.task_done:
                rule = camp.outcomes.get("interested")
                stage = rule.stage if rule and rule.stage else settings.funnel[1]
                tasks.append(Touch(touch_id(lid, camp.id, cur.day, INTERESTED_STEP), lid, camp.id, cur.day,
                                   INTERESTED_STEP, "call", "", cur.variant, settings.owner_of(st.lead.owner),
                                   f"said they are interested on {cur.stopped_by.day}: call back "
                                   f"(back in the funnel at {stage})"))
            elif ev == "replied" and not cur.task_done and st.reply_waiting and \
                    dt.date.fromisoformat(st.last_response.day) >= today - REPLY_TASK_WINDOW:
                answer = st.last_response
                said = f': "{answer.note}"' if answer.note else ""
                tasks.append(Touch(touch_id(lid, camp.id, cur.day, REPLY_STEP), lid, camp.id, cur.day, REPLY_STEP,
                                   "call", "", cur.variant, settings.owner_of(st.lead.owner),
                                   f"replied by {answer.channel or 'email'} on {answer.day}{said}; answer them, "
                                   "then record what came of it (make record)"))
            elif ev == "not_interested" and today >= resting(camp, cur)[1]:
                _handoff(handoff, camp, "not_interested", lid, st)
            continue
        if len(cur.done) >= len(camp.steps):
            # No answer after the last step: a rest, then the hand-off (or any campaign's audience).
            if today >= resting(camp, cur)[1]:
                _handoff(handoff, camp, "no_response", lid, st)
            else:
                waiting.add(lid)   # resting: no other campaign takes it yet
            continue
        if st.do_not_contact or st.unsubscribed:
            stopped.append(Stop(lid, camp.id, "asked not to be contacted"))
            continue
        allowed = camp.audience.status if camp.audience else ("lost", "open")
        if st.status in _FINISHED_STATUSES and st.status not in allowed:
            stopped.append(Stop(lid, camp.id, f"now {st.status.replace('_', ' ')}"))
            continue
        active[lid] = cur

    # 2. New enrolments: hand-offs, explicit campaigns, then audiences by priority.
    # Campaigns that may still enrol today through their audience, highest priority first.
    open_camps = [c for c in sorted(campaigns.values(), key=lambda c: (-c.priority, c.id))
                  if c.audience is not None and not c.paused and new_today.get(c.id, 0) < c.max_new_per_day]
    for lid in ranked_ids:
        if lid in active or lid in waiting:
            continue
        st = states[lid]
        cur = st.progress
        if cur is not None and cur.day == day:
            continue  # enrolled earlier today: its touches come from its history
        if cur is not None and cur.stopped_by is not None and lid not in handoff \
                and not _recycled_since(st, cur.day, today):
            continue  # they answered: a person takes it from here
        choice = None
        if lid in handoff:
            cid, why = handoff[lid]
            choice = (campaigns[cid], why)
        elif st.lead.campaign in campaigns and _eligible(campaigns[st.lead.campaign], st, today, explicit=True):
            choice = (campaigns[st.lead.campaign], "named in leads.yaml")
        else:
            for camp in open_camps:
                if in_audience(camp, st, today) and _eligible(camp, st, today, explicit=False):
                    rank = order.get(lid)
                    choice = (camp, "matches its audience" + (f"; priority rank {rank}" if rank else ""))
                    new_today[camp.id] = new_today.get(camp.id, 0) + 1
                    if new_today[camp.id] >= camp.max_new_per_day:
                        open_camps.remove(camp)
                    break
        if choice is None:
            continue
        camp, why = choice
        if camp.paused:
            continue
        variant = assign_variant(camp, lid)
        enrolments.append(Enrolment(lid, camp.id, variant, why))
        active[lid] = Progress(camp.id, day, variant)

    # 3. Each active lead's next step, within the caps.
    touches: list[Touch] = []
    skipped: list[Skip] = []
    deferred: list[Skip] = []
    recorded_today: dict[str, int] = {}
    for recs in model.history.by_lead.values():
        for rec in reversed(recs):
            if rec.day != day:
                break
            if rec.event in COUNTS_AS_TOUCH:
                recorded_today[rec.channel] = recorded_today.get(rec.channel, 0) + 1
    for lid in ranked_ids:
        cur = active.get(lid)
        if cur is None:
            continue
        camp = campaigns[cur.campaign]
        st = states[lid]
        if cur.campaign and camp.paused:
            continue
        recent = touched.get(lid, _NO_TOUCHES)
        if recent.get(day):
            continue  # one touch per lead per day
        if st.paused_until is not None and today < st.paused_until:
            step_i = next(i for i in range(len(camp.steps)) if i not in cur.done)
            deferred.append(Skip(lid, camp.id, step_i, camp.steps[step_i].channel,
                                 f"out of office: no touch before {st.paused_until}"))
            continue
        step_i = next(i for i in range(len(camp.steps)) if i not in cur.done)
        due = _due_day(camp, cur, step_i, sending)
        if due > today:
            continue
        step = camp.steps[step_i]
        reason = _unreachable(step.channel, st)
        if reason:
            skipped.append(Skip(lid, camp.id, step_i, step.channel, reason, touch_id(lid, camp.id, cur.day, step_i),
                                cur.day, cur.variant))
            continue
        days_touched = sum(map(bool, recent.values()))      # the last 7 days only
        if days_touched >= sending.per_lead_per_7_days:
            deferred.append(Skip(lid, camp.id, step_i, step.channel,
                                 f"{days_touched} touches in the last 7 days (limit {sending.per_lead_per_7_days})"))
            continue
        cap = sending.daily_caps.get(step.channel)
        if cap is not None and recorded_today.get(step.channel, 0) >= cap:
            deferred.append(Skip(lid, camp.id, step_i, step.channel, f"daily {step.channel} limit of {cap} reached"))
            continue
        recorded_today[step.channel] = recorded_today.get(step.channel, 0) + 1
        n = len(camp.steps)
        when = f"due {due}" if due < today else "due today"
        touches.append(Touch(
            touch_id(lid, camp.id, cur.day, step_i), lid, camp.id, cur.day, step_i, step.channel, camp.message_for(step, cur.variant),
            cur.variant, settings.owner_of(st.lead.owner), f"step {step_i + 1} of {n} of {camp.id} ({when})",
            first_sms=step.channel == "sms" and not cur.sms
            and not any(camp.steps[j].channel == "sms" for j in cur.done)))

    return DayPlan(today, True, tuple(enrolments), tuple(tasks + touches), tuple(skipped),
                   tuple(deferred), tuple(stopped))


def resting(camp: Campaign, cur: Progress) -> tuple[str, dt.date] | None:
    """A lead that said no, or got to the end of ``camp`` with no answer, rests before another
    campaign may take it: (the outcome, the first day it may), or None while the sequence runs
    or when it stopped for another reason. The rest is the outcome's ``after_days`` (default
    :data:`REST_DAYS`) from the "no" or the last step."""
    if cur.stopped_by is not None:
        if cur.stopped_by.event != "not_interested":
            return None
        outcome, since = "not_interested", cur.stopped_by.day
    elif len(cur.done) >= len(camp.steps):
        outcome, since = "no_response", max(cur.last_day.values(), default=cur.day)
    else:
        return None
    rule = camp.outcomes.get(outcome)
    days = rule.after_days if rule is not None and rule.after_days is not None else REST_DAYS
    return outcome, dt.date.fromisoformat(since) + dt.timedelta(days=days)


def _handoff(handoff: dict, camp: Campaign, outcome: str, lid: str, st: LeadState) -> None:
    rule = camp.outcomes.get(outcome)
    if rule is None or not rule.then or not st.contactable:
        return
    if rule.then in st.entered and rule.then != camp.id:
        return  # been there already; a recycle date can bring it back through its audience
    handoff[lid] = (rule.then, f"handed over from {camp.id} ({outcome.replace('_', ' ')})")


def _eligible(camp: Campaign, st: LeadState, today: dt.date, *, explicit: bool) -> bool:
    if camp.paused or not st.contactable:
        return False
    if explicit and st.status in _FINISHED_STATUSES:
        return False
    if explicit and st.lead.recycle_on is not None and st.lead.recycle_on > today:
        return False
    before = st.entered.get(camp.id)
    return before is None or _recycled_since(st, before, today)


def _recycled_since(st: LeadState, since: str, today: dt.date) -> bool:
    """A recycle date arrived after ``since``: the lead is eligible again."""
    recycle = st.lead.recycle_on
    return recycle is not None and since < recycle.isoformat() <= today.isoformat()


def _offset(base: dt.date, days: int, sending: Sending) -> dt.date:
    if sending.steps_in_business_days:
        return add_business_days(base, days, sending)
    return base + dt.timedelta(days=days)


def _due_day(camp: Campaign, cur: Progress, step_i: int, sending: Sending) -> dt.date:
    """The step's day from enrolment; a late earlier step pushes it back by the same gap."""
    step = camp.steps[step_i]
    due = _offset(dt.date.fromisoformat(cur.day), step.day, sending)
    if step_i > 0 and (step_i - 1) in cur.last_day:
        prev = dt.date.fromisoformat(cur.last_day[step_i - 1])
        due = max(due, _offset(prev, max(1, step.day - camp.steps[step_i - 1].day), sending))
    return due


def _unreachable(channel: str, st: LeadState) -> str:
    if channel == "email":
        if not st.lead.email:
            return "no email address"
        return "" if st.email_usable else "email not allowed (no consent, bounced or opted out)"
    if channel == "sms":
        if not st.lead.phone:
            return "no phone number"
        return "" if st.sms_usable else "no SMS consent (or opted out, or the number is wrong)"
    if channel == "call":
        return "" if st.phone_usable else "no usable phone number"
    return ""  # mail: the owner finds the address
