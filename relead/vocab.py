"""The fixed words of the formats: channels, temperatures, statuses, categories."""

__all__ = [
    "CHANNELS", "TASK_CHANNELS", "SEND_CHANNELS", "TEMPERATURES", "STATUSES",
    "CATEGORIES", "WEEKDAYS", "OUTCOME_RULES",
]

CHANNELS = ("email", "sms", "call", "mail")
SEND_CHANNELS = ("email", "sms")
TASK_CHANNELS = ("call", "mail")

TEMPERATURES = ("hot", "warm", "cold")

# Order matters: the first matching row of the status table (docs/formats.md, "Lead status") wins.
STATUSES = ("won", "recovered", "back_in_funnel", "dead", "lost", "open")

CATEGORIES = ("not_ready", "competitor", "no_follow_up", "no_decision_maker", "out_of_scope", "other")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Keys of a campaign's `outcomes:` mapping.
OUTCOME_RULES = ("interested", "not_interested", "no_response", "out_of_scope")


