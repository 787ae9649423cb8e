"""summary.json (SPEC 5): the headline numbers, for people and for scripts."""

from __future__ import annotations

from typing import Any

from .derive import Derived
from .history import RESPONSE_EVENTS
from .state import TOUCH_COUNTED
from .vocab import SEND_CHANNELS, TASK_CHANNELS

__all__ = ["summary", "channel_stats"]


def _num(x: float) -> float | int:
    """Whole numbers as ints, so 12000.0 prints as 12000."""
    return int(x) if float(x).is_integer() else round(x, 2)


def channel_stats(derived: Derived) -> dict[str, dict[str, int]]:
    """Per channel: touches sent and responses that followed them.

    A response recorded without a channel counts for the channel of the lead's
    last touch before it.
    """
    stats = {c: {"sent": 0, "responses": 0} for c in SEND_CHANNELS + TASK_CHANNELS}
    # a call nobody answered, a voicemail or a wrong number is not the lead answering
    responses = frozenset(RESPONSE_EVENTS) - {"bounced", "opted_out", "no_answer", "voicemail", "wrong_number"}
    for records in derived.model.history.by_lead.values():
        last_channel = ""
        for rec in records:
            if rec.event in TOUCH_COUNTED and rec.channel in stats:
                stats[rec.channel]["sent"] += 1
                last_channel = rec.channel
            elif rec.event in responses:
                channel = rec.channel or last_channel
                if channel in stats:
                    stats[channel]["responses"] += 1
    return stats


def summary(derived: Derived) -> dict[str, Any]:
    rec = derived.recovery
    hyg = derived.hygiene
    return {
        "as_of": derived.today.isoformat(),
        "leads": dict(derived.statuses),
        "funnel": [{"stage": s.stage, "reached": s.reached, "lost_here": s.lost_here}
                   for s in derived.funnel],
        "lost_by_reason": dict(derived.losses["reason"]),
        "lost_by_category": dict(derived.losses["category"]),
        "lost_by_temperature": dict(derived.losses["temperature"]),
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
        },
        "channels": channel_stats(derived),
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
    }
