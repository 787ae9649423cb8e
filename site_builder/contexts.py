"""What each page template receives: one documented, frozen context class per page kind.

:data:`PAGES` maps each page template to its context class. The renderer passes
a context's fields as the template's variables, and nothing else (plus the
filters of :func:`site_builder.render.environment`); ``tests/test_site.py``
holds every template to its class: the variables a template reads are exactly
the fields of its context. Row classes are plain data the views fill in; lead
data in them is text, escaped by the templates, never marked safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, NamedTuple

from relead.derive.campaign_stats import CampaignStats, HookStats, Ranking, Tally
from relead.history import Record
from relead.model import Campaign, Lead
from relead.derive.plan import DayPlan, Enrolment, Skip, Stop, Touch
from relead.derive.priorities import Points, Priority
from relead.derive.state import LeadState

from .charts import Chart

__all__ = [
    "NavItem", "Chrome", "Stat", "FunnelRow", "CountRow", "SourceRow", "WeekRow", "OwnerRow",
    "PeriodPanel", "OwnerActivityRow", "MonthRow", "CrossRow",
    "OverviewContext", "PriorityRow", "Option", "Drill", "PrioritiesContext", "OwnerTasks", "ReplyRow", "TodayContext",
    "CampaignCard", "ChannelRow", "CampaignsContext", "TouchRow", "CampaignContext",
    "HygieneItem", "HygieneSection", "ClosedRow", "BlockRow", "HygieneContext", "StageStep", "TimelineItem",
    "LeadContext",
    "ContentPageContext", "PAGES",
]


# --------------------------------------------------------------------------- shared

@dataclass(frozen=True, slots=True)
class NavItem:
    key: str            # "overview", "priorities", ..., "page:<slug>"
    label: str
    href: str           # relative to the site root


@dataclass(frozen=True, slots=True)
class Chrome:
    """What ``base.html`` needs on every page."""

    title: str          # the page's <title> and <h1>
    root: str           # "" at the top of the site, "../" one folder down
    active: str         # the NavItem.key of this page ("" for none)
    nav: tuple[NavItem, ...]
    as_of: str          # YYYY-MM-DD
    team_name: str      # settings.sender.name
    script_hash: str = ""   # sha256 of the page's inline script, for the CSP ("" when none)
    as_of_note: str = ""    # said after the as-of date when it is the settings' as_of (the example's)


@dataclass(frozen=True, slots=True)
class Stat:
    """A headline number: label, value as shown, and a line of context."""

    label: str
    value: str
    note: str = ""
    tone: str = ""      # "", "good", "bad": a visual hint only; the words carry the meaning


# --------------------------------------------------------------------------- overview

@dataclass(frozen=True, slots=True)
class FunnelRow:
    stage: str          # label
    reached: int
    lost_here: int
    drop_off: float     # lost_here / reached
    to_next: float | None   # share of this stage's leads that reached the next one
    href: str = ""      # the ranked leads lost at this stage ("" when none was lost here)


@dataclass(frozen=True, slots=True)
class CountRow:
    label: str
    count: int
    share: float        # of the rows' total
    note: str = ""      # e.g. a lost reason's category
    href: str = ""      # the ranked leads behind the row (a drill-down page); "" for none
    value: float = 0    # the leads' value (lost reasons)


@dataclass(frozen=True, slots=True)
class SourceRow:
    source: str
    leads: int
    reached: tuple[int, ...]   # per funnel stage, in order (the last is won)
    lost: int
    href: str = ""      # the ranked leads from this source ("" for the folded row)


@dataclass(frozen=True, slots=True)
class WeekRow:
    stage: str
    this_week: int
    last_week: int
    change: int         # this_week - last_week


@dataclass(frozen=True, slots=True)
class OwnerRow:
    owner: str          # the team member's name
    leads: int
    open: int
    lost: int
    back_in_funnel: int
    recovered: int
    won: int
    dead: int
    value_at_stake: float
    href: str = ""              # the owner's ranked leads
    follow_ups_overdue: int = 0     # follow-up date before today, on a lead not won, recovered or gone
    replies_waiting: int = 0        # answered, and nobody has recorded what came of it


@dataclass(frozen=True, slots=True)
class OwnerActivityRow:
    owner: str          # name
    touches: int        # campaign touches that went out to the owner's leads
    calls: int          # calls made (an outcome recorded)
    answers: int
    interested: int
    recovered: int


@dataclass(frozen=True, slots=True)
class PeriodPanel:
    """One period of the overview's selector (relead.derive.periods.PeriodSummary, in words)."""

    key: str            # "week", "month", "quarter", "all"
    label: str          # "This week"
    window: str         # "16–22 Nov 2026"
    previous: str       # "the same days of last week (9–15 Nov 2026)"; "" for all time
    stats: tuple[Stat, ...]     # each number; its note says the change against the previous period
    owners: tuple[OwnerActivityRow, ...]
    open: bool          # shown first


