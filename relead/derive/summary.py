"""summary.json: the dashboard's numbers, for people and for scripts (docs/formats.md, summary.json)."""

from __future__ import annotations

from typing import Any

from . import periods as P
from .campaign_stats import TOUCH_BUCKETS, ranking
from .derived import Derived
from .hygiene import CLOSED_CHANNELS

__all__ = ["summary", "sync_summary"]


def _num(x: float) -> float | int:
    """Whole numbers as ints, so 12000.0 prints as 12000."""
    return int(x) if float(x).is_integer() else round(x, 2)


def sync_summary(derived: Derived) -> dict[str, Any]:
    """What `make sync` brought back that needs a person, every list sorted: the leads whose reply
    waits for an outcome, the leads away (out of office: no touch before the date) and the leads
    whose email or SMS is closed for good."""
    hyg = derived.hygiene
    closed: dict[str, list[str]] = {ch: [] for ch in CLOSED_CHANNELS}
    for lead_id, channel in hyg.closed:
        closed[channel].append(lead_id)
    return {
        "replies_waiting": sorted(hyg.replies_waiting),
        "paused": {lead_id: day.isoformat() for lead_id, day in sorted(hyg.paused)},
        "closed": {ch: sorted(ids) for ch, ids in closed.items()},
    }


def campaign_summary(derived: Derived) -> dict[str, Any]:
    """What the campaigns page compares: per channel its tally and the interest rate it can be
    95% sure of, which channel is best so far and by what rule, and the touch numbers."""
    stats = derived.stats
    judged = ranking(stats.by_channel)
    curve = stats.touches
    names = [str(i + 1) for i in range(TOUCH_BUCKETS - 1)] + [f"{TOUCH_BUCKETS}+"]
    return {
        "channels": {ch: {"sent": t.sent, "answered": t.replied, "interested": t.interested,
                          "recovered": t.recovered, "value_recovered": _num(t.value_recovered),
                          "interest_at_least": round(judged.lower[ch], 4) if ch in judged.lower else None}
                     for ch, t in stats.by_channel.items()},
        "best_channel": judged.best,
        "compared_with_at_least": judged.min_sent,
        "left_out": [ch for ch, _ in judged.left_out],
        "touch_numbers": [{"touch": names[i], "sent": curve.sent[i], "answered": curve.replied[i],
                           "interested": curve.interested[i], "recovered": curve.recovered[i]}
                          for i in range(TOUCH_BUCKETS)],
    }


def summary(derived: Derived) -> dict[str, Any]:
    rec = derived.recovery
    hyg = derived.hygiene
    settings = derived.model.settings
    states = derived.states.values()
    rate = P.win_back_rate(rec.recovered, rec.lost)
    return {
        "as_of": derived.today.isoformat(),
        "leads": dict(derived.statuses),
        "funnel": [{"stage": s.stage, "reached": s.reached, "lost_here": s.lost_here}
                   for s in derived.funnel],
        "lost_by_reason": dict(derived.losses["reason"]),
        "lost_by_category": dict(derived.losses["category"]),
        "lost_by_temperature": dict(derived.losses["temperature"]),
        "lost_value_by_reason": {k: _num(v) for k, v in P.lost_value_by_reason(states, settings).items()},
        "lost_by_reason_and_stage": P.reason_by_stage(states, settings),
        "by_source": {k: {"leads": v["leads"], "reached": dict(v["reached"]), "won": v["won"]}
                      for k, v in derived.by_source.items()},
        "by_owner": {k: {**v, "value_at_stake": _num(v["value_at_stake"])}
                     for k, v in derived.by_owner.items()},
        "weekly": [{"week": w.start.isoformat(), **w.counts} for w in derived.weeks],
        "priorities": [{"id": p.lead.id, "rank": p.rank, "score": _num(p.score)}
                       for p in derived.priorities],
        "recovery": {
            "lost": rec.lost, "recovered": rec.recovered, "back_in_funnel": rec.back_in_funnel,
            "back_at": dict(rec.back_at), "gone_for_good": rec.gone_for_good,
            "still_lost": rec.still_lost, "value_at_stake": _num(rec.value_at_stake),
            "value_recovered": _num(rec.value_recovered),
            "win_back_rate": round(rate, 4) if rate is not None else None,
        },
        "periods": {ps.period: ps.as_dict() for ps in derived.periods},
        "recovered_by_month": [{"month": m.month.isoformat()[:7], "recovered": m.recovered, "value": _num(m.value)}
                               for m in P.recovered_by_month(states, settings, derived.today)],
        "owner_backlog": P.owner_backlog(states, settings, derived.today),
        "campaigns": campaign_summary(derived),
        "channels": derived.channels,
        "hygiene": {
            "no_next_action": list(hyg.no_next_action),
            "incomplete_overdue": list(hyg.incomplete_overdue),
            "uncontactable": list(hyg.uncontactable),
            "given_up_early": list(hyg.given_up_early),
            "duplicates": [{"why": why, "ids": list(ids)} for why, ids in hyg.duplicates],
            "unknown_touches": [{"lead": r.lead, "touch": r.touch, "channel": r.channel, "day": r.day}
                                for r in hyg.unknown_touches],
            "review_due": list(hyg.review_due),
        },
        "sync": sync_summary(derived),
    }
