"""The Monday digest's numbers: last week against the week before, and what to do this week.

A pure function of the model and the day: ``digest_numbers(model, today)``. It assembles what
exists rather than counting anew: :func:`relead.derive.periods.period_summary` (leads in, touches,
calls, answers, interest, losses and wins back, per owner; a week ending on a Sunday is the
whole Monday-to-Sunday week), :func:`relead.derive.funnel.weekly` (leads reaching each funnel stage
per week: the dashboard's weekly table), :func:`relead.derive.priorities.rank` (whom to call) and
:mod:`relead.derive.hygiene` (replies waiting). What it adds is per lead, so every number in the
digest can be traced to names:

* **the week** is the last whole week before the one ``today`` is in (Monday to Sunday, in the
  team's calendar); on Monday 2026-11-23 it is 16 to 22 November, and so on every day of that
  week: each week has one digest;
* ``leads_contacted``: distinct leads a campaign touch went out to that week (the same touches
  :mod:`relead.derive.periods` counts);
* ``sources``: the leads that came in (reached the first funnel stage) that week and the week
  before, by their ``source``;
* ``won_back``: each lead won back that week (won after its loss), with its value and the
  campaign it was won back by: the campaign named on the ``won`` record in history, else the
  latest campaign it was enrolled in before the win, else none;
* ``replies_waiting``: as of today, leads that answered and for whom nobody has recorded what
  came of it (newest reply first);
* ``follow_ups_overdue``: as of today, leads whose ``follow_up`` date has passed, not won,
  recovered or gone for good (the oldest date first), the definition of
  :func:`relead.derive.periods.owner_backlog`;
* ``open_tasks``: call and mail tasks handed to an owner before today with nothing recorded for
  that lead since (no call outcome, no answer), the oldest first;
* ``to_call``: the first ten of the priorities (lost leads worth winning back, best first), each
  with the three largest parts of its score as the reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

from ..model import Model
from . import funnel as F
from .hygiene import replies_waiting
from .periods import PeriodSummary, period_summary
from .priorities import Priority, rank
from .state import TOUCH_COUNTED, LeadState, derive_states

__all__ = ["DigestNumbers", "WonBack", "Waiting", "Overdue", "OpenTask", "ToCall", "digest_numbers",
           "digest_week", "TOP"]

TOP = 10                        # leads to call this week
_CLOSED = frozenset(("won", "recovered", "dead"))
_TASK_CHANNELS = frozenset(("call", "mail"))
# What settles a task handed to an owner: a call made or the lead answering.
_SETTLES = frozenset(("called", "no_answer", "voicemail", "replied", "interested", "not_interested",
                      "unsubscribed", "opted_out", "do_not_contact", "out_of_scope", "appointment", "proposal",
                      "won", "wrong_number"))


@dataclass(frozen=True, slots=True)
class WonBack:
    lead: str
    name: str
    owner: str
    value: float
    day: dt.date
    campaign: str           # campaign id, "" for none
    campaign_name: str


@dataclass(frozen=True, slots=True)
class Waiting:
    lead: str
    name: str
    owner: str
    day: str                # the reply's day
    channel: str
    said: str               # the reply's note, as recorded


@dataclass(frozen=True, slots=True)
class Overdue:
    lead: str
    name: str
    owner: str
    day: dt.date            # the follow-up date that passed
    days: int               # days late


@dataclass(frozen=True, slots=True)
class OpenTask:
    lead: str
    name: str
    owner: str
    channel: str            # call | mail
    day: str                # handed out
    days: int


@dataclass(frozen=True, slots=True)
class ToCall:
    rank: int
    lead: str
    name: str
    owner: str
    phone: str              # as written; "" when there is none
    email: str
    score: float
    why: str                # the largest parts of the score


@dataclass(frozen=True, slots=True)
class DigestNumbers:
    today: dt.date
    week: PeriodSummary                 # last week (numbers) against the week before (before)
    stages: tuple[str, ...]             # the funnel
    reached: Mapping[str, int]          # stage -> leads that reached it last week
    reached_before: Mapping[str, int]   # ... the week before
    leads_contacted: int
    leads_contacted_before: int
    sources: tuple[tuple[str, int, int], ...]     # (source, last week, the week before), most first
    won_back: tuple[WonBack, ...]
    replies_waiting: tuple[Waiting, ...]
    follow_ups_overdue: tuple[Overdue, ...]
    open_tasks: tuple[OpenTask, ...]
    to_call: tuple[ToCall, ...]

    @property
    def start(self) -> dt.date:
        return self.week.window.start

    @property
    def end(self) -> dt.date:
        return self.week.window.end


def digest_week(today: dt.date) -> tuple[dt.date, dt.date]:
    """(Monday, Sunday) of the last whole week before the one ``today`` is in."""
    monday = today - dt.timedelta(days=today.weekday() + 7)
    return monday, monday + dt.timedelta(days=6)


def _display(lead) -> str:
    if lead.name and lead.company:
        return f"{lead.name} ({lead.company})"
    return lead.name or lead.company or lead.id


def digest_numbers(model: Model, today: dt.date, *, states: Mapping[str, LeadState] | None = None,
                   priorities: tuple[Priority, ...] | None = None, top: int = TOP) -> DigestNumbers:
    """Everything the Monday digest shows (see the module's docstring), for ``today``."""
    states = states if states is not None else derive_states(model)
    settings = model.settings
    if priorities is None:
        priorities = rank(states.values(), settings, today)
    monday, sunday = digest_week(today)
    week = period_summary(model, sunday, "week", states=states)
    before_start = monday - dt.timedelta(days=7)
    before, last = F.weekly(states.values(), settings, sunday, weeks=2)
    owner_of = settings.owner_of
    first_stage = settings.funnel[0]

    sources: dict[str, list[int]] = {}
    for st in states.values():
        day = st.reached.get(first_stage)
        if day is None or not before_start <= day <= sunday:
            continue
        row = sources.setdefault(st.lead.source or F.NO_SOURCE, [0, 0])
        row[0 if day >= monday else 1] += 1

    contacted: set[str] = set()
    contacted_before: set[str] = set()
    won_campaign: dict[str, str] = {}
    open_tasks: list[OpenTask] = []
    lo, mid, hi = before_start.isoformat(), monday.isoformat(), sunday.isoformat()
    today_s = today.isoformat()
    for lead_id, records in model.history.by_lead.items():
        task = None
        enrolled: list[tuple[str, str]] = []
        for rec in records:
            ev = rec.event
            if ev == "enrolled":
                enrolled.append((rec.day, rec.campaign))
            elif ev in TOUCH_COUNTED and not rec.step.startswith("-") and lo <= rec.day <= hi:
                (contacted if rec.day >= mid else contacted_before).add(lead_id)
            if ev == "sent" and rec.ref == "task" and rec.channel in _TASK_CHANNELS:
                task = rec
            elif ev in _SETTLES and task is not None and rec.day >= task.day:
                task = None
            if ev == "won":
                won_campaign[lead_id] = rec.campaign or next(
                    (c for d, c in reversed(enrolled) if d <= rec.day), "")
        st = states.get(lead_id)
        if task is not None and task.day < today_s and st is not None and st.status not in _CLOSED:
            lead = st.lead
            open_tasks.append(OpenTask(lead_id, _display(lead), owner_of(lead.owner) or F.NO_OWNER,
                                       task.channel, task.day,
                                       (today - dt.date.fromisoformat(task.day)).days))

    won_stage = settings.funnel[-1]
    won_back = []
    for lead_id, st in states.items():
        day = st.reached.get(won_stage)
        if st.status != "recovered" or day is None or not monday <= day <= sunday:
            continue
        lead = st.lead
        campaign = won_campaign.get(lead_id, "")
        if not campaign and st.enrolment is not None and st.enrolment.day <= day.isoformat():
            campaign = st.enrolment.campaign
        camp = model.campaigns.get(campaign)
        won_back.append(WonBack(lead_id, _display(lead), owner_of(lead.owner) or F.NO_OWNER, lead.value, day,
                                campaign, camp.name if camp is not None else campaign))
    won_back.sort(key=lambda w: (-w.value, w.lead))

    waiting = []
    for lead_id in replies_waiting(states):
        st = states[lead_id]
        rec = st.last_response
        waiting.append(Waiting(lead_id, _display(st.lead), owner_of(st.lead.owner) or F.NO_OWNER, rec.day,
                               rec.channel, rec.note))

    overdue = []
    for lead_id, st in states.items():
        lead = st.lead
        if lead.follow_up is not None and lead.follow_up < today and st.status not in _CLOSED:
            overdue.append(Overdue(lead_id, _display(lead), owner_of(lead.owner) or F.NO_OWNER, lead.follow_up,
                                   (today - lead.follow_up).days))
    overdue.sort(key=lambda o: (o.day, o.lead))
    open_tasks.sort(key=lambda t: (t.day, t.lead))

    to_call = []
    for p in priorities[:top]:
        lead = p.lead
        parts = sorted((b for b in p.breakdown if b.points > 0), key=lambda b: -b.points)[:3]
        to_call.append(ToCall(p.rank, lead.id, _display(lead), owner_of(lead.owner) or F.NO_OWNER,
                              lead.phone_written or lead.phone, lead.email, p.score,
                              "; ".join(b.why for b in parts)))

    ranked_sources = tuple(sorted(((s, n[0], n[1]) for s, n in sources.items()),
                                  key=lambda r: (-r[1], -r[2], r[0])))
    return DigestNumbers(
        today=today, week=week, stages=settings.funnel, reached=dict(last.counts),
        reached_before=dict(before.counts), leads_contacted=len(contacted),
        leads_contacted_before=len(contacted_before), sources=ranked_sources, won_back=tuple(won_back),
        replies_waiting=tuple(waiting), follow_ups_overdue=tuple(overdue), open_tasks=tuple(open_tasks),
        to_call=tuple(to_call))
