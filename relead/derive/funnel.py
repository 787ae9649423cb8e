"""Where leads were lost and why: the funnel, losses by dimension, weekly metrics, recovery."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Mapping

from ..model import Settings
from ..vocab import CATEGORIES, STATUSES, TEMPERATURES
from .state import LeadState

__all__ = ["StageCount", "funnel", "status_counts", "losses_by", "by_source", "by_owner",
           "Week", "weekly", "week_start", "Recovery", "recovery", "NO_SOURCE", "NO_OWNER"]

NO_SOURCE = "(none)"
NO_OWNER = "(unassigned)"


@dataclass(frozen=True, slots=True)
class StageCount:
    stage: str
    reached: int       # leads whose furthest stage ever reached is this one or later
    lost_here: int     # leads with a `lost` record at this stage, whatever happened later

    @property
    def drop_off(self) -> float:
        """Share of the leads that reached this stage and were lost here (0..1)."""
        return self.lost_here / self.reached if self.reached else 0.0


def funnel(states: Iterable[LeadState], settings: Settings) -> tuple[StageCount, ...]:
    stages = settings.funnel
    ended_at = [0] * len(stages)        # leads whose furthest stage is each one
    lost_at = dict.fromkeys(stages, 0)
    for st in states:
        ended_at[st.furthest] += 1
        if st.lead.lost is not None:
            lost_at[st.lead.lost.stage] += 1
    out = []
    running = 0                         # monotone: reaching a stage counts for every one before it
    for i in reversed(range(len(stages))):
        running += ended_at[i]
        out.append(StageCount(stages[i], running, lost_at[stages[i]]))
    return tuple(reversed(out))


_SUMMARY_ORDER = ("open", "lost", "back_in_funnel", "recovered", "won", "dead")


def status_counts(states: Iterable[LeadState]) -> dict[str, int]:
    """Each lead once, by its current status (in summary.json's order)."""
    counts = dict.fromkeys(_SUMMARY_ORDER, 0)
    total = 0
    for st in states:
        counts[st.status] += 1
        total += 1
    return {"total": total, **counts}


def losses_by(states: Iterable[LeadState], settings: Settings) -> dict[str, dict[str, int]]:
    """Every lead with a `lost` record, by reason, category, temperature, source and owner."""
    reason = dict.fromkeys(settings.lost_reasons, 0)
    category = dict.fromkeys(CATEGORIES, 0)
    temperature = dict.fromkeys(TEMPERATURES, 0)
    source: dict[str, int] = {}
    owner: dict[str, int] = {}
    for st in states:
        lost = st.lead.lost
        if lost is None:
            continue
        reason[lost.reason] += 1
        category[st.category] += 1
        temperature[lost.temperature] += 1
        s = st.lead.source or NO_SOURCE
        source[s] = source.get(s, 0) + 1
        o = st.lead.owner or NO_OWNER
        owner[o] = owner.get(o, 0) + 1
    return {"reason": reason, "category": category, "temperature": temperature,
            "source": dict(sorted(source.items())), "owner": dict(sorted(owner.items()))}


def by_source(states: Iterable[LeadState], settings: Settings) -> dict[str, dict]:
    """Per source: how many came in, how many reached each stage, how many were won."""
    stages = settings.funnel
    out: dict[str, dict] = {}
    for st in states:
        key = st.lead.source or NO_SOURCE
        row = out.get(key)
        if row is None:
            row = out[key] = {"leads": 0, "reached": dict.fromkeys(stages, 0), "won": 0, "lost": 0}
        row["leads"] += 1
        reached = row["reached"]
        for i in range(st.furthest + 1):
            reached[stages[i]] += 1
        if stages[-1] in st.reached:
            row["won"] += 1
        if st.lead.lost is not None:
            row["lost"] += 1
    return dict(sorted(out.items()))


def by_owner(states: Iterable[LeadState]) -> dict[str, dict]:
    """Per owner: leads, how many by status, and the value still at stake."""
    out: dict[str, dict] = {}
    for st in states:
        key = st.lead.owner or NO_OWNER
        row = out.get(key)
        if row is None:
            row = out[key] = {"leads": 0, **dict.fromkeys(STATUSES, 0), "value_at_stake": 0}
        row["leads"] += 1
        row[st.status] += 1
        if st.status == "lost":
            row["value_at_stake"] += st.lead.value
    return dict(sorted(out.items()))


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True, slots=True)
class Week:
    start: dt.date
    counts: Mapping[str, int]     # stage -> leads that reached it that week


def weekly(states: Iterable[LeadState], settings: Settings, today: dt.date, *, weeks: int = 12) -> tuple[Week, ...]:
    """Stage arrivals per ISO week (Monday first), the last ``weeks`` weeks, ending with today's."""
    last = week_start(today)
    first = last - dt.timedelta(weeks=weeks - 1)
    stages = settings.funnel
    buckets = [dict.fromkeys(stages, 0) for _ in range(weeks)]
    end = last + dt.timedelta(days=7)
    for st in states:
        for stage, day in st.reached.items():
            if first <= day < end:
                buckets[(day - first).days // 7][stage] += 1
    return tuple(Week(first + dt.timedelta(weeks=i), b) for i, b in enumerate(buckets))


@dataclass(frozen=True, slots=True)
class Recovery:
    lost: int                  # leads with a `lost` record
    recovered: int             # won after the loss
    back_in_funnel: int
    back_at: Mapping[str, int]  # back-in-funnel leads by the furthest stage reached since the loss
    gone_for_good: int         # dead
    still_lost: int
    value_at_stake: float      # value of leads still lost
    value_recovered: float     # value of recovered leads


def recovery(states: Iterable[LeadState], settings: Settings) -> Recovery:
    stages = settings.funnel
    back_at = dict.fromkeys(stages[:-1], 0)
    n = dict.fromkeys(STATUSES, 0)
    lost = 0
    stake = recovered_value = 0
    for st in states:
        if st.lead.lost is None:
            continue
        lost += 1
        n[st.status] += 1
        if st.status == "lost":
            stake += st.lead.value
        elif st.status == "recovered":
            recovered_value += st.lead.value
        elif st.status == "back_in_funnel":
            since = [s for s, d in st.reached.items() if d > st.lead.lost.date]
            back_at[max(since, key=stages.index)] += 1
    return Recovery(lost=lost, recovered=n["recovered"], back_in_funnel=n["back_in_funnel"],
                    back_at=back_at, gone_for_good=n["dead"], still_lost=n["lost"],
                    value_at_stake=stake, value_recovered=recovered_value)
