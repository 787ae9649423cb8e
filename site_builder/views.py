"""From derived data to page contexts: one pure function per page kind.

Each function takes the core's :class:`relead.derive.Derived` (and what else
the page needs: the campaign statistics, the day's plan) and returns the
page's context object from :mod:`site_builder.contexts`. Nothing here renders
HTML or touches the disk. Every ``href`` in a context is relative to the site
root; templates put ``chrome.root`` in front of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import operator
import re
import zoneinfo
from typing import Iterable, Mapping, Sequence
from urllib.parse import quote, urlencode

from relead.campaign_stats import TOUCH_BUCKETS, CampaignStats, Ranking, Stats, TouchCurve, ranking
from relead.derive import Derived
from relead.funnel import NO_OWNER, NO_SOURCE
from relead.history import Record
from relead.hygiene import next_action
from relead.model import Campaign, Lead, Model
from relead import periods as P
from relead.plan import INTERESTED_STEP, REPLY_STEP, DayPlan
from relead.priorities import Priority
from relead.state import SOFT_BOUNCES, TOUCH_COUNTED, LeadState, record_address
from relead.vocab import CATEGORIES, TEMPERATURES

from . import charts
from .contexts import (
    BlockRow, CampaignCard, CampaignContext, CampaignsContext, ChannelRow, Chrome, ClosedRow, ContentPageContext,
    CountRow, CrossRow, Drill, FunnelRow, HygieneContext, HygieneItem, HygieneSection, LeadContext, MonthRow, NavItem,
    Option, OverviewContext, OwnerActivityRow, OwnerRow, PeriodPanel, OwnerTasks, PrioritiesContext, PriorityRow, ReplyRow, SourceRow, StageStep, Stat,
    TimelineItem, TodayContext, TouchRow, WeekRow,
)

__all__ = [
    "label", "money", "lead_href", "campaign_href", "page_href", "priorities_href", "navigation",
    "chrome", "has_page", "lead_pages", "overview", "priorities_pages", "today", "campaigns", "campaign",
    "hygiene", "lead", "LeadPages", "content_page", "next_sending_day", "audience_words", "outcome_words",
    "EVENT_LABELS", "TIMELINE_EVENTS", "TASK_LABELS", "PRIORITIES_PAGE_SIZE", "LIST_CAP",
    "SOURCES_SHOWN", "closed_why", "reply_said", "drill_href", "browser_href", "drill_filters", "drill_pages",
    "DRILL_CAP", "last_touch",
]

PRIORITIES_PAGE_SIZE = 500     # rows per priorities page
LIST_CAP = 200                 # rows per list on the today and hygiene pages
SOURCES_SHOWN = 25             # sources on the overview; the rest are folded into one row
DRILL_CAP = 100                # rows on a drill-down page: the best-ranked leads behind a row

_CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}

class _Lookup(dict):
    """A mapping that gives back unknown keys as they are (ids no longer in the content)."""

    def __missing__(self, key):
        return key


class _Events(dict):
    def __missing__(self, key: str) -> tuple[str, str, bool]:
        return (key, "", False)


# The owner's tasks (a negative step) as every page labels them: answering a reply is not a call.
TASK_LABELS = {REPLY_STEP: "answer", INTERESTED_STEP: "call back"}
_TASK_WORDS = {str(REPLY_STEP): "answer the reply", str(INTERESTED_STEP): "call back"}


def _step_words(step: int | None) -> str:
    """A touch's step as a table cell shows it: "3", "answer", "call back"."""
    if step is None:
        return ""
    return str(step + 1) if step >= 0 else TASK_LABELS.get(step, "owner's task")


class _Steps(dict):
    """A record's step ("0", "1", "-1", "") -> how a timeline names it, worked out once per value."""

    def __missing__(self, key: str) -> str:
        if not key:
            text = ""
        else:
            try:
                n = int(key)
            except ValueError:
                n = None
            text = f", step {key}" if n is None else f", step {n + 1}" if n >= 0 \
                else ", " + _TASK_WORDS.get(key, "owner's task")
        self[key] = text
        return text


_PROBLEM_EVENTS = frozenset(("failed", "bounced", "unsubscribed", "opted_out", "wrong_number", "attempting",
                             "do_not_contact", "soft_bounce", "policy_block", "complained"))
_QUIET_EVENTS = frozenset(("sent", "skipped", "deferred", "settled_sent", "settled_not_sent", "no_answer",
                           "voicemail", "auto_reply", "sms_help"))

