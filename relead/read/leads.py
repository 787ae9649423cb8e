"""leads.yaml (and leads/*.yaml) into :class:`~relead.model.Lead` records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import schema as S
from ..model import Lead, Loss, Settings, frozen_map
from ..problems import Problems
from .values import Invalid, _date, check_mapping, did_you_mean, normalise_phone

__all__ = ["leads_from", "duplicate_id", "check_not_emptied"]

_LEADS_KEY = S.LEADS_FILE[0]


def leads_from(raw: Any, file: str, problems: Problems, *, settings: Settings | None,
               campaign_ids: set[str], today: dt.date,
               seen: dict[str, tuple[str, int]], start: int = 0) -> list[Lead]:
    """Every valid lead in one file; problems for the rest. ``seen`` spans files (duplicate ids).

    ``start``: the index in its file of the first of ``raw``'s leads, when ``raw`` is a run of
    a file's leads parsed apart from the others (relead.read.load, several processes).
    """
    if raw is None:
        raw = {"leads": []}
    if not isinstance(raw, dict) or "leads" not in raw:
        problems.error(file, (), "a leads file must start with `leads:` and list the leads under it",
                       "see docs/formats.md", line=1)
        return []
    extra = [k for k in raw if k != "leads"]
    for k in extra:
        problems.error(file, (str(k),), f"unknown top-level key `{k}`",
                       "a leads file holds only `leads:`; indent this under a lead")
    items = raw["leads"]
    if items is None:
        return []
    if not isinstance(items, list):
        problems.error(file, ("leads",), "`leads` must be a list, each lead starting with `- id:`",
                       "see docs/formats.md")
        return []
    checker = _LeadChecker(file, problems, settings, campaign_ids, today)
    out = []
    for index, item in enumerate(items, start):
        lead = checker.check(index, item, seen)
        if lead is not None:
            out.append(lead)
    return out


def duplicate_id(problems: Problems, file: str, index: int, lead_id: str, prior: tuple[str, int],
                 who: str | None) -> None:
    """The error for lead ``index`` of ``file`` reusing the id of lead ``prior`` (file, index)."""
    problems.error(file, ("leads", index, "id"), f"the id `{lead_id}` is already used "
                   f"by lead {prior[1] + 1} of {prior[0]}",
                   "give each lead its own id (ids are never reused)", who)


def check_not_emptied(files: list[str], known: int, problems: Problems) -> None:
    """No lead in any leads file while history/ has records of ``known`` leads: the file was
    emptied (a bad merge, an editor that crashed while saving), not the team's work deleted (ids
    are never reused, so leads are never removed). Not said when a leads file is broken: that
    error says it already."""
    if any(p.file in files for p in problems.items if p.severity == "error"):
        return
    names = " ".join(files) if len(files) < 4 else "leads.yaml leads/"
    problems.error(files[0], (), f"there are no leads, but history/ has records of {known} "
                   f"lead{'s' if known != 1 else ''}",
                   "the file was probably emptied by a bad merge or an editor crash: restore it with "
                   f"`git checkout HEAD~ -- {names}` (`git log -p -- {files[0]}` shows its last good version)",
                   line=1)


class _LeadChecker:
    def __init__(self, file, problems, settings, campaign_ids, today):
        self.file = file
        self.problems = problems
        self.settings = settings
        self.campaign_ids = campaign_ids
        self.today = today
        self.funnel = settings.funnel if settings else None
        self.region = settings.phone_region if settings else "US"

    def check(self, index: int, item: Any, seen: dict) -> Lead | None:
        file, problems = self.file, self.problems
        path = ("leads", index)
        lead_id = item.get("id") if isinstance(item, dict) else None
        who = lead_id if isinstance(lead_id, str) and lead_id else None
        before = len(problems.items)

        def structured(key, value, p):
            if key.kind == "map":
                return check_mapping(value, key.schema, file=file, path=p, problems=problems,
                                     lead=who, what=f"`{key.name}`")
            if key.kind == "stage_dates":
                return self._reached(value, p, who)
            raise AssertionError(key.kind)  # pragma: no cover

        data = check_mapping(item, S.LEAD, file=file, path=path, problems=problems, lead=who,
                             what="a lead", structured=structured)
        if data is None:
            return None
        if "id" in data:
            prior = seen.get(data["id"])
            if prior is not None:
                duplicate_id(problems, file, index, data["id"], prior, who)
            else:
                seen[data["id"]] = (file, index)
        # (A name or company given but invalid is reported already, as what it is.)
        if not data.get("name") and not data.get("company") and not any(
                item.get(k) is not None and k not in data for k in ("name", "company")):
            problems.error(file, path, "the lead has neither `name` nor `company`",
                           "add at least one of them (tag it incomplete if that is all you know)", who)
        tags = data.get("tags", ())
        if "incomplete" in tags and "follow_up" not in data:
            problems.error(file, path + ("tags",), "the lead is tagged `incomplete` but has no `follow_up`",
                           "add `follow_up: YYYY-MM-DD`, the day someone completes it", who)
        phone = ""
        if "phone" in data:
            phone = normalise_phone(data["phone"], self.region) or ""
            if not phone:
                problems.error(file, path + ("phone",), f"`{data['phone']}` is not a valid phone number",
                               f"write it with its country code, e.g. \"+1 415 555 0134\" "
                               f"(numbers without one are read as {self.region})", who)
        if self.settings is not None and "owner" in data and data["owner"] not in self.settings.team:
            problems.error(file, path + ("owner",), f"unknown owner `{data['owner']}`",
                           did_you_mean(data["owner"], self.settings.team)
                           or f"use one of {', '.join(self.settings.team)} (settings.yaml `team`)", who)
        if "campaign" in data and data["campaign"] not in self.campaign_ids:
            problems.error(file, path + ("campaign",), f"unknown campaign `{data['campaign']}`",
                           did_you_mean(data["campaign"], self.campaign_ids)
                           or "name a file in content/campaigns/ (without .yaml)", who)
        reached = data.get("reached") or {}
        loss = self._loss(data.get("lost"), reached, path, who)
        self._check_order(reached, loss, path, who)
        if len(problems.items) > before and any(p.severity == "error" for p in problems.items[before:]):
            return None
        consent = data.get("consent") or {}
        return Lead(
            id=data["id"], file=file, index=index, name=data.get("name", ""),
            company=data.get("company", ""), title=data.get("title", ""), email=data.get("email", ""),
            phone=phone, phone_written=data.get("phone", ""), timezone=data.get("timezone", ""),
            source=data.get("source", ""), owner=data.get("owner", ""), value=data.get("value", 0),
            interest=data.get("interest", ""), decision_maker=data.get("decision_maker"),
            tags=tags, follow_up=data.get("follow_up"), reached=frozen_map(reached), lost=loss,
            recycle_on=data.get("recycle_on"), campaign=data.get("campaign", ""),
            consent_email=consent.get("email", True), consent_sms=consent.get("sms", False),
            do_not_contact=data.get("do_not_contact", False), touches=data.get("touches", 0),
            notes=data.get("notes", ""))

    def _reached(self, value, path, who) -> dict | None:
        if not isinstance(value, dict):
            raise Invalid("`reached` must map funnel stages to the date each was reached",
                          "e.g. reached: {new: 2026-01-10, contacted: 2026-01-12}")
        out = {}
        for stage, when in value.items():
            if self.funnel is not None and stage not in self.funnel:
                hint = did_you_mean(stage, self.funnel)
                self.problems.error(self.file, path + (str(stage),), f"unknown funnel stage `{stage}`",
                                    hint or f"use one of {', '.join(self.funnel)}", who)
                continue
            try:
                day = _date(when, S.Key(str(stage), "date"))
            except Invalid as exc:
                self.problems.error(self.file, path + (stage,), exc.message, exc.fix, who)
                continue
            if day > self.today:
                self.problems.error(self.file, path + (stage,), f"`{stage}` {day} is after today ({self.today})",
                                    "record a stage once it has been reached; check the year", who)
                continue
            out[stage] = day
        return out

    def _loss(self, lost: dict | None, reached: dict, path, who) -> Loss | None:
        if not lost or "date" not in lost or "reason" not in lost or "temperature" not in lost:
            return None
        p = path + ("lost",)
        settings = self.settings
        if lost["date"] > self.today:
            self.problems.error(self.file, p + ("date",), f"the loss date {lost['date']} is after today ({self.today})",
                                "record a loss once it has happened; check the year", who)
        elif reached:
            # A year typo (2013 for 2023) would otherwise read as a lead that came back after its
            # loss: it leaves the priorities without a word. A loss comes after the first stage.
            first_stage = min(reached, key=reached.__getitem__)
            first = reached[first_stage]
            if lost["date"] < first:
                self.problems.error(self.file, p + ("date",),
                                    f"the loss date {lost['date']} is before the lead was first reached "
                                    f"(`{first_stage}` {first})", _loss_date_fix(lost["date"], first, self.today),
                                    who)
        if settings is not None and lost["reason"] not in settings.lost_reasons:
            self.problems.error(self.file, p + ("reason",), f"unknown lost reason `{lost['reason']}`",
                                did_you_mean(lost["reason"], settings.lost_reasons)
                                or f"use one of {', '.join(settings.lost_reasons)} (settings.yaml `lost_reasons`)",
                                who)
        stage = lost.get("stage")
        funnel = self.funnel
        if stage is not None and funnel is not None:
            if stage not in funnel:
                self.problems.error(self.file, p + ("stage",), f"unknown funnel stage `{stage}`",
                                    did_you_mean(stage, funnel) or f"use one of {', '.join(funnel)}", who)
            elif stage == funnel[-1]:
                self.problems.error(self.file, p + ("stage",), f"a lead cannot be lost at `{stage}`",
                                    "name the stage it fell out of, before the last", who)
        if stage is None and funnel is not None:
            stage = funnel[0]
            for s in funnel[:-1]:
                when = reached.get(s)
                if when is not None and when <= lost["date"]:
                    stage = s
        return Loss(date=lost["date"], stage=stage or "", reason=lost["reason"],
                    temperature=lost["temperature"], note=lost.get("note", ""))

    def _check_order(self, reached: dict, loss: Loss | None, path, who) -> None:
        """Stage dates must not go backwards along the funnel, except stages reached again after the loss."""
        if self.funnel is None or len(reached) < 2:
            return
        ordered = [(s, reached[s]) for s in self.funnel if s in reached]
        lost_on = loss.date if loss else None
        for i, (stage, when) in enumerate(ordered):
            if lost_on is not None and when > lost_on:
                continue  # reached again after the loss: its date is the later one
            for later, later_when in ordered[i + 1:]:
                if later_when < when:
                    self.problems.error(
                        self.file, path + ("reached", later),
                        f"`{later}` ({later_when}) is dated before `{stage}` ({when}), which comes earlier in the funnel",
                        "check both dates; a stage is reached after the ones before it", who)
                    return


def _loss_date_fix(lost: dt.date, first: dt.date, today: dt.date) -> str:
    """How to fix a loss dated before the lead's first stage: most often a year typed wrong."""
    # The same day in the year of the first stage, else (when the year is plainly wrong) the next.
    for year in (first.year,) if lost.year == first.year else (first.year, first.year + 1):
        try:
            likely = lost.replace(year=year)
        except ValueError:          # 29 February in a year without one
            continue
        if likely != lost and first <= likely <= today:
            return (f"did you mean {likely}? A lead is lost on or after the day it was first reached; "
                    "check the year")
    return (f"write the day it was lost, on or after {first}; when a lead comes back after a loss, "
            "only the stages it reaches again get later dates")
