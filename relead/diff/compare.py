"""What a change does to the funnel: two revisions' derived data in, the difference out.

:func:`compare` takes the :class:`~relead.derive.derived.Derived` of a base and of a head
revision (loaded with the same ``today``, so only the data differs) and returns a
:class:`Comparison`: leads added and removed, status changes, priority changes
(leads that entered or left the ranking, rank moves of at least ``min_move``
places, changes to the top ``top``), and the counts per status and per funnel
stage before and after. :func:`render` formats it, or says which revision has
errors, as plain text or as Markdown (for a pull request's job summary). Pure:
nothing here reads files or runs git (that is :mod:`relead.diff.revisions`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from ..derive.derived import Derived
from ..problems import Problem

__all__ = ["LeadRef", "StatusChange", "RankMove", "Count", "StageDelta", "Comparison", "Side",
           "compare", "render", "MIN_MOVE", "TOP", "LIMIT", "FORMATS"]

MIN_MOVE = 5     # rank moves smaller than this are not listed (every insertion shifts the ones below)
TOP = 10         # "whom to call first": changes to these ranks are always listed
LIMIT = 50       # rows per list; the rest are counted
FORMATS = ("text", "markdown")

_STATUS_ORDER = ("open", "lost", "back_in_funnel", "recovered", "won", "dead")


@dataclass(frozen=True, slots=True)
class LeadRef:
    id: str
    name: str
    status: str
    rank: int | None


@dataclass(frozen=True, slots=True)
class StatusChange:
    id: str
    name: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class RankMove:
    id: str
    name: str
    before: int | None     # None: not ranked (or not there) before
    after: int | None      # None: not ranked (or gone) after
    why: str = ""          # for a lead that left the ranking: its status now, or "removed"
    shift: int = 0         # places moved up (+) or down (-) among the leads ranked on both sides


@dataclass(frozen=True, slots=True)
class Count:
    label: str
    before: float
    after: float

    @property
    def delta(self) -> float:
        return self.after - self.before


@dataclass(frozen=True, slots=True)
class StageDelta:
    stage: str
    reached: Count
    lost_here: Count


@dataclass(frozen=True)
class Comparison:
    today: dt.date
    added: tuple[LeadRef, ...]
    removed: tuple[LeadRef, ...]
    status_changes: tuple[StatusChange, ...]
    entered_ranking: tuple[RankMove, ...]
    left_ranking: tuple[RankMove, ...]
    moved: tuple[RankMove, ...]          # ranked on both sides, |shift| >= min_move; biggest first
    top_entered: tuple[RankMove, ...]
    top_left: tuple[RankMove, ...]
    statuses: tuple[Count, ...]          # "leads" (the total), then each status
    funnel: tuple[StageDelta, ...]
    recovery: tuple[Count, ...]
    min_move: int = MIN_MOVE
    top: int = TOP

    @property
    def priority_changes(self) -> int:
        ids = {m.id for group in (self.entered_ranking, self.left_ranking, self.moved, self.top_entered,
                                  self.top_left) for m in group}
        return len(ids)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.status_changes or self.priority_changes
                    or any(c.delta for c in self.statuses + self.recovery)
                    or any(s.reached.delta or s.lost_here.delta for s in self.funnel))


@dataclass(frozen=True)
class Side:
    """One revision as loaded: a label for people, and its derived data or its errors."""

    label: str
    derived: Derived | None
    errors: tuple[Problem, ...] = ()


def compare(before: Derived, after: Derived, *, min_move: int = MIN_MOVE, top: int = TOP) -> Comparison:
    """The difference between two revisions' derived data (both loaded with the same ``today``)."""
    b_states, a_states = before.states, after.states
    b_rank = {p.lead.id: p.rank for p in before.priorities}
    a_rank = {p.lead.id: p.rank for p in after.priorities}

    def name(lead_id: str) -> str:
        st = a_states.get(lead_id) or b_states.get(lead_id)
        return st.lead.display_name if st is not None else lead_id

    a_order = [lead.id for lead in after.model.leads]
    b_order = [lead.id for lead in before.model.leads]
    added = tuple(LeadRef(i, name(i), a_states[i].status, a_rank.get(i)) for i in a_order if i not in b_states)
    removed = tuple(LeadRef(i, name(i), b_states[i].status, b_rank.get(i)) for i in b_order if i not in a_states)
    changes = tuple(StatusChange(i, name(i), b_states[i].status, a_states[i].status)
                    for i in a_order if i in b_states and b_states[i].status != a_states[i].status)

    def why_left(lead_id: str) -> str:
        st = a_states.get(lead_id)
        if st is None:
            return "removed"
        if st.status != "lost":
            return st.status.replace("_", " ")
        return "cannot be contacted"

    entered = tuple(RankMove(i, name(i), None, r) for i, r in sorted(a_rank.items(), key=lambda kv: kv[1])
                    if i not in b_rank)
    left = tuple(RankMove(i, name(i), r, None, why_left(i))
                 for i, r in sorted(b_rank.items(), key=lambda kv: kv[1]) if i not in a_rank)
    # A move is measured among the leads ranked on both sides, so that a lead entering or
    # leaving the ranking does not make every lead below it look as if it had moved.
    both = [i for i in a_rank if i in b_rank]
    b_pos = {i: n for n, i in enumerate(sorted(both, key=b_rank.__getitem__))}
    a_pos = {i: n for n, i in enumerate(sorted(both, key=a_rank.__getitem__))}
    moved = sorted((RankMove(i, name(i), b_rank[i], a_rank[i], shift=b_pos[i] - a_pos[i]) for i in both
                    if abs(b_pos[i] - a_pos[i]) >= min_move),
                   key=lambda m: (-abs(m.shift), m.after, m.id))
    b_top = {i for i, r in b_rank.items() if r <= top}
    a_top = {i for i, r in a_rank.items() if r <= top}
    top_entered = tuple(sorted((RankMove(i, name(i), b_rank.get(i), a_rank[i]) for i in a_top - b_top),
                               key=lambda m: (m.after, m.id)))
    top_left = tuple(sorted((RankMove(i, name(i), b_rank[i], a_rank.get(i),
                                      "" if i in a_rank else why_left(i)) for i in b_top - a_top),
                            key=lambda m: (m.before, m.id)))

    statuses = [Count("leads", before.statuses.get("total", 0), after.statuses.get("total", 0))]
    keys = list(_STATUS_ORDER) + [k for k in list(before.statuses) + list(after.statuses)
                                  if k != "total" and k not in _STATUS_ORDER]
    for key in dict.fromkeys(keys):
        statuses.append(Count(key, before.statuses.get(key, 0), after.statuses.get(key, 0)))

    b_funnel = {s.stage: s for s in before.funnel}
    a_funnel = {s.stage: s for s in after.funnel}
    stages = list(a_funnel) + [s for s in b_funnel if s not in a_funnel]
    funnel = tuple(StageDelta(s, Count("reached", _reached(b_funnel.get(s)), _reached(a_funnel.get(s))),
                              Count("lost here", _lost(b_funnel.get(s)), _lost(a_funnel.get(s))))
                   for s in stages)

    br, ar = before.recovery, after.recovery
    recovery = (
        Count("lost (ever)", br.lost, ar.lost),
        Count("recovered", br.recovered, ar.recovered),
        Count("back in the funnel", br.back_in_funnel, ar.back_in_funnel),
        Count("gone for good", br.gone_for_good, ar.gone_for_good),
        Count("still lost", br.still_lost, ar.still_lost),
        Count("value at stake", br.value_at_stake, ar.value_at_stake),
        Count("value recovered", br.value_recovered, ar.value_recovered),
        Count("ranked to win back", len(b_rank), len(a_rank)),
    )
    return Comparison(today=after.today, added=added, removed=removed, status_changes=changes,
                      entered_ranking=entered, left_ranking=left, moved=tuple(moved),
                      top_entered=top_entered, top_left=top_left, statuses=tuple(statuses),
                      funnel=funnel, recovery=recovery, min_move=min_move, top=top)


