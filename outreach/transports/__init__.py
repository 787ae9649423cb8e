"""Transports: where a run's email and SMS go. Injected into the sender, never chosen inside it.

A transport is an async context manager with ``concurrency`` (how many sends may
be in flight at once) and ``async send(message) -> str | Delivered`` returning the
provider's id for the message (with a note, such as the relay's own id for it). It raises only
:class:`~outreach.errors.TemporaryDeliveryError` (nothing delivered; retry),
:class:`~outreach.errors.PermanentDeliveryError` (nothing delivered; do not
retry) or :class:`~outreach.errors.DeliveryUnknown` (it may have been
delivered). Retrying, backoff and rate limits are the sender's job.

:func:`email_transport` and :func:`sms_transport` build the configured one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

from ..config import Config

__all__ = ["OutgoingEmail", "OutgoingSms", "Delivered", "EmailTransport", "SmsTransport", "email_transport",
           "sms_transport"]


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    id: str                                  # touch id (or digest id): names the file, not the mail
    sender: str                              # envelope MAIL FROM
    recipients: tuple[str, ...]              # envelope RCPT TO
    data: bytes = field(repr=False)          # the whole message, CRLF line ends


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    id: str
    to: str                                  # E.164
    body: str


class Delivered(NamedTuple):
    """What a provider said when it took a message: its id, and a note kept with the `sent` record."""

    ref: str
    note: str = ""


class EmailTransport(Protocol):
    concurrency: int

    async def __aenter__(self) -> "EmailTransport": ...
    async def __aexit__(self, *exc) -> None: ...
    async def send(self, message: OutgoingEmail) -> str | Delivered: ...


class SmsTransport(Protocol):
    concurrency: int

    async def __aenter__(self) -> "SmsTransport": ...
    async def __aexit__(self, *exc) -> None: ...
    async def send(self, message: OutgoingSms) -> str: ...


def email_transport(config: Config, *, outbox: Path, sender_email: str = "") -> EmailTransport:
    """SMTP when configured, else ``.eml`` files under ``outbox`` (``outbox/<date>/email/``).
    ``sender_email`` (the settings' sender) names us in EHLO by its domain, unless ``SMTP_EHLO``
    says otherwise; without it, the domain of the sender of the message a connection opens for."""
    if config.smtp is not None:
        from .email_smtp import SmtpTransport
        return SmtpTransport(config.smtp, ehlo=sender_email.rpartition("@")[2])
    from .email_file import EmailFileTransport
    return EmailFileTransport(Path(outbox) / "email")


def sms_transport(config: Config, *, outbox: Path) -> SmsTransport:
    """Twilio when configured, else text files under ``outbox`` (``outbox/<date>/sms/``)."""
    if config.twilio is not None:
        from .sms_twilio import TwilioTransport
        return TwilioTransport(config.twilio)
    from .sms_file import SmsFileTransport
    return SmsFileTransport(Path(outbox) / "sms")
