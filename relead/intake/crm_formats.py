"""CRM export formats, and the rules that map a CRM's words onto the team's funnel.

A :class:`Format` names, for each import field (``email``, ``stage``,
``lost_reason``...), the CSV columns it may come from, in the order they are
tried, and the CRM's own words for its default stages and statuses. The
built-in formats follow the standard CSV exports:

* ``hubspot-contacts`` and ``hubspot-deals``: HubSpot's contact and deal exports
  (property labels as column names); ``FROM=hubspot`` picks one by the columns;
* ``pipedrive``: Pipedrive's deals export (``Deal - Status``, ``Deal - Stage``,
  ``Deal - Lost reason``, ``Deal - Lost time``, ``Person - Email``...);
* ``salesforce``: Salesforce leads (report labels such as ``Lead Status`` and
  ``Lead Source``, or the API names a Data Loader export uses);
* ``csv``: any other file, its columns named after the import fields or given
  by a mapping file.

:class:`ImportRules` (settings ``import:``, and the same keys in a mapping
file) say what the CRM's stages, lost reasons, ratings and owners mean for this
team. docs/import.md documents both.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Mapping

from .. import schema as S
from ..model import ImportRules, Settings, frozen_map
from ..problems import Problems
from ..read.values import check_mapping, did_you_mean, single_line_problem
from ..vocab import TEMPERATURES

__all__ = ["FIELDS", "Format", "FORMATS", "FROM_CHOICES", "SPECIAL_STAGES", "MappingFile", "norm",
           "value_map", "import_rules_from", "detect", "mapping_from", "merge_rules", "Resolver",
           "with_columns"]

# Where a stage or status can lead besides a funnel stage.
SPECIAL_STAGES = ("open", "lost", "won", "skip")

# Import field -> what it means (docs/import.md lists these).
FIELDS: dict[str, str] = {
    "name": "the person's full name",
    "first_name": "first name (joined with `last_name` when there is no `name`)",
    "last_name": "last name",
    "contact": "an associated contact written `Name (email)`, as HubSpot's deal export does",
    "company": "the organisation",
    "title": "job title",
    "email": "email address; the first valid one of the columns (other addresses go to `notes`)",
    "phone": "phone number, normalised; numbers without `+country` are read as settings `phone_region`",
    "source": "where the lead came from (else `--source`, else the CRM's name)",
    "owner": "the CRM user who owns it, matched to a team member (see `owners`)",
    "value": "deal value; currency signs and thousands separators are dropped",
    "interest": "what they were interested in",
    "notes": "free text",
    "deal": "the deal's title, kept in `notes` as `Deal: ...`",
    "created": "when the lead or deal was created: the date it reached the first funnel stage",
    "updated": "last activity or change: the loss (or win) date when there is no better one",
    "stage": "the CRM's stage (see `stages`)",
    "status": "the CRM's status, such as open / won / lost (see `stages`)",
    "stage_date": "when the current stage was reached",
    "lost_date": "when the deal was lost",
    "lost_reason": "why it was lost (see `reasons`)",
    "lost_note": "more about the loss, kept in `lost.note`",
    "won_date": "when the deal was won",
    "temperature": "a rating such as Hot / Warm / Cold (see `temperatures`)",
    "email_opt_out": "true / yes / 1 / x: the person opted out of email (`consent: {email: false}`)",
}


def norm(text: Any) -> str:
    """How column names and CRM values are compared: case, spaces and punctuation do not matter."""
    return _norm(str(text))


@lru_cache(maxsize=4096)
def _norm(text: str) -> str:
    # An export repeats a few words (stages, owners, reasons) on every row: each is folded once.
    return "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if c.isalnum())


@dataclass(frozen=True)
class Format:
    key: str
    label: str
    columns: Mapping[str, tuple[str, ...]]
    stages: Mapping[str, str] = field(default_factory=frozen_map)    # CRM word -> conventional stage / special
    signature: tuple[str, ...] = ()                                  # columns that identify the export
    source: str = ""                                                 # default `source` of its leads


def _fmt(key, label, columns, stages=None, signature=(), source=""):
    return Format(key, label, MappingProxyType({k: tuple(v) for k, v in columns.items()}),
                  frozen_map(stages or {}), tuple(signature), source or key.split("-")[0])


_HUBSPOT_DEAL_STAGES = {
    "Appointment Scheduled": "appointment", "Qualified To Buy": "contacted",
    "Presentation Scheduled": "appointment", "Decision Maker Bought-In": "proposal",
    "Contract Sent": "proposal", "Closed Won": "won", "Closed Lost": "lost",
}
_HUBSPOT_LEAD_STATUS = {
    "New": "new", "Open": "new", "In Progress": "contacted", "Open Deal": "appointment",
    "Attempted to Contact": "contacted", "Connected": "contacted", "Unqualified": "lost",
    "Bad Timing": "lost",
}
_HUBSPOT_LIFECYCLE = {
    "Subscriber": "open", "Lead": "open", "Marketing Qualified Lead": "open",
    "Sales Qualified Lead": "contacted", "Opportunity": "appointment", "Customer": "won",
    "Evangelist": "won", "Other": "open",
}
_PIPEDRIVE = {
    "Open": "open", "Won": "won", "Lost": "lost", "Deleted": "skip",
    "Lead In": "new", "Contact Made": "contacted", "Needs Defined": "contacted",
    "Demo Scheduled": "appointment", "Proposal Made": "proposal", "Negotiations Started": "proposal",
}
_SALESFORCE = {
    "Open - Not Contacted": "new", "Working - Contacted": "contacted",
    "Closed - Converted": "skip", "Closed - Not Converted": "lost",
    "New": "new", "Working": "contacted", "Nurturing": "contacted", "Qualified": "skip",
    "Unqualified": "lost",
}

_GENERIC_COLUMNS = {
    "name": ("name", "full name", "contact name"),
    "first_name": ("first_name",), "last_name": ("last_name",),
    "contact": ("contact",),
    "company": ("company", "company name", "organization", "organisation", "account"),
    "title": ("title", "job title"),
    "email": ("email", "e-mail", "email address"),
    "phone": ("phone", "phone number", "telephone", "mobile"),
    "source": ("source", "lead source"), "owner": ("owner",), "value": ("value", "amount"),
    "interest": ("interest",), "notes": ("notes", "note", "description"), "deal": ("deal", "deal name"),
    "created": ("created", "created date", "create date"), "updated": ("updated", "last activity"),
    "stage": ("stage",), "status": ("status",), "stage_date": ("stage_date",),
    "lost_date": ("lost_date", "lost on", "date lost"), "lost_reason": ("lost_reason", "lost reason", "reason"),
    "lost_note": ("lost_note",), "won_date": ("won_date", "won on"),
    "temperature": ("temperature", "rating"), "email_opt_out": ("email_opt_out", "email opt out"),
}

FORMATS: dict[str, Format] = {f.key: f for f in (
    _fmt("hubspot-contacts", "HubSpot contacts", {
        "first_name": ["First Name"], "last_name": ["Last Name"], "email": ["Email"],
        "phone": ["Phone Number", "Mobile Phone Number"],
        "company": ["Company Name", "Associated Company"], "title": ["Job Title"],
        "owner": ["Contact owner", "HubSpot Owner"], "source": ["Original Source", "Original Source Type"],
        "created": ["Create Date"], "updated": ["Last Activity Date", "Last Modified Date"],
        "status": ["Lead Status"], "stage": ["Lifecycle Stage"],
        "email_opt_out": ["Unsubscribed from all email"],
    }, {**_HUBSPOT_LEAD_STATUS, **_HUBSPOT_LIFECYCLE},
        ("Lead Status", "Lifecycle Stage", "Contact owner", "Phone Number", "First Name"), "hubspot"),
    _fmt("hubspot-deals", "HubSpot deals", {
        "deal": ["Deal Name"], "stage": ["Deal Stage"], "value": ["Amount"], "owner": ["Deal owner"],
        "created": ["Create Date"], "lost_date": ["Close Date"], "won_date": ["Close Date"],
        "updated": ["Last Activity Date", "Last Modified Date"],
        "lost_reason": ["Closed Lost Reason"], "contact": ["Associated Contact"],
        "company": ["Associated Company"], "source": ["Original Source Type", "Original Source"],
    }, _HUBSPOT_DEAL_STAGES, ("Deal Stage", "Deal Name", "Closed Lost Reason", "Deal owner"), "hubspot"),
    _fmt("pipedrive", "Pipedrive deals", {
        "deal": ["Deal - Title"], "name": ["Person - Name", "Deal - Contact person"],
        "company": ["Organization - Name", "Deal - Organization"],
        "email": ["Person - Email", "Person - Email - Work", "Person - Email - Home", "Person - Email - Other"],
        "phone": ["Person - Phone", "Person - Phone - Work", "Person - Phone - Mobile",
                  "Person - Phone - Home", "Person - Phone - Other"],
        "value": ["Deal - Value"], "owner": ["Deal - Owner"], "created": ["Deal - Deal created"],
        "stage": ["Deal - Stage"], "status": ["Deal - Status"], "stage_date": ["Deal - Last stage change"],
        "lost_date": ["Deal - Lost time"], "won_date": ["Deal - Won time"],
        "lost_reason": ["Deal - Lost reason"], "updated": ["Deal - Update time"],
        "source": ["Deal - Source channel"],
    }, _PIPEDRIVE, ("Deal - Title", "Deal - Stage", "Deal - Status", "Deal - Lost reason")),
    _fmt("salesforce", "Salesforce leads", {
        "first_name": ["First Name", "FirstName"], "last_name": ["Last Name", "LastName"],
        "company": ["Company"], "title": ["Title"], "email": ["Email"],
        "phone": ["Phone", "Mobile", "MobilePhone", "Mobile Phone"],
        "source": ["Lead Source", "LeadSource"], "status": ["Lead Status", "Status"],
        "owner": ["Lead Owner", "Owner Name"], "temperature": ["Rating"],
        "created": ["Created Date", "CreatedDate"],
        "updated": ["Last Activity", "LastActivityDate", "Last Modified Date", "LastModifiedDate"],
        "notes": ["Description"], "email_opt_out": ["Email Opt Out", "HasOptedOutOfEmail"],
        "lost_reason": ["Lost Reason", "Unqualified Reason"],
    }, _SALESFORCE, ("Lead Status", "Lead Source", "Lead Owner", "LeadSource", "Rating", "Lead ID")),
    _fmt("csv", "CSV", _GENERIC_COLUMNS, {}, (), "import"),
)}

# What `--from` / FROM= accepts.
FROM_CHOICES = ("hubspot", "pipedrive", "salesforce", "csv")


def detect(headers: list[str], choice: str | None) -> Format:
    """The format of a file with these headers: ``choice`` (hubspot: contacts or deals), else the best match."""
    have = {norm(h) for h in headers}
    candidates = [f for f in FORMATS.values() if f.signature]
    if choice == "csv":
        return FORMATS["csv"]
    if choice is not None:
        candidates = [f for f in candidates if f.key.split("-")[0] == choice]
    scored = sorted(((sum(norm(c) in have for c in f.signature), i, f) for i, f in enumerate(candidates)),
                    key=lambda t: (-t[0], t[1]))
    if scored and (scored[0][0] > 0 or choice is not None):
        return scored[0][2]
    return FORMATS["csv"]


# ---------------------------------------------------------------------------
# Rules: settings `import:` and the mapping file
# ---------------------------------------------------------------------------

def value_map(value: Any, key: S.Key, path: tuple, file: str, problems: Problems) -> dict[str, str] | None:
    """A mapping of the CRM's words (any text) to one word each; checked for shape only."""
    if not isinstance(value, dict):
        problems.error(file, path, f"`{key.name}` must map each CRM value to one word",
                       f'e.g. {key.name}: {{"Closed Lost": lost}}')
        return None
    out: dict[str, str] = {}
    for name, target in value.items():
        if not isinstance(name, str):
            problems.error(file, path + (str(name),),
                           f"`{name}` in `{key.name}` was read as {'true/false' if isinstance(name, bool) else 'a number'}",
                           f'quote it: "{name}": ...')
            continue
        if not isinstance(target, str) or not target.strip() or single_line_problem(target):
            problems.error(file, path + (name,), f"`{key.name}` maps `{name}` to no single word",
                           f'write one word after the colon, e.g. "{name}": ...')
            continue
        out[name] = target.strip()
    return out


