"""De-duplication: which incoming rows are leads we already have, which are each other, which are new. Pure.

A row matches a lead (or an earlier row) with the same email (any case), the
same phone (E.164), or the same name and company (case, accents and spacing
aside) — the same keys the hygiene page uses to flag likely duplicates, tried
in that order (two leads known only by their company match on it). A match with an existing lead fills only that lead's empty
keys: what the team wrote is never overwritten. Rows that match each other
become one new lead, the first row's values winning. New leads get ids from
name and company (:mod:`relead.intake.ids`); one with neither email nor phone is
tagged ``incomplete`` with a ``follow_up`` date (capture hygiene, docs/import.md).

A value a row did not give but the import filled in from the next best one
(a loss dated by the record's creation, when the export has no loss date) is an
:class:`Estimate`; the report names it per row, with the lead, and
:func:`locate_estimates` adds the line of the written file to correct it at.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Callable, Collection, Container, Iterable, Mapping, Sequence

from ..derive.hygiene import _norm_text
from .ids import lead_id, unique_id
from .leads_text import KEY_ORDER

__all__ = ["Incoming", "Estimate", "Estimated", "Known", "Outcome", "Plan", "plan", "match_keys", "report_lines",
           "counts", "locate_estimates"]

WHY = {"email": "same email", "phone": "same phone", "person": "same name and company",
       "company": "same company, no name"}
_IDENTITY = ("email", "phone", "name", "company")


@dataclass(frozen=True, slots=True)
class Estimate:
    """A value the row did not give, filled in from the next best one."""

    key: str                         # the lead key it is part of (``lost``): reported only if that key is used
    field: str                       # what it is, as the report names it: ``lost.date``
    why: str                         # ``taken from `Created Date` 2026-03-02: the file has no ... column``
    fix: str = ""                    # when to correct it: ``if you know the real date``


@dataclass(frozen=True, slots=True)
class Estimated:
    """An :class:`Estimate` that went into a lead: which row, which lead, and where it is written."""

    row: int
    lead: str
    estimate: Estimate
    where: str = ""                  # ``leads.yaml line 412``, once the edited text is known


@dataclass(frozen=True, slots=True)
class Incoming:
    """One lead to bring in: a CSV row (``row`` is its number; 0 for the command line)."""

    row: int
    lead: Mapping[str, Any]          # lead keys (no id), values as they will be written
    phone164: str = ""               # the phone in E.164, for matching
    warnings: tuple[str, ...] = ()
    new_only: frozenset[str] = frozenset()    # keys that are defaults, not data: never filled into a lead
    estimates: tuple[Estimate, ...] = ()
    # What plan() needs of the lead, worked out ahead (an import does, while the repository
    # loads: Incoming(..., **ahead(lead, phone164))); None: plan works it out.
    keys: tuple[tuple[str, str], ...] | None = None     # match_keys of the lead
    base_id: str | None = None                          # the id its name and company give


def ahead(lead: Mapping[str, Any], phone164: str) -> dict[str, Any]:
    """An :class:`Incoming`'s ``keys`` and ``base_id`` for ``lead``, worked out now."""
    name, company = lead.get("name", ""), lead.get("company", "")
    return {"keys": tuple(match_keys(email=lead.get("email", ""), phone=phone164, name=name, company=company)),
            "base_id": lead_id(name, company)}


@dataclass(frozen=True, slots=True)
class Known:
    """An existing lead, as matching sees it (a :class:`relead.model.Lead` is one too: matching
    reads only these attributes, and ``first_reached`` of the few leads a row matches)."""

    id: str
    name: str = ""
    company: str = ""
    email: str = ""
    phone: str = ""                  # E.164
    first_reached: dt.date | None = None   # a loss dated before it cannot be this lead's


@dataclass(frozen=True, slots=True)
class Outcome:
    row: int
    kind: str                        # added | merged | updated | skipped
    lead: str = ""                   # the lead's id, where there is one
    detail: str = ""                 # why, or what was filled in


@dataclass(frozen=True)
class Plan:
    new: tuple[dict, ...]                        # new leads, id first, in row order
    updates: Mapping[str, dict]                  # existing lead id -> keys to fill in
    outcomes: tuple[Outcome, ...]                # one per row, in row order
    warnings: tuple[str, ...] = ()
    update_rows: Mapping[str, tuple[int, ...]] = field(default_factory=dict)   # id -> rows behind its update
    new_rows: Mapping[str, int] = field(default_factory=dict)                  # id -> first row
    estimates: tuple[Estimated, ...] = ()        # values filled in from the next best one, in row order


