"""Whom to contact first: the points score (docs/formats.md, "Priority score"), with each lead's breakdown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from ..model import Settings
from .state import LeadState

__all__ = ["Points", "Priority", "score", "rank"]


@dataclass(frozen=True, slots=True)
class Points:
    factor: str       # temperature, stage, value, recycle, decision_maker, touches, age
    points: float
    why: str


@dataclass(frozen=True, slots=True)
class Priority:
    rank: int
    state: LeadState
    score: float
    breakdown: tuple[Points, ...]

    @property
    def lead(self):
        return self.state.lead


def _months_between(earlier: dt.date, later: dt.date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (1 if later.day < earlier.day else 0)


def score(state: LeadState, settings: Settings, today: dt.date) -> tuple[float, tuple[Points, ...]]:
    """The score of one lost lead and the points that make it up (they add up to the score)."""
    w = settings.scoring
    lead, lost = state.lead, state.lead.lost
    parts: list[Points] = []
    if lost is not None:
        parts.append(Points("temperature", w.temperature.get(lost.temperature, 0),
                            f"{lost.temperature} when lost"))
        parts.append(Points("stage", w.stage.get(lost.stage, 0), f"lost at {lost.stage}"))
    if lead.value:
        pts = min(lead.value / w.value_per_point, w.value_max_points)
        parts.append(Points("value", round(pts, 1), f"worth {lead.value:,.0f} {settings.currency}"))
    if lead.recycle_on is not None:
        if lead.recycle_on <= today:
            parts.append(Points("recycle", w.recycle_due, f"recycle date {lead.recycle_on} reached"))
        else:
            parts.append(Points("recycle", -w.recycle_due, f"not before {lead.recycle_on}"))
    if lead.decision_maker:
        parts.append(Points("decision_maker", w.decision_maker, "decision maker known"))
    missing = max(0, w.touch_target - state.touches)
    if missing:
        parts.append(Points("touches", missing * w.per_missing_touch,
                            f"{state.touches} of {w.touch_target} touches so far"))
    subtotal = sum(p.points for p in parts)
    if lost is not None:
        months = _months_between(lost.date, today)
        if months > w.old_loss_months and subtotal > 0:
            parts.append(Points("age", round(subtotal * (w.old_loss_factor - 1), 1),
                                f"lost {months} months ago: counts {w.old_loss_factor:.0%}"))
    total = round(sum(p.points for p in parts), 1)
    return total, tuple(parts)


_COOL = {"cold": 0, "warm": 1, "hot": 2}


def rank(states: Iterable[LeadState], settings: Settings, today: dt.date) -> tuple[Priority, ...]:
    """Every rankable lead (lost and contactable), best first.

    Ties go to the higher value, then the id, so the order never depends on file order.
    With ``scoring.coolest_first`` the coldest leads come first, best first within each.
    """
    scored = []
    for st in states:
        if st.rankable:
            total, parts = score(st, settings, today)
            scored.append((st, total, parts))
    if settings.scoring.coolest_first:
        key = lambda t: (_COOL.get(t[0].lead.lost.temperature, 3), -t[1], -t[0].lead.value, t[0].lead.id)
    else:
        key = lambda t: (-t[1], -t[0].lead.value, t[0].lead.id)
    scored.sort(key=key)
    return tuple(Priority(i, st, total, parts) for i, (st, total, parts) in enumerate(scored, 1))
