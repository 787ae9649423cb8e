"""The today page: the day's plan (or the next sending day's), the owners' tasks, the replies
waiting."""

from __future__ import annotations

import datetime as dt
from typing import Mapping

from relead.derive.derived import Derived
from relead.derive.plan import REPLY_STEP, DayPlan
from relead.derive.state import LeadState

from ..contexts import NavItem, OwnerTasks, ReplyRow, Stat, TodayContext
from .common import LIST_CAP, _owner_name, chrome
from .words import TASK_LABELS, reply_said


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
