"""Email bytes: multipart/alternative (plain text + HTML), or plain text only, built fast and by
the rules.

Python's ``email`` package takes about 2 ms to build and flatten one such message
on this class of machine, more than an SMTP round trip; this module writes the
same structure directly (about 50 µs). Addresses still go through
:class:`email.headerregistry.Address` (so "Acme, Inc." is quoted and stays one
recipient), non-ASCII header text is RFC 2047-encoded by :class:`email.header.Header`,
and the parts are quoted-printable UTF-8. Every header value is checked for line
breaks first (:func:`outreach.render.check_header`); a long one is folded (RFC 5322:
lines of at most 78 characters where there is a space to fold at, never more than 998).
Mail to the team (an owner's task digest) says ``Auto-Submitted: auto-generated``
(RFC 3834), so vacation responders do not answer it. tests/test_outreach_render.py
parses the output back with ``email`` and compares.
"""

from __future__ import annotations

import functools

import binascii
import datetime as dt
import hashlib
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import Address
from email.utils import format_datetime, formataddr
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from relead.model import Sender

from .errors import OutreachError, RenderError
from relead.messages import reply_address, unsubscribe_address

from .render import check_header, unsubscribe_url

__all__ = ["Layout", "EmailParts", "format_address", "encode_header", "message_id", "build_email",
           "list_unsubscribe", "digest_id"]


@functools.lru_cache(maxsize=256)     # the sender's From and Reply-To repeat in every message
def format_address(name: str, addr: str) -> str:
    """One mailbox for a header; the display name quoted or encoded as it needs."""
    check_header("address", name)
    check_header("address", addr)
    # The address was checked when the data was loaded; giving its parts (rather than
    # the whole, which Address would parse again) is ten times cheaper.
    username, _, domain = addr.rpartition("@")
    if not username or not domain:
        raise RenderError(f"not a usable address: {addr!r}")
    try:
        address = Address(display_name=name, username=username, domain=domain)
    except (ValueError, IndexError) as exc:
        raise RenderError(f"not a usable address: {exc}") from None
    if name.isascii():
        return str(address)
    return formataddr((address.display_name, address.addr_spec), charset="utf-8")


_LINE = 78              # RFC 5322 2.1.1: lines SHOULD be at most 78 characters...
_LONGEST_LINE = 998     # ...and MUST be at most 998


def encode_header(name: str, value: str) -> str:
    """``Name: value`` with CRLF; RFC 2047 for non-ASCII; folded at spaces when long."""
    check_header(name, value)
    if value.isascii():
        if len(name) + 2 + len(value) <= _LINE:
            return f"{name}: {value}\r\n"
        folded = _fold(f"{name}:", value)
        if folded is not None:
            return folded
    # Non-ASCII, or a word too long for any line: encoded words, which can be split anywhere.
    return f"{name}: " + Header(value, "utf-8", header_name=name).encode(linesep="\r\n") + "\r\n"


def _fold(head: str, value: str) -> str | None:
    """``head value`` folded before the space that would take a line past 78 characters (the
    space stays: unfolding gives back the value as it was); None when a word is too long for
    even a 998-octet line."""
    first, *words = value.split(" ")
    lines, line = [], f"{head} {first}"
    for word in words:
        # Never before an empty word (a second space): a line of spaces alone is not allowed.
        if word and len(line) + 1 + len(word) > _LINE:
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    if max(map(len, lines)) > _LONGEST_LINE:
        return None
    return "\r\n".join(lines) + "\r\n"


def message_id(touch_id: str, sender_email: str) -> str:
    """The Message-ID of a touch: derived from its id, so a resend would be recognisable."""
    domain = sender_email.rpartition("@")[2] or "relead.invalid"
    return f"<{touch_id}.relead@{domain}>"


def list_unsubscribe(sender: Sender, touch_id: str) -> list[tuple[str, str]]:
    """RFC 2369 / 8058 headers: mailto always (to the unsubscribe address, with the touch as a
    plus address: sync matches the request to the lead), the URL (and one-click POST) when
    configured."""
    mailto = f"mailto:{unsubscribe_address(sender, touch_id)}?subject=unsubscribe%20{touch_id}"
    targets = [f"<{mailto}>"]
    headers = []
    if sender.unsubscribe_url:
        targets.append(f"<{unsubscribe_url(sender, touch_id)}>")
    headers.append(("List-Unsubscribe", ", ".join(targets)))
    if sender.unsubscribe_url and sender.unsubscribe_url.lower().startswith("https://"):
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return headers


@functools.lru_cache(maxsize=4)      # one run stamps every message with its own time
def _date_header(now: dt.datetime) -> str:
    return f"Date: {format_datetime(now)}\r\n"


def _qp(text: str) -> bytes:
    data = text.replace("\r\n", "\n").encode("utf-8")
    return binascii.b2a_qp(data, quotetabs=False, istext=True, header=False).replace(b"\n", b"\r\n")


