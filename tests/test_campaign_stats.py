"""relead.derive.campaign_stats: attribution of answers to touches, per step, channel, variant, touch number."""

from __future__ import annotations

import datetime as dt
import textwrap

from relead.derive.campaign_stats import MIN_SENT, Tally, best, campaign_stats, ranking, wilson_lower
from relead.check import check_repository
from relead.history import HEADER, touch_id

LEADS = textwrap.dedent("""\
    leads:
      - id: ann
        name: Ann Able
        email: ann@a.example
        owner: sam
        value: 10000
        reached: {new: 2026-01-05, contacted: 2026-01-06, proposal: 2026-02-01}
        lost: {date: 2026-03-01, reason: not_ready, temperature: hot}
      - id: bob
        name: Bob Baker
        email: bob@b.example
        owner: sam
        value: 5000
        reached: {new: 2026-01-05}
        lost: {date: 2026-03-01, reason: went_dark, temperature: warm}
    """)


def line(at, event, lead, campaign="", enrolment="", step="", channel="", variant="", touch="", ref="", note=""):
    return "\t".join((at, event, lead, campaign, enrolment, step, channel, variant, touch, ref, note)) + "\n"


def history() -> dict[str, str]:
    e = "2026-09-01"
    t = lambda lead, step: touch_id(lead, "warm-lead-magnet", e, step)   # noqa: E731
    day1 = (line("2026-09-01T15:00:00+00:00", "enrolled", "ann", "warm-lead-magnet", e, variant="a")
            + line("2026-09-01T15:00:01+00:00", "attempting", "ann", "warm-lead-magnet", e, "0", "email", "a", t("ann", 0))
            + line("2026-09-01T15:00:02+00:00", "sent", "ann", "warm-lead-magnet", e, "0", "email", "a", t("ann", 0), "<1@x>")
            + line("2026-09-01T15:00:03+00:00", "enrolled", "bob", "warm-lead-magnet", e, variant="b")
            + line("2026-09-01T15:00:04+00:00", "sent", "bob", "warm-lead-magnet", e, "0", "email", "b", t("bob", 0), "<2@x>")
            + line("2026-09-01T15:00:05+00:00", "skipped", "bob", "warm-lead-magnet", e, "1", "sms", "b", t("bob", 1), "no consent"))
    day2 = (line("2026-09-07T15:00:00+00:00", "sent", "ann", "warm-lead-magnet", e, "1", "sms", "a", t("ann", 1), "SM1")
            + line("2026-09-07T15:00:00+00:00", "sent", "ann", "warm-lead-magnet", e, "1", "sms", "a", t("ann", 1), "SM1"))
    answers = (line("2026-09-08T15:00:00+00:00", "interested", "ann", "warm-lead-magnet", e, channel="sms", variant="a")
               + line("2026-09-08T16:00:00+00:00", "replied", "bob")
               + line("2026-09-20T16:00:00+00:00", "won", "ann", "warm-lead-magnet", e))
    return {"2026/09/2026-09-01.outreach.tsv": HEADER + day1,
            "2026/09/2026-09-07.outreach.tsv": HEADER + day2,
            "2026/09/2026-09-08.record-sam.tsv": HEADER + answers}


def test_answers_belong_to_the_touch_before_them(make_repo):
    root = make_repo(LEADS, history=history())
    checked = check_repository(root, today=dt.date(2026, 11, 22))
    assert checked.derived is not None, [p.format() for p in checked.errors]
    d = checked.derived
    stats = campaign_stats(d.model, d.states)
    cs = stats.campaigns["warm-lead-magnet"]
    assert cs.enrolments == 2 and cs.leads == 2
    step0, step1 = cs.steps[0], cs.steps[1]
    assert step0.tally.sent == 2 and step0.tally.replied == 1       # bob answered his first email
    assert step1.tally.sent == 1, "a touch recorded twice counts once"
    assert step1.tally.skipped == 1
    assert (step1.tally.replied, step1.tally.interested, step1.tally.recovered) == (1, 1, 1)
    assert step1.tally.value_recovered == 10000
    assert cs.touches.sent == (2, 1, 0, 0, 0)
    assert cs.touches.replied == (1, 1, 0, 0, 0)
    assert cs.touches.interested == (0, 1, 0, 0, 0)
    by_variant = {v.variant: v.tally for v in cs.by_variant}
    assert by_variant["a"].interested == 1 and by_variant["b"].replied == 1
    assert stats.by_channel["sms"].interested == 1 and stats.by_channel["email"].replied == 1
    assert stats.tally.sent == 3 and stats.unattributed == 0
    assert d.states["ann"].status == "recovered"


def test_best_needs_enough_touches():
    few = Tally(sent=3, replied=3, interested=3)
    many = Tally(sent=40, replied=4, interested=2)
    assert best({"sms": few, "email": many}) == "email"
    assert best({"sms": few}) is None
    assert best({"email": Tally(sent=50)}) is None, "no answers at all: nothing worked best"


def test_the_channel_with_more_interest_leads_even_with_fewer_touches():
    """Call (8 sent, 3 interested) drew far more interest than mail (13 sent, 1 interested): a
    hidden ten-touch minimum once crowned mail."""
    call = Tally(sent=8, replied=3, interested=3, recovered=2, value_recovered=41000)
    mail = Tally(sent=13, replied=1, interested=1, recovered=1, value_recovered=11000)
    email = Tally(sent=137, replied=7)
    assert best({"email": email, "call": call, "mail": mail}) == "call"
    judged = ranking({"email": email, "call": call, "mail": mail})
    assert judged.min_sent == MIN_SENT and judged.left_out == ()
    assert judged.lower["call"] > judged.lower["mail"] > judged.lower["email"] == 0


def test_the_example_crowns_call(example_root):
    checked = check_repository(example_root, today=dt.date(2026, 11, 22))
    d = checked.derived
    stats = campaign_stats(d.model, d.states)
    assert (stats.by_channel["call"].sent, stats.by_channel["call"].interested) == (8, 3)
    assert best(stats.by_channel) == "call"
    assert stats.by_hook[0].tally.interested == max(h.tally.interested for h in stats.by_hook)


def test_a_ranking_names_what_it_left_out_and_why():
    judged = ranking({"sms": Tally(sent=3, replied=3, interested=3), "mail": Tally(),
                      "email": Tally(sent=40, replied=4, interested=2)})
    assert judged.best == "email"
    assert judged.left_out == (("sms", 3), ("mail", 0)), "in the order given, with the touches each had"
    assert set(judged.lower) == {"email"}


def test_wilson_lower_bound():
    assert wilson_lower(0, 0) == 0 and wilson_lower(0, 50) == 0
    assert round(wilson_lower(3, 8), 4) == 0.1368
    assert round(wilson_lower(1, 13), 4) == 0.0137
    assert wilson_lower(10, 10) < 1 and wilson_lower(100, 100) > wilson_lower(10, 10)


def test_touch_numbers_count_the_teams_own_wins_and_no_outside_figures(make_repo):
    import relead.derive.campaign_stats as module

    assert not hasattr(module, "FOLLOW_UP_CURVE"), "no figures from outside the team's own data"
    root = make_repo(LEADS, history=history())
    d = check_repository(root, today=dt.date(2026, 11, 22)).derived
    cs = campaign_stats(d.model, d.states).campaigns["warm-lead-magnet"]
    assert cs.touches.recovered == (0, 1, 0, 0, 0), "ann's win counts for the touch that got her answer"
