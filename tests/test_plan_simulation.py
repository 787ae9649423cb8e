"""The planner, day by day: 120-day simulations of the example campaigns with responses injected.

A small repository is loaded once; then, for each day, the desk does what the
daily run does (plan, record enrolments and skips, "send" every touch that the
send-time rules allow, record the result), and the responses of the case are
recorded after the day's runs. Each case states the touches it expects, as
``(day, lead, channel, step)``, so caps, business days and holidays (2026-11-26 is
one in the example settings), gaps, stops, outcomes and hand-offs are all visible.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest

from outreach.compliance import check_touch
from relead.check import check_repository
from relead.history import History, Record
from relead.derive.plan import INTERESTED_STEP, REPLY_STEP, plan_day
from relead.derive.priorities import rank
from relead.derive.state import derive_states
from tests.outreach_helpers import lead_yaml

START = dt.date(2026, 11, 23)          # a Monday
D = dt.date.fromisoformat
CHICAGO = dt.timezone(dt.timedelta(hours=-6))

HOT = dict(reached="{new: 2025-01-10, contacted: 2025-01-12, appointment: 2025-02-01, proposal: 2025-02-20}",
           lost="{date: 2025-03-02, reason: not_ready, temperature: hot}", consent="{email: true, sms: true}")
WARM = dict(reached="{new: 2025-01-10, contacted: 2025-01-12}",
            lost="{date: 2025-03-02, reason: price, temperature: warm}", consent="{email: true, sms: true}")


class Desk:
    def __init__(self, root, *, runs=(dt.time(10, 0),)):
        checked = check_repository(root, today=START)
        assert not checked.errors, [p.format() for p in checked.errors]
        self.model = checked.derived.model
        self.records: list[Record] = list(self.model.history.records)
        self.runs = runs
        self.sent: list[tuple[str, str, str, int]] = []
        self.sent_at: list[tuple[str, str, dt.datetime]] = []     # (lead, channel, the run's clock)
        self.deferred: list[tuple[str, str, str]] = []
        self.plans = {}

    def _model(self):
        by_lead: dict[str, list[Record]] = {}
        for r in self.records:
            by_lead.setdefault(r.lead, []).append(r)
        history = History(tuple(self.records), MappingProxyType({k: tuple(v) for k, v in by_lead.items()}))
        return dataclasses.replace(self.model, history=history)

    def record(self, day: str, event: str, lead: str, campaign="", enrolment="", step="", channel="",
               variant="", touch="", ref="", note="") -> None:
        self.records.append(Record(day, f"{day}T16:00:00+00:00", event, lead, campaign, enrolment, str(step),
                                   channel, variant, touch, ref, note))

    def respond(self, day: str, lead: str, event: str, channel: str = "") -> None:
        """As `make record` does: tied to the lead's current enrolment."""
        enrolled = [r for r in self.records if r.lead == lead and r.event == "enrolled"]
        cur = enrolled[-1] if enrolled else None
        self.record(day, event, lead, cur.campaign if cur else "", cur.enrolment if cur else "",
                    channel=channel, variant=cur.variant if cur else "")

    def run_day(self, day: dt.date) -> None:
        iso = day.isoformat()
        for at in self.runs:
            model = self._model()
            states = derive_states(model)
            plan = plan_day(model, states, rank(states.values(), model.settings, day), day)
            self.plans.setdefault(iso, plan)
            for e in plan.enrolments:
                self.record(iso, "enrolled", e.lead, e.campaign, iso, variant=e.variant, note=e.why)
            for s in plan.skipped:
                self.record(iso, "skipped", s.lead, s.campaign, s.enrolment, s.step, s.channel, s.variant,
                            s.touch, "unreachable", s.reason)
            now = dt.datetime.combine(day, at, CHICAGO)
            model = self._model()
            for t in plan.touches:
                verdict = check_touch(t.channel, t.enrolment, states[t.lead], model.history.for_lead(t.lead),
                                      model.settings, now, step=t.step)
                if verdict.action == "defer":
                    self.deferred.append((iso, t.lead, verdict.reason))
                    self.record(iso, "deferred", t.lead, t.campaign, t.enrolment, t.step, t.channel, t.variant,
                                t.id, verdict.reason)
                    continue
                if verdict.action == "skip":
                    self.record(iso, "skipped", t.lead, t.campaign, t.enrolment, t.step, t.channel, t.variant,
                                t.id, verdict.reason)
                    continue
                self.record(iso, "attempting", t.lead, t.campaign, t.enrolment, t.step, t.channel, t.variant, t.id)
                self.record(iso, "sent", t.lead, t.campaign, t.enrolment, t.step, t.channel, t.variant, t.id,
                            "task" if t.is_task else "id")
                label = {INTERESTED_STEP: "callback", REPLY_STEP: "answer"}.get(t.step, t.channel)
                self.sent.append((iso, t.lead, label, t.step, t.campaign))
                self.sent_at.append((t.lead, t.channel, now))

    def simulate(self, days: int, responses: dict[str, list[tuple]] | None = None) -> "Desk":
        for i in range(days):
            day = START + dt.timedelta(days=i)
            self.run_day(day)
            for lead, event, *channel in (responses or {}).get(day.isoformat(), []):
                self.respond(day.isoformat(), lead, event, *channel)
        return self

    def timeline(self, lead: str) -> list[tuple[str, str, int, str]]:
        return [(d, ch, step, camp) for d, ld, ch, step, camp in self.sent if ld == lead]