@dataclass(frozen=True, slots=True)
class EmailParts:
    """What goes into one email, every value already rendered."""

    id: str                       # the touch id (or a digest's id)
    to_name: str
    to_addr: str
    subject: str
    text: str                     # plain-text body, footer included
    html: str = ""                # full HTML document; "" for a plain-text-only mail
    unsubscribe: bool = True      # to a lead: List-Unsubscribe, a Reply-To with the touch. False: mail
                                  # to the team (a task digest), marked Auto-Submitted instead
    author: tuple[str, str] | None = None   # (name, address) of the owner who writes; None: the sender
    references: str = ""          # Message-IDs of the earlier emails of the thread, oldest first


def build_email(parts: EmailParts, *, sender: Sender, now: dt.datetime) -> bytes:
    """The message as bytes ready for SMTP DATA (CRLF line ends)."""
    name, address = parts.author or (sender.name, sender.email)
    head = [f"From: {format_address(name, address)}\r\n"]
    head.append(f"To: {format_address(parts.to_name, parts.to_addr)}\r\n")
    # To a lead, replies go to whoever writes and carry the touch back (unless plus addressing is
    # off); not to an owner.
    reply = reply_address(sender, parts.id, parts.author[1] if parts.author else "") if parts.unsubscribe \
        else sender.reply_to
    if reply and reply != address:
        head.append(f"Reply-To: {format_address(name, reply)}\r\n")
    head.append(encode_header("Subject", parts.subject))
    head.append(_date_header(now))
    head.append(f"Message-ID: {message_id(parts.id, sender.email)}\r\n")
    if parts.references:
        head.append(f"In-Reply-To: {parts.references.rsplit(' ', 1)[-1]}\r\n")
        head.append(encode_header("References", parts.references))
    if parts.unsubscribe:
        for name, value in list_unsubscribe(sender, parts.id):
            head.append(encode_header(name, value))
    else:
        head.append("Auto-Submitted: auto-generated\r\n")     # RFC 3834: no vacation replies to it
    head.append("MIME-Version: 1.0\r\n")
    text = _qp(parts.text)
    if not parts.html:
        head.append('Content-Type: text/plain; charset="utf-8"\r\n'
                    "Content-Transfer-Encoding: quoted-printable\r\n\r\n")
        return "".join(head).encode("ascii") + text
    boundary = f"=_relead_{parts.id}"
    head.append(f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n')
    b = boundary.encode("ascii")
    return b"".join((
        "".join(head).encode("ascii"),
        b"--", b, b'\r\nContent-Type: text/plain; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n", text, b"\r\n",
        b"--", b, b'\r\nContent-Type: text/html; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n", _qp(parts.html), b"\r\n",
        b"--", b, b"--\r\n",
    ))


class Layout:
    """templates/email/layout.html and layout.txt: the frame around every email's body.

    Each gets ``subject``, ``body`` (the rendered message), ``sender`` (name,
    email, postal_address), ``unsubscribe_url`` and ``unsubscribe_email``. The HTML
    layout is autoescaped; ``body`` is the Markdown's HTML, already made safe. A message
    without HTML (``format: text``) gets the text layout only: its email has no HTML part.
    """

    def __init__(self, directory: Path):
        directory = Path(directory)
        missing = [n for n in ("layout.html", "layout.txt") if not (directory / n).is_file()]
        if missing:
            raise OutreachError(f"{directory}/{missing[0]} is missing: the email layout lives in "
                                "templates/email/ (layout.html and layout.txt)")
        loader = jinja2.FileSystemLoader(str(directory))
        self._html = _flat(ImmutableSandboxedEnvironment(loader=loader, autoescape=True,
                                                         undefined=jinja2.StrictUndefined).get_template("layout.html"))
        self._text = _flat(ImmutableSandboxedEnvironment(loader=loader, autoescape=False,
                                                         undefined=jinja2.StrictUndefined,
                                                         keep_trailing_newline=True).get_template("layout.txt"))

    def wrap(self, *, subject: str, text: str, html: str, sender: Sender, touch_id: str) -> tuple[str, str]:
        ctx = {"subject": subject,
               "sender": {"name": sender.name, "email": sender.email,
                          "postal_address": sender.postal_address},
               "unsubscribe_url": unsubscribe_url(sender, touch_id),
               "unsubscribe_email": sender.unsubscribe_email or sender.email}
        try:
            return (self._text.render(ctx, body=text), self._html.render(ctx, body=Markup(html)) if html else "")
        except Exception as exc:    # the layout is the team's template: a fault is this touch's, not the run's
            raise RenderError(f"email layout: {exc} ({exc.__class__.__name__})") from None


def _flat(template: jinja2.Template) -> jinja2.Template:
    # Jinja keeps a template's globals as a ChainMap over the environment's and copies it,
    # key by key in Python, into every render's context: a plain dict copies in C.
    template.globals = dict(template.globals)
    return template


def digest_id(day: str, owner_email: str, touch_ids) -> str:
    """A digest's id: the day, the owner and the tasks in it (a second digest differs)."""
    raw = "\x1f".join([day, owner_email, *sorted(touch_ids)]).encode()
    return "tasks-" + hashlib.blake2b(raw, digest_size=8).hexdigest()

