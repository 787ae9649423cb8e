"""Every key every file accepts: the one list validation reads and docs/formats.md documents.

A mapping's schema is a tuple of :class:`Key`. ``kind`` names how the value is
checked (see :mod:`relead.read.values`); ``ref`` names what the value must refer to
once everything is loaded (an owner, a stage, a campaign...).
"""

from __future__ import annotations

from dataclasses import dataclass

from .vocab import CATEGORIES, CHANNELS, OUTCOME_RULES, STATUSES, TEMPERATURES, WEEKDAYS

__all__ = ["Key", "SCHEMAS", "LEAD", "LOST", "CONSENT", "SETTINGS", "TEAM_MEMBER", "LOST_REASON",
           "SCORING", "SENDING", "SENDER", "WINDOW", "CAMPAIGN", "AUDIENCE", "STEP", "VARIANT",
           "OUTCOME", "MESSAGE", "PAGE", "LEADS_FILE", "IMPORT", "IMPORT_MAPPING"]


@dataclass(frozen=True, slots=True)
class Key:
    name: str
    kind: str
    required: bool = False
    choices: tuple[str, ...] = ()
    ref: str = ""
    minimum: float | None = None
    schema: tuple["Key", ...] = ()   # for kind="map"


def _k(name, kind, **kw) -> Key:
    return Key(name, kind, **kw)


LOST = (
    _k("date", "date", required=True),
    _k("stage", "line", ref="stage"),
    _k("reason", "line", required=True, ref="lost_reason"),
    _k("temperature", "choice", required=True, choices=TEMPERATURES),
    _k("note", "text"),
)

CONSENT = (
    _k("email", "bool"),
    _k("sms", "bool"),
)

LEAD = (
    _k("id", "id", required=True),
    _k("name", "line"),
    _k("company", "line"),
    _k("title", "line"),
    _k("email", "email"),
    _k("phone", "phone"),
    _k("timezone", "timezone"),
    _k("source", "line"),
    _k("owner", "line", ref="owner"),
    _k("value", "number", minimum=0),
    _k("interest", "line"),
    _k("decision_maker", "bool"),
    _k("tags", "lines"),
    _k("follow_up", "date"),
    _k("reached", "stage_dates"),
    _k("lost", "map", schema=LOST),
    _k("recycle_on", "date"),
    _k("campaign", "line", ref="campaign"),
    _k("consent", "map", schema=CONSENT),
    _k("do_not_contact", "bool"),
    _k("touches", "int", minimum=0),
    _k("notes", "text"),
)

LEADS_FILE = (
    _k("leads", "list", required=True),
)

TEAM_MEMBER = (
    _k("name", "line", required=True),
    _k("email", "email", required=True),
    _k("phone", "phone"),
)

LOST_REASON = (
    _k("label", "line", required=True),
    _k("category", "choice", required=True, choices=CATEGORIES),
)

SCORING = (
    _k("temperature", "points_by", choices=TEMPERATURES),
    _k("stage", "points_by", ref="stage"),
    _k("value_per_point", "number", minimum=1),
    _k("value_max_points", "number", minimum=0),
    _k("recycle_due", "number"),
    _k("decision_maker", "number"),
    _k("old_loss_months", "int", minimum=1),
    _k("old_loss_factor", "number", minimum=0),
    _k("touch_target", "int", minimum=0),
    _k("per_missing_touch", "number"),
    _k("coolest_first", "bool"),
)

WINDOW = (
    _k("start", "time", required=True),
    _k("end", "time", required=True),
)

SENDING = (
    _k("daily_caps", "counts_by", choices=("email", "sms")),
    _k("per_lead_per_7_days", "int", minimum=1),
    _k("send_window", "map", schema=WINDOW),
    _k("business_days", "choices", choices=WEEKDAYS),
    _k("steps_in_business_days", "bool"),
    _k("holidays", "dates"),
    _k("max_failure_share", "number", minimum=0),
    _k("sms_per_second", "number", minimum=0),
    _k("email_per_second", "number", minimum=0),
    _k("sms_hours", "map", schema=WINDOW),
    _k("sms_hours_by_region", "named_maps", schema=WINDOW),
)

SENDER = (
    _k("name", "line", required=True),
    _k("email", "email", required=True),
    _k("reply_to", "email"),
    _k("postal_address", "line", required=True),
    _k("unsubscribe_email", "email"),
    _k("unsubscribe_url", "url"),
    _k("plus_addressing", "bool"),
)