def import_rules_from(raw: Mapping[str, Any] | None, *, funnel: tuple[str, ...], reasons: Mapping,
                      team: Mapping, file: str, path: tuple, problems: Problems) -> ImportRules | None:
    """Cross-check already shape-checked ``import:`` values against the funnel, reasons and team."""
    raw = dict(raw or {})
    before = len(problems.errors)
    stage_targets = tuple(funnel) + tuple(s for s in SPECIAL_STAGES if s not in funnel)

    def targets(name: str, allowed, what: str) -> dict[str, str]:
        out = {}
        for crm, target in (raw.get(name) or {}).items():
            if target not in allowed:
                problems.error(file, path + (name, crm), f"`{name}` maps `{crm}` to `{target}`, which is not {what}",
                               did_you_mean(target, allowed) or f"use one of {', '.join(allowed)}")
                continue
            out[crm] = target
        return out

    stages = targets("stages", stage_targets, "a funnel stage or one of open, lost, won, skip")
    mapped = targets("reasons", tuple(reasons), "a key of `lost_reasons`")
    temps = targets("temperatures", TEMPERATURES, "hot, warm or cold")
    owners = targets("owners", tuple(team), "a key of `team`")
    by_stage = {}
    for stage, temp in (raw.get("temperature_by_stage") or {}).items():
        if stage not in funnel[:-1]:
            problems.error(file, path + ("temperature_by_stage", stage), f"`{stage}` is not a funnel stage before the last",
                           did_you_mean(stage, funnel) or f"use one of {', '.join(funnel[:-1])}")
        elif temp not in TEMPERATURES:
            problems.error(file, path + ("temperature_by_stage", stage), f"`{temp}` is not hot, warm or cold",
                           did_you_mean(temp, TEMPERATURES) or "use hot, warm or cold")
        else:
            by_stage[stage] = temp
    default = raw.get("default_reason", "")
    if default and default not in reasons:
        problems.error(file, path + ("default_reason",), f"`default_reason` `{default}` is not a key of `lost_reasons`",
                       did_you_mean(default, reasons) or f"use one of {', '.join(reasons)}")
    if len(problems.errors) > before:
        return None
    return ImportRules(stages=frozen_map(stages), reasons=frozen_map(mapped), default_reason=default,
                       temperatures=frozen_map(temps), temperature_by_stage=frozen_map(by_stage),
                       owners=frozen_map(owners))


