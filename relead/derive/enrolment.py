"""A lead's enrolments as its history tells them: the campaigns it has been through,
and where the latest one stands.

Derived once per lead with the rest of its state (:func:`relead.derive.state.derive_state`:
the campaigns in its pass over the lead's records, the latest enrolment's steps from
the few records after it), so that planning a day reads only the last week of
history: the planner is a function of this and a date.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping, NamedTuple

from ..history import Record

__all__ = ["Progress", "read_progress", "INTERESTED_STEP", "REPLY_STEP", "TASK_STEPS", "DONE_EVENTS",
           "COUNTS_AS_TOUCH", "STOPPING_EVENTS"]

INTERESTED_STEP = -1          # the owner's task after an `interested` response
REPLY_STEP = -2               # the owner's task after a reply: answer it
TASK_STEPS = frozenset((str(INTERESTED_STEP), str(REPLY_STEP)))
DONE_EVENTS = frozenset(("attempting", "sent", "failed", "skipped", "settled_sent", "settled_not_sent"))
COUNTS_AS_TOUCH = frozenset(("attempting", "sent", "settled_sent"))
# An answer stops the sequence, and so does a spam complaint. What closes one channel (a bounce, a
# wrong number, an opt-out of email or SMS) does not: that channel's steps are skipped, the others
# go on.
STOPPING_EVENTS = frozenset(("replied", "interested", "not_interested", "unsubscribed", "do_not_contact",
                             "complained", "out_of_scope", "appointment", "proposal", "won", "called"))


class Progress(NamedTuple):
    """The lead's latest enrolment (a named tuple: one is made for every enrolled lead)."""

    campaign: str
    day: str                                            # the enrolment day, YYYY-MM-DD
    variant: str
    done: frozenset[int] = frozenset()                  # steps done (never planned again)
    last_day: Mapping[int, str] = MappingProxyType({})  # step -> the day it was done
    stopped_by: Record | None = None                    # the response that stopped it
    task_done: bool = False                             # the owner's task after `interested` or a reply
    sms: frozenset[str] = frozenset()                   # SMS touches that went (or may have gone) out


_STEP_EVENTS = DONE_EVENTS | {"deferred"}


def read_progress(records: tuple[Record, ...], enrolled: Record) -> Progress:
    """Where the enrolment ``enrolled`` (one of ``records``, the latest `enrolled`) stands."""
    start = n = len(records)
    while records[start - 1] is not enrolled:
        start -= 1
    campaign, enrolment = enrolled.campaign, enrolled.enrolment or enrolled.day
    if start == n:
        return Progress(campaign, enrolment, enrolled.variant)
    # Each step's (and each SMS touch's) last word decides it: done, or deferred (due again).
    steps: dict[str, Record] = {}
    sms: dict[str, str] = {}
    stopped_by = None
    for i in range(start, n):
        r = records[i]
        ev = r.event
        if r.campaign == campaign and r.enrolment == enrolment and r.step:
            # A text Twilio took, then could not deliver (a `failed` a later sync records) was done
            # the day it went: the next step's wait counts from then.
            late_failure = ev == "failed" and r.step in steps and steps[r.step].event in ("sent", "settled_sent")
            if ev in _STEP_EVENTS and not late_failure:
                steps[r.step] = r
                if ev == "deferred" or (r.channel == "sms" and ev in COUNTS_AS_TOUCH):
                    sms[r.touch] = ev
        # A response stops the enrolment; one recorded without its campaign stops it too.
        if stopped_by is None and ev in STOPPING_EVENTS and (
                r.day >= enrolment or (r.campaign == campaign and r.enrolment == enrolment)):
            stopped_by = r
    done, last_day, task_done = set(), {}, False
    for step_text, r in steps.items():
        step, finished = int(step_text), r.event != "deferred"
        if step_text in TASK_STEPS:
            task_done = task_done or finished
        elif finished:
            done.add(step)
            last_day[step] = r.day
    return Progress(campaign, enrolment, enrolled.variant, frozenset(done), last_day, stopped_by, task_done,
                    frozenset(t for t, ev in sms.items() if ev != "deferred"))
