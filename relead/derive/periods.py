"""What happened in a period (this week, month, quarter, or all time) against the period before,
and the other numbers a sales manager looks for first: the win-back rate, the value recovered
month by month, the losses by value, reason by stage, and each owner's activity and backlog.

Pure functions of the model, the derived lead states and the day (``today``, in the team's
calendar): the dashboard renders them, summary.json holds them, and a weekly digest can send
them. Each walks the leads once and history once (linear in both).

Definitions (every date is a day in the team's calendar, ``today`` included):

* a period runs from its first day to ``today``: this week from Monday, this month from the
  1st, this quarter from the 1st of January, April, July or October; all time has no start;
* it is compared with the same days of the period before (Monday to the same weekday last
  week; the 1st to the same day of last month, or its last day; the quarter likewise), so a
  period under way is not set against a whole one;
* ``new_leads``: leads that reached the first funnel stage in the period;
* ``lost`` and ``value_lost``: leads whose loss is dated in the period, and their value;
* ``recovered`` and ``value_recovered``: leads won back (won after their loss) in the period;
* ``back_in_funnel``: lost leads that reached a stage again after their loss, the first such
  day in the period (whatever came of them since);
* ``win_back_rate``: recovered in the period ÷ ``open_to_win_back``, the leads with a loss on
  record by the period's end that had not been won back before it began; for all time,
  recovered ÷ every lead with a loss on record;
* ``touches``: campaign touches that went out (email and SMS sent, call and mail tasks handed
  to the owner; each touch once, the owner's own follow-up tasks not counted);
* ``calls``: calls made (an outcome recorded: spoke to them, no answer, voicemail);
* ``answers``: the lead answered (a reply, interest or not, an opt-out, a call that reached
  them, a meeting, a proposal, a deal; an inbound message recorded twice counts once);
* ``interested``: the lead said they are interested.

Per owner in a period (who works the lead: its owner, else settings ``default_owner``, else
``(unassigned)``): touches, calls, answers, interested and recovered. Per owner as of today
(the lead's own owner, as the dashboard's owner table counts leads): ``follow_ups_overdue`` (a
follow-up date before today on a lead not won, recovered or gone for good) and
``replies_waiting`` (the lead answered and nobody has recorded what came of it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Iterable, Mapping

from ..model import Model, Settings
from .funnel import NO_OWNER
from .state import TOUCH_COUNTED, LeadState, derive_states

__all__ = [
    "PERIODS", "PERIOD_LABELS", "Window", "PeriodNumbers", "OwnerActivity", "PeriodSummary", "MonthRow",
    "period_windows", "period_summary", "period_summaries", "recovered_by_month", "won_back_before",
    "lost_value_by_reason", "reason_by_stage", "owner_backlog", "win_back_rate",
]

PERIODS = ("week", "month", "quarter", "all")
PERIOD_LABELS = {"week": "This week", "month": "This month", "quarter": "This quarter", "all": "All time"}
_BEFORE_WORDS = {"week": "the same days of last week", "month": "the same days of last month",
                 "quarter": "the same days of last quarter"}

_CALLS = frozenset(("called", "no_answer", "voicemail"))
_ANSWERS = frozenset(("replied", "interested", "not_interested", "unsubscribed", "opted_out",
                      "do_not_contact", "out_of_scope", "appointment", "proposal", "won", "called"))
_CLOSED_STATUSES = frozenset(("won", "recovered", "dead"))
_COUNTED = frozenset(TOUCH_COUNTED) | _CALLS | _ANSWERS

# counters per (owner, day): indexes into the lists below
(_NEW, _LOST, _VLOST, _REC, _VREC, _BACK, _TOUCH, _CALL, _ANS, _INT) = range(10)
_N = 10


@dataclass(frozen=True, slots=True)
class Window:
    """The days ``start`` to ``end``, both included; ``start`` None: from the beginning."""

    start: dt.date | None
    end: dt.date

    def words(self) -> str:
        """``16–22 Nov 2026``, ``1 Oct – 22 Nov 2026``, ``to 22 Nov 2026``."""
        end = f"{self.end.day} {self.end:%b %Y}"
        if self.start is None:
            return f"to {end}"
        if self.start == self.end:
            return end
        if (self.start.year, self.start.month) == (self.end.year, self.end.month):
            return f"{self.start.day}–{end}"
        if self.start.year == self.end.year:
            return f"{self.start.day} {self.start:%b} – {end}"
        return f"{self.start.day} {self.start:%b %Y} – {end}"

    def holds(self, day: str) -> bool:
        """``day`` (YYYY-MM-DD) falls in the window."""
        return (self.start is None or day >= self.start.isoformat()) and day <= self.end.isoformat()


def _month_start(day: dt.date, back: int = 0) -> dt.date:
    n = day.year * 12 + day.month - 1 - back
    return dt.date(n // 12, n % 12 + 1, 1)


def _same_days_before(start: dt.date, end: dt.date, prev_start: dt.date) -> Window:
    """The window as long as ``start``..``end`` from ``prev_start``, stopped before ``start``."""
    last = min(prev_start + (end - start), start - dt.timedelta(days=1))
    return Window(prev_start, last)


def period_windows(today: dt.date, period: str) -> tuple[Window, Window | None]:
    """(the period up to today, the same days of the period before; None for all time)."""
    if period == "week":
        start = today - dt.timedelta(days=today.weekday())
        return Window(start, today), Window(start - dt.timedelta(days=7), today - dt.timedelta(days=7))
    if period == "month":
        start = _month_start(today)
        return Window(start, today), _same_days_before(start, today, _month_start(today, 1))
    if period == "quarter":
        start = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return Window(start, today), _same_days_before(start, today, _month_start(start, 3))
    if period == "all":
        return Window(None, today), None
    raise ValueError(f"unknown period {period!r}: one of {', '.join(PERIODS)}")


@dataclass(frozen=True, slots=True)
class PeriodNumbers:
    """What happened in one window (the module's docstring defines each)."""

    new_leads: int = 0
    lost: int = 0
    value_lost: float = 0
    recovered: int = 0
    value_recovered: float = 0
    back_in_funnel: int = 0
    touches: int = 0
    calls: int = 0
    answers: int = 0
    interested: int = 0
    open_to_win_back: int = 0

    @property
    def win_back_rate(self) -> float | None:
        return win_back_rate(self.recovered, self.open_to_win_back)

    def as_dict(self) -> dict:
        out = {f.name: _num(getattr(self, f.name)) for f in fields(self)}
        rate = self.win_back_rate
        out["win_back_rate"] = round(rate, 4) if rate is not None else None
        return out


@dataclass(frozen=True, slots=True)
class OwnerActivity:
    """One owner's activity in a window."""

    owner: str          # team key (NO_OWNER for nobody)
    touches: int
    calls: int
    answers: int
    interested: int
    recovered: int


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    period: str                         # one of PERIODS
    label: str                          # "This week"
    window: Window
    previous: Window | None             # the same days of the period before; None for all time
    previous_words: str                 # "the same days of last week" ("" for all time)
    numbers: PeriodNumbers
    before: PeriodNumbers | None
    owners: tuple[OwnerActivity, ...]   # by team key

    def change(self, name: str) -> float | None:
        """``numbers.name`` minus ``before.name``; None without a period before (or a rate)."""
        if self.before is None:
            return None
        now, then = getattr(self.numbers, name), getattr(self.before, name)
        if now is None or then is None:
            return None
        return now - then

    def as_dict(self) -> dict:
        return {
            "period": self.period,
            "from": self.window.start.isoformat() if self.window.start else None,
            "to": self.window.end.isoformat(),
            **self.numbers.as_dict(),
            "previous": None if self.previous is None or self.before is None else {
                "from": self.previous.start.isoformat() if self.previous.start else None,
                "to": self.previous.end.isoformat(), **self.before.as_dict()},
            "by_owner": {o.owner: {"touches": o.touches, "calls": o.calls, "answers": o.answers,
                                   "interested": o.interested, "recovered": o.recovered}
                         for o in self.owners},
        }


def win_back_rate(recovered: int, lost: int) -> float | None:
    """Recovered ÷ lost (None when nothing was lost)."""
    return recovered / lost if lost else None


def _num(x):
    return int(x) if isinstance(x, float) and x.is_integer() else round(x, 2) if isinstance(x, float) else x


def _won_back_on(st: LeadState, won_stage: str) -> dt.date | None:
    """The day a lead was won back (won after its loss), or None."""
    if st.status != "recovered":
        return None
    return st.reached.get(won_stage)


def _back_on(st: LeadState) -> dt.date | None:
    """The first day a lost lead reached a stage again after its loss, or None."""
    lost = st.lead.lost
    if lost is None:
        return None
    after = [d for d in st.reached.values() if d > lost.date]
    return min(after) if after else None


class _Daily:
    """Counters per (owner, day): every window is then a sum over a few thousand keys."""

    def __init__(self, model: Model, states: Mapping[str, LeadState]):
        settings = model.settings
        won_stage, first_stage = settings.funnel[-1], settings.funnel[0]
        counts: dict[tuple[str, str], list] = {}
        lost_days: dict[str, int] = {}          # day -> leads lost that day (every owner)
        recovered_days: dict[str, int] = {}

        def add(owner: str, day: dt.date | str, i: int, n: float = 1) -> None:
            key = (owner, day if isinstance(day, str) else day.isoformat())
            c = counts.get(key)
            if c is None:
                c = counts[key] = [0] * _N
            c[i] += n

        owner_of = settings.owner_of
        history = model.history.by_lead
        for lead_id, st in states.items():
            lead = st.lead
            owner = owner_of(lead.owner) or NO_OWNER
            first = st.reached.get(first_stage)
            if first is not None:
                add(owner, first, _NEW)
            if lead.lost is not None:
                day = lead.lost.date.isoformat()
                add(owner, day, _LOST)
                add(owner, day, _VLOST, lead.value)
                lost_days[day] = lost_days.get(day, 0) + 1
                won = _won_back_on(st, won_stage)
                if won is not None:
                    add(owner, won, _REC)
                    add(owner, won, _VREC, lead.value)
                    recovered_days[won.isoformat()] = recovered_days.get(won.isoformat(), 0) + 1
                back = _back_on(st)
                if back is not None:
                    add(owner, back, _BACK)
            records = history.get(lead_id)
            if not records:
                continue
            # hot at a million records: records unpacked (not read field by field), the events
            # nobody counts skipped first, the counters of the record's day fetched inline
            touched: set[str] = set()
            heard: set[tuple[str, str]] = set()
            for day, _at, ev, _lead, _camp, _enr, step, _ch, _var, touch, ref, _note in records:
                if ev not in _COUNTED:
                    continue
                if ev in TOUCH_COUNTED:
                    if step[:1] == "-" or (touch and touch in touched):
                        continue        # the owner's own follow-up task, or a touch recorded twice
                    if touch:
                        touched.add(touch)
                    i = _TOUCH
                elif ev in _CALLS:
                    i = _CALL
                else:
                    i = -1
                key = (owner, day)
                c = counts.get(key)
                if c is None:
                    c = counts[key] = [0] * _N
                if i >= 0:
                    c[i] += 1
                if ev in _ANSWERS:
                    if ref:
                        seen = (ev, ref)
                        if seen in heard:
                            continue
                        heard.add(seen)
                    c[_ANS] += 1
                    if ev == "interested":
                        c[_INT] += 1
        self.counts = counts
        self.lost_days = lost_days
        self.recovered_days = recovered_days

    def numbers(self, window: Window) -> tuple[PeriodNumbers, tuple[OwnerActivity, ...]]:
        total = [0] * _N
        owners: dict[str, list] = {}
        for (owner, day), c in self.counts.items():
            if not window.holds(day):
                continue
            mine = owners.get(owner)
            if mine is None:
                mine = owners[owner] = [0] * _N
            for i in range(_N):
                total[i] += c[i]
                mine[i] += c[i]
        end = window.end.isoformat()
        start = window.start.isoformat() if window.start else ""
        lost_by_end = sum(n for d, n in self.lost_days.items() if d <= end)
        won_before = sum(n for d, n in self.recovered_days.items() if d < start)
        nums = PeriodNumbers(
            new_leads=total[_NEW], lost=total[_LOST], value_lost=total[_VLOST], recovered=total[_REC],
            value_recovered=total[_VREC], back_in_funnel=total[_BACK], touches=total[_TOUCH],
            calls=total[_CALL], answers=total[_ANS], interested=total[_INT],
            open_to_win_back=lost_by_end - won_before)
        acts = tuple(OwnerActivity(o, c[_TOUCH], c[_CALL], c[_ANS], c[_INT], c[_REC])
                     for o, c in sorted(owners.items()))
        return nums, acts


def _summary(daily: _Daily, today: dt.date, period: str) -> PeriodSummary:
    window, previous = period_windows(today, period)
    numbers, owners = daily.numbers(window)
    before = daily.numbers(previous)[0] if previous is not None else None
    return PeriodSummary(period, PERIOD_LABELS[period], window, previous, _BEFORE_WORDS.get(period, ""),
                         numbers, before, owners)


def period_summary(model: Model, today: dt.date, period: str, *,
                   states: Mapping[str, LeadState] | None = None) -> PeriodSummary:
    """One period's numbers (``period``: one of :data:`PERIODS`) against the same days of the
    period before. ``states``: the derived lead states, when the caller has them already."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}: one of {', '.join(PERIODS)}")
    return _summary(_Daily(model, states if states is not None else derive_states(model)), today, period)


def period_summaries(model: Model, today: dt.date,
                     states: Mapping[str, LeadState] | None = None) -> tuple[PeriodSummary, ...]:
    """Every period of :data:`PERIODS`, in that order, from one walk over leads and history."""
    daily = _Daily(model, states if states is not None else derive_states(model))
    return tuple(_summary(daily, today, p) for p in PERIODS)


@dataclass(frozen=True, slots=True)
class MonthRow:
    month: dt.date      # its first day
    recovered: int      # leads won back that month
    value: float        # their value


def recovered_by_month(states: Iterable[LeadState], settings: Settings, today: dt.date, *,
                       months: int = 12) -> tuple[MonthRow, ...]:
    """Leads won back (won after their loss) and their value, per calendar month, the last
    ``months`` months up to today's, oldest first."""
    firsts = [_month_start(today, months - 1 - i) for i in range(months)]
    index = {(d.year, d.month): i for i, d in enumerate(firsts)}
    counts = [0] * months
    values = [0.0] * months
    won_stage = settings.funnel[-1]
    for st in states:
        won = _won_back_on(st, won_stage)
        if won is None or won > today:
            continue
        i = index.get((won.year, won.month))
        if i is not None:
            counts[i] += 1
            values[i] += st.lead.value
    return tuple(MonthRow(firsts[i], counts[i], values[i]) for i in range(months))


def won_back_before(states: Iterable[LeadState], settings: Settings, first: dt.date) -> tuple[int, float]:
    """Leads won back before ``first`` (the first month :func:`recovered_by_month` shows) and their
    value: what the "recovered to date" total holds beyond those months."""
    n, value = 0, 0.0
    won_stage = settings.funnel[-1]
    for st in states:
        won = _won_back_on(st, won_stage)
        if won is not None and won < first:
            n += 1
            value += st.lead.value
    return n, value


def lost_value_by_reason(states: Iterable[LeadState], settings: Settings) -> dict[str, float]:
    """Every lead with a loss on record: the sum of their values per lost reason (settings order)."""
    out = dict.fromkeys(settings.lost_reasons, 0.0)
    for st in states:
        lost = st.lead.lost
        if lost is not None:
            out[lost.reason] = out.get(lost.reason, 0.0) + st.lead.value
    return out


def reason_by_stage(states: Iterable[LeadState], settings: Settings) -> dict[str, dict[str, int]]:
    """Every lead with a loss on record, counted by lost reason (settings order) and the stage
    it was lost at (funnel order)."""
    out = {r: dict.fromkeys(settings.funnel, 0) for r in settings.lost_reasons}
    for st in states:
        lost = st.lead.lost
        if lost is not None:
            row = out.setdefault(lost.reason, dict.fromkeys(settings.funnel, 0))
            row[lost.stage] = row.get(lost.stage, 0) + 1
    return out


def owner_backlog(states: Iterable[LeadState], settings: Settings, today: dt.date) -> dict[str, dict[str, int]]:
    """Per owner as leads.yaml names them (team key, or ``(unassigned)``; sorted), as of
    ``today``: follow-ups past their date on leads still to work, and replies waiting for someone
    to record what came of them. (Keyed like :func:`relead.derive.funnel.by_owner`, beside which it is
    shown.)"""
    out: dict[str, dict[str, int]] = {}
    for st in states:
        lead = st.lead
        overdue = (lead.follow_up is not None and lead.follow_up < today
                   and st.status not in _CLOSED_STATUSES)
        waiting = st.reply_waiting
        if not (overdue or waiting):
            continue
        row = out.setdefault(lead.owner or NO_OWNER,
                             {"follow_ups_overdue": 0, "replies_waiting": 0})
        row["follow_ups_overdue"] += overdue
        row["replies_waiting"] += waiting
    return dict(sorted(out.items()))