def desk(make_repo, leads: str, *, settings_extra=None, runs=(dt.time(10, 0),)) -> Desk:
    files = {}
    if settings_extra:
        from tests.paths import EXAMPLE
        text = (EXAMPLE / "content" / "settings.yaml").read_text(encoding="utf-8")
        for old, new in settings_extra:
            assert old in text
            text = text.replace(old, new)
        files["content/settings.yaml"] = text
    return Desk(make_repo("leads:\n" + leads, files=files), runs=runs)


HOT_TIMELINE = [
    ("2026-11-23", "email", 0, "hot-reactivation"),     # day 0, a Monday
    ("2026-11-27", "sms", 1, "hot-reactivation"),       # 3 business days: Tue, Wed, (Thu holiday), Fri
    ("2026-12-01", "call", 2, "hot-reactivation"),      # 5 business days
    ("2026-12-04", "email", 3, "hot-reactivation"),     # 8
    ("2026-12-14", "email", 4, "hot-reactivation"),     # 14: the break-up
    ("2027-03-15", "email", 0, "nurture"),              # 90 days' rest after it (to Sun 03-14), then nurture
]
DAYS = 120


def test_a_hot_lead_through_every_step_then_nurture(make_repo):
    d = desk(make_repo, lead_yaml(1, **HOT)).simulate(DAYS)
    assert d.timeline("lead-0001") == HOT_TIMELINE


@pytest.mark.parametrize("why, responses, expected", [
    ("a reply stops the sequence; the owner gets a task to answer it, then a person takes it from here",
     {"2026-11-24": [("lead-0001", "replied")]},
     HOT_TIMELINE[:1] + [("2026-11-25", "answer", REPLY_STEP, "hot-reactivation")]),
    ("interested: the owner gets a call-back task once, then nothing",
     {"2026-11-25": [("lead-0001", "interested")]},
     HOT_TIMELINE[:1] + [("2026-11-27", "callback", INTERESTED_STEP, "hot-reactivation")]),
    ("not interested: nothing for 90 days, then the nurture",
     {"2026-11-24": [("lead-0001", "not_interested")]},
     HOT_TIMELINE[:1] + [("2027-02-22", "email", 0, "nurture")]),
    ("unsubscribed stops every channel for good",
     {"2026-11-27": [("lead-0001", "unsubscribed")]}, HOT_TIMELINE[:2]),
    ("a bounce closes email: the email steps are skipped, the other channels go on",
     {"2026-11-23": [("lead-0001", "bounced", "email")]}, HOT_TIMELINE[:3]),
    ("SMS opt-out: the SMS-only stop skips SMS steps, the rest goes on",
     {"2026-11-23": [("lead-0001", "opted_out", "sms")]},
     HOT_TIMELINE[:1] + HOT_TIMELINE[2:]),     # the SMS step is skipped (recorded); the days stay
    ("won: the status change stops it",
     {"2026-11-30": [("lead-0001", "won")]}, HOT_TIMELINE[:2]),
    ("a voicemail does not stop anything",
     {"2026-12-01": [("lead-0001", "voicemail")]}, HOT_TIMELINE),
])
def test_responses_and_outcomes(make_repo, why, responses, expected):
    d = desk(make_repo, lead_yaml(1, **HOT)).simulate(DAYS, responses)
    assert d.timeline("lead-0001") == expected, why