def merge_rules(base: ImportRules, over: ImportRules) -> ImportRules:
    """``over``'s entries win; its default reason too, when it has one."""
    return ImportRules(
        stages=frozen_map({**base.stages, **over.stages}),
        reasons=frozen_map({**base.reasons, **over.reasons}),
        default_reason=over.default_reason or base.default_reason,
        temperatures=frozen_map({**base.temperatures, **over.temperatures}),
        temperature_by_stage=frozen_map({**base.temperature_by_stage, **over.temperature_by_stage}),
        owners=frozen_map({**base.owners, **over.owners}))


@dataclass(frozen=True)
class MappingFile:
    """A mapping file (``MAP=``): columns, how to read dates, and rules that add to settings ``import:``."""

    columns: Mapping[str, tuple[str, ...]] = field(default_factory=frozen_map)
    rules: ImportRules = ImportRules()
    date_format: str = ""
    phone_region: str = ""
    source: str = ""
    owner: str = ""


def _columns(value: Any, key: S.Key, path: tuple, file: str, problems: Problems) -> dict | None:
    if not isinstance(value, dict):
        problems.error(file, path, "`columns` must map import fields to column names",
                       "e.g. columns: {email: E-mail, company: Organisation}")
        return None
    out = {}
    for name, cols in value.items():
        if name not in FIELDS:
            problems.error(file, path + (str(name),), f"`{name}` is not an import field",
                           did_you_mean(name, FIELDS) or f"use one of {', '.join(FIELDS)}")
            continue
        items = cols if isinstance(cols, list) else [cols]
        if not items or not all(isinstance(c, (str, int)) and not isinstance(c, bool) and str(c).strip()
                                for c in items):
            problems.error(file, path + (name,), f"`columns.{name}` must name a column (or a list of columns)",
                           f'e.g. {name}: "Column header"')
            continue
        out[name] = tuple(str(c).strip() for c in items)
    return out


