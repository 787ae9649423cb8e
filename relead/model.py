"""The immutable model: what loading and validation produce, and everything else reads.

Frozen dataclasses with slots; mappings are read-only views. Values are already
checked and normalised (phones in E.164, ``lost.stage`` resolved), so code that
reads the model never re-validates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from operator import attrgetter
from types import MappingProxyType
from typing import Mapping

from .history import History
from .names import first_name as _first_name

__all__ = [
    "TeamMember", "LostReason", "Scoring", "Window", "Sending", "Sender", "SyncRules", "ImportRules", "Settings",
    "Loss", "Lead", "Step", "Variant", "OutcomeRule", "Audience", "Campaign", "Message",
    "Page", "Model", "frozen_map",
]


def frozen_map(d: Mapping | None = None) -> Mapping:
    return MappingProxyType(dict(d or {}))


@dataclass(frozen=True, slots=True)
class TeamMember:
    key: str
    name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class LostReason:
    key: str
    label: str
    category: str


@dataclass(frozen=True, slots=True)
class Scoring:
    """Points for the priority score (relead.derive.priorities); docs/formats.md explains each."""

    temperature: Mapping[str, float] = field(
        default_factory=lambda: frozen_map({"hot": 30, "warm": 18, "cold": 6}))
    stage: Mapping[str, float] = field(default_factory=frozen_map)
    value_per_point: float = 1000
    value_max_points: float = 20
    recycle_due: float = 15
    decision_maker: float = 8
    old_loss_months: int = 24
    old_loss_factor: float = 0.5
    touch_target: int = 7
    per_missing_touch: float = 2
    coolest_first: bool = False


@dataclass(frozen=True, slots=True)
class Window:
    start: dt.time
    end: dt.time

    def contains(self, t: dt.time) -> bool:
        return self.start <= t < self.end


@dataclass(frozen=True, slots=True)
class Sending:
    daily_caps: Mapping[str, int] = field(default_factory=lambda: frozen_map({"email": 200, "sms": 50}))
    per_lead_per_7_days: int = 2
    send_window: Window = Window(dt.time(9, 0), dt.time(17, 0))
    business_days: tuple[int, ...] = (0, 1, 2, 3, 4)   # date.weekday() numbers
    steps_in_business_days: bool = True
    holidays: frozenset[dt.date] = frozenset()
    max_failure_share: float = 0.2
    sms_per_second: float = 5
    email_per_second: float = 0     # 0: no limit
    sms_hours: Window = Window(dt.time(8, 0), dt.time(21, 0))      # at the recipient
    sms_hours_by_region: Mapping[str, Window] = field(default_factory=frozen_map)   # "us-fl", "de": stricter

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() in self.business_days and day not in self.holidays


@dataclass(frozen=True, slots=True)
class Sender:
    name: str
    email: str
    postal_address: str
    reply_to: str | None = None
    unsubscribe_email: str | None = None
    unsubscribe_url: str | None = None
    plus_addressing: bool = True    # tokens in Reply-To and the unsubscribe address (name+token@)


@dataclass(frozen=True, slots=True)
class SyncRules:
    """settings `sync:`: what `make sync` keeps of what comes back."""

    snippets: bool = True           # keep up to 160 characters of each reply's new text
    lookback_days: int = 30         # how far back the first sync reads


@dataclass(frozen=True, slots=True)
class ImportRules:
    """settings `import:`: what a CRM's words mean for this team (docs/import.md)."""

    stages: Mapping[str, str] = field(default_factory=frozen_map)         # CRM word -> stage | open | lost | won | skip
    reasons: Mapping[str, str] = field(default_factory=frozen_map)        # CRM word -> lost reason key
    default_reason: str = ""                                              # for reasons nobody mapped
    temperatures: Mapping[str, str] = field(default_factory=frozen_map)   # CRM rating -> hot | warm | cold
    temperature_by_stage: Mapping[str, str] = field(default_factory=frozen_map)
    owners: Mapping[str, str] = field(default_factory=frozen_map)         # CRM user -> team key


@dataclass(frozen=True, slots=True)
class Settings:
    team: Mapping[str, TeamMember]
    timezone: str
    funnel: tuple[str, ...]
    lost_reasons: Mapping[str, LostReason]
    sender: Sender
    currency: str = "USD"
    phone_region: str = "US"      # country of numbers written without a +country code
    scoring: Scoring = Scoring()
    sending: Sending = Sending()
    importing: ImportRules = ImportRules()      # settings `import:`
    sync: SyncRules = SyncRules()
    default_owner: str = ""         # a team key: who owns (sends to, is called by) leads without an owner
    as_of: dt.datetime | None = None  # the example's pinned clock (relead.clock); None: the real one
    site_url: str = ""              # where the dashboard is published, for links in mail to the team

    def owner_of(self, lead_owner: str) -> str:
        """The team key of who owns a lead: its own owner, else ``default_owner`` ("" for nobody)."""
        return lead_owner or self.default_owner