def test_daily_caps_spread_first_touches_over_days(make_repo):
    leads = "".join(lead_yaml(i, **HOT) for i in range(1, 8))
    d = desk(make_repo, leads, settings_extra=[("daily_caps: {email: 200, sms: 60}",
                                                "daily_caps: {email: 3, sms: 60}")]).simulate(10)
    per_day: dict[tuple[str, str], int] = {}
    for day, _lead, channel, _step, _camp in d.sent:
        per_day[(day, channel)] = per_day.get((day, channel), 0) + 1
    assert all(n <= 3 for (day, ch), n in per_day.items() if ch == "email")
    firsts = sorted(day for day, lead, ch, step, camp in d.sent if step == 0)
    assert firsts == ["2026-11-23"] * 3 + ["2026-11-24"] * 3 + ["2026-11-25"]
    assert len(d.plans["2026-11-23"].deferred) == 4
    assert "daily email limit of 3 reached" in d.plans["2026-11-23"].deferred[0].reason


def test_max_new_per_day_caps_enrolments_best_ranked_first(make_repo):
    leads = "".join(lead_yaml(i, value=str(1000 * i), **HOT) for i in range(1, 14))
    d = desk(make_repo, leads).simulate(1)
    enrolled = [e.lead for e in d.plans["2026-11-23"].enrolments if e.campaign == "hot-reactivation"]
    assert len(enrolled) == 10                                   # the campaign's max_new_per_day
    assert enrolled[:3] == ["lead-0013", "lead-0012", "lead-0011"]   # highest value ranks first


def test_weekly_cap_per_lead(make_repo):
    fast = "name: Fast\nhook: h\naudience: {status: [lost]}\npriority: 99\nsteps:\n" \
           "  - {day: 0, channel: email, message: hot/remind}\n  - {day: 1, channel: email, message: hot/new-value}\n" \
           "  - {day: 2, channel: email, message: breakup}\n"
    root_leads = lead_yaml(1, **HOT)
    d = Desk(_repo_with(make_repo, root_leads, {"content/campaigns/fast.yaml": fast}))
    d.simulate(10)
    assert [(day, step) for day, ch, step, camp in d.timeline("lead-0001") if camp == "fast"] == [
        ("2026-11-23", 0), ("2026-11-24", 1), ("2026-11-30", 2)]   # 2 in any 7 days
    deferred = [s.reason for p in d.plans.values() for s in p.deferred]
    assert "2 touches in the last 7 days (limit 2)" in deferred


def _repo_with(make_repo, leads: str, files: dict) -> object:
    return make_repo("leads:\n" + leads, files=files)


def test_nothing_on_weekends_and_holidays(make_repo):
    leads = "".join(lead_yaml(i, **WARM) for i in range(1, 4))
    d = desk(make_repo, leads).simulate(30)
    days = {dt.date.fromisoformat(day) for day, *_ in d.sent}
    assert days and all(day.weekday() < 5 for day in days) and D("2026-11-26") not in days
    assert not d.plans["2026-11-28"].sending_day and not d.plans["2026-11-26"].sending_day


HOURLY = tuple(dt.time(h, 0) for h in range(24))


