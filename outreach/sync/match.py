"""Which of our touches an inbound message answers: ids first, addresses last, never a guess.

The order (the first rule that finds one wins):

1. ``message_id``: one of our Message-IDs (``<touch.relead@domain>``, derived from the touch
   id) in In-Reply-To or References, or in the message a bounce or complaint returns;
2. ``token``: our token in an address the message was sent to: the plus address of our
   Reply-To (``sales+r-<touch>@``) or of our unsubscribe mailbox (``unsubscribe+<touch>@``),
   or in the subject our unsubscribe mailto asks for (``unsubscribe <touch>``: the one token
   left without plus addressing);
3. ``provider_id``: the id a relay gave our email instead of ours (Amazon SES rewrites
   Message-IDs), recorded with the `sent` record as ``relay <id>``;
4. ``sender``: the From address (for a bounce, the address that failed) is one lead's; the
   touch is the latest email to that lead;
5. ``domain``: someone else at one lead's company wrote (not a free-mail domain), recorded as
   a reply from a colleague.

An address or a domain that several leads share matches nothing: unmatched mail is listed
for a person, never recorded against a lead. SMS match on the number the same way, except
a STOP or START: it opts the number out (or in) for every lead that has it. A text of ours
Twilio could not deliver matches the touch whose `sent` record keeps its sid, or nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from relead.history import SYNC_RECORDED, Record
from relead.model import Model

from .mail import UNSUBSCRIBE_SUBJECT

__all__ = ["Match", "Touches", "FREE_MAIL"]

# Mailbox providers where a shared domain says nothing about a shared company.
FREE_MAIL = frozenset("""
    gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk hotmail.fr hotmail.de live.com
    live.co.uk msn.com yahoo.com yahoo.co.uk yahoo.fr yahoo.de yahoo.es ymail.com icloud.com me.com
    mac.com aol.com gmx.de gmx.net gmx.com gmx.at web.de t-online.de freenet.de proton.me
    protonmail.com pm.me mail.com zoho.com yandex.ru yandex.com mail.ru qq.com 163.com 126.com
    orange.fr wanadoo.fr free.fr laposte.net sfr.fr libero.it tiscali.it virgilio.it telefonica.net
    terra.com comcast.net verizon.net att.net sbcglobal.net bellsouth.net btinternet.com fastmail.com