def mapping_from(raw: Any, file: str, problems: Problems, settings: Settings) -> MappingFile | None:
    """Check a parsed mapping file against settings; None (and problems) when it is wrong."""
    if raw is None:
        return MappingFile()
    before = len(problems.errors)

    def structured(key, value, path):
        if key.kind == "value_map":
            return value_map(value, key, path, file, problems)
        if key.kind == "columns":
            return _columns(value, key, path, file, problems)
        raise AssertionError(key.kind)  # pragma: no cover

    data = check_mapping(raw, S.IMPORT_MAPPING, file=file, path=(), problems=problems,
                         what="the mapping file", structured=structured)
    if data is None:
        return None
    rules = import_rules_from({k: v for k, v in data.items() if k in {x.name for x in S.IMPORT}},
                              funnel=settings.funnel, reasons=settings.lost_reasons, team=settings.team,
                              file=file, path=(), problems=problems)
    if data.get("owner") and data["owner"] not in settings.team:
        problems.error(file, ("owner",), f"`owner` `{data['owner']}` is not a key of settings `team`",
                       did_you_mean(data["owner"], settings.team) or f"use one of {', '.join(settings.team)}")
    if rules is None or len(problems.errors) > before:
        return None
    return MappingFile(columns=MappingProxyType(data.get("columns") or {}), rules=rules,
                    date_format=data.get("date_format", ""), phone_region=data.get("phone_region", ""),
                    source=data.get("source", ""), owner=data.get("owner", ""))