def test_an_hourly_schedule_reaches_every_time_zone_inside_its_hours_on_the_first_day(make_repo):
    """Runs every hour (Chicago time): each lead's SMS goes out on the first day inside 08:00-21:00
    at the recipient, its email the next day inside 09:00-17:00 there, whatever the team's clock."""
    texts = "name: Texts\nhook: h\naudience: {status: [lost]}\npriority: 99\nsteps:\n" \
            "  - {day: 0, channel: sms, message: hot/sms-nudge}\n  - {day: 1, channel: email, message: hot/remind}\n"
    zones = {"lead-0001": "America/Los_Angeles", "lead-0002": "Europe/London", "lead-0003": "America/New_York",
             "lead-0004": "Australia/Sydney"}
    leads = "".join(lead_yaml(i, timezone=zone, **HOT) for i, zone in enumerate(zones.values(), 1))
    d = Desk(_repo_with(make_repo, leads, {"content/campaigns/texts.yaml": texts}), runs=HOURLY)
    d.simulate(3)
    windows = {"sms": (dt.time(8), dt.time(21)), "email": (dt.time(9), dt.time(17))}
    firsts = {}
    for lead, channel, at in d.sent_at:
        local = at.astimezone(ZoneInfo(zones[lead]))
        start, end = windows[channel]
        assert start <= local.time() < end, (lead, channel, local)
        firsts.setdefault((lead, channel), at.date())
    assert {lead: day for (lead, ch), day in firsts.items() if ch == "sms"} == dict.fromkeys(zones, START)
    assert {lead: day for (lead, ch), day in firsts.items() if ch == "email"} == \
        dict.fromkeys(zones, START + dt.timedelta(days=1))
    held = {(lead, reason) for _day, lead, reason in d.deferred}
    assert ("lead-0001", "quiet_hours") in held and ("lead-0004", "outside_send_window") in held


def test_a_state_with_stricter_sms_hours_gets_them(make_repo):
    """Florida's 20:00 end (sms_hours_by_region: us-fl) against the default 21:00 elsewhere."""
    from outreach.compliance import sms_hours
    from relead.model import Lead, Sending, Window
    sending = Sending(sms_hours_by_region={"us-fl": Window(dt.time(8), dt.time(20))})
    at = dt.datetime(2026, 11, 23, 20, 30, tzinfo=ZoneInfo("America/New_York"))
    miami = Lead("m", "leads.yaml", 0, phone="+13055550123")
    boston = Lead("b", "leads.yaml", 0, phone="+16175550123")
    assert sms_hours(miami, at, sending).action == "defer" and "goes out 08:00-20:00" in sms_hours(miami, at,
                                                                                                    sending).note
    assert sms_hours(boston, at, sending).send


def test_a_countrys_sms_hours_and_a_state_inside_it():
    """A country's hours (sms_hours_by_region: de) apply to its numbers; a state's win over its country's."""
    from outreach.compliance import sms_window
    from relead.model import Lead, Sending, Window
    sending = Sending(sms_hours_by_region={"de": Window(dt.time(9), dt.time(20)),
                                           "us": Window(dt.time(8), dt.time(21)),
                                           "us-fl": Window(dt.time(8), dt.time(20))})
    berlin = Lead("d", "leads.yaml", 0, phone="+4930901820")
    miami = Lead("m", "leads.yaml", 0, phone="+13055550123")
    boston = Lead("b", "leads.yaml", 0, phone="+16175550123")
    paris = Lead("p", "leads.yaml", 0, phone="+33142685300")
    assert sms_window(berlin, sending) == Window(dt.time(9), dt.time(20))
    assert sms_window(miami, sending) == Window(dt.time(8), dt.time(20))
    assert sms_window(boston, sending) == Window(dt.time(8), dt.time(21))
    assert sms_window(paris, sending) == sending.sms_hours            # no rule for France: the default


