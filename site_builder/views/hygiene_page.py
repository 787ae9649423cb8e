"""The hygiene page: leads lost in the system, incomplete, uncontactable, given up early or due for
review; duplicates, touches history does not know, closed channels, blocked sends."""

from __future__ import annotations

from typing import Mapping

from relead.derive.derived import Derived
from relead.history import Record

from ..contexts import BlockRow, ClosedRow, HygieneContext, HygieneItem, HygieneSection, NavItem
from .common import LIST_CAP, _owner_name, _touches, chrome
from .words import _step_words, closed_why


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
