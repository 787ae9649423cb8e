"""Everything the dashboard and the checks read, derived once from (model, today)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

from . import funnel as F
from .hygiene import Hygiene, hygiene
from .model import Model
from .priorities import Priority, rank
from .state import LeadState, derive_states

__all__ = ["Derived", "derive"]


@dataclass(frozen=True)
class Derived:
    model: Model
    today: dt.date
    states: Mapping[str, LeadState]
    funnel: tuple[F.StageCount, ...]
    statuses: Mapping[str, int]
    losses: Mapping[str, Mapping[str, int]]
    by_source: Mapping[str, dict]
    by_owner: Mapping[str, dict]
    weeks: tuple[F.Week, ...]
    recovery: F.Recovery
    priorities: tuple[Priority, ...]
    hygiene: Hygiene


def derive(model: Model, today: dt.date) -> Derived:
    states = derive_states(model)
    values = list(states.values())
    settings = model.settings
    return Derived(
        model=model, today=today, states=states,
        funnel=F.funnel(values, settings),
        statuses=F.status_counts(values),
        losses=F.losses_by(values, settings),
        by_source=F.by_source(values, settings),
        by_owner=F.by_owner(values),
        weeks=F.weekly(values, settings, today),
        recovery=F.recovery(values, settings),
        priorities=rank(values, settings, today),
        hygiene=hygiene(states, model.campaigns, model.history, today,
                        touch_target=settings.scoring.touch_target),
    )
