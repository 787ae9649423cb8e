"""What the pages call things: the owner's tasks, a touch's step, each event of history (and
how a lead's timeline shows it), what a reply said, why a channel was closed."""

from __future__ import annotations

import re

from relead.history import Record
from relead.derive.plan import INTERESTED_STEP, REPLY_STEP
from relead.derive.state import SOFT_BOUNCES, record_address


class _Lookup(dict):
    """A mapping that gives back unknown keys as they are (ids no longer in the content)."""

    def __missing__(self, key):
        return key


class _Events(dict):
    def __missing__(self, key: str) -> tuple[str, str, bool]:
        return (key, "", False)


# The owner's tasks (a negative step) as every page labels them: answering a reply is not a call.
TASK_LABELS = {REPLY_STEP: "answer", INTERESTED_STEP: "call back"}
_TASK_WORDS = {str(REPLY_STEP): "answer the reply", str(INTERESTED_STEP): "call back"}


def _step_words(step: int | None) -> str:
    """A touch's step as a table cell shows it: "3", "answer", "call back"."""
    if step is None:
        return ""
    return str(step + 1) if step >= 0 else TASK_LABELS.get(step, "owner's task")


class _Steps(dict):
    """A record's step ("0", "1", "-1", "") -> how a timeline names it, worked out once per value."""

    def __missing__(self, key: str) -> str:
        if not key:
            text = ""
        else:
            try:
                n = int(key)
            except ValueError:
                n = None
            text = f", step {key}" if n is None else f", step {n + 1}" if n >= 0 \
                else ", " + _TASK_WORDS.get(key, "owner's task")
        self[key] = text
        return text


_PROBLEM_EVENTS = frozenset(("failed", "bounced", "unsubscribed", "opted_out", "wrong_number", "attempting",
                             "do_not_contact", "soft_bounce", "policy_block", "complained"))
_QUIET_EVENTS = frozenset(("sent", "skipped", "deferred", "settled_sent", "settled_not_sent", "no_answer",
                           "voicemail", "auto_reply", "sms_help"))

EVENT_LABELS = {
    "enrolled": "Enrolled", "attempting": "Send attempted, result unknown", "sent": "Sent",
    "failed": "Failed", "deferred": "Deferred", "skipped": "Skipped",
    "settled_sent": "Settled as sent", "settled_not_sent": "Settled as not sent",
    "replied": "Replied", "interested": "Interested", "not_interested": "Not interested",
    "unsubscribed": "Unsubscribed", "opted_out": "Opted out", "do_not_contact": "Asked not to be contacted",
    "bounced": "Bounced", "wrong_number": "Wrong number", "out_of_scope": "Out of scope",
    "appointment": "Appointment booked", "proposal": "Proposal sent", "won": "Won",
    "called": "Called: spoke to them", "no_answer": "Called: no answer", "voicemail": "Called: left a voicemail",
    # what `make sync` brings back
    "auto_reply": "Automatic reply: out of office", "soft_bounce": "Soft bounce (a temporary failure)",
    "policy_block": "Blocked by the receiving server (not the lead's doing)",
    "complained": "Marked our email as spam: no more email", "opted_in": "Texted START: SMS allowed again",
    "sms_help": "Texted HELP",
}


# Each event's label, the CSS class of its dot on a lead's timeline, and whether its `ref` says why.
TIMELINE_EVENTS = _Events({
    ev: (text, "enrol" if ev == "enrolled" else "problem" if ev in _PROBLEM_EVENTS
         else "" if ev in _QUIET_EVENTS else "response", ev in ("skipped", "failed", "deferred"))
    for ev, text in EVENT_LABELS.items()})

_TASK_HANDED = frozenset(("sent", "settled_sent"))
_AUTO_NOTE = re.compile(r"^until (\d{4}-\d{2}-\d{2})(?:, (?:back (\d{4}-\d{2}-\d{2})|(no return date given)))?")
_COLLEAGUE = re.compile(r"^colleague (\S+@\S+?)(?:: (.*))?$", re.S)


def reply_said(note: str) -> tuple[str, str]:
    """A ``replied`` record's note -> (what they said, the colleague who wrote instead of the lead or "")."""
    m = _COLLEAGUE.match(note)
    return (m.group(2) or "", m.group(1)) if m else (note, "")


def _auto_reply_words(note: str) -> str:
    """``until 2026-11-30, back 2026-11-27`` -> ``no touch before 2026-11-30 (back 2026-11-27)``."""
    m = _AUTO_NOTE.match(note)
    if not m:
        return note
    back = f" (back {m.group(2)})" if m.group(2) else " (no return date given)" if m.group(3) else ""
    return f"no touch before {m.group(1)}{back}"


_STATUS_CODE = re.compile(r"[245]\d\d|[245]\.\d{1,3}\.\d{1,3}")


def _number(n: int) -> str:
    return {2: "two", 3: "three", 4: "four", 5: "five"}.get(n, str(n))


def closed_why(rec: Record) -> tuple[str, str]:
    """The record that closed a channel -> (why, in words; what a person can do, or "")."""
    ev = rec.event
    detail = rec.note
    if record_address(rec):
        detail = detail.split(":", 1)[1].strip()
    if ev == "bounced":
        code = rec.ref if _STATUS_CODE.fullmatch(rec.ref) else ""     # a person may record the code as ref
        status = " ".join(x for x in (code, detail) if x)
        hint = "correct the address in leads.yaml: a new address is emailed again" if record_address(rec) \
            else "recorded without the address it names: correcting the address in leads.yaml does not " \
                 "reopen email for this lead"
        return "bounced" + (f": {status}" if status else ""), hint
    if ev == "soft_bounce":
        n, days = SOFT_BOUNCES
        return (f"{_number(n)} soft bounces within {days} days" + (f" (the last: {detail})" if detail else ""),
                "check the address in leads.yaml; a corrected address is emailed again")
    if ev == "opted_out":
        return ("texted STOP" if rec.channel == "sms" else "unsubscribed"), \
            ("a START text from them allows SMS again" if rec.channel == "sms" else "")
    if ev == "complained":
        return "spam complaint: marked our email as spam", ""
    if ev == "wrong_number":
        return "wrong number", ""
    return EVENT_LABELS.get(ev, ev).lower(), ""

