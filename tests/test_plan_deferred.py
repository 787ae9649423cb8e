"""A touch's state is its latest record: deferred is tried again, attempting alone never is."""

from __future__ import annotations

from relead.history import HistoryWriter, Record, touch_id
from tests.outreach_helpers import DAY, leads_text, outreach_repo, plan

NEXT = "2026-11-24"


def _history(root, *events: str) -> str:
    """Enrol lead-0001 on DAY and write the given events for its first touch; returns the touch id."""
    tid = touch_id("lead-0001", "blast", DAY, 0)
    at = f"{DAY}T16:00:00+00:00"
    recs = [Record(DAY, at, "enrolled", "lead-0001", "blast", DAY)]
    recs += [Record(DAY, at, ev, "lead-0001", "blast", DAY, "0", "email", "", tid, "421" if ev == "deferred" else "")
             for ev in events]
    with HistoryWriter(root / "history", DAY, "outreach") as w:
        w.append(recs)
    return tid


def _planned(root, day=NEXT):
    _, p = plan(root, day)
    return {t.id: t for t in p.touches if t.lead == "lead-0001"}


def test_deferred_is_planned_again_the_next_day(make_repo):
    root = outreach_repo(make_repo, leads_text(1))
    tid = _history(root, "attempting", "deferred")
    assert tid in _planned(root)


def test_unknown_is_never_planned_again(make_repo):
    root = outreach_repo(make_repo, leads_text(1))
    tid = _history(root, "attempting")
    planned = _planned(root)
    assert tid not in planned
    assert not planned or all(t.step > 0 for t in planned.values())


def test_deferred_then_sent_is_done(make_repo):
    root = outreach_repo(make_repo, leads_text(1))
    tid = _history(root, "attempting", "deferred", "attempting", "sent")
    assert tid not in _planned(root)


def test_a_deferred_attempt_does_not_use_up_the_day(make_repo):
    root = outreach_repo(make_repo, leads_text(1))
    tid = _history(root, "attempting", "deferred")
    # planned again the same day: the deferred attempt was not a touch
    assert tid in _planned(root, DAY)
