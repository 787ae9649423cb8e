"""Which campaign's audience a lead is in, on a given day."""

from __future__ import annotations

import datetime as dt

from ..model import Campaign
from .state import LeadState

__all__ = ["in_audience"]


def in_audience(campaign: Campaign, state: LeadState, today: dt.date) -> bool:
    """True when every condition of the campaign's audience holds for the lead today.

    A campaign without `audience:` enrols nobody by itself (only leads that name it,
    and hand-offs from other campaigns). A recycle date still ahead keeps a lead out
    until it arrives; leads that cannot be contacted never match.
    """
    aud = campaign.audience
    if aud is None or campaign.paused or not state.contactable:
        return False
    lead = state.lead
    if lead.recycle_on is not None and lead.recycle_on > today:
        return False
    if aud.status and state.status not in aud.status:
        return False
    lost = lead.lost
    if aud.temperature and (lost is None or lost.temperature not in aud.temperature):
        return False
    if aud.lost_stage and (lost is None or lost.stage not in aud.lost_stage):
        return False
    if aud.reasons and (lost is None or lost.reason not in aud.reasons):
        return False
    if aud.categories and state.category not in aud.categories:
        return False
    if aud.sources and lead.source not in aud.sources:
        return False
    if aud.owners and lead.owner not in aud.owners:
        return False
    if aud.min_value and lead.value < aud.min_value:
        return False
    if aud.lost_before_days and (lost is None or (today - lost.date).days < aud.lost_before_days):
        return False
    return True
