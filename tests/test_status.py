"""The status table (docs/formats.md, "Lead status") and the funnel counting rules, table-driven over pure functions."""

from __future__ import annotations

import datetime as dt

import pytest

from relead.derive.funnel import funnel, recovery
from relead.history import Record
from relead.model import Lead, LostReason, Loss, Sender, Settings, TeamMember, frozen_map
from relead.derive.state import OutcomeRules, derive_state

D = dt.date.fromisoformat
FUNNEL = ("new", "contacted", "appointment", "proposal", "won")
SETTINGS = Settings(
    team=frozen_map({"sam": TeamMember("sam", "Sam", "sam@x.example")}),
    timezone="America/Chicago", funnel=FUNNEL,
    lost_reasons=frozen_map({
        "not_ready": LostReason("not_ready", "Not ready", "not_ready"),
        "offshored": LostReason("offshored", "Offshored", "out_of_scope"),
    }),
    sender=Sender("Co", "hello@x.example", "1 Main St"),
)
RULES = OutcomeRules(frozen_map({"": "contacted", "hot": "appointment"}), frozen_map({"": 365}))


def lead(reached: dict[str, str], lost: tuple | None = None, **kw) -> Lead:
    loss = None
    if lost is not None:
        date, stage, reason = lost
        loss = Loss(D(date), stage, reason, "hot")
    return Lead(id="x", file="leads.yaml", index=0, name="X", email="x@x.example",
                reached=frozen_map({k: D(v) for k, v in reached.items()}), lost=loss, **kw)


def rec(day: str, event: str, campaign: str = "", channel: str = "") -> Record:
    return Record(day, f"{day}T10:00:00+00:00", event, "x", campaign, "", "", channel)


CASES = [
    # (why, reached, lost(date, stage, reason), history, status, furthest stage)
    ("open: in the funnel, never lost", {"new": "2026-01-01", "contacted": "2026-01-05"}, None, [],
     "open", "contacted"),
    ("won: reached won, never lost", {"new": "2026-01-01", "won": "2026-03-01"}, None, [], "won", "won"),
    ("lost", {"new": "2026-01-01", "proposal": "2026-02-01"}, ("2026-03-01", "proposal", "not_ready"), [],
     "lost", "proposal"),
    ("dead: out-of-scope reason", {"new": "2026-01-01"}, ("2026-03-01", "new", "offshored"), [],
     "dead", "new"),
    ("back in the funnel: a stage reached after the loss",
     {"new": "2026-01-01", "contacted": "2026-06-01"}, ("2026-03-01", "new", "not_ready"), [],
     "back_in_funnel", "contacted"),
    ("back in the funnel, then won: recovered",
     {"new": "2026-01-01", "contacted": "2026-06-01", "won": "2026-08-01"},
     ("2026-03-01", "new", "not_ready"), [], "recovered", "won"),
    ("recovered beats dead: out of scope, yet won after the loss",
     {"new": "2026-01-01", "won": "2026-08-01"}, ("2026-03-01", "new", "offshored"), [],
     "recovered", "won"),
    ("won before the loss date is not recovered",
     {"new": "2026-01-01", "won": "2026-02-01"}, ("2026-03-01", "proposal", "not_ready"), [],
     "lost", "won"),
    ("loss dated before the last stage reached: that stage counts as after the loss",
     {"new": "2026-01-01", "proposal": "2026-04-01"}, ("2026-03-01", "new", "not_ready"), [],
     "back_in_funnel", "proposal"),
    ("history: interested puts it back at the campaign's stage",
     {"new": "2026-01-01"}, ("2026-03-01", "new", "not_ready"),
     [rec("2026-10-01", "interested", "hot")], "back_in_funnel", "appointment"),
    ("history: interested without a campaign lands at the second stage",
     {"new": "2026-01-01"}, ("2026-03-01", "new", "not_ready"),
     [rec("2026-10-01", "interested")], "back_in_funnel", "contacted"),
    ("history: won after the loss is recovered",
     {"new": "2026-01-01"}, ("2026-03-01", "new", "not_ready"),
     [rec("2026-10-01", "won")], "recovered", "won"),
    ("history: out of scope makes a lost lead dead",
     {"new": "2026-01-01"}, ("2026-03-01", "new", "not_ready"),
     [rec("2026-10-01", "out_of_scope")], "dead", "new"),
    ("history: a stage already reached after the loss keeps its first date",
     {"new": "2026-01-01", "contacted": "2026-05-01"}, ("2026-03-01", "new", "not_ready"),
     [rec("2026-10-01", "interested")], "back_in_funnel", "contacted"),
]


