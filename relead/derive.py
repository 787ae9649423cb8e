"""Everything the dashboard and the checks read, derived once from (model, today)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

from . import funnel as F
from .gcpause import collector_paused
from .hygiene import Hygiene, hygiene
from .jobs import Mapped, jobs_for
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
    as_of: dt.datetime | None = None     # the settings' as_of, when it gave ``today`` (relead.clock)


# Below this many leads, hygiene takes less time than forking a worker for it and pickling its
# result back.
MIN_LEADS_APART = 20_000


def derive(model: Model, today: dt.date, *, as_of: dt.datetime | None = None,
           jobs: int | None = None) -> Derived:
    """Everything derived from the model. ``jobs`` (:func:`relead.jobs.jobs_for`): with more
    than one and a large model, hygiene is worked out in a worker while this process ranks."""
    # Like loading (relead.load), deriving makes hundreds of thousands of objects that live
    # as long as the command, and no cycles: the cyclic collector would only walk them again.
    with collector_paused(keep=True):
        return _derive(model, today, as_of, jobs)


def _derive(model: Model, today: dt.date, as_of: dt.datetime | None = None, jobs: int | None = None) -> Derived:
    states = derive_states(model)
    values = list(states.values())
    settings = model.settings
    apart = len(states) >= MIN_LEADS_APART and jobs_for(jobs) > 1
    global _HYGIENE
    _HYGIENE = (states, model)
    try:
        with Mapped(_hygiene, [today], jobs=2 if apart else 1) as mapped:
            derived = dict(
                funnel=F.funnel(values, settings),
                statuses=F.status_counts(values),
                losses=F.losses_by(values, settings),
                by_source=F.by_source(values, settings),
                by_owner=F.by_owner(values),
                weeks=F.weekly(values, settings, today),
                recovery=F.recovery(values, settings),
                priorities=rank(values, settings, today))
            derived["hygiene"], = mapped.results()
    finally:
        _HYGIENE = None
    return Derived(model=model, today=today, states=states, as_of=as_of, **derived)


_HYGIENE: tuple | None = None       # (states, model), set while the worker forks: it inherits them


def _hygiene(today: dt.date) -> Hygiene:
    states, model = _HYGIENE
    return hygiene(states, model.campaigns, model.history, today,
                   touch_target=model.settings.scoring.touch_target)
