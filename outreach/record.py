"""``make record``: a person's word on a lead, appended to history under their own writer name.

Responses (``replied``, ``interested``, ``not_interested``, ``unsubscribed``, call
outcomes...) are tied to the lead's current enrolment, so they stop its sequence
and count for its campaign. ``sent`` / ``not_sent`` settle an unknown touch (one
that was ``attempting`` when a run died or timed out): ``settled_sent`` counts as a
touch, ``settled_not_sent`` does not; neither is ever sent again.

Each person writes ``history/YYYY/MM/<day>.record-<name>.tsv``: a pull request
that records responses never touches the file the daily outreach run commits.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from relead.history import RESPONSE_EVENTS, HistoryWriter, Record
from relead.derive.hygiene import unknown_touches
from relead.model import Model

from .errors import OutreachError

__all__ = ["OUTCOMES", "SETTLE", "Recorded", "record_response", "writer_name", "UsageError"]

SETTLE = {"sent": "settled_sent", "not_sent": "settled_not_sent"}
OUTCOMES = tuple(RESPONSE_EVENTS) + tuple(SETTLE)
_CALL_OUTCOMES = ("called", "no_answer", "voicemail")
_CHANNELS = ("email", "sms", "call", "mail")


class UsageError(OutreachError, ValueError):
    """The command was asked for something that cannot be recorded (exit 2)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Recorded:
    path: Path
    record: Record


def writer_name(root: Path | str, *, environ=None) -> str:
    """``record-<who>``: git's user.name in ``root``, else $USER, as a file-name slug."""
    env = os.environ if environ is None else environ
    who = ""
    try:
        out = subprocess.run(["git", "config", "user.name"], cwd=root, capture_output=True, text=True,
                             timeout=10)
        who = out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    if not who:
        who = env.get("USER") or env.get("USERNAME") or ""
        if not who:
            try:
                who = getpass.getuser()
            except (OSError, KeyError):
                who = ""
    slug = re.sub(r"[^a-z0-9]+", "-", who.lower()).strip("-")[:40].strip("-")
    return f"record-{slug or 'someone'}"


def _unknown_for(model: Model, lead: str) -> list[Record]:
    return [r for r in unknown_touches(model.history) if r.lead == lead]


def record_response(model: Model, *, root: Path | str, lead: str, outcome: str, today: dt.date,
                    now: dt.datetime, note: str = "", touch: str = "", channel: str = "",
                    writer: str | None = None) -> Recorded:
    """Append one record for ``lead``; raises :class:`UsageError` when it cannot be recorded."""
    root = Path(root)
    if lead not in model.by_id:
        raise UsageError(f"there is no lead `{lead}` in the leads")
    if outcome not in OUTCOMES:
        raise UsageError(f"unknown outcome `{outcome}`: use one of {', '.join(OUTCOMES)}")
    if channel and channel not in _CHANNELS:
        raise UsageError(f"unknown channel `{channel}`: use one of {', '.join(_CHANNELS)}")
    day = today.isoformat()
    at = now.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
    records = model.history.for_lead(lead)

    if outcome in SETTLE:
        open_ = _unknown_for(model, lead)
        if touch:
            match = [r for r in open_ if r.touch == touch]
            if not match:
                raise UsageError(f"touch {touch} of `{lead}` is not unknown (it has a result, or it is "
                                 "not this lead's): nothing to settle")
        elif len(open_) == 1:
            match = open_
        elif not open_:
            raise UsageError(f"`{lead}` has no unknown touch to settle")
        else:
            raise UsageError(f"`{lead}` has {len(open_)} unknown touches: name one with TOUCH= "
                             f"({', '.join(r.touch for r in open_)})")
        a = match[0]
        rec = Record(day, at, SETTLE[outcome], lead, a.campaign, a.enrolment, a.step, a.channel, a.variant,
                     a.touch, "", note)
    else:
        if outcome == "opted_out" and channel not in ("email", "sms"):
            raise UsageError("opted_out needs CHANNEL=email or CHANNEL=sms (unsubscribed stops every channel)")
        enrolment = next((r for r in reversed(records) if r.event == "enrolled"), None)
        campaign = enrolment.campaign if enrolment else ""
        since = (enrolment.enrolment or enrolment.day) if enrolment else ""
        variant = enrolment.variant if enrolment else ""
        if outcome in _CALL_OUTCOMES:
            channel = channel or "call"
            if not touch and enrolment is not None:
                call = next((r for r in reversed(records) if r.channel == "call" and r.event == "sent"
                             and r.campaign == campaign and r.enrolment == since), None)
                touch = call.touch if call else ""
        step = ""
        if touch:
            hit = next((r for r in records if r.touch == touch), None)
            if hit is None:
                raise UsageError(f"touch {touch} is not one of `{lead}`'s")
            campaign, since, step, variant = hit.campaign, hit.enrolment, hit.step, hit.variant
            channel = channel or hit.channel
        rec = Record(day, at, outcome, lead, campaign, since, step, channel, variant, touch, "", note)

    with HistoryWriter(root / "history", day, writer or writer_name(root)) as w:
        w.append([rec])
        path = w.path
    return Recorded(path, rec)