_norm = lru_cache(maxsize=65536)(_norm_text)


def match_keys(*, email: str = "", phone: str = "", name: str = "", company: str = "") -> list[tuple[str, str]]:
    """(kind, key) to match on, strongest first."""
    keys = []
    if email:
        keys.append(("email", email.strip().lower()))
    if phone:
        keys.append(("phone", phone))
    if name and company:
        keys.append(("person", _norm(name) + "\x1f" + _norm(company)))
    elif company and not name:
        keys.append(("company", _norm(company)))      # leads known only by their company
    return keys


def _same(field_: str, a: Any, b: Any) -> bool:
    if field_ == "email":
        return str(a).strip().lower() == str(b).strip().lower()
    if field_ in ("name", "company"):
        return _norm(str(a)) == _norm(str(b))
    return a == b


def plan(incoming: Iterable[Incoming], known: Sequence[Known], *,
         present: Callable[[str], Collection[str]], taken: Container[str],
         follow_up: dt.date) -> Plan:
    """Decide, row by row, what each incoming lead becomes.

    ``present(id)`` names the keys an existing lead already has a value for;
    ``taken`` holds every id that may not be given out (leads and history);
    ``follow_up`` is the date an incomplete new lead gets.
    """
    by_id = {k.id: k for k in known}
    index: dict[tuple[str, str], tuple[str, Any]] = {}
    for k in known:
        for key in match_keys(email=k.email, phone=k.phone, name=k.name, company=k.company):
            index.setdefault(key, ("known", k.id))
    news: list[dict] = []            # {"lead": dict, "rows": [..], "phones": E.164}
    fills: dict[str, dict] = {}
    fill_rows: dict[str, list[int]] = {}
    outcomes: list[tuple[int, str, Any, str]] = []
    warnings: list[str] = []
    guesses: list[tuple[int, tuple[str, Any], Estimate]] = []

    def index_lead(lead: Mapping, phone164: str, target: tuple[str, Any]) -> None:
        for key in match_keys(email=lead.get("email", ""), phone=phone164,
                              name=lead.get("name", ""), company=lead.get("company", "")):
            index.setdefault(key, target)

    for inc in incoming:
        warnings.extend(inc.warnings)
        lead = inc.lead
        keys = inc.keys if inc.keys is not None else match_keys(
            email=lead.get("email", ""), phone=inc.phone164, name=lead.get("name", ""),
            company=lead.get("company", ""))
        hit = next(((kind, index[(kind, key)]) for kind, key in keys if (kind, key) in index), None)
        if hit is None:
            news.append({"lead": dict(lead), "rows": [inc.row], "phone": inc.phone164, "base": inc.base_id})
            outcomes.append((inc.row, "added", len(news) - 1, ""))
            guesses.extend((inc.row, ("new", len(news) - 1), e) for e in inc.estimates)
            for key in keys:
                index.setdefault(key, ("new", len(news) - 1))
            continue
        why, (where, target) = WHY[hit[0]], hit[1]
        if where == "new":
            entry = news[target]
            have = entry["lead"]
            added = [k for k in lead if k not in have and k not in inc.new_only]
            differs = [k for k in _IDENTITY if k in lead and k in have and not _same(k, lead[k], have[k])]
            for k in added:
                have[k] = lead[k]
            if "name" in added or "company" in added:
                entry["base"] = None        # its id is no longer the first row's
            earlier = _earlier_start(have.get("reached"), lead.get("reached"), "reached" in inc.new_only)
            moved = ""
            if earlier is not None:
                # Two deals of one person: the lead began with the first of them, and a loss dated
                # before the later deal's creation stays a loss after the lead was first reached.
                have["reached"] = earlier
                stage = next(iter(earlier))
                moved = f"; reached.{stage} {earlier[stage]}, this row's"
            guesses.extend((inc.row, ("new", target), e) for e in inc.estimates if e.key in added)
            if "phone" in added:
                entry["phone"] = inc.phone164
            entry["rows"].append(inc.row)
            detail = why + (f"; added {', '.join(added)}" if added else "") + moved + \
                (f"; kept the first row's {', '.join(differs)}" if differs else "")
            outcomes.append((inc.row, "merged", target, detail))
            index_lead(have, entry["phone"], ("new", target))
            continue
        k = by_id[target]
        has = set(present(target)) | set(fills.get(target, ())) | inc.new_only
        new_fields = {key: v for key, v in lead.items() if key not in has}
        early = _loss_before_start(new_fields.get("lost"), k.first_reached)
        if early:
            # The CRM remembers an older deal of someone who came back later: the lead as we
            # know it was never lost then, so that loss is not filled in (it would be refused).
            del new_fields["lost"]
        current = {"email": k.email, "phone": k.phone, "name": k.name, "company": k.company}
        differs = [f for f in _IDENTITY if f in lead and f in has and current.get(f)
                   and not _same(f, inc.phone164 if f == "phone" else lead[f], current[f])]
        kept = f"; kept its {', '.join(differs)}" if differs else ""
        if not new_fields:
            outcomes.append((inc.row, "skipped", target, f"already in the leads as `{target}` ({why}), nothing new{kept}{early}"))
            continue
        fills.setdefault(target, {}).update(new_fields)
        guesses.extend((inc.row, ("known", target), e) for e in inc.estimates if e.key in new_fields)
        fill_rows.setdefault(target, []).append(inc.row)
        outcomes.append((inc.row, "updated", target, f"{why}; filled in {', '.join(new_fields)}{kept}{early}"))
        merged = {"email": k.email or new_fields.get("email", ""), "name": k.name or new_fields.get("name", ""),
                  "company": k.company or new_fields.get("company", "")}
        phone = k.phone or (inc.phone164 if "phone" in new_fields else "")
        index_lead(merged, phone, ("known", target))

    # New leads: drop those with nothing to call them by, give the rest ids, apply capture hygiene.
    ids: dict[int, str] = {}
    given: set[str] = set()
    new_leads: list[dict] = []
    dropped: dict[int, str] = {}
    for i, entry in enumerate(news):
        lead = entry["lead"]
        if not lead.get("name") and not lead.get("company"):
            what = "an email" if lead.get("email") else "a phone number"
            dropped[i] = f"no name or company, only {what}: a lead needs one of them"
            continue
        base = entry["base"] or lead_id(lead.get("name", ""), lead.get("company", ""))
        new_id = unique_id(base, _Union(taken, given))
        given.add(new_id)
        ids[i] = new_id
        if not lead.get("email") and not lead.get("phone"):
            tags = list(lead.get("tags", ()))
            if "incomplete" not in tags:
                tags.append("incomplete")
            lead["tags"] = tags
            lead.setdefault("follow_up", follow_up)
        new_leads.append(_in_order({"id": new_id, **lead}))

    final: list[Outcome] = []
    new_rows: dict[str, int] = {}
    for row, kind, target, detail in outcomes:
        if kind in ("added", "merged"):
            if target in dropped:
                final.append(Outcome(row, "skipped", "", dropped[target]))
                continue
            lead_ref = ids[target]
            if kind == "added":
                new_rows[lead_ref] = row
            elif detail:
                detail = f"into row {news[target]['rows'][0]}: {detail}"
            final.append(Outcome(row, kind, lead_ref, detail))
        else:
            final.append(Outcome(row, kind, target, detail))
    final.sort(key=lambda o: o.row)
    estimated = tuple(Estimated(row, ids[ref] if where == "new" else ref, e)
                      for row, (where, ref), e in guesses if where == "known" or ref in ids)
    return Plan(tuple(new_leads), {k: _in_order(v) for k, v in fills.items()}, tuple(final), tuple(warnings),
                {k: tuple(v) for k, v in fill_rows.items()}, new_rows, estimated)