EVENT_LABELS = {
    "enrolled": "Enrolled", "attempting": "Send attempted, result unknown", "sent": "Sent",
    "failed": "Failed", "deferred": "Deferred", "skipped": "Skipped",
    "settled_sent": "Settled as sent", "settled_not_sent": "Settled as not sent",
    "replied": "Replied", "interested": "Interested", "not_interested": "Not interested",
    "unsubscribed": "Unsubscribed", "opted_out": "Opted out", "do_not_contact": "Asked not to be contacted",
    "bounced": "Bounced", "wrong_number": "Wrong number", "out_of_scope": "Out of scope",
    "appointment": "Appointment booked", "proposal": "Proposal sent", "won": "Won",
    "called": "Called: spoke to them", "no_answer": "Called: no answer", "voicemail": "Called: left a voicemail",
    # what `make sync` brings back
    "auto_reply": "Automatic reply: out of office", "soft_bounce": "Soft bounce (a temporary failure)",
    "policy_block": "Blocked by the receiving server (not the lead's doing)",
    "complained": "Marked our email as spam: no more email", "opted_in": "Texted START: SMS allowed again",
    "sms_help": "Texted HELP",
}


# Each event's label, the CSS class of its dot on a lead's timeline, and whether its `ref` says why.
TIMELINE_EVENTS = _Events({
    ev: (text, "enrol" if ev == "enrolled" else "problem" if ev in _PROBLEM_EVENTS
         else "" if ev in _QUIET_EVENTS else "response", ev in ("skipped", "failed", "deferred"))
    for ev, text in EVENT_LABELS.items()})

_TASK_HANDED = frozenset(("sent", "settled_sent"))
_AUTO_NOTE = re.compile(r"^until (\d{4}-\d{2}-\d{2})(?:, (?:back (\d{4}-\d{2}-\d{2})|(no return date given)))?")
_COLLEAGUE = re.compile(r"^colleague (\S+@\S+?)(?:: (.*))?$", re.S)


def reply_said(note: str) -> tuple[str, str]:
    """A ``replied`` record's note -> (what they said, the colleague who wrote instead of the lead or "")."""
    m = _COLLEAGUE.match(note)
    return (m.group(2) or "", m.group(1)) if m else (note, "")


def _auto_reply_words(note: str) -> str:
    """``until 2026-11-30, back 2026-11-27`` -> ``no touch before 2026-11-30 (back 2026-11-27)``."""
    m = _AUTO_NOTE.match(note)
    if not m:
        return note
    back = f" (back {m.group(2)})" if m.group(2) else " (no return date given)" if m.group(3) else ""
    return f"no touch before {m.group(1)}{back}"


_STATUS_CODE = re.compile(r"[245]\d\d|[245]\.\d{1,3}\.\d{1,3}")


def _number(n: int) -> str:
    return {2: "two", 3: "three", 4: "four", 5: "five"}.get(n, str(n))


def closed_why(rec: Record) -> tuple[str, str]:
    """The record that closed a channel -> (why, in words; what a person can do, or "")."""
    ev = rec.event
    detail = rec.note
    if record_address(rec):
        detail = detail.split(":", 1)[1].strip()
    if ev == "bounced":
        code = rec.ref if _STATUS_CODE.fullmatch(rec.ref) else ""     # a person may record the code as ref
        status = " ".join(x for x in (code, detail) if x)
        hint = "correct the address in leads.yaml: a new address is emailed again" if record_address(rec) \
            else "recorded without the address it names: correcting the address in leads.yaml does not " \
                 "reopen email for this lead"
        return "bounced" + (f": {status}" if status else ""), hint
    if ev == "soft_bounce":
        n, days = SOFT_BOUNCES
        return (f"{_number(n)} soft bounces within {days} days" + (f" (the last: {detail})" if detail else ""),
                "check the address in leads.yaml; a corrected address is emailed again")
    if ev == "opted_out":
        return ("texted STOP" if rec.channel == "sms" else "unsubscribed"), \
            ("a START text from them allows SMS again" if rec.channel == "sms" else "")
    if ev == "complained":
        return "spam complaint: marked our email as spam", ""
    if ev == "wrong_number":
        return "wrong number", ""
    return EVENT_LABELS.get(ev, ev).lower(), ""


# --------------------------------------------------------------------------- helpers

def label(key: str) -> str:
    """``back_in_funnel`` -> ``Back in funnel``: a key as a person reads it."""
    text = str(key).replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


def money(value: float, currency: str) -> str:
    sign = _CURRENCY_SIGNS.get(currency)
    amount = f"{value:,.0f}"
    return f"{sign}{amount}" if sign else f"{amount} {currency}"


def lead_href(lead_id: str) -> str:
    return f"leads/{quote(lead_id)}.html"


def campaign_href(cid: str) -> str:
    return f"campaigns/{quote(cid)}.html"


def page_href(slug: str) -> str:
    return f"pages/{quote(slug, safe='')}.html"


def priorities_href(page: int) -> str:
    return "priorities.html" if page == 1 else f"priorities-{page}.html"


def has_page(derived: Derived, lead: Lead) -> bool:
    """A lead gets its own page when it has something to show: a loss, or history."""
    return lead.lost is not None or lead.id in derived.model.history.by_lead


