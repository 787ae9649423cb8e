"""The overview (``index.html``): the recovery's numbers, the funnel, losses by reason, stage,
kind and temperature, months, periods, sources, weeks and owners."""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from relead.derive.campaign_stats import Stats
from relead.derive.derived import Derived
from relead.derive.funnel import NO_OWNER, NO_SOURCE
from relead.model import Model
from relead.derive import periods as P
from relead.vocab import CATEGORIES, TEMPERATURES

from .. import charts
from ..contexts import (
    CountRow, CrossRow, FunnelRow, MonthRow, NavItem, OverviewContext, OwnerActivityRow, OwnerRow, PeriodPanel,
    SourceRow, Stat, WeekRow,
)
from .common import SOURCES_SHOWN, _owner_name, chrome, label, money
from .priorities import drill_filters


def _count_rows(items: Iterable[tuple[str, int, str]]) -> tuple[CountRow, ...]:
    items = list(items)
    total = sum(n for _, n, _ in items)
    return tuple(CountRow(lb, n, n / total if total else 0.0, note) for lb, n, note in items)


def overview(derived: Derived, stats: Stats, nav: tuple[NavItem, ...]) -> OverviewContext:
    model = derived.model
    settings = model.settings
    cur = settings.currency
    rec = derived.recovery
    stages = settings.funnel
    stage_labels = tuple(label(s) for s in stages)

    back_words = ", ".join(f"{n} at {s.replace('_', ' ')}" for s, n in rec.back_at.items() if n)
    rate = P.win_back_rate(rec.recovered, rec.lost)
    by_campaign = stats.tally.recovered
    stat_cards = (
        Stat("Lost leads", f"{rec.still_lost:,}",
             f"still lost, of {rec.lost:,} with a loss on record", "bad"),
        Stat("Value at stake", money(rec.value_at_stake, cur), "in the leads still lost"),
        Stat("Recovered to date", f"{rec.recovered:,}",
             f"{money(rec.value_recovered, cur)}: every lead won after its loss, by any means "
             f"({by_campaign:,} after a campaign's touch)", "good"),
        Stat("Win-back rate", f"{rate:.0%}" if rate is not None else "–",
             f"recovered ÷ lost: {rec.recovered:,} of the {rec.lost:,} leads with a loss on record", "good"),
        Stat("Back in the funnel", f"{rec.back_in_funnel:,}", back_words or "none yet", "good"),
        Stat("Gone for good", f"{rec.gone_for_good:,}", "out of scope (reviewed after a year)"),
        Stat("Ranked to win back", f"{len(derived.priorities):,}", "lost leads we can contact"),
    )
    drills = drill_filters(derived)

    def href(*filters: tuple[str, str]) -> str:
        return drills.get(tuple(filters), "")

    funnel_rows = []
    fun = derived.funnel
    for i, s in enumerate(fun):
        nxt = fun[i + 1].reached / s.reached if i + 1 < len(fun) and s.reached else None
        funnel_rows.append(FunnelRow(label(s.stage), s.reached, s.lost_here, s.drop_off, nxt,
                                     href(("stage", s.stage))))
    funnel_chart = charts.funnel_chart([(r.stage, r.reached, r.lost_here) for r in funnel_rows],
                                       hrefs=[r.href for r in funnel_rows])

    losses = derived.losses
    values = P.lost_value_by_reason(derived.states.values(), settings)
    reason_keys = [k for k, _ in sorted(losses["reason"].items(), key=lambda kv: (-kv[1], kv[0]))]
    reasons = tuple(
        CountRow(r.label, r.count, r.share, r.note, href(("reason", k)), values.get(k, 0))
        for k, r in zip(reason_keys, _count_rows(
            (settings.lost_reasons[k].label, losses["reason"][k], label(settings.lost_reasons[k].category))
            for k in reason_keys)))
    categories = tuple(
        CountRow(r.label, r.count, r.share, r.note, href(("category", k)))
        for k, r in zip(CATEGORIES, _count_rows((label(k), losses["category"].get(k, 0), "") for k in CATEGORIES)))
    temperatures = tuple(
        CountRow(r.label, r.count, r.share, r.note, href(("temp", k)))
        for k, r in zip(TEMPERATURES, _count_rows((label(k), losses["temperature"].get(k, 0), "")
                                                   for k in TEMPERATURES)))
    by_value = sorted(zip(reason_keys, reasons), key=lambda kr: (-kr[1].value, kr[0]))

    cross = P.reason_by_stage(derived.states.values(), settings)
    loss_stages = [st for st in stages if any(row.get(st) for row in cross.values()) or st != stages[-1]]
    reason_stage = tuple(
        CrossRow(settings.lost_reasons[k].label, href(("reason", k)),
                 tuple((cross[k].get(st, 0), href(("reason", k), ("stage", st))) for st in loss_stages),
                 sum(cross[k].values()))
        for k in reason_keys if k in cross)
    stage_totals = tuple(sum(cross[k].get(st, 0) for k in cross) for st in loss_stages)

    by_month = P.recovered_by_month(derived.states.values(), settings, derived.today)
    month_rows = tuple(MonthRow(f"{m.month:%b %Y}", m.recovered, m.value) for m in by_month)
    # the "recovered to date" headline counts every win back; the months show only the last 12
    before_n, before_value = P.won_back_before(derived.states.values(), settings, by_month[0].month)
    months_before = MonthRow(f"Before {by_month[0].month:%b %Y}", before_n, before_value) if before_n else None
    months_chart = charts.grouped_bar_chart(
        [r.month[:3] for r in month_rows], [(f"value won back ({cur})", [r.value for r in month_rows])],
        id="months", title="Value won back, month by month (12 months)", value_label=charts.short_number)

    periods = tuple(_period_panel(model, ps, cur, i == 0) for i, ps in enumerate(derived.periods))
    backlog = P.owner_backlog(derived.states.values(), settings, derived.today)

    rows = sorted(derived.by_source.items(), key=lambda kv: (-kv[1]["leads"], kv[0]))
    hidden = max(0, len(rows) - SOURCES_SHOWN)
    if hidden:
        keep, rest = rows[:SOURCES_SHOWN - 1], rows[SOURCES_SHOWN - 1:]
        folded = {"leads": sum(r["leads"] for _, r in rest), "lost": sum(r["lost"] for _, r in rest),
                  "reached": {s: sum(r["reached"][s] for _, r in rest) for s in stages}}
        rows = keep + [(f"{len(rest)} other sources", folded)]
        hidden = len(rest)
    sources = tuple(SourceRow(name if name != NO_SOURCE else "(no source)", r["leads"],
                              tuple(r["reached"][s] for s in stages), r["lost"],
                              "" if hidden and i == len(rows) - 1
                              else href(("source", "" if name == NO_SOURCE else name)))
                    for i, (name, r) in enumerate(rows))

    weeks = derived.weeks
    this, last = weeks[-1].counts, weeks[-2].counts if len(weeks) > 1 else {}
    week_rows = tuple(WeekRow(label(s), this.get(s, 0), last.get(s, 0), this.get(s, 0) - last.get(s, 0))
                      for s in stages)
    week_starts = tuple(w.start.isoformat() for w in weeks)
    short = tuple(f"{w.start.day} {w.start:%b}" for w in weeks)
    weekly_table = tuple((label(s), tuple(w.counts.get(s, 0) for w in weeks)) for s in stages)
    weekly_chart = charts.line_chart(short, [(lb, vals) for lb, vals in weekly_table], id="weekly",
                                     title="Leads reaching each stage, week by week (12 weeks)")

    none = {"follow_ups_overdue": 0, "replies_waiting": 0}
    owners = tuple(OwnerRow(_owner_name(model, k if k != NO_OWNER else ""), r["leads"], r["open"], r["lost"],
                            r["back_in_funnel"], r["recovered"], r["won"], r["dead"], r["value_at_stake"],
                            href(("owner", "" if k == NO_OWNER else k)),
                            backlog.get(k, none)["follow_ups_overdue"], backlog.get(k, none)["replies_waiting"])
                   for k, r in derived.by_owner.items())
    back_at = _count_rows((label(s), n, "") for s, n in rec.back_at.items())
    start = weeks[-1].start
    return OverviewContext(
        chrome=chrome(derived, nav, "Lost-lead recovery", active="overview"),
        currency=cur, stats=stat_cards, periods=periods, funnel=tuple(funnel_rows), funnel_chart=funnel_chart,
        back_at=back_at,
        reasons=reasons,
        reasons_chart=charts.bar_chart([(r.label, r.count) for r in reasons], id="reasons",
                                       title="Lost leads by reason", hrefs=[r.href for r in reasons]),
        reasons_value_chart=charts.bar_chart([(r.label, r.value) for _, r in by_value], id="reasons-value",
                                             title=f"Value of the leads lost, by reason ({cur})", unit=cur,
                                             hrefs=[r.href for _, r in by_value]),
        loss_stages=tuple(label(st) for st in loss_stages), reason_stage=reason_stage,
        stage_totals=stage_totals, months=month_rows, months_chart=months_chart,
        months_before=months_before,
        categories=categories,
        categories_chart=charts.bar_chart([(r.label, r.count) for r in categories], id="categories",
                                          title="Lost leads by category of reason",
                                          hrefs=[r.href for r in categories]),
        temperatures=temperatures,
        temperatures_chart=charts.bar_chart([(r.label, r.count) for r in temperatures], id="temperature",
                                            title="Lost leads by temperature at the time of loss",
                                            classes=("hot", "warm", "cold"), hrefs=[r.href for r in temperatures]),
        stages=stage_labels, sources=sources, sources_hidden=hidden,
        week_label=_week_label(start, derived.today), weeks=week_rows, weekly_chart=weekly_chart,
        week_starts=week_starts, weekly_table=weekly_table, owners=owners, outreach=stats.tally,
        recovered=rec.recovered, campaigns_href="campaigns.html")