@pytest.mark.parametrize("recycle_on, campaigns", [
    ("2026-11-20", ["hot-reactivation"]),   # the recycle date came after they answered: again
    (None, []),                             # they answered last time: a person took it from there
])
def test_a_recycle_date_brings_back_a_lead_that_answered(make_repo, recycle_on, campaigns):
    from relead.history import HEADER
    old = [Record("2025-06-02", "2025-06-02T15:00:00+00:00", "enrolled", "lead-0001", "hot-reactivation",
                  "2025-06-02", "", "", "", "", "", ""),
           Record("2025-06-03", "2025-06-03T15:00:00+00:00", "replied", "lead-0001", "hot-reactivation",
                  "2025-06-02", "", "email", "", "", "", "")]
    root = make_repo("leads:\n" + lead_yaml(1, recycle_on=recycle_on, **HOT),
                     history={"2025/06/2025-06-02.outreach.tsv": HEADER + old[0].line(),
                              "2025/06/2025-06-03.record-sam.tsv": HEADER + old[1].line()})
    d = Desk(root).simulate(1)
    assert [camp for day, ch, step, camp in d.timeline("lead-0001")] == campaigns


def _naive_add(start, days, weekdays, holidays):
    day = start
    while days > 0:
        day += dt.timedelta(days=1)
        if day.weekday() in weekdays and day not in holidays:
            days -= 1
    return day


def test_add_business_days_jumps_whole_weeks_to_the_same_day():
    from hypothesis import given, settings, strategies as s

    from relead.derive.plan import _add_business_days

    @settings(max_examples=300, deadline=None)
    @given(s.dates(dt.date(2024, 1, 1), dt.date(2028, 12, 31)), s.integers(0, 400),
           s.frozensets(s.integers(0, 6), min_size=1),
           s.frozensets(s.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)), max_size=40))
    def check(start, days, weekdays, holidays):
        assert _add_business_days(start, days, weekdays, holidays) == _naive_add(start, days, weekdays, holidays)

    check()


@pytest.mark.parametrize("responses, expected", [
    ({"2026-11-24": [("lead-0001", "not_interested")]}, "campaign nurture from 2027-02-22 (a rest after a no)"),
    ({}, "campaign nurture from 2027-03-14 (a rest after no answer)"),
])
def test_a_resting_lead_shows_when_it_goes_on(make_repo, responses, expected):
    from relead.derive.hygiene import next_action
    d = desk(make_repo, lead_yaml(1, **HOT)).simulate(30, responses)
    model = d._model()
    states = derive_states(model)
    assert next_action(states["lead-0001"], model.campaigns, D("2026-12-22")) == expected


def test_each_outcome_gives_its_own_rest(make_repo):
    """`after_days` per outcome: 30 days after a no, 17 after the break-up, instead of 90."""
    from tests.paths import EXAMPLE
    camp = (EXAMPLE / "content" / "campaigns" / "hot-reactivation.yaml").read_text(encoding="utf-8")
    for old, new in (("not_interested: {then: nurture}", "not_interested: {then: nurture, after_days: 30}"),
                     ("no_response:    {then: nurture}", "no_response:    {then: nurture, after_days: 17}")):
        assert old in camp
        camp = camp.replace(old, new)
    files = {"content/campaigns/hot-reactivation.yaml": camp}
    said_no = Desk(_repo_with(make_repo, lead_yaml(1, **HOT), files))
    said_no.simulate(DAYS, {"2026-11-24": [("lead-0001", "not_interested")]})
    assert said_no.timeline("lead-0001") == HOT_TIMELINE[:1] + [("2026-12-24", "email", 0, "nurture")]
    silent = Desk(_repo_with(make_repo, lead_yaml(1, **HOT), files)).simulate(DAYS)
    assert silent.timeline("lead-0001") == HOT_TIMELINE[:5] + [("2026-12-31", "email", 0, "nurture")]


def test_out_of_scope_keeps_its_review_date_and_hands_nothing_over(make_repo):
    """Out of scope is no rest before a hand-off: the lead is dead, nothing is sent in 120 days,
    and its next action is the review a year on (the campaign's review_after_days: 365)."""
    from relead.derive.hygiene import next_action
    d = desk(make_repo, lead_yaml(1, **HOT)).simulate(DAYS, {"2026-11-24": [("lead-0001", "out_of_scope")]})
    assert d.timeline("lead-0001") == HOT_TIMELINE[:1]
    model = d._model()
    state = derive_states(model)["lead-0001"]
    assert state.status == "dead"
    assert next_action(state, model.campaigns, D("2027-03-22")) == "out of scope (review 2027-11-24)"
