"""Texts sent to our number, from Twilio's message list, and what each one says.

Twilio keeps every inbound message; sync lists those sent to ``TWILIO_FROM`` (with a
messaging service, every inbound one) since a day, paging through the list with the
``twilio`` library over relead's HTTP client (:mod:`outreach.transports.sms_twilio`).
Twilio's ``DateSent>`` filter is a whole day in UTC, so the list overlaps earlier syncs:
a message already recorded (its sid) is skipped.

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

__all__ = ["Text", "read_texts", "keyword", "STOP_WORDS", "START_WORDS"]

STOP_WORDS = frozenset(("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"))
START_WORDS = frozenset(("start", "unstop", "yes"))
_WORDS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Text:
    sid: str
    sender: str               # E.164
    body: str
    sent_at: dt.datetime


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
    try:
        return asyncio.run(_list(config, since.astimezone(dt.timezone.utc)))
    except SyncSourceError:
        raise
    except Exception as exc:        # the HTTP client, twilio's paging, the endpoint: one line, not a traceback
        detail = exc.args[1] if len(exc.args) > 1 else exc
        raise SyncSourceError(f"cannot list the texts Twilio received ({exc.__class__.__name__}: "
                              f"{getattr(detail, 'status_code', '') or detail})") from None


async def _list(config: TwilioConfig, since: dt.datetime) -> list[Text]:
    from twilio.rest import Client      # slow to import: only when texts are read

    http = http_client(config.api_base, config.timeout, config.connections)
    try:
        client = Client(config.account_sid, config.auth_token, http_client=http)
        # date_sent_after is sent as the clock time with a Z: it must be UTC already.
        mine = {"to": config.from_number} if config.from_number else {}
        found = []
        async for m in await client.messages.stream_async(date_sent_after=since, page_size=200, **mine):
            sent = m.date_sent or m.date_created
            if m.direction == "inbound" and sent is not None and sent >= since:
                found.append(Text(m.sid, m.from_ or "", m.body or "", sent))
        return sorted(found, key=lambda t: (t.sent_at, t.sid))
    finally:
        await http.close()