@pytest.mark.parametrize("why,reached,lost,history,status,furthest", CASES, ids=[c[0] for c in CASES])
def test_status(why, reached, lost, history, status, furthest):
    st = derive_state(lead(reached, lost), tuple(history), SETTINGS, RULES)
    assert st.status == status
    assert FUNNEL[st.furthest] == furthest


def test_interested_moves_the_stage_date_past_the_loss():
    st = derive_state(lead({"new": "2026-01-01", "contacted": "2026-02-01"}, ("2026-03-01", "contacted", "not_ready")),
                      (rec("2026-10-01", "interested"),), SETTINGS, RULES)
    assert st.reached["contacted"] == D("2026-10-01")


def test_funnel_is_monotone_and_counts_every_loss():
    states = [
        derive_state(lead({"new": "2026-01-01", "proposal": "2026-02-01"}, ("2026-03-01", "proposal", "not_ready")),
                     (), SETTINGS, RULES),
        derive_state(lead({"new": "2026-01-01", "contacted": "2026-01-02"}), (), SETTINGS, RULES),
        # lost at new, then recovered: still counted as lost at `new`
        derive_state(lead({"new": "2026-01-01", "won": "2026-09-01"}, ("2026-03-01", "new", "not_ready")),
                     (), SETTINGS, RULES),
        derive_state(lead({}), (), SETTINGS, RULES),   # no dates at all: still entered the funnel
    ]
    rows = {s.stage: (s.reached, s.lost_here) for s in funnel(states, SETTINGS)}
    assert rows == {"new": (4, 1), "contacted": (3, 0), "appointment": (2, 0), "proposal": (2, 1),
                    "won": (1, 0)}


def test_recovery_counts_and_values():
    a = derive_state(lead({"new": "2026-01-01", "won": "2026-09-01"}, ("2026-03-01", "new", "not_ready"),
                          value=1000), (), SETTINGS, RULES)
    b = derive_state(lead({"new": "2026-01-01", "appointment": "2026-09-01"}, ("2026-03-01", "new", "not_ready"),
                          value=500), (), SETTINGS, RULES)
    c = derive_state(lead({"new": "2026-01-01"}, ("2026-03-01", "new", "not_ready"), value=250), (), SETTINGS, RULES)
    d = derive_state(lead({"new": "2026-01-01"}, ("2026-03-01", "new", "offshored"), value=99), (), SETTINGS, RULES)
    r = recovery([a, b, c, d], SETTINGS)
    assert (r.lost, r.recovered, r.back_in_funnel, r.gone_for_good, r.still_lost) == (4, 1, 1, 1, 1)
    assert r.back_at["appointment"] == 1
    assert (r.value_at_stake, r.value_recovered) == (250, 1000)


@pytest.mark.parametrize("event,channel,attr", [
    ("unsubscribed", "", "unsubscribed"),
    ("do_not_contact", "", "do_not_contact"),
])
def test_stops_every_channel(event, channel, attr):
    st = derive_state(lead({"new": "2026-01-01"}, ("2026-03-01", "new", "not_ready"), phone="+13125550188"),
                      (rec("2026-10-01", event, channel=channel),), SETTINGS, RULES)
    assert getattr(st, attr) and not st.contactable and not st.rankable


def test_bounce_and_sms_opt_out_stop_one_channel_each():
    base = lead({"new": "2026-01-01"}, ("2026-03-01", "new", "not_ready"), phone="+13125550188", consent_sms=True)
    st = derive_state(base, (rec("2026-10-01", "bounced", channel="email"),), SETTINGS, RULES)
    assert not st.email_usable and st.sms_usable and st.contactable
    st = derive_state(base, (rec("2026-10-01", "opted_out", channel="sms"),), SETTINGS, RULES)
    assert st.email_usable and not st.sms_usable and st.phone_usable


def test_touches_add_history_to_the_count_before_relead():
    history = (rec("2026-10-01", "sent", channel="email"), rec("2026-10-02", "attempting"),
               rec("2026-10-03", "settled_sent"), rec("2026-10-04", "failed"))
    st = derive_state(lead({"new": "2026-01-01"}, touches=3), history, SETTINGS, RULES)
    assert st.touches == 5