def _change(now: float, then: float | None, fmt) -> tuple[str, str]:
    """(words for the change against the period before, tone)."""
    if then is None:
        return "", ""
    diff = now - then
    if not diff:
        return f"same as before ({fmt(then)})", ""
    sign = "+" if diff > 0 else "−"
    return f"{sign}{fmt(abs(diff))} against {fmt(then)}", "up" if diff > 0 else "down"


def _period_panel(model: Model, ps: P.PeriodSummary, cur: str, first: bool) -> PeriodPanel:
    n, b = ps.numbers, ps.before
    def count(v: float) -> str:
        return f"{v:,.0f}"

    def stat(name: str, title: str, what: str, fmt=count, good: bool = True) -> Stat:
        words, tone = _change(getattr(n, name), getattr(b, name) if b is not None else None, fmt)
        if tone:
            tone = "good" if (tone == "up") == good else "bad"
        return Stat(title, fmt(getattr(n, name)), "; ".join(x for x in (what, words) if x), tone)

    rate, before = n.win_back_rate, b.win_back_rate if b is not None else None
    rate_note = (f"recovered ÷ lost: {n.recovered:,} of {n.open_to_win_back:,} leads with a loss on record "
                 "not yet won back when the period began")
    if before is not None and rate is not None:
        rate_note += f"; {before:.1%} before"
    stats = (
        stat("new_leads", "New leads", "reached the first stage"),
        stat("lost", "Lost", f"{money(n.value_lost, cur)} of value", good=False),
        stat("recovered", "Won back", f"{money(n.value_recovered, cur)} of value"),
        Stat("Win-back rate", f"{rate:.1%}" if rate is not None else "–", rate_note),
        stat("back_in_funnel", "Back in the funnel", "lost leads that reached a stage again, "
             "whatever came of them since"),
        stat("touches", "Touches sent", "by campaigns: email, SMS, call and mail tasks"),
        stat("calls", "Calls made", "an outcome recorded"),
        stat("answers", "Answers", "from the leads"),
        stat("interested", "Interested", "said so"),
    )
    owners = tuple(OwnerActivityRow(_owner_name(model, o.owner if o.owner != NO_OWNER else ""), o.touches,
                                    o.calls, o.answers, o.interested, o.recovered) for o in ps.owners)
    previous = f"{ps.previous_words} ({ps.previous.words()})" if ps.previous is not None else ""
    return PeriodPanel(ps.period, ps.label, ps.window.words(), previous, stats, owners, first)


def _week_label(start: dt.date, today: dt.date) -> str:
    """This week's days so far: a week still under way is compared with the whole week before."""
    if today >= start + dt.timedelta(days=6):
        return f"week of {start.day} {start:%b %Y}"
    return f"week of {start.day} {start:%b %Y}, {start:%A} to {today:%A} so far"