@dataclass(frozen=True, slots=True)
class MonthRow:
    month: str          # "Nov 2026"
    recovered: int
    value: float


@dataclass(frozen=True, slots=True)
class CrossRow:
    """A lost reason's row of the reason by stage table."""

    label: str
    href: str
    cells: tuple[tuple[int, str], ...]  # per loss stage: (leads, drill-down href or "")
    total: int


@dataclass(frozen=True)
class OverviewContext:
    """``overview.html`` (index.html): the headline numbers (by period, against the period before),
    the funnel, why leads were lost (by count and value, and by stage), what was won back month by
    month, sources, weeks, owners and their activity. Every row links to the ranked leads behind it."""

    chrome: Chrome
    currency: str
    stats: tuple[Stat, ...]
    periods: tuple[PeriodPanel, ...]    # this week, this month, this quarter, all time
    funnel: tuple[FunnelRow, ...]
    funnel_chart: Chart
    back_at: tuple[CountRow, ...]       # back-in-funnel leads by the stage they are back at
    reasons: tuple[CountRow, ...]       # with the value of the leads lost, and each one's drill-down
    reasons_chart: Chart
    reasons_value_chart: Chart          # the same reasons by the value of the leads lost
    loss_stages: tuple[str, ...]        # the reason by stage table's columns (stage labels)
    reason_stage: tuple[CrossRow, ...]
    stage_totals: tuple[int, ...]       # per loss stage
    months: tuple[MonthRow, ...]        # the last 12 months, oldest first
    months_chart: Chart
    months_before: MonthRow | None      # won back before those months ("Before Dec 2025"), when any
    categories: tuple[CountRow, ...]
    categories_chart: Chart
    temperatures: tuple[CountRow, ...]
    temperatures_chart: Chart
    stages: tuple[str, ...]             # funnel stage labels, for the source table's columns
    sources: tuple[SourceRow, ...]
    sources_hidden: int                 # smaller sources folded into the last row ("other sources")
    week_label: str                     # "week of 16 Nov 2026"
    weeks: tuple[WeekRow, ...]
    weekly_chart: Chart
    week_starts: tuple[str, ...]        # the 12 weeks, oldest first, for the table
    weekly_table: tuple[tuple[str, tuple[int, ...]], ...]   # (stage, count per week)
    owners: tuple[OwnerRow, ...]
    outreach: Tally                     # every campaign touch to date
    recovered: int                      # every lead won back after its loss, by any means
    campaigns_href: str


# --------------------------------------------------------------------------- priorities

@dataclass(frozen=True, slots=True)
class PriorityRow:
    rank: int
    lead: Lead
    href: str           # the lead's page
    owner: str          # name
    temperature: str
    lost_stage: str
    reason: str         # label
    category: str       # the lost reason's kind (key)
    score: float
    breakdown: tuple[Points, ...]
    last_touch: str     # "2026-11-03 email", "none recorded"
    next_step: str      # hygiene.next_action in words


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Drill:
    """A drill-down page: the ranked leads behind one row of the overview, written as a page so
    the link works without JavaScript."""

    words: str          # "lost for the reason Price, at Proposal"
    lost: int           # leads with a loss on record that match (whatever their status now)
    total: int          # of them, ranked: still lost and contactable
    href: str           # the whole ranked list with the same filters, applied in the browser


@dataclass(frozen=True)
class PrioritiesContext:
    """``priorities.html``: ranked leads, one page of them, filterable (also through the URL:
    ``?reason=&stage=&category=&owner=&temp=&source=&q=``) and sortable in the browser; or a drill-down
    page (``drill``), the best-ranked leads behind one row of the overview."""

    chrome: Chrome
    currency: str
    rows: tuple[PriorityRow, ...]
    total: int          # every ranked lead
    first: int          # rank of the first row on this page
    page: int           # 1-based
    pages: tuple[str, ...]     # href of each page of the list
    owners: tuple[Option, ...]
    temperatures: tuple[Option, ...]
    reasons: tuple[Option, ...]
    sources: tuple[Option, ...]
    stages: tuple[Option, ...]          # the stage a lead was lost at
    categories: tuple[Option, ...]      # the kind of loss (the lost reason's category)
    coolest_first: bool
    script: str         # the inline filter/sort script (our own constant text)
    drill: Drill | None = None          # a drill-down page; None for the ranked list itself