@dataclass(frozen=True, slots=True)
class Loss:
    date: dt.date
    stage: str            # as given, else the furthest stage reached on or before `date`
    reason: str
    temperature: str | None = None
    note: str = ""

    def __reduce__(self):
        # As its values: the dataclass's own pickling looks its fields up each time, which for
        # the 60,000 losses of 100,000 leads validated in a worker took longer than the leads.
        return Loss, _LOSS_VALUES(self)


@dataclass(frozen=True, slots=True)
class Lead:
    id: str
    file: str
    index: int                     # position in its file's `leads:` list
    name: str = ""
    company: str = ""
    title: str = ""
    email: str = ""
    phone: str = ""                # E.164
    phone_written: str = ""        # as written in the file
    timezone: str = ""
    source: str = ""
    owner: str = ""
    value: float = 0
    interest: str = ""
    decision_maker: bool | None = None
    tags: tuple[str, ...] = ()
    follow_up: dt.date | None = None
    reached: Mapping[str, dt.date] = field(default_factory=frozen_map)
    lost: Loss | None = None
    recycle_on: dt.date | None = None
    campaign: str = ""
    consent_email: bool = True
    consent_sms: bool = False
    do_not_contact: bool = False
    touches: int = 0               # contact attempts made before relead's history
    notes: str = ""

    @property
    def first_name(self) -> str:
        """The name copy greets them by (:func:`relead.names.first_name`): "Dr. Ana Lima" is Ana."""
        return _first_name(self.name)

    @property
    def display_name(self) -> str:
        if self.name and self.company:
            return f"{self.name} ({self.company})"
        return self.name or self.company

    @property
    def first_reached(self) -> dt.date | None:
        """The day it entered the funnel: the earliest of its stages' dates."""
        return min(self.reached.values(), default=None)

    @property
    def has_contact(self) -> bool:
        return bool(self.email or self.phone)

    @property
    def incomplete(self) -> bool:
        return "incomplete" in self.tags

    def __reduce__(self):
        # A read-only mapping cannot be pickled: leads validated in another process
        # (relead.read.load) come back as their values, `reached` as a plain dict.
        values = _LEAD_VALUES(self)
        return _lead, values[:_REACHED] + (dict(self.reached),) + values[_REACHED + 1:]


def _lead(*values) -> Lead:
    lead = Lead(*values)
    object.__setattr__(lead, "reached", MappingProxyType(lead.reached))     # the unpickler's own dict
    return lead


_LEAD_FIELDS = tuple(f.name for f in fields(Lead))
_LEAD_VALUES = attrgetter(*_LEAD_FIELDS)
_REACHED = _LEAD_FIELDS.index("reached")
_LOSS_VALUES = attrgetter(*(f.name for f in fields(Loss)))


@dataclass(frozen=True, slots=True)
class Step:
    day: int
    channel: str
    message: str


@dataclass(frozen=True, slots=True)
class Variant:
    key: str
    hook: str
    messages: Mapping[str, str] = field(default_factory=frozen_map)   # step message -> this variant's


@dataclass(frozen=True, slots=True)
class OutcomeRule:
    stage: str | None = None
    then: str | None = None
    after_days: int | None = None       # the cool-off before `then` (default relead.derive.plan.REST_DAYS)
    review_after_days: int | None = None


@dataclass(frozen=True, slots=True)
class Audience:
    """All conditions must hold; an empty tuple means any."""

    status: tuple[str, ...] = ("lost",)
    temperature: tuple[str, ...] = ()
    lost_stage: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    min_value: float = 0
    lost_before_days: int = 0


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    file: str
    name: str
    hook: str
    steps: tuple[Step, ...]
    description: str = ""
    audience: Audience | None = None      # None: enrols only leads that name it (or hand-offs)
    priority: int = 0
    max_new_per_day: int = 25
    paused: bool = False
    variants: tuple[Variant, ...] = ()
    outcomes: Mapping[str, OutcomeRule] = field(default_factory=frozen_map)
    sends_as: str = "owner"               # `from:` owner (the lead's owner sends) | team (the sender identity)

    def hook_for(self, variant: str) -> str:
        for v in self.variants:
            if v.key == variant and v.hook:
                return v.hook
        return self.hook

    def message_for(self, step: Step, variant: str) -> str:
        for v in self.variants:
            if v.key == variant:
                return v.messages.get(step.message, step.message)
        return step.message


@dataclass(frozen=True, slots=True)
class Message:
    key: str          # path under content/messages without .md, e.g. "hot/remind"
    file: str
    subject: str
    body: str
    body_line: int    # line of the body's first line in the file
    subject_line: int = 2   # line of `subject:` in the front matter
    format: str = "html"    # email: html (plain text plus HTML) | text (plain text only)


@dataclass(frozen=True, slots=True)
class Page:
    slug: str
    file: str
    title: str
    order: int
    body: str


@dataclass(frozen=True, slots=True)
class Model:
    settings: Settings
    leads: tuple[Lead, ...]
    campaigns: Mapping[str, Campaign]
    messages: Mapping[str, Message]
    pages: tuple[Page, ...]
    history: History
    by_id: Mapping[str, Lead] = field(default_factory=frozen_map)
