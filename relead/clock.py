"""What "today" and "now" are when a command is not told: the settings' ``as_of``, else the real clock.

The example repository's simulated history ends in November 2026. Cloned on any later day,
the real clock would show an empty week, plan nothing and hold every email outside the
send window. So the example pins its own date and time in ``content/settings.yaml``
(``as_of: 2026-11-20T14:00:00-06:00``, in the team's time zone): every command that is given
neither ``--today`` nor ``--now`` runs as of then, and says so. A team's own repository
leaves ``as_of`` out and runs on the real clock.

``--today`` or ``--now`` given on the command line always win; ``as_of`` is only the default.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from .arguments import FIRST_DAY, LAST_DAY
from .read.values import Invalid

__all__ = ["as_of_from", "as_of_in_zone", "default_today", "default_now", "as_of_note", "note_for",
           "real_today"]

_TEXT = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{1,2}:\d{2}(?::\d{2})?)\s*(Z|[-+]\d{2}:?\d{2})?")
_FIX = "write the date and time the example is at, e.g. as_of: 2026-11-20T14:00:00-06:00 (or remove the line)"


def as_of_from(value: Any) -> dt.datetime:
    """The settings' ``as_of`` value as a date and time (naive: at the team's clock), or
    :class:`~relead.read.values.Invalid` with what to write instead."""
    when = _as_of(value)
    # The same days --today and --now accept (relead.arguments): near year 1 or 9999 the
    # calendar ends while a week is planned or a time zone applied.
    if not FIRST_DAY <= when.date() <= LAST_DAY:
        raise Invalid(f"`as_of` {when.date()} is outside the days relead works as of",
                      f"use a day from {FIRST_DAY} to {LAST_DAY} (or remove the line)")
    return when


def _as_of(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        raise Invalid("`as_of` is a date without a time: the send window and the SMS hours need the time of day",
                      _FIX)
    if isinstance(value, str):
        m = _TEXT.fullmatch(value.strip())
        if m:
            zone = m.group(3) or ""
            if zone and zone != "Z" and ":" not in zone:
                zone = zone[:3] + ":" + zone[3:]
            hour, _, rest = m.group(2).partition(":")
            try:
                return dt.datetime.fromisoformat(f"{m.group(1)}T{int(hour):02d}:{rest}"
                                                 + ("+00:00" if zone == "Z" else zone))
            except ValueError:
                raise Invalid(f"`as_of` {value.strip()} is not a real date and time",
                              "check the month, the day and the hour") from None
    shown = value if isinstance(value, str) else type(value).__name__
    raise Invalid(f"`as_of` must be a date and time, not {str(shown)[:40]}", _FIX)


def as_of_in_zone(as_of: dt.datetime, timezone: str) -> dt.datetime:
    """``as_of`` at the team's clock: a time written without an offset is the team's."""
    try:
        zone = ZoneInfo(timezone)
    except Exception:       # an invalid zone is reported by validation
        zone = dt.timezone.utc
    return as_of.replace(tzinfo=zone) if as_of.tzinfo is None else as_of.astimezone(zone)


def real_today(timezone: str | None) -> dt.date:
    """Today on the real clock in the team's time zone, whatever the settings pin."""
    try:
        return dt.datetime.now(ZoneInfo(timezone)).date() if timezone else dt.date.today()
    except Exception:  # an invalid zone is reported by validation; the date still has to be something
        return dt.date.today()


def default_today(settings) -> dt.date:
    """The day a command works on when not told: ``as_of``'s day at the team's clock, else today there."""
    if settings is not None and settings.as_of is not None:
        return as_of_in_zone(settings.as_of, settings.timezone).date()
    return real_today(settings.timezone if settings is not None else None)


def default_now(settings) -> dt.datetime | None:
    """The clock's reading when not told: ``as_of`` (with its offset), else None: the real clock."""
    if settings is not None and settings.as_of is not None:
        return as_of_in_zone(settings.as_of, settings.timezone)
    return None


def as_of_note(at: dt.datetime | None) -> str:
    """The line a command prints when it ran as of the settings' ``as_of`` (``at``, at the team's
    clock: :func:`default_now`); "" for None."""
    if at is None:
        return ""
    zone = getattr(at.tzinfo, "key", "") or at.strftime("%z")
    return (f"as of {at:%Y-%m-%d %H:%M} {zone}: the example's date (content/settings.yaml `as_of`), not today; "
            "remove `as_of` once this repository holds your own leads")


def note_for(root) -> str:
    """:func:`as_of_note` for the repository at ``root``, read from its settings file alone (for the
    commands that report before, or without, loading everything); "" when there is no usable ``as_of``."""
    from pathlib import Path

    from .read.yamlparse import parse
    try:
        raw = parse((Path(root) / "content" / "settings.yaml").read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or raw.get("as_of") is None:
            return ""
        return as_of_note(as_of_in_zone(as_of_from(raw["as_of"]), str(raw.get("timezone") or "UTC")))
    except Exception:   # unreadable or invalid settings are reported by validation
        return ""