# ---------------------------------------------------------------------------
# Resolving the CRM's words
# ---------------------------------------------------------------------------

_MONTH_FIRST = frozenset(("US", "PR", "PH", "GU", "AS", "MP", "VI", "UM", "FM", "MH", "PW"))


class Resolver:
    """Turns one export's words into the team's: stages, lost reasons, temperatures, owners.

    Lookups compare with :func:`norm`. The order: the mapping file, then settings
    ``import:``, then the team's own words (stage keys, reason keys and labels,
    member keys, names and emails), then the format's built-in words.
    """

    def __init__(self, fmt: Format, settings: Settings, rules: ImportRules):
        self.fmt = fmt
        self.settings = settings
        self.funnel = settings.funnel
        self.rules = rules
        self.stage_words: dict[str, str] = {}
        self.builtin_misses: dict[str, str] = {}       # CRM word -> built-in target not in this funnel
        for word, target in fmt.stages.items():
            if target in SPECIAL_STAGES or target in self.funnel:
                self.stage_words[norm(word)] = target
            else:
                self.builtin_misses[norm(word)] = target
        for special in SPECIAL_STAGES:
            self.stage_words[norm(special)] = special
        for stage in self.funnel:
            self.stage_words[norm(stage)] = stage
        for word, target in rules.stages.items():
            self.stage_words[norm(word)] = target
            self.builtin_misses.pop(norm(word), None)
        self.reason_words: dict[str, str] = {}
        for key, reason in settings.lost_reasons.items():
            self.reason_words[norm(reason.label)] = key
        for key in settings.lost_reasons:
            self.reason_words[norm(key)] = key
        for word, key in rules.reasons.items():
            self.reason_words[norm(word)] = key
        self.temperature_words = {norm(t): t for t in TEMPERATURES}
        for word, temp in rules.temperatures.items():
            self.temperature_words[norm(word)] = temp
        self.owner_words: dict[str, str] = {}
        for key, member in settings.team.items():
            self.owner_words[norm(member.email)] = key
            self.owner_words[norm(member.name)] = key
        for key in settings.team:
            self.owner_words[norm(key)] = key
        for word, key in rules.owners.items():
            self.owner_words[norm(word)] = key

    def stage(self, word: str) -> str | None:
        return self.stage_words.get(norm(word))

    def reason(self, word: str) -> str | None:
        return self.reason_words.get(norm(word))

    def temperature(self, word: str) -> str | None:
        return self.temperature_words.get(norm(word))

    def owner(self, word: str) -> str | None:
        return self.owner_words.get(norm(word))

    def temperature_at(self, stage: str) -> str:
        """Temperature at the time of loss from the stage lost at: settings, else by funnel position.

        By position: the stage just before the last (``proposal``) is hot, the
        first stage is cold, the stages between are warm.
        """
        given = self.rules.temperature_by_stage.get(stage)
        if given:
            return given
        stages = self.funnel[:-1]
        i = stages.index(stage) if stage in stages else 0
        if i == len(stages) - 1 and i > 0:
            return "hot"
        return "cold" if i == 0 else "warm"

    def month_first(self) -> bool:
        """Whether dates such as 03/04/2026 are month first where the team is (settings `phone_region`)."""
        return self.settings.phone_region in _MONTH_FIRST


def with_columns(fmt: Format, columns: Mapping[str, tuple[str, ...]]) -> Format:
    """``fmt`` with the mapping file's columns in place of its own, field by field."""
    if not columns:
        return fmt
    return replace(fmt, columns=MappingProxyType({**fmt.columns, **columns}))
