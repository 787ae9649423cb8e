"""A sync: read what came back, classify and match each item, record what belongs to a lead.

What each kind becomes in ``history/`` (writer ``sync``, ref = the inbound Message-ID or SMS
sid, tied to the touch it answers):

=====================  ===========================================================
a person's reply       ``replied`` (note: its first 160 characters, quotes stripped;
                       ``colleague <address>:`` first when someone else at the company wrote)
automatic reply        ``auto_reply`` (note ``until YYYY-MM-DD``: the return date and a
                       business day, else 14 days on; no touch before it)
hard bounce            ``bounced`` (note ``address: status diagnostic``)
soft bounce            ``soft_bounce``; three in 14 days close the address like a hard one
block (5.7.x)          ``policy_block``: the lead is not blamed; shown to people
complaint (ARF)        ``complained``: no more email to the lead, the sequence stops
unsubscribe            ``opted_out`` (channel email)
SMS STOP / START       ``opted_out`` / ``opted_in`` (channel sms)
SMS HELP               ``sms_help``
an SMS undelivered     ``failed`` for its touch (ref the Twilio error code, note what it means
                       and the message's sid), the step is not sent again; 30005 and 30006
                       also record ``wrong_number`` (sms), 30004 ``opted_out`` (sms)
=====================  ===========================================================

Unmatched items are listed, never recorded. An item already recorded (its ref; for an
undelivered SMS, its touch already failed) is skipped, so syncing again records nothing
twice. What to read: from the last day a sync wrote, with a day of overlap (the history
says which: no state file to drift), never more than ``sync.lookback_days`` back (default
30), which is also how far the first sync reads.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses
from pathlib import Path

from relead.history import HistoryWriter, Record
from relead.model import Model
from relead.derive.plan import add_business_days
from relead.derive.state import PAUSE_DAYS

from ..config import Config
from .imap import SyncSourceError, read_mailbox
from .mail import UNSUBSCRIBE_SUBJECT, Reading, UnsubscribeBox, inbound_id, parse_mail, read_mail
from .match import Match, Touches
from .sms import DELIVERY_FAULTS, Undelivered, keyword, read_texts, read_undelivered

__all__ = ["SyncResult", "sync", "WRITER", "last_synced", "SNIPPET", "unsubscribe_box"]

WRITER = "sync"
SNIPPET = 160
_SYNC_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.sync(?:\.\d+)?\.tsv$")
_OUR_HINTS = re.compile(r"\.relead@|\+r-[0-9a-f]{20}@", re.I)
_DAEMON = re.compile(r"mailer-daemon|postmaster|mail-delivery|bounce", re.I)


@dataclass(frozen=True)
class SyncResult:
    day: str
    records: tuple[Record, ...] = ()
    counts: Counter = field(default_factory=Counter)    # what was recorded, by kind (see commit_message)
    unmatched: tuple[str, ...] = ()                      # one line each, for people
    errors: tuple[str, ...] = ()                         # a source that could not be read
    sources: tuple[str, ...] = ()                        # what was read

    def commit_message(self) -> str:
        c = self.counts
        parts = [_n(c["reply"], "reply", "replies"), _n(c["auto_reply"], "out of office", "out of office"),
                 _n(c["bounce"], "bounce", "bounces") + (f" ({c['hard']} hard)" if c["bounce"] else ""),
                 _n(c["complaint"], "complaint", "complaints"), _n(c["unsubscribe"], "unsubscribe", "unsubscribes"),
                 _n(c["stop"], "STOP", "STOPs"), _n(c["start"], "START", "STARTs"), _n(c["help"], "HELP", "HELPs"),
                 _n(c["undelivered"], "SMS undelivered", "SMS undelivered"),
                 _n(len(self.unmatched), "unmatched", "unmatched")]
        keep = [p for p in parts if not p.startswith("0 ") or p.endswith(("replies", "unmatched"))]
        return f"sync {self.day}: " + ", ".join(keep)


def _n(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def last_synced(history_root: Path) -> dt.date | None:
    """The last day a sync wrote to history: its file names say it."""
    days = [m.group(1) for p in Path(history_root).rglob("*.sync*.tsv") if (m := _SYNC_FILE.match(p.name))]
    return dt.date.fromisoformat(max(days)) if days else None


def sync(model: Model, *, root: Path | str, config: Config, today: dt.date, now: dt.datetime,
         dry_run: bool = False) -> SyncResult:
    """Read the mailbox and Twilio as configured, record what matches a lead (not with ``dry_run``)."""
    root = Path(root)
    settings = model.settings
    last = last_synced(root / "history")
    furthest = today - dt.timedelta(days=settings.sync.lookback_days)
    since = max(last - dt.timedelta(days=1), furthest) if last else furthest
    index = Touches(model)
    day = today.isoformat()
    found: list[tuple[dt.datetime, str, Match, Reading | Undelivered | None, str, str]] = []  # (when, kind, ...)
    unmatched: list[str] = []
    errors: list[str] = []
    sources: list[str] = []
    box = unsubscribe_box(model)

    for mailbox in config.imap:
        sources.append(mailbox.describe())
        try:
            for item in read_mailbox(mailbox, since, skip=lambda h: inbound_id(h) in index.known,
                                     candidate=lambda h: _candidate(h, index, box)):
                if item.raw is None:
                    unmatched.append(_line(item.headers))
                    continue
                mail = parse_mail(item.raw)
                if mail.message_id in index.known:      # a second copy (another folder, a filter)
                    continue
                reading = read_mail(mail, unsubscribe=box)
                ids = mail.thread_ids + reading.returned_ids
                sender = reading.address if reading.kind in ("bounce", "complaint") and reading.address else mail.sender
                match = index.mail(ids=ids, recipients=mail.recipients, sender=sender, subject=mail.subject,
                                   domain_too=reading.kind not in ("bounce", "complaint"))
                if match is None:
                    unmatched.append(_line(item.headers, reading.kind))
                    continue
                index.known.add(mail.message_id)
                found.append((mail.sent_at or now, reading.kind, match, reading, mail.message_id, "email"))
        except SyncSourceError as exc:
            errors.append(f"mail ({mailbox.username}): {exc}")

    if config.twilio is not None:
        sources.append(f"Twilio texts to and from {config.twilio.from_number or 'the messaging service'}")
        since_at = dt.datetime.combine(since, dt.time(), dt.timezone.utc)
        try:
            for text in read_texts(config.twilio, since_at):
                if text.sid in index.known:
                    continue
                kind = keyword(text.body)
                match = index.text(text.sender)
                matches = index.number(text.sender) if kind in ("stop", "start") else [match] if match else []
                if not matches:
                    unmatched.append(f"SMS from {text.sender}: {_clip(text.body, 60)}")
                    continue
                index.known.add(text.sid)
                found.extend((text.sent_at, kind, m, None, text.sid, text.body) for m in matches)
            # Twilio took these, then could not deliver them: the sid our `sent` record keeps says
            # which touch; a touch already failed was recorded by an earlier sync.
            for sms in read_undelivered(config.twilio, since_at):
                match = index.sent_sms(sms.sid)
                if match is None:
                    unmatched.append(f"SMS {sms.sid} to {sms.to} {sms.status} ({sms.code}): "
                                     "no touch of ours sent it")
                    continue
                if match.touch.touch in index.failed:
                    continue
                index.failed.add(match.touch.touch)
                found.append((sms.at, "undelivered", match, sms, sms.sid, ""))
        except SyncSourceError as exc:
            errors.append(f"texts: {exc}")

    found.sort(key=lambda f: (f[0], f[4]))
    records, counts = [], Counter()
    for when, kind, match, reading, ref, extra in found:
        if kind == "undelivered":
            records.extend(_undelivered(day, match.touch, reading))
            counts[kind] += 1
            continue
        rec = _record(model, day, when, kind, match, reading, ref, extra, snippets=settings.sync.snippets)
        records.append(rec)
        counts[kind] += 1
        if kind == "bounce":
            counts["hard"] += reading.bounce == "hard"
    if records and not dry_run:
        with HistoryWriter(root / "history", day, WRITER) as writer:
            writer.append(records)
    return SyncResult(day, tuple(records), counts, tuple(unmatched), tuple(errors), tuple(sources))


def unsubscribe_box(model: Model) -> UnsubscribeBox:
    """Our List-Unsubscribe mailbox; one of its own unless replies may go there too (it is the
    From, the Reply-To or a team member's address)."""
    sender = model.settings.sender
    address = (sender.unsubscribe_email or sender.email).lower()
    shared = {a.lower() for a in (sender.email, sender.reply_to or "")} \
        | {m.email.lower() for m in model.settings.team.values() if m.email}
    return UnsubscribeBox(address, own=bool(sender.unsubscribe_email) and address not in shared)


def _candidate(headers: Message, index: Touches, box: UnsubscribeBox) -> bool:
    """Whether a message may be ours, from its headers alone: worth fetching whole."""
    thread = " ".join(str(headers.get(h, "")) for h in ("In-Reply-To", "References", "To", "Cc", "Delivered-To",
                                                            "X-Original-To")).lower()
    if _OUR_HINTS.search(thread) or UNSUBSCRIBE_SUBJECT.match(str(headers.get("Subject", ""))):
        return True
    sent_to = getaddresses([str(v) for h in ("To", "Cc", "Delivered-To", "X-Original-To")
                            for v in headers.get_all(h, [])])
    if any(box.takes(a) for _n, a in sent_to if a):
        return True
    if any(rid in index.relay for rid in re.findall(r"<([^@<>\s]+)@", thread)):
        return True
    sender = str(headers.get("From", "")).lower()
    address = sender[sender.find("<") + 1:sender.rfind(">")] if "<" in sender else sender.strip()
    return bool(address in index.by_email or address.rpartition("@")[2] in index.by_domain
                or _DAEMON.search(sender) or headers.get("X-Failed-Recipients")
                or headers.get_content_type() == "multipart/report")


def _line(headers: Message, kind: str = "") -> str:
    what = f" ({kind.replace('_', ' ')})" if kind else ""
    return f"mail from {headers.get('From', '?')}: {_clip(str(headers.get('Subject', '')), 60)}{what}"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _record(model: Model, day: str, when: dt.datetime, kind: str, match: Match, reading: Reading | None,
            ref: str, extra: str, *, snippets: bool) -> Record:
    touch = match.touch
    if touch is not None:
        campaign, enrolment, step, variant, tid = touch.campaign, touch.enrolment, touch.step, touch.variant, touch.touch
    else:       # a lead never reached on that channel: tied to its latest enrolment, as `make record` does
        enrolled = _latest_enrolment(model, match.lead)
        campaign, enrolment, variant = (enrolled.campaign, enrolled.enrolment or enrolled.day, enrolled.variant) \
            if enrolled else ("", "", "")
        step = tid = ""
    at = when.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
    channel = "sms" if reading is None else "email"
    event, note = _what(model, day, when, kind, match, reading, extra, snippets=snippets)
    return Record(day, at, event, match.lead, campaign, enrolment, step, channel, variant, tid, ref, note)


def _undelivered(day: str, touch: Record, sms: Undelivered) -> list[Record]:
    """The touch failed (never sent again); and, when the code says so, what it means for the
    lead's SMS, recorded as a send-time refusal records it (outreach/run.py)."""
    meaning, mark = DELIVERY_FAULTS[sms.code]
    at = sms.at.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
    note = f"{sms.status}: {meaning} (Twilio {sms.code}, {sms.sid})"
    out = [touch._replace(day=day, at=at, event="failed", ref=str(sms.code), note=note)]
    if mark:
        out.append(touch._replace(day=day, at=at, event=mark, ref=str(sms.code), note=f"{sms.to}: {note}"))
    return out


def _latest_enrolment(model: Model, lead: str) -> Record | None:
    return next((r for r in reversed(model.history.for_lead(lead)) if r.event == "enrolled"), None)


def _what(model: Model, day: str, when: dt.datetime, kind: str, match: Match, reading: Reading | None,
          extra: str, *, snippets: bool) -> tuple[str, str]:
    """(event, note) of a matched item."""
    if reading is None:         # a text
        return {"stop": ("opted_out", "STOP by SMS"), "start": ("opted_in", "START by SMS"),
                "help": ("sms_help", "HELP by SMS")}.get(kind) or ("replied", _clip(extra, SNIPPET) if snippets else "")
    if kind == "bounce":
        event = {"hard": "bounced", "soft": "soft_bounce", "block": "policy_block"}[reading.bounce]
        address = reading.address or model.by_id[match.lead].email
        return event, f"{address}: {reading.status} {reading.diagnostic}".strip()
    if kind == "complaint":
        return "complained", f"{reading.address or model.by_id[match.lead].email}: spam complaint " \
                             f"({reading.diagnostic or 'abuse report'})"
    if kind == "unsubscribe":
        return "opted_out", "unsubscribe by email"
    if kind == "auto_reply":
        sending = model.settings.sending
        if reading.back is not None:
            until = add_business_days(reading.back, 1, sending)
            return "auto_reply", f"until {until}, back {reading.back}"
        return "auto_reply", f"until {when.date() + dt.timedelta(days=PAUSE_DAYS)}, no return date given"
    text = _clip(reading.text, SNIPPET) if snippets else ""
    if match.colleague:
        return "replied", f"colleague {match.colleague}: {text}".rstrip(": ")
    return "replied", text
