"""What one inbound email is, and what it says.

Classified in this order, the first that fits wins:

1. **bounce**: a delivery status notification (RFC 3464 ``multipart/report;
   report-type=delivery-status``), or a mailer daemon's report in another shape
   (Exim, qmail, Gmail's ``X-Failed-Recipients``...), read by ``flufl.bounce``, the
   detectors Mailman uses. ``hard``: 5.x.x except 5.2.2 (mailbox full) and 5.7.x;
   ``soft``: 4.x.x, 5.2.2 and a delay; ``block``: 5.7.x, a block against the sender
   (a spam list, a policy), which says nothing about the address;
2. **complaint**: an abuse report (ARF, RFC 5965: ``report-type=feedback-report``);
3. **unsubscribe**: sent to our unsubscribe address (the List-Unsubscribe mailto; see
   :class:`UnsubscribeBox`), with the subject that mailto asks for, or a reply whose whole
   new text asks to be unsubscribed;
4. **auto_reply**: RFC 3834 ``Auto-Submitted``, ``X-Autoreply``, ``X-Autorespond``,
   ``Precedence: auto_reply|bulk|junk``, or an out-of-office subject in English,
   German, French or Spanish; the return date is read from its text when it gives one;
5. **reply**: anything else: a person wrote back. Its new text is what is left once
   quotes and signature are stripped (``mail-parser-reply``).

Everything here is a pure function of the message's bytes and the day it came.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

from flufl.bounce import all_failures
from mailparser_reply import EmailReplyParser

__all__ = ["Mail", "Reading", "UnsubscribeBox", "parse_mail", "read_mail", "return_date", "new_text",
           "KINDS", "UNSUBSCRIBE_SUBJECT", "inbound_id"]

KINDS = ("bounce", "complaint", "unsubscribe", "auto_reply", "reply")
_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pt", "sv", "pl"]

_MSGID = re.compile(r"<[^<>\s]+>")
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-delivery-subsystem|mail-daemon|bounces?)@", re.I)
_BOUNCE_SUBJECT = re.compile(r"undeliver|returned mail|delivery (status notification|failure|has failed)|"
                             r"mail delivery failed|failure notice|non[- ]?remis|unzustellbar|"
                             r"nicht zugestellt|no se puede entregar|notificación de estado", re.I)
_AUTO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?(reply|response)|autoreply|"
    r"on (vacation|holiday|leave)|away from (the )?office|abwesenheit(snotiz)?|automatische antwort|"
    r"nicht im b(ü|ue)ro|r(é|e)ponse automatique|absence|absent|message d'absence|"
    r"respuesta autom(á|a)tica|fuera de la oficina|ausente|fuera de oficina)\b", re.I)
# The subject our List-Unsubscribe mailto asks for (outreach.mime.list_unsubscribe), the touch in it.
UNSUBSCRIBE_SUBJECT = re.compile(r"^\s*unsubscribe\s+([0-9a-f]{20})\s*$", re.I)
_TOUCH_TAG = re.compile(r"[0-9a-f]{20}")
_UNSUBSCRIBE_ONLY = re.compile(
    r"^\W*(please\W+)?(unsubscribe|remove)(\W+me)?(\W+from\W+(your|this|the)(\W+mailing)?\W+list)?"
    r"(\W+please)?\W*$|^\W*(bitte\W+)?abmelden\W*$|^\W*(se\W+)?d(é|e)sabonner\W*$|"
    r"^\W*(dar(me)?\W+de\W+)?baja\W*$", re.I)


@dataclass(frozen=True)
class Mail:
    """One inbound message, parsed: what classifying and matching it read."""

    message_id: str                   # with angle brackets
    sender: str                       # From, lower-cased
    recipients: tuple[str, ...]       # To, Cc, Delivered-To, X-Original-To: where it was sent, lower-cased
    subject: str
    sent_at: dt.datetime | None       # its Date header, aware
    thread_ids: tuple[str, ...]       # In-Reply-To, then References
    message: EmailMessage


@dataclass(frozen=True)
class Reading:
    """What a message is (:data:`KINDS`) and what it says."""

    kind: str
    returned_ids: tuple[str, ...] = ()    # our Message-IDs it carries back (a bounce, a complaint)
    address: str = ""                     # the address that bounced or complained
    bounce: str = ""                      # hard | soft | block
    status: str = ""                      # the DSN status, e.g. 5.1.1
    diagnostic: str = ""                  # the server's words, shortened
    back: dt.date | None = None           # an automatic reply's return date, when it gives one
    text: str = ""                        # a person's new text: quotes and signature stripped


@dataclass(frozen=True)
class UnsubscribeBox:
    """Our List-Unsubscribe mailbox (``sender.unsubscribe_email``, else ``sender.email``), and
    whether it is one of its own. When it is not, replies land there too (``hello+r-<touch>@``,
    or bare): only the mailto's own plus address (``hello+<touch>@``) or its subject says
    unsubscribe, or every reply would close the lead's email."""

    address: str                # lower-cased
    own: bool = True

    def takes(self, recipient: str) -> bool:
        local, _, domain = recipient.lower().rpartition("@")
        base, plus, tag = local.partition("+")
        mine, _, my_domain = self.address.rpartition("@")
        if (base, domain) != (mine, my_domain):
            return False
        return self.own or bool(plus and _TOUCH_TAG.fullmatch(tag))


