"""The ranked list of lost leads to win back: its pages, and the drill-down pages of the leads
behind each row of the overview."""

from __future__ import annotations

import hashlib
import re
from typing import Iterable, Sequence
from urllib.parse import urlencode

from relead.derive.derived import Derived
from relead.derive.funnel import NO_OWNER, NO_SOURCE
from relead.history import Record
from relead.model import Lead
from relead.derive import periods as P
from relead.derive.priorities import Priority
from relead.derive.state import TOUCH_COUNTED, LeadState
from relead.vocab import CATEGORIES, TEMPERATURES

from ..contexts import Drill, NavItem, Option, PrioritiesContext, PriorityRow
from .common import SOURCES_SHOWN, _owner_name, _touches, chrome, label, lead_href, priorities_href
from .words import EVENT_LABELS

PRIORITIES_PAGE_SIZE = 500     # rows per priorities page
DRILL_CAP = 100                # rows on a drill-down page: the best-ranked leads behind a row

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
                           self.derived.next_actions[lead.id] or "none: lost in the system")


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