SYNC = (
    _k("snippets", "bool"),
    _k("lookback_days", "int", minimum=1),
)

# What `make import` maps a CRM's words to (docs/import.md). Keys of the maps are the CRM's words.
IMPORT = (
    _k("stages", "value_map"),                 # CRM stage / status -> funnel stage, or open | lost | won | skip
    _k("reasons", "value_map"),                # CRM lost reason -> a key of lost_reasons
    _k("default_reason", "line", ref="lost_reason"),
    _k("temperatures", "value_map"),           # CRM rating -> hot | warm | cold
    _k("temperature_by_stage", "value_map"),   # funnel stage lost at -> hot | warm | cold
    _k("owners", "value_map"),                 # CRM user -> a key of team
)

SETTINGS = (
    _k("team", "named_maps", required=True, schema=TEAM_MEMBER),
    _k("timezone", "timezone", required=True),
    _k("phone_region", "region"),
    _k("currency", "line"),
    _k("funnel", "stage_list", required=True),
    _k("lost_reasons", "named_maps", required=True, schema=LOST_REASON),
    _k("scoring", "map", schema=SCORING),
    _k("sending", "map", schema=SENDING),
    _k("sender", "map", required=True, schema=SENDER),
    _k("default_owner", "line", ref="owner"),
    _k("as_of", "instant"),
    _k("site_url", "url"),
    _k("sync", "map", schema=SYNC),
    _k("import", "map", schema=IMPORT),
)

# A mapping file for `make import MAP=...`: not a repository file, documented in docs/import.md.
IMPORT_MAPPING = (
    _k("columns", "columns"),
    _k("date_format", "line"),
    _k("phone_region", "region"),
    _k("source", "line"),
    _k("owner", "line"),
) + IMPORT

AUDIENCE = (
    _k("status", "choices", choices=STATUSES),
    _k("temperature", "choices", choices=TEMPERATURES),
    _k("lost_stage", "lines", ref="stage"),
    _k("reasons", "lines", ref="lost_reason"),
    _k("categories", "choices", choices=CATEGORIES),
    _k("sources", "lines"),
    _k("owners", "lines", ref="owner"),
    _k("min_value", "number", minimum=0),
    _k("lost_before_days", "int", minimum=0),
)

STEP = (
    _k("day", "int", required=True, minimum=0),
    _k("channel", "choice", required=True, choices=CHANNELS),
    _k("message", "line", required=True, ref="message"),
)

VARIANT = (
    _k("hook", "line"),
    _k("messages", "message_map"),
)

OUTCOME = (
    _k("stage", "line", ref="stage"),
    _k("then", "line", ref="campaign"),
    _k("after_days", "int", minimum=0),
    _k("review_after_days", "int", minimum=1),
)

CAMPAIGN = (
    _k("name", "line", required=True),
    _k("description", "text"),
    _k("hook", "line"),
    _k("audience", "map", schema=AUDIENCE),
    _k("priority", "int"),
    _k("max_new_per_day", "int", minimum=0),
    _k("paused", "bool"),
    _k("from", "choice", choices=("owner", "team")),
    _k("steps", "steps", required=True, schema=STEP),
    _k("variants", "named_maps", schema=VARIANT),
    _k("outcomes", "outcomes", schema=OUTCOME, choices=OUTCOME_RULES),
)

MESSAGE = (
    _k("subject", "line"),
    _k("format", "choice", choices=("html", "text")),
)

PAGE = (
    _k("title", "line"),
    _k("order", "int"),
)

# Section name in docs/formats.md -> schema. tests/test_docs.py holds the doc to it.
SCHEMAS: dict[str, tuple[Key, ...]] = {
    "leads.yaml: a lead": LEAD,
    "leads.yaml: lost": LOST,
    "leads.yaml: consent": CONSENT,
    "settings.yaml": SETTINGS,
    "settings.yaml: team": TEAM_MEMBER,
    "settings.yaml: lost_reasons": LOST_REASON,
    "settings.yaml: scoring": SCORING,
    "settings.yaml: sending": SENDING,
    "settings.yaml: send_window": WINDOW,
    "settings.yaml: sender": SENDER,
    "settings.yaml: sync": SYNC,
    "settings.yaml: import": IMPORT,
    "campaigns": CAMPAIGN,
    "campaigns: audience": AUDIENCE,
    "campaigns: steps": STEP,
    "campaigns: variants": VARIANT,
    "campaigns: outcomes": OUTCOME,
    "messages": MESSAGE,
    "pages": PAGE,
}