def _loss_before_start(loss: Any, first: dt.date | None) -> str:
    """Why a loss is left out, when it is dated before the lead was first reached; else ''."""
    date = loss.get("date") if isinstance(loss, Mapping) else None
    if first is None or not isinstance(date, dt.date) or date >= first:
        return ""
    return (f"; left out the loss of {date}: it is before the lead was first reached ({first}); "
            f"if it was lost since, add `lost:` with that day to its lead in the leads file")


def _earlier_start(have: Mapping | None, row: Mapping | None, default: bool) -> dict | None:
    """``have`` with its first stage on the row's earliest date, when that is earlier; else None."""
    if not have or not row or default:
        return None
    first = next(iter(have))
    earliest = min(row.values())
    if earliest >= have[first]:
        return None
    return {**have, first: earliest}


class _Union:
    def __init__(self, *parts: Container[str]):
        self.parts = parts

    def __contains__(self, item: object) -> bool:
        return any(item in p for p in self.parts)


_RANK = {k: i for i, k in enumerate(KEY_ORDER)}


def _in_order(lead: Mapping[str, Any]) -> dict:
    """``lead`` with its keys in schema order, any others after them as they came."""
    ordered = {k: lead[k] for k in KEY_ORDER if k in lead}
    if len(ordered) < len(lead):
        ordered.update((k, v) for k, v in lead.items() if k not in _RANK)
    return ordered


