"""Checks made again just before each send: consent, opt-outs, bounces, windows, quiet hours.

Each check returns a :class:`Verdict`: send, ``skip`` (recorded as ``skipped``:
the step is done and the sequence moves on) or ``defer`` (recorded as
``deferred``: the step is planned again on the next run). Time-of-day rules take
``now`` (an aware datetime) from the caller, never from the clock.

SMS goes out only between 08:00 and 21:00 at the recipient. The recipient's time
zone is the lead's ``timezone``, else the phone number's (phonenumbers' time zone
data). A number whose possible zones lie more than :data:`MAX_ZONE_SPREAD` apart
(a toll-free number spans the continent) counts as unknown, and an unknown zone
is never guessed: the SMS is skipped with the reason recorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, geocoder
from phonenumbers import timezone as phone_timezone

from relead.history import Record
from relead.model import Lead, Sending, Settings, Window
from relead.derive.plan import STOPPING_EVENTS, TASK_STEPS
from relead.derive.state import LeadState

__all__ = ["Verdict", "SEND", "MAX_ZONE_SPREAD", "recipient_zones", "phone_region", "sms_window",
           "sms_hours", "email_window", "check_touch"]

MAX_ZONE_SPREAD = dt.timedelta(hours=3)


@dataclass(frozen=True, slots=True)
class Verdict:
    action: str          # send | skip | defer
    reason: str = ""     # a short key, recorded as the record's ref
    note: str = ""       # for people

    @property
    def send(self) -> bool:
        return self.action == "send"


SEND = Verdict("send")


def e164_number(phone: str) -> phonenumbers.PhoneNumber | None:
    """The number ``phonenumbers.parse`` gives for an E.164 string, built straight from its
    digits: loading normalised every phone to E.164, and parsing one again costs more than
    sending it (tests/test_outreach_compliance.py holds the two equal for every region)."""
    digits = phone[1:]
    if phone[:1] != "+" or not digits.isascii() or not digits.isdigit():
        return None
    for n in (1, 2, 3):
        cc = int(digits[:n])
        if cc in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[n:]
    if not national:
        return None
    num = phonenumbers.PhoneNumber(country_code=cc, national_number=int(national))
    if len(national) > 1 and national[0] == "0":
        num.italian_leading_zero = True
        zeros = min(len(national) - len(national.lstrip("0")), len(national) - 1)
        if zeros != 1:
            num.number_of_leading_zeros = zeros
    return num


def _phone_zones(phone: str) -> tuple[str, ...]:
    num = e164_number(phone)
    if num is None:
        try:
            num = phonenumbers.parse(phone, None)
        except phonenumbers.NumberParseException:
            return ()
    return tuple(z for z in phone_timezone.time_zones_for_number(num) if z != "Etc/Unknown")


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def recipient_zones(lead: Lead) -> tuple[str, ...]:
    """The lead's time zone, else its phone number's candidates; () when unknown."""
    if lead.timezone:
        return (lead.timezone,) if _zone(lead.timezone) else ()
    if lead.phone:
        return tuple(z for z in _phone_zones(lead.phone) if _zone(z))
    return ()


# The names phonenumbers gives US states and Canadian provinces (alone, or after a city and a comma).
_STATE_CODES = (
    "al Alabama|ak Alaska|az Arizona|ar Arkansas|ca California|co Colorado|ct Connecticut|de Delaware|"
    "dc Washington D.C.|fl Florida|ga Georgia|hi Hawaii|id Idaho|il Illinois|in Indiana|ia Iowa|ks Kansas|"
    "ky Kentucky|la Louisiana|me Maine|md Maryland|ma Massachusetts|mi Michigan|mn Minnesota|"
    "ms Mississippi|mo Missouri|mt Montana|ne Nebraska|nv Nevada|nh New Hampshire|nj New Jersey|"
    "nm New Mexico|ny New York|nc North Carolina|nd North Dakota|oh Ohio|ok Oklahoma|or Oregon|"
    "pa Pennsylvania|ri Rhode Island|sc South Carolina|sd South Dakota|tn Tennessee|tx Texas|ut Utah|"
    "vt Vermont|va Virginia|wa Washington|wv West Virginia|wi Wisconsin|wy Wyoming|pr Puerto Rico|"
    "ab Alberta|bc British Columbia|mb Manitoba|nb New Brunswick|nl Newfoundland and Labrador|"
    "ns Nova Scotia|on Ontario|pe Prince Edward Island|qc Quebec|sk Saskatchewan|"
    "nt Northwest Territories|nu Nunavut|yt Yukon")
_STATES = {name: code for code, name in (entry.split(" ", 1) for entry in _STATE_CODES.split("|"))}


def phone_region(phone: str) -> tuple[str, str]:
    """(country, state) of a number, lowercase, for ``sms_hours_by_region``: ("us", "fl") from a
    Florida area code, ("de", "") for Germany; ("", "") when unknown. The state is the one the
    number was issued in, which is how the US states' telemarketing hours are applied."""
    # In North America the area code says the state; elsewhere the country code says the country.
    # Looked up once per area code or country code: a run's thousands of numbers share a few.
    if phone.startswith("+1") and len(phone) == 12:
        return _north_american_region(phone[:5])
    num = e164_number(phone)
    if num is None:
        return "", ""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(num.country_code, ())
    if len(regions) == 1:           # the usual case; a shared code (+44: GB, GG, JE, IM) asks the number
        return regions[0].lower().replace("001", ""), ""
    return (phonenumbers.region_code_for_number(num) or "").lower(), ""


