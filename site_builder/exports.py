"""The data exports: summary.json, leads.csv, priorities.csv (pure: derived data in, text out).

In the CSV files a value a spreadsheet would run as a formula (it starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading ``'``,
unless it is only a phone number (``+14155550134``, ``+1 415 555 0134 ext. 9``).
A lead's phone is written in E.164, with its extension when it has one.
"""

from __future__ import annotations

import csv
import io
import json
import re

import phonenumbers

from relead.derive.derived import Derived
from relead.model import Lead
from relead.derive.summary import summary

__all__ = ["summary_json", "leads_csv", "priorities_csv", "breakdown_text", "phone_cell"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# A value that is a phone number and nothing else: `+14155550134`, `+1 (415) 555-0134 ext. 9`, or one
# masked by `build --redact` (`+1 ••• ••34`): digits, the separators people write numbers with and an
# extension, none of the names, operators or quotes a spreadsheet formula needs.
_PHONE = re.compile(r"\+([\d ().\-]+?)(?:\s*(?:ext\.?|x|#|;ext=)\s*\d{1,7})?|\+\d{1,3} ••• ••\d\d")
# Only a number written with letters, `#` or `;` can have an extension: only those pay for parsing.
_MAY_HAVE_EXTENSION = re.compile(r"[a-z#;]", re.I)


def _phone_only(text: str) -> bool:
    m = _PHONE.fullmatch(text)
    return m is not None and (m.group(1) is None or 7 <= len(_NOT_DIGIT.sub("", m.group(1))) <= 15)


_NOT_DIGIT = re.compile(r"\D")


def _cell(value) -> str:
    """Text as a spreadsheet shows it, never as a formula (CSV injection); a phone number as it is."""
    if type(value) is str:      # most cells, two million at 100,000 leads: the shortest way through
        return "'" + value if value.startswith(_FORMULA_START) and not _phone_only(value) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START) and not _phone_only(text):
        return "'" + text
    return text


def phone_cell(lead: Lead, region: str) -> str:
    """The lead's phone in E.164, with its extension when the file gives one: ``+14155550134 ext. 9``.

    The model keeps E.164 for matching and texting, which has no room for an
    extension; the number as written still has it.
    """
    if not lead.phone or not _MAY_HAVE_EXTENSION.search(lead.phone_written):
        return lead.phone
    try:
        extension = phonenumbers.parse(lead.phone_written, region).extension
    except phonenumbers.NumberParseException:
        return lead.phone
    return f"{lead.phone} ext. {extension}" if extension else lead.phone


def _csv(header: list[str], rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    start = _FORMULA_START
    for row in rows:
        # _cell's first case inline: most cells are text that starts as no formula does
        w.writerow([v if type(v) is str and not v.startswith(start) else _cell(v) for v in row])
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
    actions = derived.next_actions
    region = derived.model.settings.phone_region

    def rows():
        for lead in derived.model.leads:
            st = derived.states[lead.id]
            lost = lead.lost
            pr = ranks.get(lead.id)
            yield [lead.id, lead.name, lead.company, lead.title, lead.email, phone_cell(lead, region), lead.source,
                   lead.owner, lead.value, st.status, funnel[st.furthest],
                   lost.date if lost else "", lost.stage if lost else "", lost.reason if lost else "",
                   st.category or "", lost.temperature if lost else "", lead.recycle_on or "",
                   lead.follow_up or "", st.touches, pr.rank if pr else "", pr.score if pr else "",
                   actions[lead.id] or "none"]
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