def parse_mail(raw: bytes) -> Mail:
    msg = message_from_bytes(raw, policy=policy.default)
    ids = tuple(_MSGID.findall(" ".join(str(msg.get(h, "")) for h in ("In-Reply-To", "References"))))
    recipients = tuple(a.lower() for _n, a in getaddresses(
        [str(v) for h in ("To", "Cc", "Delivered-To", "X-Original-To") for v in msg.get_all(h, [])]) if a)
    try:
        sent_at = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
        if sent_at is not None and sent_at.tzinfo is None:
            sent_at = sent_at.replace(tzinfo=dt.timezone.utc)
    except (TypeError, ValueError):
        sent_at = None
    return Mail(inbound_id(msg), _address(msg, "From"), recipients, str(msg.get("Subject", "")), sent_at, ids, msg)


def inbound_id(msg: Message) -> str:
    """The message's Message-ID, with angle brackets. A message without one (some autoresponders
    and mailer daemons send none) gets one made of its Date, From, To and Subject: the same from
    its headers alone as from the whole message, so a second sync still finds it recorded."""
    found = _MSGID.search(str(msg.get("Message-ID", "")))
    if found:
        return found.group(0)
    key = "\n".join(" ".join(str(msg.get(h, "")).split()) for h in ("Date", "From", "To", "Subject"))
    return f"<{hashlib.blake2b(key.encode('utf-8', 'replace'), digest_size=10).hexdigest()}@no-message-id.invalid>"


def _address(msg: Message, header: str) -> str:
    found = getaddresses([str(v) for v in msg.get_all(header, [])])
    return found[0][1].lower() if found and found[0][1] else ""


def read_mail(mail: Mail, *, unsubscribe: UnsubscribeBox) -> Reading:
    """Classify ``mail``; ``unsubscribe`` is our List-Unsubscribe mailbox."""
    msg = mail.message
    report = msg.get_content_type() == "multipart/report" and msg.get_param("report-type", "").lower()
    if report == "delivery-status" or _looks_bounced(mail):
        reading = _bounce(msg, mail.sender)
        if reading is not None:
            return reading
    if report == "feedback-report":
        return _complaint(msg)
    if any(unsubscribe.takes(a) for a in mail.recipients) or UNSUBSCRIBE_SUBJECT.match(mail.subject):
        return Reading("unsubscribe")
    day = (mail.sent_at or dt.datetime.now(dt.timezone.utc)).date()
    if _automatic(msg, mail.subject):
        return Reading("auto_reply", back=return_date(body_text(msg), day))
    text = new_text(msg)
    # "Unsubscribe" as the whole request: the first paragraph, above at most a short signature.
    if _UNSUBSCRIBE_ONLY.match(" ".join(text.split("\n\n")[0].split())) and len(text.splitlines()) <= 8:
        return Reading("unsubscribe", text=text)
    return Reading("reply", text=text)


# -- bounces ------------------------------------------------------------------------------------

