"""The campaigns page (every campaign, and how channels, hooks and touch numbers compare) and each
campaign's own page."""

from __future__ import annotations

from typing import Mapping, Sequence

from relead.derive.campaign_stats import TOUCH_BUCKETS, CampaignStats, Ranking, Stats, TouchCurve, ranking
from relead.derive.derived import Derived
from relead.model import Campaign

from .. import charts
from ..contexts import CampaignCard, CampaignContext, CampaignsContext, ChannelRow, NavItem, TouchRow
from .common import _owner_name, campaign_href, chrome, money


def _channel_rows(by_channel: Mapping) -> tuple[tuple[ChannelRow, ...], Ranking]:
    judged = ranking(by_channel)
    return tuple(ChannelRow(ch, t, ch == judged.best, judged.lower.get(ch))
                 for ch, t in by_channel.items()), judged


def _touch_rows(curve: TouchCurve) -> tuple[TouchRow, ...]:
    names = [str(i + 1) for i in range(TOUCH_BUCKETS - 1)] + [f"{TOUCH_BUCKETS}+"]
    return tuple(TouchRow(names[i], curve.sent[i], curve.replied[i], curve.interested[i], curve.recovered[i])
                 for i in range(TOUCH_BUCKETS))


def _touch_chart(rows: Sequence[TouchRow], id: str) -> charts.Chart:
    # counts of leads on one axis: touches sent (far more) stay in the table
    return charts.grouped_bar_chart(
        [r.touch for r in rows],
        [("answered", [r.replied for r in rows]), ("interested", [r.interested for r in rows]),
         ("won back", [r.recovered for r in rows])],
        id=id, title="Answers, interest and leads won back, by the touch number that drew them")


def _hooks(camp: Campaign) -> tuple[str, ...]:
    if camp.variants:
        return tuple(f"{v.key}: {v.hook or camp.hook}" for v in sorted(camp.variants, key=lambda v: v.key))
    return (camp.hook,)


def campaigns(derived: Derived, stats: Stats, nav: tuple[NavItem, ...]) -> CampaignsContext:
    model = derived.model
    cards = tuple(CampaignCard(c, campaign_href(cid), _hooks(c), stats.campaigns[cid])
                  for cid, c in sorted(model.campaigns.items(), key=lambda kv: (-kv[1].priority, kv[0])))
    channel_rows, judged = _channel_rows(stats.by_channel)
    hooks = stats.by_hook
    names = [f"{h.hook} ({h.campaign}{', variant ' + h.variant if h.variant else ''})" for h in hooks]
    hook_judged = ranking({names[i]: h.tally for i, h in enumerate(hooks)})
    best_hook = hooks[names.index(hook_judged.best)] if hook_judged.best is not None else None
    touch_rows = _touch_rows(stats.touches)
    return CampaignsContext(
        chrome=chrome(derived, nav, "Campaigns", active="campaigns"),
        currency=model.settings.currency, cards=cards, total=stats.tally, channels=channel_rows,
        channel_ranking=judged, hooks=hooks,
        hook_lower=tuple(hook_judged.lower.get(n) for n in names), best_hook=best_hook,
        hook_ranking=hook_judged, touches=touch_rows,
        touch_chart=_touch_chart(touch_rows, "touches"), unattributed=stats.unattributed)


def _or(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def audience_words(derived: Derived, camp: Campaign) -> tuple[str, ...]:
    aud = camp.audience
    if aud is None:
        return ("No audience: it enrols only leads that name it in leads.yaml (`campaign:`) "
                "and leads handed over by other campaigns.",)
    settings = derived.model.settings
    out = []
    if aud.status:
        out.append("Status " + _or([s.replace("_", " ") for s in aud.status]))
    if aud.temperature:
        out.append(_or(aud.temperature).capitalize() + " when lost")
    if aud.lost_stage:
        out.append("Lost at " + _or(aud.lost_stage))
    if aud.reasons:
        out.append("Lost because: " + _or([settings.lost_reasons[r].label if r in settings.lost_reasons else r
                                           for r in aud.reasons]))
    if aud.categories:
        out.append("Reason category " + _or([c.replace("_", " ") for c in aud.categories]))
    if aud.sources:
        out.append("Source " + _or(aud.sources))
    if aud.owners:
        out.append("Owner " + _or([_owner_name(derived.model, o) for o in aud.owners]))
    if aud.min_value:
        out.append(f"Worth at least {money(aud.min_value, settings.currency)}")
    if aud.lost_before_days:
        out.append(f"Lost at least {aud.lost_before_days} days ago")
    out.append("Contactable, and no recycle date still ahead")
    return tuple(out)


def outcome_words(derived: Derived, camp: Campaign) -> tuple[str, ...]:
    funnel = derived.model.settings.funnel
    names = {cid: c.name for cid, c in derived.model.campaigns.items()}
    out = []
    rule = camp.outcomes.get("interested")
    stage = rule.stage if rule is not None and rule.stage else funnel[1]
    out.append(f"Interested: back into the funnel at {stage}; the sequence stops and the owner gets a call task.")
    for key, what in (("not_interested", "Not interested"), ("no_response", "No response after the last step")):
        rule = camp.outcomes.get(key)
        if rule is not None and rule.then:
            out.append(f"{what}: handed over to {names.get(rule.then, rule.then)}.")
        else:
            out.append(f"{what}: the sequence ends; nothing else is planned.")
    rule = camp.outcomes.get("out_of_scope")
    days = rule.review_after_days if rule is not None and rule.review_after_days else 365
    out.append(f"Out of scope: gone for good, reviewed again after {days} days.")
    return tuple(out)


def campaign(derived: Derived, cs: CampaignStats, nav: tuple[NavItem, ...]) -> CampaignContext:
    camp = cs.campaign
    sending = derived.model.settings.sending
    unit = "business day" if sending.steps_in_business_days else "day"
    steps = tuple((f"{unit.capitalize()} {s.day}" if s.day else "On enrolment", s.message) for s in camp.steps)
    channel_rows, judged = _channel_rows({ch: t for ch, t in cs.by_channel.items() if t.sent or t.skipped})
    variants = {v.variant: v.tally for v in cs.by_variant if v.variant}
    variant_judged = ranking(variants) if len(variants) > 1 else None
    touch_rows = _touch_rows(cs.touches)
    step_labels = [f"{s.index + 1} {s.channel}" for s in cs.steps]
    steps_chart = charts.grouped_bar_chart(
        step_labels, [("answered", [s.tally.reply_rate for s in cs.steps]),
                      ("interested", [s.tally.interest_rate for s in cs.steps])],
        id="steps", title="Answers and interest per touch sent, step by step", percent=True)
    return CampaignContext(
        chrome=chrome(derived, nav, camp.name, active="campaigns", depth=1),
        currency=derived.model.settings.currency, campaign=camp,
        audience=audience_words(derived, camp), outcomes=outcome_words(derived, camp), steps=steps,
        stats=cs, channels=channel_rows, channel_ranking=judged, variant_ranking=variant_judged,
        best_variant=variant_judged.best if variant_judged is not None else None,
        touches=touch_rows, touch_chart=_touch_chart(touch_rows, "touches"), steps_chart=steps_chart)