def _reached(s) -> int:
    return s.reached if s is not None else 0


def _lost(s) -> int:
    return s.lost_here if s is not None else 0


# --------------------------------------------------------------------------- formatting

def render(base: Side, head: Side, *, fmt: str = "text", min_move: int = MIN_MOVE, top: int = TOP,
           limit: int = LIMIT, currency: str = "") -> str:
    """The report for two revisions: the comparison, or which of them has errors."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    out = _Markdown(limit) if fmt == "markdown" else _Text(limit)
    if base.derived is None or head.derived is None:
        out.title(f"relead diff: {base.label} → {head.label}")
        for side in (base, head):
            if side.derived is None:
                n = len(side.errors)
                out.para(f"{side.label} has {n} error{'s' * (n != 1)}: the funnel cannot be compared "
                         "until it is valid (`make check` lists them).")
                out.problems(side.errors)
        return out.text()
    cmp = compare(base.derived, head.derived, min_move=min_move, top=top)
    currency = currency or head.derived.model.settings.currency
    out.title(f"relead diff: {base.label} → {head.label} (as of {cmp.today})")
    if not cmp.changed:
        out.para("No lead added or removed, and no change to statuses, the funnel or the priorities.")
        return out.text()
    out.para(", ".join((
        _n(len(cmp.added), "lead") + " added", f"{len(cmp.removed)} removed",
        _n(len(cmp.status_changes), "status change"), _n(cmp.priority_changes, "priority change"),
    )) + ".")
    out.table(("", "before", "after", "change"),
              [(_status_label(c.label), _num(c.before), _num(c.after), _signed(c.delta))
               for c in cmp.statuses if c.before or c.after], right=(1, 2, 3), changed=(3,))
    out.heading("Funnel")
    out.table(("stage", "reached", "change", "lost here", "change"),
              [(s.stage, _num(s.reached.after), _signed(s.reached.delta), _num(s.lost_here.after),
                _signed(s.lost_here.delta)) for s in cmp.funnel], right=(1, 2, 3, 4), changed=(2, 4))
    rec = [c for c in cmp.recovery if c.delta]
    if rec:
        out.heading("Recovery")
        out.table(("", "before", "after", "change"),
                  [(c.label, _money(c.before, currency) if "value" in c.label else _num(c.before),
                    _money(c.after, currency) if "value" in c.label else _num(c.after),
                    _signed(c.delta)) for c in rec], right=(1, 2, 3), changed=(3,))
    if cmp.added:
        out.heading(f"Leads added ({len(cmp.added)})")
        out.items(cmp.added, lambda r: (r.id, r.name, f"{_status_label(r.status).lower()}"
                                        + (f", ranked #{r.rank}" if r.rank else "")))
    if cmp.removed:
        out.heading(f"Leads removed ({len(cmp.removed)})")
        out.items(cmp.removed, lambda r: (r.id, r.name, f"was {_status_label(r.status).lower()}"
                                          + (f", ranked #{r.rank}" if r.rank else "")))
    if cmp.status_changes:
        out.heading(f"Status changes ({len(cmp.status_changes)})")
        out.items(cmp.status_changes, lambda c: (c.id, c.name, f"{_status_label(c.before).lower()} → "
                                                 f"{_status_label(c.after).lower()}"))
    if cmp.priority_changes:
        out.heading("Priorities")
        if cmp.top_entered or cmp.top_left:
            out.subheading(f"Top {cmp.top}")
            out.items([(m.id, m.name, f"entered at #{m.after}" + (f" (was #{m.before})" if m.before else ""))
                       for m in cmp.top_entered]
                      + [(m.id, m.name, f"left: now #{m.after}" if m.after else f"left: {m.why}")
                         for m in cmp.top_left], lambda row: row)
        if cmp.entered_ranking:
            out.subheading(f"Entered the ranking ({len(cmp.entered_ranking)})")
            out.items(cmp.entered_ranking, lambda m: (m.id, m.name, f"#{m.after}"))
        if cmp.left_ranking:
            out.subheading(f"Left the ranking ({len(cmp.left_ranking)})")
            out.items(cmp.left_ranking, lambda m: (m.id, m.name, f"was #{m.before}; {m.why}"))
        if cmp.moved:
            out.subheading(f"Moved {_n(cmp.min_move, 'place')} or more past other ranked leads ({len(cmp.moved)})")
            out.items(cmp.moved, lambda m: (m.id, m.name, f"#{m.before} → #{m.after}, "
                                            + (f"passed {_n(m.shift, 'other')}" if m.shift > 0
                                               else f"passed by {_n(-m.shift, 'other')}")))
    return out.text()


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _num(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.1f}"


def _signed(x: float) -> str:
    if not x:
        return "0"
    return ("+" if x > 0 else "−") + _num(abs(x))


def _money(x: float, currency: str) -> str:
    return f"{x:,.0f} {currency}".strip()


def _status_label(key: str) -> str:
    text = key.replace("_", " ")
    return text[:1].upper() + text[1:]


class _Text:
    def __init__(self, limit: int):
        self.lines: list[str] = []
        self.limit = limit

    def text(self) -> str:
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        return "\n".join(self.lines) + "\n"

    def title(self, text: str) -> None:
        self.lines += [text, ""]

    def heading(self, text: str) -> None:
        self.lines += [text, ""]

    def subheading(self, text: str) -> None:
        self.lines += [f"  {text}:"]

    def para(self, text: str) -> None:
        self.lines += [text, ""]

    def problems(self, problems: Sequence[Problem]) -> None:
        for p in problems[:self.limit]:
            self.lines.append(f"  {p.format()}")
        if len(problems) > self.limit:
            self.lines.append(f"  ... and {len(problems) - self.limit} more")
        self.lines.append("")

    def table(self, header: Sequence[str], rows: Iterable[Sequence[str]], *, right=(), changed=()) -> None:
        rows = [list(header)] + [list(r) for r in rows]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        for row in rows:
            cells = [c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(row)]
            self.lines.append(("  " + "  ".join(cells)).rstrip())
        self.lines.append("")

    def items(self, items: Sequence, parts: Callable) -> None:
        for item in items[:self.limit]:
            lead_id, name, what = parts(item)
            self.lines.append(f"    {lead_id}  {name}: {what}")
        if len(items) > self.limit:
            self.lines.append(f"    ... and {len(items) - self.limit} more")
        if items:
            self.lines.append("")


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|#~!"})


def _md(text: str) -> str:
    """Text as Markdown shows it literally, on one line (lead names come from the data)."""
    return " ".join(str(text).split()).translate(_MD_SPECIAL)


class _Markdown(_Text):
    def title(self, text: str) -> None:
        self.lines += [f"### {_md(text)}", ""]

    def heading(self, text: str) -> None:
        self.lines += [f"#### {_md(text)}", ""]

    def subheading(self, text: str) -> None:
        self.lines += [f"**{_md(text)}**", ""]

    def para(self, text: str) -> None:
        # `make check` in a sentence stays code; the rest is escaped
        parts = text.split("`")
        self.lines += ["".join(f"`{p}`" if i % 2 else _md(p) for i, p in enumerate(parts)), ""]

    def problems(self, problems: Sequence[Problem]) -> None:
        self.lines.append("~~~~text")
        for p in problems[:self.limit]:
            self.lines.append(p.format().replace("~~~~", "~ ~ ~ ~"))
        if len(problems) > self.limit:
            self.lines.append(f"... and {len(problems) - self.limit} more")
        self.lines += ["~~~~", ""]

    def table(self, header: Sequence[str], rows: Iterable[Sequence[str]], *, right=(), changed=()) -> None:
        self.lines.append("| " + " | ".join(_md(h) for h in header) + " |")
        self.lines.append("|" + "|".join("--:" if i in right else "---" for i in range(len(header))) + "|")
        for row in rows:
            cells = [f"**{_md(c)}**" if i in changed and c != "0" else _md(c) for i, c in enumerate(row)]
            self.lines.append("| " + " | ".join(cells) + " |")
        self.lines.append("")

    def items(self, items: Sequence, parts: Callable) -> None:
        for item in items[:self.limit]:
            lead_id, name, what = parts(item)
            self.lines.append(f"- `{lead_id}` {_md(name)}: {_md(what)}")
        if len(items) > self.limit:
            self.lines.append(f"- … and {len(items) - self.limit} more")
        if items:
            self.lines.append("")