def lead_pages(derived: Derived, *, shown: int = LIST_CAP) -> dict[str, str]:
    """Lead id -> its page, for every lead that gets one: each that has something to show
    (:func:`has_page`) and each the hygiene page lists (a duplicate, a lead with no contact
    details...), so every lead named on the site can be opened. In leads.yaml's order."""
    hyg = derived.hygiene
    listed = set()
    for ids in (hyg.no_next_action, hyg.incomplete_overdue, hyg.uncontactable, hyg.given_up_early,
                hyg.review_due):
        listed.update(ids[:shown])
    for _, ids in hyg.duplicates[:shown]:
        listed.update(ids)
    history = derived.model.history.by_lead
    return {lead.id: lead_href(lead.id) for lead in derived.model.leads
            if lead.lost is not None or lead.id in history or lead.id in listed}


def _touches(n: int) -> str:
    return f"{n} touch" if n == 1 else f"{n} touches"


def navigation(model: Model) -> tuple[NavItem, ...]:
    items = [NavItem("overview", "Overview", "index.html"),
             NavItem("priorities", "Priorities", "priorities.html"),
             NavItem("today", "Today", "today.html"),
             NavItem("campaigns", "Campaigns", "campaigns.html"),
             NavItem("hygiene", "Hygiene", "hygiene.html")]
    items += [NavItem(f"page:{p.slug}", p.title, page_href(p.slug)) for p in model.pages]
    return tuple(items)


def chrome(derived: Derived, nav: tuple[NavItem, ...], title: str, *, active: str = "",
           depth: int = 0, script_hash: str = "") -> Chrome:
    return Chrome(title=title, root="../" * depth, active=active, nav=nav,
                  as_of=derived.today.isoformat(), team_name=derived.model.settings.sender.name,
                  script_hash=script_hash, as_of_note=_as_of_note(derived))


def _as_of_note(derived: Derived) -> str:
    # A dashboard built on the example's pinned date must not pass for today's (relead.clock).
    if derived.as_of is None:
        return ""
    return ("That is the example's own date (as_of in content/settings.yaml), not today: remove as_of "
            "once this repository holds your own leads.")


def _owner_name(model: Model, key: str) -> str:
    member = model.settings.team.get(key)
    return member.name if member is not None else (key or NO_OWNER)


def _count_rows(items: Iterable[tuple[str, int, str]]) -> tuple[CountRow, ...]:
    items = list(items)
    total = sum(n for _, n, _ in items)
    return tuple(CountRow(lb, n, n / total if total else 0.0, note) for lb, n, note in items)


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


# --------------------------------------------------------------------------- overview

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

    month_rows = tuple(MonthRow(f"{m.month:%b %Y}", m.recovered, m.value)
                       for m in P.recovered_by_month(derived.states.values(), settings, derived.today))
    months_chart = charts.grouped_bar_chart(
        [r.month[:3] for r in month_rows], [(f"value won back ({cur})", [r.value for r in month_rows])],
        id="months", title="Value won back, month by month (12 months)")

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
        categories=categories,
        categories_chart=charts.bar_chart([(r.label, r.count) for r in categories], id="categories",
                                          title="Lost leads by category of reason",
                                          hrefs=[r.href for r in categories]),
        temperatures=temperatures,
        temperatures_chart=charts.bar_chart([(r.label, r.count) for r in temperatures], id="temperature",
                                            title="Lost leads by temperature at the time of loss",
                                            classes=("hot", "warm", "cold"), hrefs=[r.href for r in temperatures]),
        stages=stage_labels, sources=sources, sources_hidden=hidden,
        week_label=f"week of {start.day} {start:%b %Y}", weeks=week_rows, weekly_chart=weekly_chart,
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


# --------------------------------------------------------------------------- priorities

_CALL_DONE = frozenset(("called", "no_answer", "voicemail"))


def last_touch(st: LeadState, records: Sequence[Record]) -> str:
    """A lead's last touch as a priorities row shows it: ``2026-11-03 email``, ``2026-10-01 call
    (no answer)``; the touches before relead when history has none; ``none recorded``."""
    for rec in reversed(records):
        ev = rec.event
        if ev in TOUCH_COUNTED and not rec.step.startswith("-"):
            return f"{rec.day} {rec.channel}".rstrip()
        if ev in _CALL_DONE:
            return f"{rec.day} call ({EVENT_LABELS[ev].split(': ', 1)[-1]})"
    if st.lead.touches:
        return f"{_touches(st.lead.touches)} before relead"
    return "none recorded"


def _slug(value: str) -> str:
    """A filter value as a file name: lower-case letters, digits, ``_`` and dashes; a short hash
    keeps apart values that would read the same (``Trade show`` and ``trade-show``), or none at all."""
    text = re.sub(r"[^a-z0-9_]+", "-", value.lower()).strip("-")[:40]
    if text != value or not text:
        text = (text + "-" if text else "") + hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]
    return text


