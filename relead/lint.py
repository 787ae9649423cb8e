"""Warnings: things that are valid but probably wrong (fatal with --strict)."""

from __future__ import annotations

from .derive.derived import Derived
from .problems import Problems

__all__ = ["lint"]


def lint(derived: Derived, problems: Problems) -> None:
    model = derived.model
    by_id = model.by_id
    for why, ids in derived.hygiene.duplicates:
        first = by_id[ids[0]]
        for other in ids[1:]:
            lead = by_id[other]
            problems.warning(lead.file, ("leads", lead.index, "id"),
                             f"looks like a duplicate of `{first.id}` ({why})",
                             "merge the two leads, or tell them apart", lead=lead.id)
    target = model.settings.scoring.touch_target
    for lead_id in derived.hygiene.given_up_early:
        st = derived.states[lead_id]
        lead = st.lead
        problems.warning(lead.file, ("leads", lead.index, "lost"),
                         f"given up after {st.touches} touch{'es' if st.touches != 1 else ''} "
                         f"(fewer than {target})",
                         "set `recycle_on` or enrol it in a campaign: answers often come only after several touches",
                         lead=lead.id)
    settings = model.settings
    if not settings.default_owner:
        for lead_id in sorted(derived.states):
            st = derived.states[lead_id]
            cur = st.progress
            running = cur is not None and cur.stopped_by is None and cur.campaign in model.campaigns \
                and len(cur.done) < len(model.campaigns[cur.campaign].steps)
            if not st.lead.owner and (running or st.rankable):
                lead = st.lead
                problems.warning(lead.file, ("leads", lead.index, "id"),
                                 f"has no owner: its email would come from {settings.sender.name} and its "
                                 "calls go to nobody",
                                 "set `owner:`, or `default_owner:` in content/settings.yaml", lead=lead.id)
    known = model.by_id
    history = model.history
    for lead_id in sorted(set(history.by_lead) - set(known)):
        # The file and line of its first record (a folder is no place to go and look).
        rec = history.by_lead[lead_id][0]
        file, line = history.first_seen.get(lead_id) or (f"history/{rec.day[:4]}/{rec.day[5:7]}/{rec.day}", 1)
        problems.warning(file, (), f"history has records for `{lead_id}`, which is not in the leads",
                         "ids are never reused: restore the lead, or leave the records as they are",
                         line=line)