# --------------------------------------------------------------------------- today

@dataclass(frozen=True, slots=True)
class OwnerTasks:
    owner: str          # name
    email: str
    calls: tuple[Touch, ...]            # call steps, and calls back after an `interested` answer
    mail: tuple[Touch, ...]
    answers: tuple[Touch, ...] = ()     # replies to answer (the planner's REPLY_STEP tasks)


@dataclass(frozen=True, slots=True)
class ReplyRow:
    """A lead whose reply waits for the owner: nobody has recorded what came of it yet."""

    id: str
    name: str
    href: str           # "" when the lead has no page
    owner: str          # name
    channel: str        # how the reply came ("email", "sms"; "" when not recorded)
    day: str            # YYYY-MM-DD
    days: int           # days since, to the build's as-of date
    said: str           # the reply's snippet ("" when none was recorded)
    colleague: str      # the address of a colleague who wrote instead of the lead ("" when the lead did)


@dataclass(frozen=True)
class TodayContext:
    """``today.html``: what `make outreach` sends today (or on the next sending day), the tasks, and the
    replies waiting for an answer."""

    chrome: Chrome
    day: str            # the day the plan is for, spelled out
    sending_day: bool   # today is a sending day (else the plan is the next sending day's)
    stats: tuple[Stat, ...]
    plan: DayPlan
    sends: tuple[Touch, ...]            # email and SMS, capped at `shown`
    sends_total: int
    owners: tuple[OwnerTasks, ...]      # each owner's replies to answer, call and mail tasks
    task_labels: Mapping[int, str]      # an owner's task step (negative) -> its label: "answer", "call back"
    replies: tuple[ReplyRow, ...]       # replies waiting for the owner, newest first, capped
    replies_total: int
    enrolments: tuple[Enrolment, ...]   # capped
    skipped: tuple[Skip, ...]           # capped
    deferred: tuple[Skip, ...]          # capped
    stopped: tuple[Stop, ...]           # capped
    shown: int          # the cap on each list
    names: Mapping[str, str]            # lead id -> display name (leads in the lists)
    contacts: Mapping[str, str]         # lead id -> phone (leads with a call task)
    campaign_names: Mapping[str, str]
    lead_hrefs: Mapping[str, str]       # lead id -> its page (only leads that have one)
    hooks: Mapping[tuple[str, str], str]   # (campaign, variant) -> hook
    owner_names: Mapping[str, str]      # team key -> name (a touch's owner)


# --------------------------------------------------------------------------- campaigns

@dataclass(frozen=True, slots=True)
class CampaignCard:
    campaign: Campaign
    href: str
    hooks: tuple[str, ...]
    stats: CampaignStats


@dataclass(frozen=True, slots=True)
class ChannelRow:
    channel: str
    tally: Tally
    best: bool
    lower: float | None     # the interest rate's 95% lower bound; None: too few touches to compare


@dataclass(frozen=True, slots=True)
class TouchRow:
    """What the team's touches at one place in a sequence drew (campaign_stats.TouchCurve)."""

    touch: str          # "1", ..., "5+"
    sent: int
    replied: int
    interested: int
    recovered: int      # leads won back, credited to the touch that got their first answer


@dataclass(frozen=True)
class CampaignsContext:
    """``campaigns.html``: every campaign side by side; channels, hooks and touch numbers overall."""

    chrome: Chrome
    currency: str
    cards: tuple[CampaignCard, ...]
    total: Tally
    channels: tuple[ChannelRow, ...]
    channel_ranking: Ranking            # how the best channel was judged, and which were left out
    hooks: tuple[HookStats, ...]        # in the ranking's order
    hook_lower: tuple[float | None, ...]    # per hook: its interest rate's 95% lower bound (None: too few)
    best_hook: HookStats | None
    hook_ranking: Ranking               # keyed by "hook (campaign, variant x)"
    touches: tuple[TouchRow, ...]
    touch_chart: Chart
    unattributed: int


@dataclass(frozen=True)
class CampaignContext:
    """``campaign.html``: one campaign: hook(s), audience, steps, and what each step, channel and
    variant brought back."""

    chrome: Chrome
    currency: str
    campaign: Campaign
    audience: tuple[str, ...]           # the audience's conditions in words
    outcomes: tuple[str, ...]           # the outcome rules in words
    steps: tuple[tuple[str, str], ...]  # per step: (when, message) in words
    stats: CampaignStats
    channels: tuple[ChannelRow, ...]
    channel_ranking: Ranking
    variant_ranking: Ranking | None     # None: the campaign has no variants to compare
    best_variant: str | None
    touches: tuple[TouchRow, ...]
    touch_chart: Chart
    steps_chart: Chart