""".split())

_OUR_ID = re.compile(r"<([0-9a-f]{20})\.relead@", re.I)
_TOKEN = re.compile(r"\+(?:r-)?([0-9a-f]{20})@")
_RELAY = re.compile(r"^relay (\S+)")
_ID_LOCAL = re.compile(r"<([^@<>\s]+)@")
_TOUCH_EVENTS = frozenset(("attempting", "sent", "settled_sent"))


@dataclass(frozen=True)
class Match:
    lead: str
    touch: Record | None        # the touch it answers; None: a lead we never reached on that channel
    how: str                    # message_id | token | provider_id | sender | domain
    colleague: str = ""         # someone else at the lead's company wrote (their address)


class Touches:
    """Our touches, the leads' addresses and numbers, and what sync already recorded: read once
    from the model, then asked about each inbound message."""

    def __init__(self, model: Model):
        self.touches: dict[str, Record] = {}        # touch id -> its latest attempting / sent record
        self.relay: dict[str, str] = {}             # a relay's id for our email -> touch id
        self.latest: dict[tuple[str, str], Record] = {}   # (lead, channel) -> latest touch
        self.known: set[str] = set()                # inbound ids already recorded
        self.enrolled: dict[str, Record] = {}       # lead -> latest enrolment
        self.by_sid: dict[str, str] = {}            # the sid Twilio gave our SMS -> touch id
        self.failed: set[str] = set()               # touches recorded failed (at send time or by a sync)
        for rec in model.history.records:
            ev = rec.event
            if ev in _TOUCH_EVENTS and rec.touch:
                self.touches[rec.touch] = rec
                self.latest[(rec.lead, rec.channel)] = rec
                if ev == "sent" and rec.channel == "email":
                    m = _RELAY.match(rec.note)
                    if m:
                        self.relay[m.group(1).lower()] = rec.touch
                elif ev == "sent" and rec.channel == "sms" and rec.ref:
                    self.by_sid[rec.ref] = rec.touch
            elif ev == "failed" and rec.touch:
                self.failed.add(rec.touch)
            elif ev == "enrolled":
                self.enrolled[rec.lead] = rec
            elif ev in SYNC_RECORDED and rec.ref:
                self.known.add(rec.ref)
        self.by_email: dict[str, list[str]] = {}
        self.by_domain: dict[str, list[str]] = {}
        self.by_phone: dict[str, list[str]] = {}
        for lead in model.leads:
            if lead.email:
                address = lead.email.lower()
                self.by_email.setdefault(address, []).append(lead.id)
                domain = address.rpartition("@")[2]
                if domain not in FREE_MAIL:
                    self.by_domain.setdefault(domain, []).append(lead.id)
            if lead.phone:
                self.by_phone.setdefault(lead.phone, []).append(lead.id)

    # -- email ----------------------------------------------------------------------------------

    def mail(self, *, ids: tuple[str, ...], recipients: tuple[str, ...], sender: str, subject: str = "",
             domain_too: bool = True) -> Match | None:
        """The touch an email answers: by our ids, our tokens, a relay's ids, then the address that
        wrote (or failed), then (``domain_too``) that address's company."""
        for rule in (self._by_our_id, self._by_token, self._by_relay_id):
            found = rule(ids, recipients, subject)
            if found is not None:
                return found
        found = self._one(self.by_email.get(sender, ()), "email", "sender")
        if found is None and domain_too and sender:
            found = self._one(self.by_domain.get(sender.rpartition("@")[2], ()), "email", "domain")
            if found is not None:
                found = Match(found.lead, found.touch, "domain", colleague=sender)
        return found

    def _touch(self, touch: str, how: str) -> Match | None:
        rec = self.touches.get(touch)
        return Match(rec.lead, rec, how) if rec is not None else None

    def _by_our_id(self, ids, _recipients, _subject) -> Match | None:
        for mid in ids:
            m = _OUR_ID.match(mid)
            if m and (found := self._touch(m.group(1).lower(), "message_id")) is not None:
                return found
        return None

    def _by_token(self, _ids, recipients, subject) -> Match | None:
        for address in recipients:
            m = _TOKEN.search(address)
            if m and (found := self._touch(m.group(1).lower(), "token")) is not None:
                return found
        m = UNSUBSCRIBE_SUBJECT.match(subject)
        return self._touch(m.group(1).lower(), "token") if m else None

    def _by_relay_id(self, ids, _recipients, _subject) -> Match | None:
        for mid in ids:
            m = _ID_LOCAL.match(mid)
            touch = self.relay.get(m.group(1).lower()) if m else None
            if touch is not None:
                return self._touch(touch, "provider_id")
        return None

    def _one(self, leads, channel: str, how: str) -> Match | None:
        if len(leads) != 1:
            return None         # nobody, or several leads: not ours to guess
        lead = leads[0]
        return Match(lead, self.latest.get((lead, channel)), how)

    # -- SMS --------------------------------------------------------------------------------------

    def text(self, number: str) -> Match | None:
        """The lead a text came from (the latest SMS to it), when exactly one lead has the number."""
        return self._one(self.by_phone.get(number, ()), "sms", "sender")

    def sent_sms(self, sid: str) -> Match | None:
        """The touch that sent our SMS ``sid`` (its `sent` record's ref)."""
        touch = self.by_sid.get(sid)
        return self._touch(touch, "provider_id") if touch is not None else None

    def number(self, number: str) -> list[Match]:
        """Every lead with the number: a STOP or START is about the number, whoever of them sent it."""
        return [Match(lead, self.latest.get((lead, "sms")), "sender") for lead in self.by_phone.get(number, ())]