def drill_href(filters: Sequence[tuple[str, str]]) -> str:
    """The drill-down page of ``filters`` ((name, value) pairs): ``priorities/reason-price.html``."""
    return "priorities/" + "--".join(f"{k}-{_slug(v)}" for k, v in filters) + ".html"


def browser_href(filters: Sequence[tuple[str, str]]) -> str:
    """The whole ranked list with ``filters`` applied by its script: ``priorities.html?reason=price``."""
    return "priorities.html?" + urlencode(list(filters))


Filters = tuple[tuple[str, str], ...]


def drill_filters(derived: Derived) -> dict[Filters, str]:
    """Every row of the overview that links to the leads behind it -> its drill-down page: each
    lost reason, loss stage, kind of loss and temperature with a loss, each owner, each source
    shown (the folded ones aside), each reason and stage with a loss. Values are the leads' own
    (``owner: ""`` for none), as the priorities page filters them."""
    settings = derived.model.settings
    losses = derived.losses
    out: list[Filters] = []
    out += [(("reason", r),) for r, n in losses["reason"].items() if n]
    out += [(("stage", s.stage),) for s in derived.funnel if s.lost_here]
    out += [(("category", c),) for c in CATEGORIES if losses["category"].get(c)]
    out += [(("temp", t),) for t in TEMPERATURES if losses["temperature"].get(t)]
    out += [(("owner", "" if o == NO_OWNER else o),) for o in derived.by_owner]
    out += [(("source", "" if src == NO_SOURCE else src),) for src in _shown_sources(derived)]
    cross = P.reason_by_stage(derived.states.values(), settings)
    out += [(("reason", r), ("stage", st)) for r, row in cross.items() for st, n in row.items() if n]
    return {f: drill_href(f) for f in out}


def _shown_sources(derived: Derived) -> list[str]:
    """The sources the overview shows a row of, largest first (the rest are folded into one)."""
    rows = sorted(derived.by_source.items(), key=lambda kv: (-kv[1]["leads"], kv[0]))
    if len(rows) > SOURCES_SHOWN:
        rows = rows[:SOURCES_SHOWN - 1]
    return [name for name, _ in rows]


def _filter_keys(lead: Lead, category: str) -> tuple[Filters, ...]:
    lost = lead.lost
    return ((("reason", lost.reason),), (("stage", lost.stage),), (("category", category),),
            (("temp", lost.temperature or ""),),
            (("owner", lead.owner),), (("source", lead.source),),
            (("reason", lost.reason), ("stage", lost.stage)))


class _Rows:
    """Priority rows as every priorities page shows them (the lookups made once)."""

    def __init__(self, derived: Derived):
        model = derived.model
        self.derived = derived
        self.reasons = model.settings.lost_reasons
        self.owners: dict[str, str] = {}
        self.history = model.history.by_lead
        self.campaigns = model.campaigns

    def owner(self, key: str) -> str:
        name = self.owners.get(key)
        if name is None:
            name = self.owners[key] = _owner_name(self.derived.model, key)
        return name

    def row(self, p: Priority) -> PriorityRow:
        lead = p.lead
        st = self.derived.states[lead.id]
        return PriorityRow(p.rank, lead, lead_href(lead.id), self.owner(lead.owner), lead.lost.temperature or "",
                           lead.lost.stage, self.reasons[lead.lost.reason].label, st.category or "", p.score,
                           p.breakdown,
                           last_touch(st, self.history.get(lead.id, ())),
                           next_action(st, self.campaigns, self.derived.today) or "none: lost in the system")


def _options(derived: Derived, ranked: Sequence[Priority], rows: _Rows):
    settings = derived.model.settings
    reasons = settings.lost_reasons
    owners: set[str] = set()
    reason_keys: set[str] = set()
    sources: set[str] = set()
    stages: set[str] = set()
    categories: set[str] = set()
    for p in ranked:
        categories.add(reasons[p.lead.lost.reason].category)
        owners.add(p.lead.owner)
        reason_keys.add(p.lead.lost.reason)
        sources.add(p.lead.source)
        stages.add(p.lead.lost.stage)
    owner_opts = tuple(sorted((Option(k, rows.owner(k)) for k in owners), key=lambda o: (o.label, o.value)))
    temp_opts = tuple(Option(t, label(t)) for t in TEMPERATURES)
    reason_opts = tuple(Option(k, reasons[k].label) for k in reasons if k in reason_keys)
    source_opts = tuple(Option(s, s or "(no source)") for s in sorted(sources))
    stage_opts = tuple(Option(s, label(s)) for s in settings.funnel if s in stages)
    category_opts = tuple(Option(c, label(c)) for c in CATEGORIES if c in categories)
    return owner_opts, temp_opts, reason_opts, source_opts, stage_opts, category_opts