def _looks_bounced(mail: Mail) -> bool:
    msg = mail.message
    return bool(_DAEMON.match(mail.sender) or msg.get("X-Failed-Recipients")
                or (not mail.sender and _BOUNCE_SUBJECT.search(mail.subject))
                or (_BOUNCE_SUBJECT.search(mail.subject) and msg.get_content_maintype() == "multipart"
                    and any(p.get_content_type() in ("message/rfc822", "text/rfc822-headers")
                            for p in msg.walk())))


def _severity(status: str, delayed: bool) -> str:
    if delayed or status.startswith("4.") or status == "5.2.2":
        return "soft"
    return "block" if status.startswith("5.7.") else "hard"


def _bounce(msg: EmailMessage, sender: str) -> Reading | None:
    returned = _returned_ids(msg)
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in part.get_payload()[1:] or part.get_payload():
            status = _STATUS.search(str(block.get("Status", "")))
            recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            if not status and not recipient:
                continue
            action = str(block.get("Action", "")).strip().lower()
            code = ".".join(status.groups()) if status else ("4.0.0" if action == "delayed" else "5.0.0")
            return Reading("bounce", returned, _after_semicolon(recipient), _severity(code, action == "delayed"),
                           code, _short(str(block.get("Diagnostic-Code", "")) or _first_status_line(msg)))
    # Another shape: the detectors Mailman uses, and the status the text gives.
    try:
        temporary, permanent = all_failures(msg)
    except Exception:       # a detector that trips over a malformed report: read the text alone
        temporary, permanent = set(), set()
    failed = msg.get("X-Failed-Recipients")
    addresses = [a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a)
                 for a in sorted(permanent) + sorted(temporary)]
    if failed:
        addresses.insert(0, str(failed).split(",")[0].strip())
    if not addresses and not returned:
        return None
    text = body_text(msg)
    status = _STATUS.search(text)
    code = ".".join(status.groups()) if status else ("5.0.0" if permanent or failed else "4.0.0")
    delayed = bool(temporary) and not permanent and not failed
    return Reading("bounce", returned, addresses[0].lower() if addresses else "", _severity(code, delayed), code,
                   _short(_line_with(text, code) or _first_status_line(msg)))


def _after_semicolon(value: str) -> str:
    return value.split(";", 1)[-1].strip().lower()


def _first_status_line(msg: EmailMessage) -> str:
    text = body_text(msg)
    return next((ln.strip() for ln in text.splitlines() if _STATUS.search(ln)), "")


def _line_with(text: str, needle: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if needle in ln), "")


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _returned_ids(msg: EmailMessage) -> tuple[str, ...]:
    """Message-IDs of the message a report returns (its copy, or its headers)."""
    ids = []
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            for inner in part.get_payload():
                ids.extend(_MSGID.findall(str(inner.get("Message-ID", ""))))
        elif kind == "text/rfc822-headers":
            headers = message_from_bytes(part.get_payload(decode=True) or b"", policy=policy.default)
            ids.extend(_MSGID.findall(str(headers.get("Message-ID", ""))))
    return tuple(dict.fromkeys(ids))


# -- complaints ----------------------------------------------------------------------------------

def _complaint(msg: EmailMessage) -> Reading:
    address = ""
    for part in msg.walk():
        if part.get_content_type() == "message/feedback-report":
            fields = part.get_payload()[0] if isinstance(part.get_payload(), list) else part
            address = str(fields.get("Original-Rcpt-To", "")).strip().lower()
            kind = str(fields.get("Feedback-Type", "abuse")).strip().lower()
            return Reading("complaint", _returned_ids(msg), address, diagnostic=f"feedback type {kind}")
    return Reading("complaint", _returned_ids(msg))


# -- automatic replies ----------------------------------------------------------------------------

