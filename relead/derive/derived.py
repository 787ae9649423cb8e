"""Everything the dashboard and the checks read, derived once from (model, today)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field, replace
from typing import Mapping

from ..gcpause import collector_paused
from ..jobs import Mapped, jobs_for
from ..model import Model
from . import funnel as F
from .campaign_stats import Stats, campaign_stats, channel_counts
from .hygiene import Hygiene, from_files, hygiene, next_actions
from .periods import PeriodSummary, period_summaries
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
    next_actions: Mapping[str, str | None]     # lead id -> what happens next (hygiene.next_action)
    as_of: dt.datetime | None = None     # the settings' as_of, when it gave ``today`` (relead.clock)
    ahead: "_Ahead | None" = field(default=None, repr=False, compare=False)   # derive(site=True)
    counted: dict[str, dict[str, int]] | None = field(default=None, repr=False, compare=False)   # channels, likewise

    # Walks over every history record that only the dashboard and summary.json need (not
    # `make check`): made when first asked for (or by a worker ahead), then shared by every
    # page and export.
    @functools.cached_property
    def stats(self) -> Stats:
        """What each campaign, channel and touch number brought (:mod:`relead.derive.campaign_stats`)."""
        made = self._made_ahead
        return made[0] if made is not None else campaign_stats(self.model, self.states)

    @functools.cached_property
    def periods(self) -> tuple[PeriodSummary, ...]:
        """This week, month and quarter against the one before (:mod:`relead.derive.periods`)."""
        made = self._made_ahead
        return made[1] if made is not None else period_summaries(self.model, self.today, self.states)

    @functools.cached_property
    def channels(self) -> dict[str, dict[str, int]]:
        """Per channel, touches sent and the answers that followed (:func:`campaign_stats.channel_counts`)."""
        return self.counted if self.counted is not None else channel_counts(self.model.history)

    @functools.cached_property
    def _made_ahead(self) -> tuple[Stats, tuple[PeriodSummary, ...]] | None:
        return self.ahead.result(self.model) if self.ahead is not None else None


# Below this many leads, what hygiene finds in the files takes less time than forking a worker for
# it and pickling its result back.
MIN_LEADS_APART = 20_000


def derive(model: Model, today: dt.date, *, as_of: dt.datetime | None = None,
           jobs: int | None = None, site: bool = False) -> Derived:
    """Everything derived from the model. ``jobs`` (:func:`relead.jobs.jobs_for`): with more
    than one and a large model, part of hygiene is worked out in a worker meanwhile; with
    ``site`` (the dashboard will be built), so are :attr:`Derived.stats` and ``periods``."""
    # Like loading (relead.read.load), deriving makes hundreds of thousands of objects that live
    # as long as the command, and no cycles: the cyclic collector would only walk them again.
    with collector_paused(keep=True):
        return _derive(model, today, as_of, jobs, site)


def _derive(model: Model, today: dt.date, as_of: dt.datetime | None = None, jobs: int | None = None,
            site: bool = False) -> Derived:
    settings = model.settings
    apart = len(model.leads) >= MIN_LEADS_APART and jobs_for(jobs) > 1
    ahead = None
    global _MODEL
    _MODEL = model
    try:
        # What hygiene finds in the files alone (and, for a build, the channels' counts) takes a
        # worker while this process derives the states, counts and ranks.
        with Mapped(_from_files, [site], jobs=2 if apart else 1) as mapped:
            states = derive_states(model)
            if apart and site:
                ahead = _Ahead(model, today, states)
            values = list(states.values())
            derived = dict(
                funnel=F.funnel(values, settings),
                statuses=F.status_counts(values),
                losses=F.losses_by(values, settings),
                by_source=F.by_source(values, settings),
                by_owner=F.by_owner(values),
                weeks=F.weekly(values, settings, today),
                recovery=F.recovery(values, settings),
                priorities=rank(values, settings, today))
            (found, counted), = mapped.results()
    finally:
        _MODEL = None
    derived["next_actions"] = actions = next_actions(states, model.campaigns, today)
    derived["hygiene"] = hygiene(states, model.campaigns, model.history, today,
                                 touch_target=settings.scoring.touch_target, found=found, actions=actions)
    return Derived(model=model, today=today, states=states, as_of=as_of, ahead=ahead, counted=counted, **derived)


_MODEL: Model | None = None       # set while the worker forks: it inherits it
_AHEAD: tuple | None = None        # (model, today, states), likewise


class _Ahead:
    """The dashboard's two walks over history (:attr:`Derived.stats`, ``periods``), made by a
    worker forked as soon as the states are known, while this process ranks, finds what
    hygiene finds, lints and locates problems (one core would idle else). A build finds them
    made, or nearly, when its pages need them."""

    def __init__(self, model: Model, today: dt.date, states: Mapping[str, LeadState]):
        global _AHEAD
        _AHEAD = (model, today, states)
        try:
            self._mapped = Mapped(_site_numbers, [None], jobs=2)
        finally:
            _AHEAD = None

    def result(self, model: Model) -> tuple[Stats, tuple[PeriodSummary, ...]]:
        (stats, periods), = self._mapped.results()
        # Each campaign's statistics came back without the campaign (the model's own object).
        return replace(stats, campaigns={cid: replace(c, campaign=model.campaigns[cid])
                                         for cid, c in stats.campaigns.items()}), periods


def _site_numbers(_: None) -> tuple[Stats, tuple[PeriodSummary, ...]]:
    model, today, states = _AHEAD
    stats = campaign_stats(model, states)
    return (replace(stats, campaigns={cid: replace(c, campaign=None) for cid, c in stats.campaigns.items()}),
            period_summaries(model, today, states))


def _from_files(site: bool) -> tuple:
    # The model's leads have unique ids (relead.read.load drops a reused one), so they are the
    # states' leads in the same order. For the dashboard, the channels' counts too: a walk over
    # history the worker has time for (it is done before the states are).
    return from_files(_MODEL.leads, _MODEL.history), channel_counts(_MODEL.history) if site else None