def priorities_pages(derived: Derived, nav: tuple[NavItem, ...], script: str, script_hash: str,
                     *, page_size: int = PRIORITIES_PAGE_SIZE) -> Iterable[PrioritiesContext]:
    """One context per page of the ranked list (one page when it is short)."""
    settings = derived.model.settings
    ranked = derived.priorities
    rows = _Rows(derived)
    owner_opts, temp_opts, reason_opts, source_opts, stage_opts, category_opts = _options(derived, ranked, rows)
    n_pages = max(1, -(-len(ranked) // page_size))
    hrefs = tuple(priorities_href(i + 1) for i in range(n_pages))
    for i in range(n_pages):
        chunk = ranked[i * page_size:(i + 1) * page_size]
        title = "Priorities" if n_pages == 1 else f"Priorities, page {i + 1} of {n_pages}"
        yield PrioritiesContext(
            chrome=chrome(derived, nav, title, active="priorities", script_hash=script_hash),
            currency=settings.currency, rows=tuple(rows.row(p) for p in chunk), total=len(ranked),
            first=chunk[0].rank if chunk else 0, page=i + 1, pages=hrefs, owners=owner_opts,
            temperatures=temp_opts, reasons=reason_opts, sources=source_opts, stages=stage_opts,
            categories=category_opts, coolest_first=settings.scoring.coolest_first, script=script)


def _drill_words(derived: Derived, filters: Filters) -> str:
    settings = derived.model.settings
    words = []
    for key, value in filters:
        if key == "reason":
            words.append(f"lost because: {settings.lost_reasons[value].label}" if value in settings.lost_reasons
                         else f"lost because: {value}")
        elif key == "stage":
            words.append(f"lost at {label(value).lower()}")
        elif key == "category":
            words.append(f"a loss of the kind {label(value).lower()}")
        elif key == "temp":
            words.append(f"{value} when lost")
        elif key == "owner":
            words.append(f"owned by {_owner_name(derived.model, value)}" if value else "with no owner")
        elif key == "source":
            words.append(f"from {value}" if value else "with no source")
    return ", ".join(words)


def drill_pages(derived: Derived, nav: tuple[NavItem, ...], script: str, script_hash: str, *,
                cap: int = DRILL_CAP) -> Iterable[tuple[str, PrioritiesContext]]:
    """(path, context) of each drill-down page of :func:`drill_filters`: the ``cap`` best-ranked
    leads behind the row, and how many leads with a loss match. One walk over the ranked leads
    and one over the lost ones, whatever the number of pages."""
    settings = derived.model.settings
    pages = drill_filters(derived)
    ranked_rows: dict[Filters, list] = {f: [] for f in pages}
    ranked_n = dict.fromkeys(pages, 0)
    lost_n = dict.fromkeys(pages, 0)
    states = derived.states
    for p in derived.priorities:
        for f in _filter_keys(p.lead, states[p.lead.id].category):
            n = ranked_n.get(f)
            if n is None:
                continue
            ranked_n[f] = n + 1
            if n < cap:
                ranked_rows[f].append(p)
    for st in states.values():
        if st.lead.lost is None:
            continue
        for f in _filter_keys(st.lead, st.category):
            if f in lost_n:
                lost_n[f] += 1
    rows = _Rows(derived)
    opts = _options(derived, derived.priorities, rows)
    for f, path in pages.items():
        chunk = ranked_rows[f]
        words = _drill_words(derived, f)
        yield path, PrioritiesContext(
            chrome=chrome(derived, nav, f"Priorities: {words}", active="priorities", depth=1,
                          script_hash=script_hash),
            currency=settings.currency, rows=tuple(rows.row(p) for p in chunk), total=ranked_n[f],
            first=chunk[0].rank if chunk else 0, page=1, pages=(), owners=opts[0], temperatures=opts[1],
            reasons=opts[2], sources=opts[3], stages=opts[4], categories=opts[5],
            coolest_first=settings.scoring.coolest_first,
            script=script, drill=Drill(words, lost_n[f], ranked_n[f], browser_href(f)))


# --------------------------------------------------------------------------- today

def next_sending_day(derived: Derived, *, horizon: int = 31) -> dt.date | None:
    sending = derived.model.settings.sending
    day = derived.today
    for _ in range(horizon):
        day += dt.timedelta(days=1)
        if sending.is_business_day(day):
            return day
    return None


def today(derived: Derived, plan: DayPlan, nav: tuple[NavItem, ...], *, sending_day: bool,
          lead_pages: Mapping[str, str], shown: int = LIST_CAP) -> TodayContext:
    """``plan`` is today's plan, or (``sending_day`` False) the next sending day's."""
    model = derived.model
    by_id = model.by_id
    states = derived.states
    sends = tuple(t for t in plan.touches if not t.is_task)
    owners = []
    tasks: dict[str, list] = {}
    for t in plan.touches:
        if t.is_task:
            tasks.setdefault(t.owner, []).append(t)
    for key in sorted(tasks, key=lambda k: _owner_name(model, k)):
        member = model.settings.team.get(key)
        ts = tasks[key]
        owners.append(OwnerTasks(_owner_name(model, key), member.email if member else "",
                                 tuple(t for t in ts if t.channel == "call" and t.step != REPLY_STEP)[:shown],
                                 tuple(t for t in ts if t.channel == "mail")[:shown],
                                 tuple(t for t in ts if t.step == REPLY_STEP)[:shown]))
    waiting = derived.hygiene.replies_waiting
    replies = tuple(_reply_row(derived, states[i], lead_pages) for i in waiting[:shown])
    ids = {t.lead for t in plan.touches} | {e.lead for e in plan.enrolments[:shown]} \
        | {s.lead for s in plan.skipped[:shown]} | {s.lead for s in plan.deferred[:shown]} \
        | {s.lead for s in plan.stopped[:shown]}
    names = {i: by_id[i].display_name if i in by_id else i for i in sorted(ids)}
    hooks = {(c.id, v.key): v.hook or c.hook for c in model.campaigns.values() for v in c.variants}
    hooks.update({(c.id, ""): c.hook for c in model.campaigns.values()})
    counts = plan.by_channel()
    answers = sum(1 for t in plan.touches if t.step == REPLY_STEP)
    stats = (
        Stat("Replies waiting", f"{len(waiting):,}", f"{answers:,} in the owners' tasks below" if answers
             else "answer them, then record what came of it"),
        Stat("New enrolments", f"{len(plan.enrolments):,}", "leads starting a campaign"),
        Stat("Email", f"{counts.get('email', 0):,}", "to send"),
        Stat("SMS", f"{counts.get('sms', 0):,}", "to send"),
        Stat("Calls", f"{counts.get('call', 0) - answers:,}", "tasks for the owners"),
        Stat("Mail", f"{counts.get('mail', 0):,}", "printed, sent by the owners"),
        Stat("Skipped / put off", f"{len(plan.skipped):,} / {len(plan.deferred):,}", "see below"),
    )
    contacts = {}
    for t in plan.touches:
        lead = by_id.get(t.lead)
        if lead is None or not t.is_task or t.channel != "call":
            continue
        phone = lead.phone_written or lead.phone
        if t.step == REPLY_STEP:    # answer the way they wrote
            st = states.get(t.lead)
            by_sms = st is not None and st.last_response is not None and st.last_response.channel == "sms"
            contact = phone if by_sms else lead.email or phone
        else:
            contact = phone
        if contact:
            contacts[t.lead] = contact
    title = "Today" if sending_day else "Today: not a sending day"
    return TodayContext(
        chrome=chrome(derived, nav, title, active="today"),
        day=f"{plan.day:%A} {plan.day.day} {plan.day:%B %Y}", sending_day=sending_day, stats=stats,
        plan=plan, sends=sends[:shown], sends_total=len(sends), owners=tuple(owners), task_labels=TASK_LABELS,
        replies=replies, replies_total=len(waiting),
        enrolments=plan.enrolments[:shown], skipped=plan.skipped[:shown], deferred=plan.deferred[:shown],
        stopped=plan.stopped[:shown], shown=shown, names=names, contacts=contacts,
        campaign_names={cid: c.name for cid, c in model.campaigns.items()},
        lead_hrefs={i: lead_pages[i] for i in names if i in lead_pages}, hooks=hooks,
        owner_names={k: m.name for k, m in model.settings.team.items()})


def _reply_row(derived: Derived, st: LeadState, lead_pages: Mapping[str, str]) -> ReplyRow:
    lead, rec = st.lead, st.last_response
    said, colleague = reply_said(rec.note)
    return ReplyRow(lead.id, lead.display_name, lead_pages.get(lead.id, ""), _owner_name(derived.model, lead.owner),
                    rec.channel, rec.day, max(0, (derived.today - dt.date.fromisoformat(rec.day)).days), said,
                    colleague)


# --------------------------------------------------------------------------- campaigns

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


# --------------------------------------------------------------------------- hygiene

def hygiene(derived: Derived, nav: tuple[NavItem, ...], lead_pages: Mapping[str, str], *,
            shown: int = LIST_CAP) -> HygieneContext:
    model = derived.model
    hyg = derived.hygiene
    states = derived.states
    today_ = derived.today

    def item(lead_id: str, detail: str) -> HygieneItem:
        st = states.get(lead_id)
        lead = st.lead if st is not None else None
        return HygieneItem(lead_id, lead.display_name if lead else lead_id, lead_pages.get(lead_id, ""),
                           _owner_name(model, lead.owner) if lead else "", detail)

    def status(lead_id: str) -> str:
        return states[lead_id].status.replace("_", " ")

    def section(key, title, why, ids, detail) -> HygieneSection:
        return HygieneSection(key, title, why, len(ids), tuple(item(i, detail(i)) for i in ids[:shown]))

    def overdue(i: str) -> str:
        fu = states[i].lead.follow_up
        return f"follow-up was due {fu} ({(today_ - fu).days} days ago)"

    def research(i: str) -> str:
        lead = states[i].lead
        has = "only a name" if lead.name and not lead.company else "only a company" if not lead.name \
            else "a name and a company"
        return f"{has}, no email or phone; {status(i)}"

    target = model.settings.scoring.touch_target
    sections = (
        section("no-next-action", "Lost in the system: no next action",
                "No follow-up date, no recycle date, no campaign will reach them, and nothing says why. "
                "Give each a follow_up, a recycle_on date or a campaign, or record why not.",
                hyg.no_next_action, lambda i: f"{status(i)}; {_touches(states[i].touches)} so far"),
        section("incomplete-overdue", "Incomplete leads past their follow-up date",
                "Tagged incomplete, and the day to finish them has passed: find the missing details, "
                "then drop the tag.", hyg.incomplete_overdue, overdue),
        section("uncontactable", "No contact details: need research",
                "Neither an email nor a phone, so they cannot be ranked or sent anything. "
                "Find the buyer, then add what you find.", hyg.uncontactable, research),
        section("given-up-early", f"Given up with fewer than {target} touches",
                "Lost (or out of scope) with no campaign or recycle date to bring them back, after fewer "
                f"touches than the {target} the team aims for (settings: scoring.touch_target).",
                hyg.given_up_early, lambda i: f"{_touches(states[i].touches)}; {status(i)}"),
        section("review-due", "Out of scope, due for review",
                "Recorded as out of scope a while ago; circumstances change. Look again, then "
                "set a recycle date or leave them be.", hyg.review_due,
                lambda i: f"review date {states[i].dead_review_on}"),
    )
    dups = tuple((why, tuple(item(i, status(i) if i in states else "") for i in ids))
                 for why, ids in hyg.duplicates[:shown])
    unknown = tuple((rec, states[rec.lead].lead.display_name if rec.lead in states else rec.lead,
                     _step_words(rec.step_index))
                    for rec in hyg.unknown_touches[:shown])

    def closed_row(lead_id: str, channel: str) -> ClosedRow:
        st = states[lead_id]
        lead, rec = st.lead, st.closed[channel]
        why, hint = closed_why(rec)
        contact = lead.email if channel == "email" else lead.phone_written or lead.phone
        return ClosedRow(lead_id, lead.display_name, lead_pages.get(lead_id, ""), _owner_name(model, lead.owner),
                         channel, contact, why, rec.day, hint)

    def block_row(rec: Record) -> BlockRow:
        it = item(rec.lead, "")
        return BlockRow(rec.lead, it.name, it.href, it.owner, rec.day, rec.note or rec.ref)

    return HygieneContext(
        chrome=chrome(derived, nav, "Hygiene", active="hygiene"), sections=sections,
        duplicates=dups, duplicates_total=len(hyg.duplicates), unknown=unknown,
        unknown_total=len(hyg.unknown_touches),
        closed=tuple(closed_row(i, ch) for i, ch in hyg.closed[:shown]), closed_total=len(hyg.closed),
        blocks=tuple(block_row(r) for r in hyg.policy_blocks[:shown]), blocks_total=len(hyg.policy_blocks),
        campaign_names={cid: c.name for cid, c in model.campaigns.items()},
        lead_hrefs={rec.lead: lead_pages[rec.lead] for rec, _, _ in unknown if rec.lead in lead_pages},
        shown=shown)


# --------------------------------------------------------------------------- one lead

_RESULTS = frozenset(("sent", "failed", "deferred", "settled_sent", "settled_not_sent"))


_DAY_AT = operator.itemgetter(0, 1)      # a Record's day, then its time


class LeadPages:
    """Everything the lead pages share, computed once; :meth:`context` is then cheap per lead."""

    def __init__(self, derived: Derived, nav: tuple[NavItem, ...]):
        self.derived = derived
        model = derived.model
        self.model = model
        self.settings = model.settings
        self.funnel = model.settings.funnel
        self.stage_labels = tuple(label(s) for s in self.funnel)
        self.priority = {p.lead.id: p for p in derived.priorities}
        self.campaign_names = _Lookup({cid: c.name for cid, c in model.campaigns.items()})
        self.step_labels = _Steps()
        self.owner_names = {k: m.name for k, m in model.settings.team.items()}
        self.status_labels = {"won": "Won", "recovered": "Recovered", "back_in_funnel": "Back in the funnel",
                              "dead": "Gone for good", "lost": "Lost", "open": "Open"}
        self.chrome = chrome(derived, nav, "", depth=1)
        try:
            self.zone = zoneinfo.ZoneInfo(model.settings.timezone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.zone = dt.timezone.utc
        self._local: dict[str, str] = {}     # "YYYY-MM-DDTHH:MM" + offset -> as the team reads it

    def local_time(self, at: str) -> str:
        """A record's ISO time in the team's time zone: ``2026-09-01 09:15 CDT``. Worked out once
        per minute of history (outreach writes many records in the same minute)."""
        key = at[:16] + at[19:].lstrip("0123456789.")
        text = self._local.get(key)
        if text is None:
            try:
                when = dt.datetime.fromisoformat(at)
            except ValueError:
                return at
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.timezone.utc)
            local = when.astimezone(self.zone)
            text = self._local[key] = f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
        return text

    def _timeline(self, records, owner: str = "") -> tuple[TimelineItem, ...]:
        """The lead's records in time order, as its page shows them; an `attempting` only when
        nothing says how that touch ended. (Hot at 100,000 leads: records are unpacked, not
        read field by field.)"""
        done = set()
        for rec in records:
            if rec[2] in _RESULTS:
                done.add(rec[9])
        events, names, steps, local = TIMELINE_EVENTS, self.campaign_names, self.step_labels, self.local_time
        handed = {"email": "Email sent", "sms": "SMS sent",
                  "call": f"Call task handed to {owner or 'the owner'}: a call to make",
                  "mail": f"Mail task handed to {owner or 'the owner'}: a letter to print and send"}
        new = tuple.__new__
        items = []
        for day, at, ev, _lead, campaign, _enrolment, step, channel, variant, touch, ref, note in \
                sorted(records, key=_DAY_AT):
            if ev == "attempting" and touch in done:
                continue
            text, kind, show_ref = events[ev]
            if step and step[0] == "-" and ev in _TASK_HANDED:
                # the owner's task, handed out: not a call that was made
                text, kind, channel, step = f"Task for the owner: {_TASK_WORDS.get(step, 'follow up')}", "", "", ""
            elif ev == "sent" and channel in handed:
                text = handed[channel]
            elif ev == "replied" and note:
                note, colleague = reply_said(note)
                if colleague:
                    text = f"Replied: a colleague wrote ({colleague})"
            elif ev == "auto_reply":
                note = _auto_reply_words(note)
            if campaign:
                where = names[campaign] + steps[step] + (", variant " + variant if variant else "")
            else:
                where = ""
            items.append(new(TimelineItem, (at, local(at), kind, text, channel, where,
                                            note or (ref if show_ref else ""))))
        return tuple(items)

    def context(self, lead: Lead) -> LeadContext:
        d = self.derived
        st = d.states[lead.id]
        lost = lead.lost
        reached = st.reached
        path = []
        for i, stage in enumerate(self.funnel):
            day = reached.get(stage)
            if lost is not None and lost.stage == stage:
                state = "lost"
            elif day is not None and lost is not None and day > lost.date:
                state = "after"
            elif day is not None or i <= st.furthest:
                state = "reached"
            else:
                state = ""
            path.append(StageStep(self.stage_labels[i], day.isoformat() if day else "", state))
        records = self.model.history.by_lead.get(lead.id, ())
        timeline: tuple[TimelineItem, ...] = ()
        if records:
            timeline = self._timeline(records, self.owner_names.get(self.settings.owner_of(lead.owner), ""))
        ch = self.chrome
        return LeadContext(
            chrome=Chrome(lead.display_name, ch.root, ch.active, ch.nav, ch.as_of, ch.team_name,
                          as_of_note=ch.as_of_note),
            currency=self.settings.currency, lead=lead, state=st,
            status=self.status_labels.get(st.status, st.status),
            owner=self.owner_names.get(lead.owner, lead.owner or NO_OWNER),
            reason=self.settings.lost_reasons[lost.reason].label if lost else "",
            path=tuple(path), priority=self.priority.get(lead.id),
            next_action=next_action(st, self.model.campaigns, d.today) or "none: lost in the system",
            paused_until=st.paused_until.isoformat() if st.paused_until is not None and st.paused_until > d.today
            else "",
            timeline=timeline)


def lead(derived: Derived, lead_: Lead, nav: tuple[NavItem, ...]) -> LeadContext:
    """One lead's page context (building many: use :class:`LeadPages`)."""
    return LeadPages(derived, nav).context(lead_)


# --------------------------------------------------------------------------- content pages

def content_page(derived: Derived, page, html: str, nav: tuple[NavItem, ...]) -> ContentPageContext:
    return ContentPageContext(chrome=chrome(derived, nav, page.title, active=f"page:{page.slug}", depth=1),
                              html=html, source=page.file)
