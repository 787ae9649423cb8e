"""Where a lead's latest enrolment stands (relead.derive.enrolment), held to a plain reading of the rules.

``read_progress`` makes one pass over the records after the enrolment, for speed; the
reference below reads each rule on its own, as docs/outreach.md states it. Hypothesis
writes histories full of the awkward cases: several enrolments, other campaigns'
records, steps deferred then done, responses before and after the enrolment.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from relead.derive.enrolment import (COUNTS_AS_TOUCH, DONE_EVENTS, INTERESTED_STEP, STOPPING_EVENTS, Progress,
                              read_progress)
from relead.history import EVENTS, Record

DAYS = [f"2026-0{m}-1{d}" for m in (3, 4) for d in range(5)]


def reference(records: tuple[Record, ...], enrolled: Record) -> Progress:
    start = max(i for i, r in enumerate(records) if r is enrolled)
    campaign, enrolment = enrolled.campaign, enrolled.enrolment or enrolled.day
    tail = records[start + 1:]
    mine = [r for r in tail if r.campaign == campaign and r.enrolment == enrolment and r.step]
    last_by_step: dict[str, Record] = {}
    for r in mine:
        if r.event in DONE_EVENTS or r.event == "deferred":
            last_by_step[r.step] = r           # the step's last word decides it
    done = {int(s) for s, r in last_by_step.items() if r.event != "deferred" and int(s) != INTERESTED_STEP}
    last_day = {int(s): r.day for s, r in last_by_step.items()
                if r.event != "deferred" and int(s) != INTERESTED_STEP}
    task = last_by_step.get(str(INTERESTED_STEP))
    last_by_touch: dict[str, Record] = {}
    for r in mine:
        if (r.event in COUNTS_AS_TOUCH and r.channel == "sms") or r.event == "deferred":
            last_by_touch[r.touch] = r
    sms = {t for t, r in last_by_touch.items() if r.event != "deferred"}
    stopped = [r for r in tail if r.event in STOPPING_EVENTS
               and (r.day >= enrolment or (r.campaign == campaign and r.enrolment == enrolment))]
    return Progress(campaign, enrolment, enrolled.variant, frozenset(done), last_day,
                    stopped[0] if stopped else None, task is not None and task.event != "deferred",
                    frozenset(sms))


@st.composite
def histories(draw):
    def record(event: str) -> Record:
        day = draw(st.sampled_from(DAYS))
        return Record(day, day + "T10:00:00+00:00", event, "lead-1",
                      draw(st.sampled_from(["a", "b", ""])), draw(st.sampled_from(["", DAYS[0], DAYS[3]])),
                      draw(st.sampled_from(["", "0", "1", "2", str(INTERESTED_STEP)])),
                      draw(st.sampled_from(["email", "sms", "call"])), "", draw(st.sampled_from(["t1", "t2", "t3"])),
                      "", "")
    before = draw(st.lists(st.sampled_from(sorted(EVENTS)).map(record), max_size=8))
    enrolled = record("enrolled")
    after = draw(st.lists(st.sampled_from(sorted(EVENTS - {"enrolled"})).map(record), max_size=25))
    return tuple(before) + (enrolled,) + tuple(after), enrolled


@settings(max_examples=400, deadline=None, database=None)
@given(histories())
def test_progress_follows_the_rules(history):
    records, enrolled = history
    assert read_progress(records, enrolled) == reference(records, enrolled)


def test_a_step_deferred_then_done_is_done_and_one_done_then_deferred_is_due_again():
    def rec(event, step, day="2026-03-11", touch="t1", channel="email"):
        return Record(day, "", event, "lead-1", "a", "2026-03-10", step, channel, "", touch, "", "")
    enrolled = Record("2026-03-10", "", "enrolled", "lead-1", "a", "2026-03-10", "", "", "A", "", "", "")
    records = (enrolled, rec("deferred", "0"), rec("attempting", "0"), rec("sent", "0"),
               rec("attempting", "1", touch="t2", channel="sms"), rec("deferred", "1", touch="t2", channel="sms"))
    p = read_progress(records, enrolled)
    assert p.done == {0} and p.last_day == {0: "2026-03-11"} and p.sms == frozenset()
    assert (p.campaign, p.day, p.variant, p.stopped_by) == ("a", "2026-03-10", "A", None)
