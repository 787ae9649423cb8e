"""The data exports: summary.json, leads.csv, priorities.csv (pure: derived data in, text out)."""

from __future__ import annotations

import csv
import io
import json

from relead.derive import Derived
from relead.hygiene import next_action
from relead.summary import summary

__all__ = ["summary_json", "leads_csv", "priorities_csv", "breakdown_text"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """Text as a spreadsheet shows it, never as a formula (CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _csv(header: list[str], rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([_cell(v) for v in row])
    return buf.getvalue()


def summary_json(derived: Derived) -> str:
    return json.dumps(summary(derived), indent=1, ensure_ascii=False) + "\n"


def breakdown_text(priority) -> str:
    return "; ".join(f"{p.factor} {p.points:+g} ({p.why})" for p in priority.breakdown)


def leads_csv(derived: Derived) -> str:
    funnel = derived.model.settings.funnel
    ranks = {p.lead.id: p for p in derived.priorities}
    header = ["id", "name", "company", "title", "email", "phone", "source", "owner", "value",
              "status", "furthest_stage", "lost_date", "lost_stage", "lost_reason", "category",
              "temperature", "recycle_on", "follow_up", "touches", "rank", "score", "next_action"]
    campaigns, today = derived.model.campaigns, derived.today

    def rows():
        for lead in derived.model.leads:
            st = derived.states[lead.id]
            lost = lead.lost
            pr = ranks.get(lead.id)
            yield [lead.id, lead.name, lead.company, lead.title, lead.email, lead.phone, lead.source,
                   lead.owner, lead.value, st.status, funnel[st.furthest],
                   lost.date if lost else "", lost.stage if lost else "", lost.reason if lost else "",
                   st.category or "", lost.temperature if lost else "", lead.recycle_on or "",
                   lead.follow_up or "", st.touches, pr.rank if pr else "", pr.score if pr else "",
                   next_action(st, campaigns, today) or "none"]
    return _csv(header, rows())


def priorities_csv(derived: Derived) -> str:
    header = ["rank", "id", "name", "company", "owner", "temperature", "lost_stage", "lost_reason",
              "value", "score", "breakdown"]

    def rows():
        for p in derived.priorities:
            lead = p.lead
            yield [p.rank, lead.id, lead.name, lead.company, lead.owner, lead.lost.temperature,
                   lead.lost.stage, lead.lost.reason, lead.value, p.score, breakdown_text(p)]
    return _csv(header, rows())