# --------------------------------------------------------------------------- hygiene

@dataclass(frozen=True, slots=True)
class ClosedRow:
    """A lead's email or SMS closed for good (sync or a person recorded why)."""

    id: str
    name: str
    href: str           # "" when the lead has no page
    owner: str          # name
    channel: str        # "email" or "sms"
    contact: str        # the address or number that is closed
    why: str            # in words: bounced (with the status), three soft bounces, unsubscribed, STOP...
    day: str            # YYYY-MM-DD of the record that closed it
    hint: str           # what a person can do ("" when nothing)


@dataclass(frozen=True, slots=True)
class BlockRow:
    """Email a receiving server refused as a block against us (a 5.7.x status): not the lead's doing."""

    id: str
    name: str
    href: str           # "" when the lead has no page
    owner: str          # name
    day: str            # YYYY-MM-DD
    note: str           # the address and the server's status and words

@dataclass(frozen=True, slots=True)
class HygieneItem:
    id: str
    name: str
    href: str           # "" when the lead has no page
    owner: str
    detail: str


@dataclass(frozen=True, slots=True)
class HygieneSection:
    key: str            # anchor
    title: str
    why: str            # what the list means and what to do
    total: int
    items: tuple[HygieneItem, ...]      # capped


@dataclass(frozen=True)
class HygieneContext:
    """``hygiene.html``: every lead accounted for: the lists that need a person, and deliverability
    (email or SMS closed for good, blocks by receiving servers)."""

    chrome: Chrome
    sections: tuple[HygieneSection, ...]
    duplicates: tuple[tuple[str, tuple[HygieneItem, ...]], ...]   # (why, leads), capped
    duplicates_total: int
    unknown: tuple[tuple[Record, str, str], ...]    # (attempting record, lead name, step in words), capped
    unknown_total: int
    closed: tuple[ClosedRow, ...]       # email or SMS closed for good, latest first, capped
    closed_total: int
    blocks: tuple[BlockRow, ...]        # blocks against us, newest first, capped
    blocks_total: int
    campaign_names: Mapping[str, str]
    lead_hrefs: Mapping[str, str]
    shown: int


# --------------------------------------------------------------------------- one lead

@dataclass(frozen=True, slots=True)
class StageStep:
    stage: str          # label
    day: str            # YYYY-MM-DD or ""
    state: str          # "reached", "lost" (lost at this stage), "after" (reached after the loss), ""


class TimelineItem(NamedTuple):
    """One record of a lead's history, as its timeline shows it (all text, escaped by the template).
    ``lead.html`` unpacks it in this order (quicker than a field at a time: 50,000 pages)."""

    at: str             # ISO time, as recorded (UTC)
    when: str           # in the team's time zone (settings timezone): "2026-09-01 09:15 CDT"
    kind: str           # CSS class of its dot: "enrol", "response", "problem" or ""
    label: str          # what happened, in words
    channel: str
    where: str          # campaign name, step and variant ("" when none)
    note: str           # the record's note (or, for a skip or a failure, why)


@dataclass(frozen=True)
class LeadContext:
    """``lead.html``: one lead: details (out of office, when away), funnel path, loss, score, and its
    timeline from history/."""

    chrome: Chrome
    currency: str
    lead: Lead
    state: LeadState
    status: str                         # label
    owner: str                          # name
    reason: str                         # the lost reason's label ("" when not lost)
    path: tuple[StageStep, ...]
    priority: Priority | None
    next_action: str
    paused_until: str                   # out of office: no touch before this day (YYYY-MM-DD); "" when
                                        # not away after the build's as-of date
    timeline: tuple[TimelineItem, ...]  # in time order; `attempting` only when it has no result


# --------------------------------------------------------------------------- content pages

@dataclass(frozen=True)
class ContentPageContext:
    """``page.html``: a Markdown page from content/pages (the team's own text, rendered to HTML)."""

    chrome: Chrome
    html: str           # Markdown rendered with raw HTML escaped: safe to insert
    source: str         # its file, e.g. content/pages/playbook.md


PAGES: dict[str, type] = {
    "overview.html": OverviewContext,
    "priorities.html": PrioritiesContext,
    "today.html": TodayContext,
    "campaigns.html": CampaignsContext,
    "campaign.html": CampaignContext,
    "hygiene.html": HygieneContext,
    "lead.html": LeadContext,
    "page.html": ContentPageContext,
}