def _automatic(msg: EmailMessage, subject: str) -> bool:
    auto = str(msg.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return True
    if msg.get("X-Autoreply") or msg.get("X-Autorespond") or msg.get("X-Autoresponder"):
        return True
    if str(msg.get("Precedence", "")).strip().lower() in ("auto_reply", "bulk", "junk"):
        return True
    return bool(_AUTO_SUBJECT.match(re.sub(r"^\s*((re|aw|sv|fw|fwd|wg|tr|rv)\s*:\s*)+", "", subject, flags=re.I)))


_MONTHS = {
    # English, German, French, Spanish: month names and the usual abbreviations
    **{m: i for i, names in enumerate((
        "january jan januar janvier enero ene", "february feb februar février fevrier févr fev febrero",
        "march mar märz maerz mars marzo", "april apr avril abril abr", "may mai mayo",
        "june jun juni juin junio", "july jul juli juillet juil julio", "august aug août aout agosto ago",
        "september sep sept septembre septiembre setiembre", "october oct oktober okt octobre octubre",
        "november nov novembre noviembre", "december dec dezember dez décembre decembre déc diciembre dic",
    ), 1) for m in names.split()},
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATES = (
    # 14 December 2026, 14. Dezember, 14 décembre 2026, 14 de diciembre de 2026, 1er décembre
    re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s+(?:de\s+)?(?P<m>{_MONTH})\.?"
               rf"(?:,?\s+(?:de\s+)?(?P<y>\d{{4}}))?\b", re.I),
    # December 14, 2026; Monday, December 14
    re.compile(rf"\b(?P<m>{_MONTH})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{{4}}))?\b", re.I),
    # 2026-12-14
    re.compile(r"\b(?P<y>\d{4})-(?P<nm>\d{2})-(?P<d>\d{2})\b"),
    # 14.12.2026, 14/12/2026, 14.12. (day first, as everywhere but the US; 12/14 is read as the US writes it)
    re.compile(r"\b(?P<a>\d{1,2})[./](?P<b>\d{1,2})(?:[./](?P<y>\d{4}|\d{2}))?(?![\d/.]\d)"),
)


def return_date(text: str, day: dt.date) -> dt.date | None:
    """The return date an out-of-office text gives: the latest date it names from ``day`` (the
    day it came) to six months on; a date without a year is the next one from ``day``. None
    when it names none ("I am away and will reply when I am back")."""
    found = []
    for pattern in _DATES:
        for m in pattern.finditer(text):
            g = m.groupdict()
            if g.get("m"):
                month, dom = _MONTHS[g["m"].lower()], int(g["d"])
            elif g.get("nm"):
                month, dom = int(g["nm"]), int(g["d"])
            else:
                a, b = int(g["a"]), int(g["b"])
                dom, month = (b, a) if b > 12 >= a else (a, b)
            year = int(g["y"]) if g.get("y") else None
            if year is not None and year < 100:
                year += 2000
            try:
                date = dt.date(year or day.year, month, dom)
                if year is None and date < day:
                    date = dt.date(day.year + 1, month, dom)
            except ValueError:
                continue
            if day <= date <= day + dt.timedelta(days=183):
                found.append(date)
    return max(found, default=None)


# -- text ---------------------------------------------------------------------------------------------

_TAGS = re.compile(r"<(script|style|head)\b.*?</\1>|<[^>]+>", re.I | re.S)
_BREAKS = re.compile(r"<\s*(br|/p|/div|/tr|/li|/h\d)\b[^>]*>", re.I)


def body_text(msg: EmailMessage) -> str:
    """The message's text: its plain part, else its HTML part as text, else every text part."""
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
    except (KeyError, LookupError):
        part = None
    if part is None:
        return "\n".join(_part_text(p) for p in msg.walk() if p.get_content_maintype() == "text")
    return _part_text(part)


def _part_text(part: Message) -> str:
    try:
        content = part.get_content()
    except (KeyError, LookupError, ValueError, AttributeError):
        raw = part.get_payload(decode=True) or b""
        content = raw.decode("utf-8", "replace")
    if not isinstance(content, str):
        return ""
    if part.get_content_subtype() == "html":
        content = html.unescape(_TAGS.sub("", _BREAKS.sub("\n", content)))
    return content.replace("\r\n", "\n")


def new_text(msg: EmailMessage) -> str:
    """What the sender wrote in this message: quotes of earlier mail and the signature stripped."""
    text = body_text(msg)
    try:
        reply = EmailReplyParser(languages=list(_LANGUAGES)).parse_reply(text)
    except Exception:       # the stripper's regexes meet text of every kind: keep the text whole
        reply = None
    text = reply if reply is not None and reply.strip() else text
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith(">")]
    return "\n".join(lines).strip()