@lru_cache(maxsize=1024)
def _north_american_region(area: str) -> tuple[str, str]:
    num = e164_number(area + "5550100")
    country = (phonenumbers.region_code_for_number(num) or "").lower() if num is not None else ""
    if country not in ("us", "ca"):
        return country, ""
    place = geocoder.description_for_number(num, "en")
    name = place.rsplit(", ", 1)[-1] if ", " in place else place
    return country, name.lower() if len(name) == 2 else _STATES.get(name, "")


def sms_window(lead: Lead, sending: Sending) -> Window:
    """The hours an SMS may reach this lead: its state's or country's (``sms_hours_by_region``),
    else ``sms_hours``."""
    regions = sending.sms_hours_by_region
    if regions and lead.phone:
        country, state = phone_region(lead.phone)
        window = regions.get(f"{country}-{state}") if state else None
        return window or regions.get(country) or sending.sms_hours
    return sending.sms_hours


def sms_hours(lead: Lead, now: dt.datetime, sending: Sending = Sending()) -> Verdict:
    """Inside the SMS hours at the recipient (:func:`sms_window`), in every zone the number may be in."""
    return _zones_hours(recipient_zones(lead), now, sms_window(lead, sending), "sms")


def email_window(settings: Settings, lead: Lead, now: dt.datetime) -> Verdict:
    """The settings' send window at the recipient: the lead's time zone, else its phone's, else the
    team's (a number that spans zones far apart, a toll-free one, tells nothing: the team's)."""
    zones = recipient_zones(lead)
    if not zones or _spread(zones, now) > MAX_ZONE_SPREAD:
        zones = (settings.timezone,) if _zone(settings.timezone) else ("UTC",)
    return _zones_hours(zones, now, settings.sending.send_window, "email")


def _spread(zones: tuple[str, ...], now: dt.datetime) -> dt.timedelta:
    offsets = [now.astimezone(_zone(z)).utcoffset() for z in zones]
    return max(offsets) - min(offsets)


@lru_cache(maxsize=1024)      # a run's touches share a handful of zone lists, windows and one `now`
def _zones_hours(zones: tuple[str, ...], now: dt.datetime, window: Window, channel: str) -> Verdict:
    if not zones:
        return Verdict("skip", "timezone_unknown",
                       "the recipient's time zone is unknown (set `timezone:` on the lead)")
    if _spread(zones, now) > MAX_ZONE_SPREAD:
        return Verdict("skip", "timezone_unknown",
                       f"the number spans {len(zones)} time zones (set `timezone:` on the lead)")
    for zone in zones:
        local = now.astimezone(_zone(zone))
        if not window.contains(local.time()):
            reason = "quiet_hours" if channel == "sms" else "outside_send_window"
            return Verdict("defer", reason, f"it is {local:%H:%M} at the recipient ({zone}); {channel} goes out "
                                            f"{window.start:%H:%M}-{window.end:%H:%M} there")
    return SEND


def _answered_since(records: Iterable[Record], since: str) -> Record | None:
    for rec in records:
        if rec.event in STOPPING_EVENTS and rec.day >= since:
            return rec
    return None


def check_touch(channel: str, enrolment: str, state: LeadState, records: tuple[Record, ...],
                settings: Settings, now: dt.datetime, *, step: int = 0,
                blocked: frozenset[str] = frozenset()) -> Verdict:
    """Whether a planned touch may go out now. A response since the enrolment stops it,
    except for the owner's tasks after `interested` or a reply (``step`` in TASK_STEPS),
    which that response is the reason for. An automatic reply (out of office) puts it
    off to the day it gives. ``blocked`` holds channels this run has closed for the lead
    (a bounce, a STOP, a bad number seen a moment ago)."""
    lead = state.lead
    if state.do_not_contact:
        return Verdict("skip", "do_not_contact", "marked do_not_contact")
    if state.unsubscribed:
        return Verdict("skip", "unsubscribed", "unsubscribed")
    task = str(step) in TASK_STEPS
    answered = None if task else _answered_since(records, enrolment)
    if answered is not None:
        return Verdict("skip", "responded", f"{answered.event.replace('_', ' ')} on {answered.day}")
    if not task and state.paused_until is not None and now.date() < state.paused_until:
        return Verdict("defer", "out_of_office", f"an automatic reply: no touch before {state.paused_until}")
    if channel in blocked:
        return Verdict("skip", "blocked", f"{channel} to this lead failed for good earlier in this run")
    if channel == "email":
        if not lead.email:
            return Verdict("skip", "no_email", "no email address")
        if not lead.consent_email:
            return Verdict("skip", "no_consent", "no consent to email")
        if not state.email_usable:
            return Verdict("skip", "email_unusable", "the address bounced or opted out of email")
        return email_window(settings, lead, now)
    if channel == "sms":
        if not lead.phone:
            return Verdict("skip", "no_phone", "no phone number")
        if not lead.consent_sms:
            return Verdict("skip", "no_consent", "no SMS consent (consent.sms must be true)")
        if not state.sms_usable:
            return Verdict("skip", "sms_unusable", "opted out of SMS, or the number is wrong")
        return sms_hours(lead, now, settings.sending)
    return SEND   # call and mail tasks: the owner judges