def counts(outcomes: Iterable[Outcome]) -> dict[str, int]:
    out = {"added": 0, "updated": 0, "merged": 0, "skipped": 0}
    for o in outcomes:
        out[o.kind] += 1
    return out


def report_lines(p: Plan, *, limit: int | None = 50) -> list[str]:
    """The report, one line per row that needs one: ``+`` added, ``~`` updated, ``=`` merged, ``-`` skipped, ``!`` warnings."""
    marks = {"added": "+", "updated": "~", "merged": "=", "skipped": "-"}
    lines = []
    for kind in ("added", "updated", "merged", "skipped"):
        items = [o for o in p.outcomes if o.kind == kind]
        shown = items if limit is None else items[:limit]
        for o in shown:
            where = f"row {o.row}" if o.row else "the new lead"
            if kind == "added":
                lines.append(f"  + {o.lead} ({where})")
            elif kind == "skipped":
                lines.append(f"  - {where} skipped: {o.detail}")
            else:
                lines.append(f"  {marks[kind]} {o.lead} ({where}): {o.detail}")
        if len(items) > len(shown):
            lines.append(f"  {marks[kind]} ... and {len(items) - len(shown)} more {kind} (--verbose lists them all)")
    shown_e = p.estimates if limit is None else p.estimates[:limit]
    for e in shown_e:
        where = f"row {e.row}" if e.row else "the new lead"
        fix = f"; correct it in {e.where or 'the leads file'} {e.estimate.fix}".rstrip()
        lines.append(f"  ! {where} ({e.lead}): {e.estimate.field} {e.estimate.why}{fix}")
    if len(p.estimates) > len(shown_e):
        lines.append(f"  ! ... and {len(p.estimates) - len(shown_e)} more filled in like these "
                     "(--verbose lists them all)")
    shown_w = p.warnings if limit is None else p.warnings[:limit]
    lines.extend(f"  ! {w}" for w in shown_w)
    if len(p.warnings) > len(shown_w):
        lines.append(f"  ! ... and {len(p.warnings) - len(shown_w)} more warnings (--verbose lists them all)")
    return lines


# `- id: some-id` opening a lead's block, as the leads files are written (quoted or not).
_ITEM = re.compile(r"^([ \t]*)-[ \t]+id:[ \t]*(['\"]?)([^'\"\s#]+)\2[ \t]*(?:#.*)?\r?$", re.M)


def locate_estimates(p: Plan, texts: Mapping[str, str]) -> Plan:
    """``p`` with each estimate's ``where`` (``leads.yaml line 412``) found in the edited ``texts``.

    One pass over each text: a lead's block runs from its ``- id:`` line to the
    next one, and the estimate's key path is looked for inside it.
    An estimate whose lead is not found keeps an empty ``where``.
    """
    if not p.estimates:
        return p
    fields_of: dict[str, set[str]] = {}
    for e in p.estimates:
        fields_of.setdefault(e.lead, set()).add(e.estimate.field)
    where: dict[tuple[str, str], str] = {}
    for rel in sorted(texts):
        text = texts[rel]
        items = list(_ITEM.finditer(text))
        spots: list[tuple[int, str, str]] = []           # (offset, lead, field)
        for i, m in enumerate(items):
            lead = m.group(3)
            if lead not in fields_of or any((lead, f) in where for f in fields_of[lead]):
                continue
            end = items[i + 1].start() if i + 1 < len(items) else len(text)
            for f in fields_of[lead]:
                spots.append((_offset(text, m.start(), end, f.split(".")), lead, f))
        line, at = 1, 0
        for offset, lead, f in sorted(spots):
            line += text.count("\n", at, offset)
            at = offset
            where[(lead, f)] = f"{rel} line {line}"
    located = tuple(replace(e, where=where.get((e.lead, e.estimate.field), "")) for e in p.estimates)
    return replace(p, estimates=located)


def _offset(text: str, start: int, end: int, path: list[str]) -> int:
    """Where the key path (``lost``, ``date``) is written between ``start`` and ``end``; as deep as found."""
    pos = start
    for part in path:
        m = re.compile(rf"(?:^|[ \t{{,-]){re.escape(part)}[ \t]*:", re.M).search(text, pos, end)
        if m is None:
            break
        pos = m.end()
    return pos
