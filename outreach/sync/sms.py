"""Texts sent to our number, from Twilio's message list, and what each one says.

Twilio keeps every inbound message; sync lists those sent to ``TWILIO_FROM`` (with a
messaging service, every inbound one) since a day, paging through the list with the
``twilio`` library over relead's HTTP client (:mod:`outreach.transports.sms_twilio`).
Twilio's ``DateSent>`` filter is a whole day in UTC, so the list overlaps earlier syncs:
a message already recorded (its sid) is skipped.

It also lists the texts sent from our number (with a messaging service, those it sent) over
the same days: Twilio reports some failures only after it took a message, as its status
``undelivered`` or ``failed`` with an error code. :data:`DELIVERY_FAULTS` are the codes about
the recipient, each read as a failed touch and what it says about the lead; other codes are
left alone (the touch stays ``sent``).

The keywords (whatever their case and the spaces around them): an opt-out word
(STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT) as the whole message
or its first word opts the number out: "Stop please" does too, though Twilio's own
block fires only on the single word. START, UNSTOP or YES as the whole message lifts
it ("Yes, call me tomorrow" is a reply, not an opt-in); HELP is recorded; anything
else is a reply.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import dataclass

from ..config import TwilioConfig
from ..transports.sms_twilio import http_client
from .imap import SyncSourceError

__all__ = ["Text", "Undelivered", "read_texts", "read_undelivered", "keyword", "STOP_WORDS", "START_WORDS",
           "DELIVERY_FAULTS"]

STOP_WORDS = frozenset(("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"))
START_WORDS = frozenset(("start", "unstop", "yes"))
_WORDS = re.compile(r"[^\W\d_]+")
# Twilio's delivery error code -> (what it means, what it says about the lead: "" nothing,
# wrong_number: the number cannot take SMS, opted_out: they blocked our texts).
DELIVERY_FAULTS = {
    30003: ("unreachable handset", ""),
    30004: ("message blocked by the recipient", "opted_out"),
    30005: ("unknown destination handset", "wrong_number"),
    30006: ("landline or unreachable carrier", "wrong_number"),
    30007: ("carrier filtering", ""),
    30008: ("unknown error", ""),
}
_NOT_DELIVERED = frozenset(("undelivered", "failed"))


@dataclass(frozen=True)
class Text:
    sid: str
    sender: str               # E.164
    body: str
    sent_at: dt.datetime


@dataclass(frozen=True)
class Undelivered:
    sid: str                  # the sid Twilio gave our message when it took it
    to: str                   # E.164
    status: str               # undelivered | failed
    code: int                 # one of DELIVERY_FAULTS
    at: dt.datetime           # when Twilio last updated it


def keyword(body: str) -> str:
    """``stop``, ``start``, ``help`` or ``reply``."""
    words = [w.lower() for w in _WORDS.findall(body)]
    if words and words[0] in STOP_WORDS:
        return "stop"
    if len(words) == 1 and words[0] in START_WORDS:
        return "start"
    if words == ["help"]:
        return "help"
    return "reply"


def read_texts(config: TwilioConfig, since: dt.datetime) -> list[Text]:
    """Inbound texts to our number sent on or after ``since`` (aware), oldest first."""
    since = since.astimezone(dt.timezone.utc)
    # date_sent_after is sent as the clock time with a Z: it must be UTC already.
    mine = {"to": config.from_number} if config.from_number else {}
    found = [Text(m.sid, m.from_ or "", m.body or "", sent)
             for m in _read(config, since, "the texts Twilio received", mine)
             if m.direction == "inbound" and (sent := m.date_sent or m.date_created) is not None and sent >= since]
    return sorted(found, key=lambda t: (t.sent_at, t.sid))


def read_undelivered(config: TwilioConfig, since: dt.datetime) -> list[Undelivered]:
    """Our texts sent on or after ``since``'s UTC day that Twilio could not deliver for one of
    :data:`DELIVERY_FAULTS`, oldest first."""
    service = config.messaging_service_sid
    mine = {"from_": config.from_number} if config.from_number and not service else {}
    found = [Undelivered(m.sid, m.to or "", str(m.status), m.error_code,
                         m.date_updated or m.date_sent or m.date_created)
             for m in _read(config, since.astimezone(dt.timezone.utc), "the texts we sent", mine)
             if str(m.direction or "").startswith("outbound") and str(m.status) in _NOT_DELIVERED
             and m.error_code in DELIVERY_FAULTS and (not service or m.messaging_service_sid == service)]
    return sorted(found, key=lambda u: (u.at, u.sid))


def _read(config: TwilioConfig, since: dt.datetime, what: str, filters: dict) -> list:
    try:
        return asyncio.run(_list(config, since, filters))
    except Exception as exc:        # the HTTP client, twilio's paging, the endpoint: one line, not a traceback
        detail = exc.args[1] if len(exc.args) > 1 else exc
        raise SyncSourceError(f"cannot list {what} ({exc.__class__.__name__}: "
                              f"{getattr(detail, 'status_code', '') or detail})") from None


async def _list(config: TwilioConfig, since: dt.datetime, filters: dict) -> list:
    from twilio.rest import Client      # slow to import: only when texts are read

    http = http_client(config.api_base, config.timeout, config.connections)
    try:
        client = Client(config.account_sid, config.auth_token, http_client=http)
        return [m async for m in await client.messages.stream_async(date_sent_after=since, page_size=200,
                                                                      **filters)]
    finally:
        await http.close()
